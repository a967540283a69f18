package directory

import (
	"context"
	"fmt"

	"github.com/dirgate/dirgate/internal/store"
)

// ImportUser is one user to import: a profile, its status and an already
// hashed password (verified as it is on later sign-ins).
type ImportUser struct {
	UserInput
	Source string // where it came from, for messages (e.g. "line 42")
}

// ImportGroup is one group to import with its members' logins.
type ImportGroup struct {
	GroupInput
	MemberLogins []string
	Source       string
}

// Skipped is something an import left out, and why.
type Skipped struct {
	Source string
	Reason string
}

// ImportResult reports what an import did.
type ImportResult struct {
	Users, Groups, Memberships int
	Skipped                    []Skipped
}

// Import creates users and groups in org in one transaction: all of them,
// or (on any error) none. A member login that names no imported or
// existing user is skipped and reported, as is a repeated membership.
// progress, when non-nil, is called after each user and group.
func (d *Directory) Import(ctx context.Context, org string, users []ImportUser, groups []ImportGroup, progress func(done, total int)) (*ImportResult, error) {
	res := &ImportResult{}
	total, done := len(users)+len(groups), 0
	step := func() {
		done++
		if progress != nil {
			progress(done, total)
		}
	}
	err := d.st.Update(ctx, func(tx store.Tx) error {
		o, err := orgByName(tx, org)
		if err != nil {
			return err
		}
		byLogin := map[string]string{}
		for i := range users {
			if err := ctx.Err(); err != nil {
				return err
			}
			u, err := d.newUser(o, users[i].UserInput, nil)
			if err != nil {
				return wrapSource(users[i].Source, err)
			}
			if err := createUser(tx, o, u); err != nil {
				return wrapSource(users[i].Source, err)
			}
			byLogin[u.LoginKey] = u.ID
			res.Users++
			step()
		}
		for i := range groups {
			in := groups[i]
			if e := validateGroup(in.GroupInput); e != nil {
				return wrapSource(in.Source, e)
			}
			g := d.newGroup(o, in.GroupInput)
			if err := createGroup(tx, o, g); err != nil {
				return wrapSource(in.Source, err)
			}
			res.Groups++
			for _, login := range in.MemberLogins {
				id, ok := byLogin[foldKey(login)]
				if !ok {
					u, err := tx.UserByLogin(o.ID, foldKey(login))
					if err != nil {
						res.Skipped = append(res.Skipped, Skipped{in.Source, fmt.Sprintf("member %q of group %s is not a user of org %s", login, in.Name, o.Name)})
						continue
					}
					id = u.ID
				}
				added, err := tx.AddMember(g.ID, id)
				if err != nil {
					return wrapSource(in.Source, err)
				}
				if added {
					res.Memberships++
				}
			}
			step()
		}
		return nil
	})
	if err != nil {
		return nil, storeErr(err)
	}
	return res, nil
}

func wrapSource(src string, err error) error {
	if src == "" {
		return err
	}
	if e, ok := err.(*Error); ok {
		c := *e
		c.Message = src + ": " + e.Message
		return &c
	}
	return fmt.Errorf("%s: %w", src, err)
}
