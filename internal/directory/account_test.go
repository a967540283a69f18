package directory

import "testing"

// TestAppendAccount: the throttle's account key, built on the stack, is
// org/user/folded login, folded as foldKey folds (non-ASCII too).
func TestAppendAccount(t *testing.T) {
	for _, login := range []string{"", "ann@x.example", "Ann.Lee@X.Example", "ÄNNE@x", "Straße@X", "bob\u0130@x"} {
		req := AuthRequest{OrgID: "00o1", UserID: "00u1", Login: login}
		want := req.OrgID + "/" + req.UserID + "/" + foldKey(login)
		if got := string(appendAccount(nil, &req)); got != want {
			t.Errorf("%q: %q, want %q", login, got, want)
		}
	}
}
