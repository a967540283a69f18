package directory

import (
	"encoding/json"
	"testing"
)

func sampleEvent(s string) *LogEvent {
	return &LogEvent{UUID: s, Published: "2026-12-01T12:00:00.000Z", EventType: EventAuthViaLDAP, Version: "0",
		Severity: SeverityWarn, DisplayMessage: displayMessages[EventAuthViaLDAP],
		Actor:        LogActor{ID: "00u1", Type: "User", AlternateID: s, DisplayName: s + " x"},
		Client:       &LogClient{IPAddress: "192.0.2.1", Protocol: "ldap", TLS: true},
		Outcome:      LogOutcome{Result: ResultFailure, Reason: s},
		Target:       []LogTarget{{ID: "00u1", Type: "User", AlternateID: s}, {Type: "PolicyRule", DisplayName: s}},
		DebugContext: &DebugContext{DebugData: map[string]any{"bindDN": "uid=" + s, "resultCode": 49, s: true}}}
}

// FuzzEventJSON: the hand-written encoder gives exactly json.Marshal's
// bytes, whatever the strings hold.
func FuzzEventJSON(f *testing.F) {
	for _, s := range []string{"", "alice", `"quoted" \ back`, "<script>&", "line\nbreak\t\x00\x1f", "ünïcode ☃", "\xff\xfe bad", "\u2028\u2029"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for _, ev := range []*LogEvent{sampleEvent(s), {UUID: s}, {Client: &LogClient{}, DebugContext: &DebugContext{}}} {
			want, err := json.Marshal(ev)
			if err != nil {
				t.Fatal(err)
			}
			if got := appendEventJSON(nil, ev); string(got) != string(want) {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
		}
	})
}

func BenchmarkEventJSON(b *testing.B) {
	ev := sampleEvent("alice@example.com")
	ev.DebugContext.DebugData = map[string]any{"bindDN": "uid=alice,ou=users,dc=example,dc=okta,dc=com"}
	b.Run("hand", func(b *testing.B) {
		b.ReportAllocs()
		var buf []byte
		for range b.N {
			buf = appendEventJSON(buf[:0], ev)
		}
	})
	b.Run("encoding/json", func(b *testing.B) {
		b.ReportAllocs()
		for range b.N {
			json.Marshal(ev)
		}
	})
}
