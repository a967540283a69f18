package ldap

import "unsafe"

// bytesToString returns a string sharing b's storage: decoded requests alias
// the message buffer instead of copying every value. Only for buffers never
// modified afterwards (ber.ReadMessage returns a fresh one per message).
func bytesToString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }
