package apiclient

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"time"
	"unicode/utf8"
)

// The API's objects as the client reads them. Timestamps are UTC with
// milliseconds (Okta's); a null one is the zero time.

// User is Okta's User object.
type User struct {
	ID     string
	Status string // STAGED, ACTIVE, SUSPENDED, DEPROVISIONED, LOCKED_OUT, PASSWORD_EXPIRED
	Type   string // type.id: "person" or "service_account"

	Created, Activated, StatusChanged, LastLogin, LastUpdated, PasswordChanged time.Time

	// Profile holds base and custom attributes side by side (login,
	// email, firstName, …); unset ones are left out.
	Profile map[string]string
	// HasPassword: credentials.password is present (the API never shows
	// a credential, only that there is one).
	HasPassword bool
}

// Login is the user's profile.login.
func (u *User) Login() string { return u.Profile["login"] }

type wireUser struct {
	ID              string              `json:"id"`
	Status          string              `json:"status"`
	Created         *time.Time          `json:"created"`
	Activated       *time.Time          `json:"activated"`
	StatusChanged   *time.Time          `json:"statusChanged"`
	LastLogin       *time.Time          `json:"lastLogin"`
	LastUpdated     *time.Time          `json:"lastUpdated"`
	PasswordChanged *time.Time          `json:"passwordChanged"`
	Type            struct{ ID string } `json:"type"`
	Profile         map[string]*string  `json:"profile"`
	Credentials     struct {
		Password json.RawMessage `json:"password"`
	} `json:"credentials"`
}

// UnmarshalJSON reads Okta's User.
func (u *User) UnmarshalJSON(b []byte) error {
	var w wireUser
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*u = User{ID: w.ID, Status: w.Status, Type: w.Type.ID,
		Created: tv(w.Created), Activated: tv(w.Activated), StatusChanged: tv(w.StatusChanged),
		LastLogin: tv(w.LastLogin), LastUpdated: tv(w.LastUpdated), PasswordChanged: tv(w.PasswordChanged),
		Profile:     make(map[string]string, len(w.Profile)),
		HasPassword: len(w.Credentials.Password) > 0 && string(w.Credentials.Password) != "null"}
	for k, v := range w.Profile {
		if v != nil && *v != "" {
			u.Profile[k] = *v
		}
	}
	return nil
}

func tv(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return t.UTC()
}

// Group is Okta's Group (dirgate's are OKTA_GROUPs).
type Group struct {
	ID          string
	Type        string
	Name        string // profile.name
	Description string // profile.description

	Created, LastUpdated, LastMembershipUpdated time.Time
}

