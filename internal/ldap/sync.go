package ldap

import (
	"errors"

	"github.com/dirgate/dirgate/internal/ber"
)

// Content synchronisation (RFC 4533, "syncrepl"): a client sends a search
// with the Sync Request control; entries come back with a Sync State
// control, the refresh ends with a Sync Done control (refreshOnly) or a
// Sync Info intermediate response (refreshAndPersist, after which changes
// follow as they happen).
const (
	OIDSyncRequest = "1.3.6.1.4.1.4203.1.9.1.1"
	OIDSyncState   = "1.3.6.1.4.1.4203.1.9.1.2"
	OIDSyncDone    = "1.3.6.1.4.1.4203.1.9.1.3"
	OIDSyncInfo    = "1.3.6.1.4.1.4203.1.9.1.4"
)

// OIDManageDSAit is the ManageDSAit control (RFC 3296): treat referral
// objects as ordinary entries. A directory without referrals (dirgate)
// honours it by doing nothing different; syncrepl consumers send it,
// critical, with their synchronisation.
const OIDManageDSAit = "2.16.840.1.113730.3.4.2"

// SyncMode is a Sync Request's mode.
type SyncMode int64

// Sync modes.
const (
	SyncRefreshOnly       SyncMode = 1
	SyncRefreshAndPersist SyncMode = 3
)

// SyncState is an entry's state in a Sync State control.
type SyncState int64

// Sync states.
const (
	SyncPresent SyncState = 0
	SyncAdd     SyncState = 1
	SyncModify  SyncState = 2
	SyncDelete  SyncState = 3
)

// SyncRequest is a decoded Sync Request control value. Cookie aliases the
// value; nil when absent.
type SyncRequest struct {
	Mode       SyncMode
	Cookie     []byte
	ReloadHint bool
}

// MaxSyncCookie bounds a cookie a client sends back.
const MaxSyncCookie = 1024

var errSyncMode = errors.New("ldap: sync request mode is neither refreshOnly (1) nor refreshAndPersist (3)")

// ParseSyncRequest decodes a Sync Request control value:
//
//	syncRequestValue ::= SEQUENCE {
//	    mode ENUMERATED { refreshOnly (1), refreshAndPersist (3) },
//	    cookie     syncCookie OPTIONAL,
//	    reloadHint BOOLEAN DEFAULT FALSE }
func ParseSyncRequest(value []byte) (SyncRequest, error) {
	r := ber.NewReader(value)
	seq, err := r.Enter(ber.TagSequence)
	if err != nil {
		return SyncRequest{}, err
	}
	if err := r.Finish(); err != nil {
		return SyncRequest{}, err
	}
	mode, err := seq.Int(ber.TagEnumerated)
	if err != nil {
		return SyncRequest{}, err
	}
	req := SyncRequest{Mode: SyncMode(mode)}
	if req.Mode != SyncRefreshOnly && req.Mode != SyncRefreshAndPersist {
		return SyncRequest{}, errSyncMode
	}
	if t, err := seq.Peek(); err == nil && t == ber.TagOctetString {
		c, err := seq.OctetString(ber.TagOctetString)
		if err != nil {
			return SyncRequest{}, err
		}
		if len(c) > MaxSyncCookie {
			return SyncRequest{}, errors.New("ldap: sync cookie too long")
		}
		req.Cookie = c[:len(c):len(c)]
		if req.Cookie == nil {
			req.Cookie = []byte{}
		}
	}
	if t, err := seq.Peek(); err == nil && t == ber.TagBoolean {
		if req.ReloadHint, err = seq.Bool(ber.TagBoolean); err != nil {
			return SyncRequest{}, err
		}
	}
	if err := seq.Finish(); err != nil {
		return SyncRequest{}, err
	}
	return req, nil
}

// AppendSyncRequest appends a Sync Request control value (for clients and
// tests).
func AppendSyncRequest(dst []byte, req SyncRequest) []byte {
	e := ber.Encoder{Buf: dst}
	e.Begin(ber.TagSequence)
	e.Int(ber.TagEnumerated, int64(req.Mode))
	if req.Cookie != nil {
		e.OctetString(ber.TagOctetString, req.Cookie)
	}
	if req.ReloadHint {
		e.Bool(ber.TagBoolean, true)
	}
	e.End()
	return e.Buf
}

// SyncStateControl is the control on an entry of a synchronisation:
//
//	syncStateValue ::= SEQUENCE {
//	    state ENUMERATED { present (0), add (1), modify (2), delete (3) },
//	    entryUUID syncUUID,
//	    cookie    syncCookie OPTIONAL }
func SyncStateControl(state SyncState, uuid [16]byte, cookie []byte) Control {
	e := ber.Encoder{}
	e.Begin(ber.TagSequence)
	e.Int(ber.TagEnumerated, int64(state))
	e.OctetString(ber.TagOctetString, uuid[:])
	if cookie != nil {
		e.OctetString(ber.TagOctetString, cookie)
	}
	e.End()
	return Control{OID: OIDSyncState, Value: e.Buf, HasValue: true}
}

// SyncDoneControl ends a refreshOnly synchronisation:
//
//	syncDoneValue ::= SEQUENCE {
//	    cookie         syncCookie OPTIONAL,
//	    refreshDeletes BOOLEAN DEFAULT FALSE }
//
// refreshDeletes false (the present phase) tells the client to drop the
// entries it holds that the refresh did not send.
func SyncDoneControl(cookie []byte, refreshDeletes bool) Control {
	e := ber.Encoder{}
	e.Begin(ber.TagSequence)
	if cookie != nil {
		e.OctetString(ber.TagOctetString, cookie)
	}
	if refreshDeletes {
		e.Bool(ber.TagBoolean, true)
	}
	e.End()
	return Control{OID: OIDSyncDone, Value: e.Buf, HasValue: true}
}

var (
	tagSyncNewCookie      = ber.Context(0, false)
	tagSyncRefreshDelete  = ber.Context(1, true)
	tagSyncRefreshPresent = ber.Context(2, true)
)

// SyncInfoRefreshDone is the value of the Sync Info Message that ends the
// refresh of a refreshAndPersist synchronisation:
//
//	syncInfoValue ::= CHOICE { ...
//	    refreshDelete  [1] SEQUENCE { cookie syncCookie OPTIONAL, refreshDone BOOLEAN DEFAULT TRUE },
//	    refreshPresent [2] SEQUENCE { cookie syncCookie OPTIONAL, refreshDone BOOLEAN DEFAULT TRUE }, ... }
//
// present chooses refreshPresent (the client drops what was not sent);
// otherwise refreshDelete (deletions were sent as such).
func SyncInfoRefreshDone(cookie []byte, present bool) []byte {
	e := ber.Encoder{}
	tag := tagSyncRefreshDelete
	if present {
		tag = tagSyncRefreshPresent
	}
	e.Begin(tag)
	if cookie != nil {
		e.OctetString(ber.TagOctetString, cookie)
	}
	e.End()
	return e.Buf
}

// SyncInfoNewCookie is the value of a Sync Info Message that only moves
// the client's cookie on (newcookie [0] syncCookie).
func SyncInfoNewCookie(cookie []byte) []byte {
	e := ber.Encoder{}
	e.OctetString(tagSyncNewCookie, cookie)
	return e.Buf
}
