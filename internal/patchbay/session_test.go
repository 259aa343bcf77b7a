package patchbay_test

import (
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

const goodPassword = "correct horse battery staple"

// TestInviteSignInSignOut: an invite signs a new member up once, with the
// invite's role; sign-in takes the right password only and names no
// email; a session carries its member until it ends.
func TestInviteSignInSignOut(t *testing.T) {
	e := MustEnv(t)
	owner := e.fx().owner
	inv, tok, err := e.svc.CreateInvite(e.ctx, owner, "dev@example.com", patchbay.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(inv.ID, tok) || !strings.HasPrefix(tok, "pbi_") {
		t.Errorf("invite %q stored as %q", tok, inv.ID)
	}
	_, _, err = e.svc.AcceptInvite(e.ctx, tok, "Dev", "short", "ip")
	wantError(t, "a short password", err, patchbay.EINVALID, "12")
	cookie, sess, err := e.svc.AcceptInvite(e.ctx, tok, "Dev", goodPassword, "ip")
	if err != nil {
		t.Fatal(err)
	}
	p, got, err := e.svc.SessionPrincipal(e.ctx, cookie, "ip")
	if err != nil {
		t.Fatal(err)
	}
	if p.Member.Email != "dev@example.com" || p.Role() != patchbay.RoleAdmin || p.Credential.Kind != patchbay.CredentialSession || got.CSRF != sess.CSRF {
		t.Errorf("session principal %+v", p)
	}
	_, _, err = e.svc.AcceptInvite(e.ctx, tok, "Dev again", goodPassword, "ip")
	wantError(t, "a used invite", err, patchbay.ENOTFOUND, "not valid")

	for _, c := range []struct{ email, pw string }{{"dev@example.com", "wrong password here"}, {"nobody@example.com", goodPassword}} {
		_, _, err := e.svc.SignIn(e.ctx, c.email, c.pw, "")
		wantError(t, c.email, err, patchbay.EUNAUTHORIZED, "Wrong email or password")
	}
	second, _, err := e.svc.SignIn(e.ctx, "DEV@example.com", goodPassword, "")
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SignOut(e.ctx, second); err != nil {
		t.Fatal(err)
	}
	_, _, err = e.svc.SessionPrincipal(e.ctx, second, "ip")
	wantError(t, "after sign-out", err, patchbay.EUNAUTHORIZED, "sign in again")
	if _, _, err := e.svc.SessionPrincipal(e.ctx, cookie, "ip"); err != nil {
		t.Errorf("signing out one session ended another: %v", err)
	}
	// Sessions end on their own.
	e.clock.Advance(patchbay.SessionLifetime + time.Minute)
	_, _, err = e.svc.SessionPrincipal(e.ctx, cookie, "ip")
	wantError(t, "an expired session", err, patchbay.EUNAUTHORIZED)
}

// TestInvitePolicy: members may not invite; admins may not invite owners;
// an email that can sign in already is not invited twice; the owner's
// setup link exists until the owner has a password.
func TestInvitePolicy(t *testing.T) {
	e := MustEnv(t)
	member := e.MustMember("m@example.com", patchbay.RoleMember)
	admin := e.MustMember("a@example.com", patchbay.RoleAdmin)
	_, _, err := e.svc.CreateInvite(e.ctx, member, "x@example.com", patchbay.RoleMember)
	wantError(t, "a member invites", err, patchbay.EFORBIDDEN)
	_, _, err = e.svc.CreateInvite(e.ctx, admin, "x@example.com", patchbay.RoleOwner)
	wantError(t, "an admin invites an owner", err, patchbay.EFORBIDDEN, "owners")

	setup, err := e.svc.OwnerSetup(e.ctx, e.org.ID)
	if err != nil || setup == "" {
		t.Fatalf("OwnerSetup = %q, %v", setup, err)
	}
	inv, err := e.svc.InviteFor(e.ctx, setup)
	if err != nil || inv.Role != patchbay.RoleOwner || inv.Email != "owner@example.com" {
		t.Fatalf("setup invite %+v, %v", inv, err)
	}
	if _, _, err := e.svc.AcceptInvite(e.ctx, setup, "Owner", goodPassword, "ip"); err != nil {
		t.Fatal(err)
	}
	if again, err := e.svc.OwnerSetup(e.ctx, e.org.ID); err != nil || again != "" {
		t.Errorf("after the owner signed up, OwnerSetup = %q, %v", again, err)
	}
	_, _, err = e.svc.CreateInvite(e.ctx, e.fx().owner, "owner@example.com", patchbay.RoleOwner)
	wantError(t, "inviting who can sign in", err, patchbay.ECONFLICT)
	if n := countMembers(t, e, "owner@example.com"); n != 1 {
		t.Errorf("the owner's setup made %d members with the owner's email", n)
	}
}

func countMembers(t *testing.T, e *env, email string) int {
	t.Helper()
	ms, err := e.svc.ListMembers(e.ctx, e.fx().owner)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, m := range ms {
		if strings.EqualFold(m.Email, email) {
			n++
		}
	}
	return n
}
