package directory

// Factors: a user's TOTP second factor (RFC 6238, package totp), enrolled
// PENDING_ACTIVATION, made ACTIVE by a first valid code, and verified on
// sign-in with replay protection. The secret is sealed (package sealed)
// with the Directory's key, bound to the user id, before it reaches the
// store; it is shown in clear only once, in the Enrollment, to the user.

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/dirgate/dirgate/internal/store"
	"github.com/dirgate/dirgate/internal/totp"
)

const (
	prefixFactor = "00f"
	// totpSkew is how many 30 s steps either side of now a code may be
	// from (±30 s of clock drift).
	totpSkew = 1
	// qrSize is the size in pixels of an enrolment QR code.
	qrSize = 320
)

// errNoSecrets is returned by the factor operations that seal or open a
// secret when Config.Secrets is nil.
var errNoSecrets = &Error{Code: CodeUnavailable, Message: "no secret key configured: TOTP secrets cannot be sealed or opened"}

// Enrollment is a new TOTP factor and what its user needs to add it to an
// authenticator app. Secret, URI and the QR code carry the secret in
// clear: give them to the user only, never log them. An Enrollment
// formats (fmt, log/slog) as its factor id only.
type Enrollment struct {
	Factor *store.Factor // PENDING_ACTIVATION; Factor.Secret is sealed
	Secret string        // base32, what a user types into an authenticator
	URI    string        // otpauth://totp/...
	// QRPNG renders URI as a QR code PNG.
	QRPNG func() ([]byte, error)
}

func (e *Enrollment) String() string {
	if e == nil || e.Factor == nil {
		return "directory.Enrollment()"
	}
	return "directory.Enrollment(" + e.Factor.ID + ")"
}

// GoString, Format and LogValue keep the secret out of %#v, every other
// fmt verb, and log/slog.
func (e *Enrollment) GoString() string           { return e.String() }
func (e *Enrollment) Format(f fmt.State, _ rune) { _, _ = f.Write([]byte(e.String())) }
func (e *Enrollment) LogValue() slog.Value       { return slog.StringValue(e.String()) }

// totpAD is the associated data a user's TOTP secret is sealed with, so
// that a sealed secret copied to another user's factor does not open.
func totpAD(userID string) []byte { return []byte("totp:" + userID) }

