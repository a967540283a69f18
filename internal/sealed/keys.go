package sealed

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
)

// Keys is a keyring: the current key, which seals, and older keys, which
// still open what they sealed. To rotate, make a new key current, keep the
// old one in the ring, re-seal values for which NeedsReseal is true, then
// drop the old key. A Keys is safe for concurrent use.
type Keys struct {
	current *Key
	byID    map[string]*Key
}

// NewKeys returns a keyring sealing with current and opening with current
// and older. Giving the same key twice is harmless; two different keys
// with the same id (a 1 in 2^32 chance) are refused.
func NewKeys(current *Key, older ...*Key) (*Keys, error) {
	if current == nil {
		return nil, errors.New("sealed: keyring needs a current key")
	}
	ks := &Keys{current: current, byID: map[string]*Key{current.id: current}}
	for _, k := range older {
		if k == nil {
			return nil, errors.New("sealed: nil key in keyring")
		}
		if have, ok := ks.byID[k.id]; ok {
			if have.fp != k.fp {
				return nil, fmt.Errorf("sealed: two different keys have id %s; make a new key", k.id)
			}
			continue
		}
		ks.byID[k.id] = k
	}
	return ks, nil
}

// Current returns the key that seals.
func (ks *Keys) Current() *Key { return ks.current }

// Seal seals with the current key.
func (ks *Keys) Seal(plaintext, associatedData []byte) (string, error) {
	return ks.current.Seal(plaintext, associatedData)
}

// Open opens a value with the key whose id it names. Errors are those of
// (*Key).Open.
func (ks *Keys) Open(sealed string, associatedData []byte) ([]byte, error) {
	id, ct, err := parse(sealed)
	if err != nil {
		return nil, err
	}
	k, ok := ks.byID[id]
	if !ok {
		return nil, unknownKey(id)
	}
	return k.open(ct, associatedData)
}

// NeedsReseal reports whether a well-formed value was sealed by a key other
// than the current one, and so should be re-sealed (opened and sealed
// again) before its key leaves the ring.
func (ks *Keys) NeedsReseal(sealed string) bool {
	id, err := KeyID(sealed)
	return err == nil && id != ks.current.id
}

// IDs returns the current key's id first, then the others' in order.
func (ks *Keys) IDs() []string {
	ids := make([]string, 0, len(ks.byID))
	for id := range ks.byID {
		if id != ks.current.id {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	return append([]string{ks.current.id}, ids...)
}

// String returns "sealed.Keys(current <id>, older <id>,…)".
func (ks *Keys) String() string {
	ids := ks.IDs()
	return "sealed.Keys(current " + ids[0] + ", older " + strings.Join(ids[1:], ",") + ")"
}

// GoString, Format and LogValue show key ids only.
func (ks *Keys) GoString() string           { return ks.String() }
func (ks *Keys) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(ks.String())) }
func (ks *Keys) LogValue() slog.Value       { return slog.StringValue(strings.Join(ks.IDs(), ",")) }
