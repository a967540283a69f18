package directory

import (
	"encoding/json"
	"slices"
	"strconv"
	"unicode/utf8"
)

// invalidUTF8 is what encoding/json writes for a byte that is not UTF-8:
// "\ufffd" up to Go 1.26, the replacement character itself from 1.27.
// Asked once, so that the events' bytes are json.Marshal's on either.
var invalidUTF8 = func() string {
	b, err := json.Marshal("\xff")
	if err != nil || len(b) < 2 {
		return `\ufffd`
	}
	return string(b[1 : len(b)-1])
}()

// The system log's documents are encoded by hand: every bind writes one,
// and encoding/json's reflection cost as much as the rest of the bind. The
// output is byte for byte what json.Marshal gives (FuzzEventJSON checks).

// appendEventJSON appends ev as JSON.
func appendEventJSON(b []byte, ev *LogEvent) []byte {
	b = append(b, `{"uuid":`...)
	b = appendJSONString(b, ev.UUID)
	b = appendField(b, "published", ev.Published)
	b = appendField(b, "eventType", ev.EventType)
	b = appendField(b, "version", ev.Version)
	b = appendField(b, "severity", ev.Severity)
	b = appendField(b, "displayMessage", ev.DisplayMessage)
	b = append(b, `,"actor":{"id":`...)
	b = appendJSONString(b, ev.Actor.ID)
	b = appendField(b, "type", ev.Actor.Type)
	b = appendField(b, "alternateId", ev.Actor.AlternateID)
	b = appendField(b, "displayName", ev.Actor.DisplayName)
	b = append(b, '}')
	if c := ev.Client; c != nil {
		b = append(b, `,"client":{`...)
		if c.IPAddress != "" {
			b = append(b, `"ipAddress":`...)
			b = appendJSONString(b, c.IPAddress)
			b = append(b, ',')
		}
		if c.Protocol != "" {
			b = append(b, `"protocol":`...)
			b = appendJSONString(b, c.Protocol)
			b = append(b, ',')
		}
		b = append(b, `"tls":`...)
		b = strconv.AppendBool(b, c.TLS)
		b = append(b, '}')
	}
	b = append(b, `,"outcome":{"result":`...)
	b = appendJSONString(b, ev.Outcome.Result)
	if ev.Outcome.Reason != "" {
		b = appendField(b, "reason", ev.Outcome.Reason)
	}
	b = append(b, '}')
	if len(ev.Target) > 0 {
		b = append(b, `,"target":[`...)
		for i := range ev.Target {
			t := &ev.Target[i]
			if i > 0 {
				b = append(b, ',')
			}
			b = append(b, `{"id":`...)
			b = appendJSONString(b, t.ID)
			b = appendField(b, "type", t.Type)
			if t.AlternateID != "" {
				b = appendField(b, "alternateId", t.AlternateID)
			}
			if t.DisplayName != "" {
				b = appendField(b, "displayName", t.DisplayName)
			}
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if dc := ev.DebugContext; dc != nil {
		b = append(b, `,"debugContext":{`...)
		if len(dc.DebugData) > 0 {
			b = append(b, `"debugData":{`...)
			keys := make([]string, 0, len(dc.DebugData))
			for k := range dc.DebugData {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			for i, k := range keys {
				if i > 0 {
					b = append(b, ',')
				}
				b = appendJSONString(b, k)
				b = append(b, ':')
				if s, ok := dc.DebugData[k].(string); ok {
					b = appendJSONString(b, s)
				} else {
					v, err := json.Marshal(dc.DebugData[k])
					if err != nil {
						v = []byte("null")
					}
					b = append(b, v...)
				}
			}
			b = append(b, '}')
		}
		b = append(b, '}')
	}
	return append(b, '}')
}

func appendField(b []byte, name, v string) []byte {
	b = append(b, ',', '"')
	b = append(b, name...)
	b = append(b, '"', ':')
	return appendJSONString(b, v)
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s quoted as encoding/json does: <, >, & and
// U+2028/U+2029 escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, invalidUTF8...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