// EnrollTOTP creates a PENDING_ACTIVATION TOTP factor for the user with a
// new secret, replacing a pending one enrolled earlier. A user with an
// ACTIVE TOTP factor must have it reset first (CodeConflict).
func (d *Directory) EnrollTOTP(ctx context.Context, org, userRef string) (*Enrollment, error) {
	if d.secrets == nil {
		return nil, errNoSecrets
	}
	secret, err := totp.NewSecret()
	if err != nil {
		return nil, &Error{Code: CodeInternal, Message: "could not generate a TOTP secret", Err: err}
	}
	defer clear(secret)
	var out Enrollment
	err = d.st.Update(ctx, func(tx store.Tx) error {
		o, u, fs, err := userFactors(tx, org, userRef)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if f.Type != store.FactorTOTP {
				continue
			}
			if f.Status == store.FactorActive {
				return errf(CodeConflict, "user %s already has an active TOTP factor; reset the user's factors before enrolling a new one", u.Profile.Login)
			}
			if err := tx.DeleteFactor(f.ID); err != nil {
				return err
			}
		}
		sealed, err := d.secrets.Seal(secret, totpAD(u.ID))
		if err != nil {
			return &Error{Code: CodeInternal, Message: "could not seal the TOTP secret", Reason: err.Error(), Err: err}
		}
		now := d.now().UTC()
		f := &store.Factor{
			ID: newID(prefixFactor), OrgID: o.ID, UserID: u.ID, Type: store.FactorTOTP,
			Status: store.FactorPendingActivation, Secret: sealed, Created: now, LastUpdated: now,
		}
		if err := tx.CreateFactor(f); err != nil {
			return err
		}
		uri := totp.URI("dirgate ("+o.Name+")", u.Profile.Login, secret)
		out = Enrollment{Factor: f, Secret: totp.EncodeSecret(secret), URI: uri,
			QRPNG: func() ([]byte, error) { return totp.QRCodePNG(uri, qrSize) }}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return &out, nil
}

// ActivateTOTP activates the user's pending TOTP factor with a first code
// from the authenticator. A code that does not verify fails with
// CodeInvalidCredentials and leaves the factor pending.
func (d *Directory) ActivateTOTP(ctx context.Context, org, userRef, code string) (*store.Factor, error) {
	if d.secrets == nil {
		return nil, errNoSecrets
	}
	var out *store.Factor
	err := d.st.Update(ctx, func(tx store.Tx) error {
		_, u, fs, err := userFactors(tx, org, userRef)
		if err != nil {
			return err
		}
		var f *store.Factor
		for _, c := range fs {
			if c.Type != store.FactorTOTP {
				continue
			}
			if c.Status == store.FactorActive {
				return errf(CodeConflict, "the TOTP factor of user %s is already active", u.Profile.Login)
			}
			if c.Status == store.FactorPendingActivation {
				f = c
			}
		}
		if f == nil {
			return errf(CodeNotFound, "user %s has no TOTP factor waiting for activation; enrol one first", u.Profile.Login)
		}
		now := d.now()
		step, ok, err := d.checkTOTP(f, code, now)
		if err != nil {
			return err
		}
		if !ok {
			return &Error{Code: CodeInvalidCredentials,
				Message: "the TOTP code is wrong or expired: give the current 6-digit code from the authenticator (check that its clock is right)",
				Reason:  "TOTP activation code did not verify"}
		}
		f.Status, f.LastStep, f.Activated, f.LastUpdated = store.FactorActive, step, now.UTC(), now.UTC()
		if err := tx.UpdateFactor(f); err != nil {
			return err
		}
		out = f
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	d.auditWrite(ctx, nil, out.OrgID, EventFactorActivate,
		LogTarget{ID: out.UserID, Type: "User"}, LogTarget{ID: out.ID, Type: "Factor", DisplayName: out.Type})
	return out, nil
}

// checkTOTP opens f's secret and verifies code at t against f.LastStep.
func (d *Directory) checkTOTP(f *store.Factor, code string, t time.Time) (step int64, ok bool, err error) {
	secret, err := d.secrets.Open(f.Secret, totpAD(f.UserID))
	if err != nil {
		return 0, false, &Error{Code: CodeInternal, Message: "could not open the TOTP secret (was it sealed with another key?)",
			Reason: fmt.Sprintf("factor %s: %v", f.ID, err), Err: err}
	}
	defer clear(secret)
	step, ok = totp.Verify(secret, code, t, totpSkew, f.LastStep)
	return step, ok, nil
}

// VerifyTOTP checks a code against the user's ACTIVE TOTP factor and, if
// it verifies, records its time step in the same transaction, so that
// the code (and every older one) is refused afterwards, by this process
// or any other sharing the store. A wrong, replayed or malformed code
// gives false and no error. A user without an active TOTP factor gets
// CodeForbidden ("not enrolled"), distinct from a wrong code.
func (d *Directory) VerifyTOTP(ctx context.Context, userID, code string) (bool, error) {
	if d.secrets == nil {
		return false, errNoSecrets
	}
	var ok bool
	err := d.st.Update(ctx, func(tx store.Tx) error {
		fs, err := tx.Factors(userID)
		if err != nil {
			return err
		}
		var f *store.Factor
		for _, c := range fs {
			if c.Type == store.FactorTOTP && c.Status == store.FactorActive {
				f = c
				break
			}
		}
		if f == nil {
			return &Error{Code: CodeForbidden, Message: "user has no active TOTP factor; enrol one", Reason: "MFA required but no active TOTP factor"}
		}
		now := d.now()
		var step int64
		if step, ok, err = d.checkTOTP(f, code, now); err != nil || !ok {
			return err
		}
		f.LastStep, f.LastUpdated = step, now.UTC()
		return tx.UpdateFactor(f)
	})
	if err != nil {
		return false, storeErr(err)
	}
	return ok, nil
}

// ResetFactors deletes all the user's factors and returns how many there
// were. It needs no secret key (a lost key is recovered by resetting).
func (d *Directory) ResetFactors(ctx context.Context, org, userRef string) (int, error) {
	var n int
	var who *User
	err := d.st.Update(ctx, func(tx store.Tx) error {
		_, u, fs, err := userFactors(tx, org, userRef)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if err := tx.DeleteFactor(f.ID); err != nil {
				return err
			}
		}
		who = u
		n = len(fs)
		return nil
	})
	if err != nil {
		return 0, storeErr(err)
	}
	if n > 0 {
		d.auditUser(ctx, nil, EventFactorResetAll, who)
	}
	return n, nil
}

// Factors returns the user's factors, oldest first. Their secrets stay
// sealed.
func (d *Directory) Factors(ctx context.Context, org, userRef string) ([]*store.Factor, error) {
	var out []*store.Factor
	err := d.st.View(ctx, func(r store.Reader) error {
		var err error
		_, _, out, err = userFactors(r, org, userRef)
		return err
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return out, nil
}

// userFactors finds a user of org by reference and reads its factors.
func userFactors(r store.Reader, org, userRef string) (*Org, *User, []*store.Factor, error) {
	o, err := orgByName(r, org)
	if err != nil {
		return nil, nil, nil, err
	}
	u, err := userByRef(r, o, userRef)
	if err != nil {
		return nil, nil, nil, err
	}
	fs, err := r.Factors(u.ID)
	return o, u, fs, err
}

// Factor returns the user's factor with that id.
func (d *Directory) Factor(ctx context.Context, org, userRef, id string) (*store.Factor, error) {
	fs, err := d.Factors(ctx, org, userRef)
	if err != nil {
		return nil, err
	}
	for _, f := range fs {
		if f.ID == id {
			return f, nil
		}
	}
	return nil, errf(CodeNotFound, "no factor %q of user %s", id, userRef)
}

// DeleteFactor deletes one of the user's factors (Okta's unenroll).
func (d *Directory) DeleteFactor(ctx context.Context, org, userRef, id string) error {
	var who *User
	err := d.st.Update(ctx, func(tx store.Tx) error {
		_, u, fs, err := userFactors(tx, org, userRef)
		if err != nil {
			return err
		}
		for _, f := range fs {
			if f.ID == id {
				who = u
				return tx.DeleteFactor(f.ID)
			}
		}
		return errf(CodeNotFound, "no factor %q of user %s", id, u.Profile.Login)
	})
	if err != nil {
		return storeErr(err)
	}
	d.auditUser(ctx, nil, EventFactorDeactivate, who)
	return nil
}