// UnmarshalJSON reads Okta's Group.
func (g *Group) UnmarshalJSON(b []byte) error {
	var w struct {
		ID                    string     `json:"id"`
		Type                  string     `json:"type"`
		Created               *time.Time `json:"created"`
		LastUpdated           *time.Time `json:"lastUpdated"`
		LastMembershipUpdated *time.Time `json:"lastMembershipUpdated"`
		Profile               struct {
			Name        string `json:"name"`
			Description string `json:"description"`
		} `json:"profile"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*g = Group{ID: w.ID, Type: w.Type, Name: w.Profile.Name, Description: w.Profile.Description,
		Created: tv(w.Created), LastUpdated: tv(w.LastUpdated), LastMembershipUpdated: tv(w.LastMembershipUpdated)}
	return nil
}

// Role is an admin role assignment; its ID is the role's type.
type Role struct {
	ID             string    `json:"id"`
	Type           string    `json:"type"` // SUPER_ADMIN, ORG_ADMIN, READ_ONLY_ADMIN
	Label          string    `json:"label"`
	Status         string    `json:"status"`
	AssignmentType string    `json:"assignmentType"`
	Created        time.Time `json:"-"`
	LastUpdated    time.Time `json:"-"`
}

// UnmarshalJSON reads Okta's role assignment.
func (r *Role) UnmarshalJSON(b []byte) error {
	type plain Role
	var w struct {
		plain
		Created     *time.Time `json:"created"`
		LastUpdated *time.Time `json:"lastUpdated"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*r = Role(w.plain)
	r.Created, r.LastUpdated = tv(w.Created), tv(w.LastUpdated)
	return nil
}

// Factor is Okta's UserFactor (dirgate's are TOTP: token:software:totp).
// The API does not say when a factor was activated.
type Factor struct {
	ID         string
	FactorType string // "token:software:totp"
	Provider   string
	VendorName string
	Status     string // PENDING_ACTIVATION or ACTIVE
	// CredentialID is profile.credentialId: the user's login.
	CredentialID string

	Created, LastUpdated time.Time
}

type wireFactor struct {
	ID          string     `json:"id"`
	FactorType  string     `json:"factorType"`
	Provider    string     `json:"provider"`
	VendorName  string     `json:"vendorName"`
	Status      string     `json:"status"`
	Created     *time.Time `json:"created"`
	LastUpdated *time.Time `json:"lastUpdated"`
	Profile     struct {
		CredentialID string `json:"credentialId"`
	} `json:"profile"`
	Embedded *struct {
		Activation struct {
			SharedSecret string `json:"sharedSecret"`
			Links        struct {
				QRCode struct {
					Href string `json:"href"`
				} `json:"qrcode"`
			} `json:"_links"`
		} `json:"activation"`
	} `json:"_embedded"`
}

func (w *wireFactor) factor() Factor {
	return Factor{ID: w.ID, FactorType: w.FactorType, Provider: w.Provider, VendorName: w.VendorName, Status: w.Status,
		CredentialID: w.Profile.CredentialID, Created: tv(w.Created), LastUpdated: tv(w.LastUpdated)}
}

// UnmarshalJSON reads Okta's UserFactor (without any activation secret).
func (f *Factor) UnmarshalJSON(b []byte) error {
	var w wireFactor
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*f = w.factor()
	return nil
}

// Enrollment is a new TOTP factor and what its user adds to an
// authenticator app. SharedSecret and URI are credentials: give them to
// the user only. An Enrollment formats (fmt, log/slog) as its factor id
// only.
type Enrollment struct {
	Factor       Factor // PENDING_ACTIVATION
	SharedSecret string // base32
	URI          string // otpauth://totp/…, what a QR code carries
}

// UnmarshalJSON reads the answer of an enrolment.
func (e *Enrollment) UnmarshalJSON(b []byte) error {
	var w wireFactor
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	if w.Embedded == nil || w.Embedded.Activation.SharedSecret == "" {
		return errors.New("the enrolment's answer has no _embedded.activation.sharedSecret")
	}
	*e = Enrollment{Factor: w.factor(), SharedSecret: w.Embedded.Activation.SharedSecret, URI: w.Embedded.Activation.Links.QRCode.Href}
	return nil
}

func (e *Enrollment) String() string {
	if e == nil {
		return "apiclient.Enrollment()"
	}
	return "apiclient.Enrollment(" + e.Factor.ID + ")"
}

// GoString, Format and LogValue keep the secret out of every fmt verb and
// log/slog.
func (e *Enrollment) GoString() string           { return e.String() }
func (e *Enrollment) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, e.String()) }
func (e *Enrollment) LogValue() slog.Value       { return slog.StringValue(e.String()) }

// --- requests with a password

// withPassword returns the JSON object rest (an encoded object, "{…}")
// with credentials.password.value set to pw, written here rather than by
// encoding/json so that the only copies of the password are pw and the
// returned slice (which the caller clears). A password must be UTF-8: the
// API carries it as a JSON string.
func withPassword(rest, pw []byte) ([]byte, error) {
	if !utf8.Valid(pw) {
		return nil, errors.New("the password is not valid UTF-8 text, which the REST API cannot carry (it is a JSON string)")
	}
	const head = `{"credentials":{"password":{"value":`
	b := make([]byte, 0, len(head)+2+6*len(pw)+3+len(rest))
	b = append(b, head...)
	b = append(b, '"')
	for _, c := range pw {
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			const hex = "0123456789abcdef"
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	b = append(b, '"', '}', '}')
	if len(rest) > 2 {
		b = append(b, ',')
		b = append(b, rest[1:]...)
	} else {
		b = append(b, '}')
	}
	return b, nil
}
