package totp

import (
	"strconv"
	"strings"
)

// URI returns the otpauth:// Key URI that authenticator apps enrol from
// (Google Authenticator's Key Uri Format):
//
//	otpauth://totp/Issuer:account?secret=…&issuer=Issuer&algorithm=SHA1&digits=6&period=30
//
// Issuer and account are percent-encoded as UTF-8 (space as %20, never
// '+', which some apps would show as a plus; '@' is kept, as in the
// format's own examples). The format allows no colon in either part of
// the label, since a literal or encoded colon separates them: an issuer
// containing ':' is left out of the label and given only by the issuer
// parameter (the label prefix is optional), and each ':' in the account is
// replaced by '_'. An empty issuer gives a label of the account alone and
// no issuer parameter.
//
// The URI carries the secret: never log it.
func URI(issuer, account string, secret []byte) string {
	var b strings.Builder
	b.WriteString("otpauth://totp/")
	if issuer != "" && !strings.Contains(issuer, ":") {
		escape(&b, issuer)
		b.WriteByte(':')
	}
	escape(&b, strings.ReplaceAll(account, ":", "_"))
	b.WriteString("?secret=")
	b.WriteString(EncodeSecret(secret))
	if issuer != "" {
		b.WriteString("&issuer=")
		escape(&b, issuer)
	}
	b.WriteString("&algorithm=SHA1&digits=")
	b.WriteString(strconv.Itoa(Digits))
	b.WriteString("&period=")
	b.WriteString(strconv.FormatInt(periodSeconds, 10))
	return b.String()
}

// escape writes s percent-encoded: every byte but RFC 3986's unreserved
// characters and '@' becomes %XX. The result is safe both in the path and
// in a query value.
func escape(b *strings.Builder, s string) {
	const hex = "0123456789ABCDEF"
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9',
			c == '-', c == '.', c == '_', c == '~', c == '@':
			b.WriteByte(c)
		default:
			b.WriteByte('%')
			b.WriteByte(hex[c>>4])
			b.WriteByte(hex[c&0x0f])
		}
	}
}
