package apiclient

import (
	"context"
)

// Factors: /api/v1/users/{ref}/factors. dirgate's factors are TOTP
// (token:software:totp, any authenticator app).

// FactorTOTP is the factor type of a TOTP factor.
const FactorTOTP = "token:software:totp"

// Factors lists a user's factors, oldest first (GET
// /api/v1/users/{ref}/factors). Their secrets are never shown.
func (c *Client) Factors(ctx context.Context, ref string) ([]*Factor, error) {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	var fs []*Factor
	if _, err := c.get(ctx, usersPath(ref, "factors"), nil, &fs); err != nil {
		return nil, err
	}
	return fs, nil
}

// EnrollTOTP enrols a TOTP factor (POST /api/v1/users/{ref}/factors): a
// PENDING_ACTIVATION factor, replacing a pending one, with its secret.
// A user with an ACTIVE TOTP factor must have its factors reset first.
func (c *Client) EnrollTOTP(ctx context.Context, ref string) (*Enrollment, error) {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	var e Enrollment
	in := map[string]string{"factorType": FactorTOTP, "provider": "GOOGLE"}
	if err := c.post(ctx, usersPath(ref, "factors"), nil, in, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// ActivateFactor activates a PENDING_ACTIVATION factor with a first code
// from the authenticator (POST
// /api/v1/users/{ref}/factors/{factorID}/lifecycle/activate). A wrong
// code is an *Error with Code CodeFactorCode.
func (c *Client) ActivateFactor(ctx context.Context, ref, factorID, passCode string) (*Factor, error) {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return nil, err
	}
	var f Factor
	if err := c.post(ctx, usersPath(ref, "factors", seg(factorID), "lifecycle", "activate"), nil,
		map[string]string{"passCode": passCode}, &f); err != nil {
		return nil, err
	}
	return &f, nil
}

// DeleteFactor deletes one of a user's factors (DELETE
// /api/v1/users/{ref}/factors/{factorID}).
func (c *Client) DeleteFactor(ctx context.Context, ref, factorID string) error {
	ref, err := c.userRef(ctx, ref)
	if err != nil {
		return err
	}
	return c.del(ctx, usersPath(ref, "factors", seg(factorID)))
}

// ResetFactors deletes all of a user's factors (POST
// /api/v1/users/{ref}/lifecycle/reset_factors). The answer does not say
// how many there were.
func (c *Client) ResetFactors(ctx context.Context, ref string) error {
	return c.Lifecycle(ctx, ref, "reset_factors")
}
