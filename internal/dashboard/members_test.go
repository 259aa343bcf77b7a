package dashboard_test

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

var inviteLinkRE = regexp.MustCompile(`id="invite-link" class="mono" readonly value="([^"]+)"`)

// inviteLink returns the sign-up link an answering page shows.
func inviteLink(t *testing.T, p *page) string {
	t.Helper()
	m := inviteLinkRE.FindStringSubmatch(p.Body)
	if m == nil {
		t.Fatalf("no sign-up link on the page:\n%s", tail(p.Body))
	}
	return m[1]
}

// memberRowOf returns the members table's row of email.
func memberRowOf(t *testing.T, p *page, email string) string {
	t.Helper()
	i := strings.Index(p.Body, `<td class="mono">`+email)
	if i < 0 {
		t.Fatalf("no row for %s:\n%s", email, tail(p.Body))
	}
	row := p.Body[i:]
	return row[:strings.Index(row, "</tr>")]
}

// TestMembersPage: an owner sees the members and invites someone; the link
// is shown once, built from the request's origin; a new browser follows it,
// signs up with a password and lands signed in with the invited role. The
// new admin may invite members but not owners (the Service's message is
// shown); a bad email, someone who can already sign in and a used link are
// refused; a member sees the list without the form and a forced invite is
// a 403.
func TestMembersPage(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk testserver.Backend) {
		srv, owner := start(t, bk)
		b := newBrowser(t, srv)
		b.signIn(owner)

		list := b.get(projectPath(srv, "/members")).want(t, 200)
		list.has(t, "<h1>Members</h1>", `aria-current="page">Members`, `<caption class="visually-hidden">Members of your organization</caption>`,
			`<th scope="col">Role</th>`, `<label for="invite-email">Email to invite</label>`, `<label for="invite-role">Role of the new member</label>`,
			`<option value="owner">owner</option>`, `<option value="admin">admin</option>`, `<option value="member" selected>member</option>`,
			"Create sign-up link")
		if row := memberRowOf(t, list, owner); !strings.Contains(row, "(you)") || !strings.Contains(row, "<td>owner</td>") {
			t.Errorf("the owner's row: %s", row)
		}
		if row := memberRowOf(t, list, "member@example.com"); !strings.Contains(row, "<td>member</td>") || !strings.Contains(row, "<td>Member</td>") {
			t.Errorf("the member's row: %s", row)
		}
		list.lacks(t, "invite-link", "/signup?token=")

		// The owner invites an admin: the link is shown once.
		done := b.post(projectPath(srv, "/members"), url.Values{"email": {"new@example.com"}, "role": {"admin"}}).want(t, 200)
		done.has(t, "Invite for new@example.com created", "shown only this once", `data-copy="invite-link"`,
			`aria-label="Copy the sign-up link for new@example.com"`, "with the role <strong>admin</strong>")
		link := inviteLink(t, done)
		if !strings.HasPrefix(link, srv.URL+"/signup?token=pbi_") {
			t.Errorf("the link %q is not on the dashboard's origin %s", link, srv.URL)
		}
		b.get(projectPath(srv, "/members")).want(t, 200).lacks(t, link, "invite-link")

		// Behind a proxy that terminated TLS, the link is https.
		form := url.Values{"email": {"proxied@example.com"}, "role": {"member"}, "csrf": {b.csrf}}
		req, _ := http.NewRequest("POST", srv.URL+projectPath(srv, "/members"), strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-Proto", "https")
		host := strings.TrimPrefix(srv.URL, "http://")
		if got := inviteLink(t, b.do(req).want(t, 200)); !strings.HasPrefix(got, "https://"+host+"/signup?token=pbi_") {
			t.Errorf("behind TLS the link is %q", got)
		}

		// A new browser follows the link and signs up.
		nb := newBrowser(t, srv)
		path := strings.TrimPrefix(link, srv.URL)
		nb.get(path).want(t, 200).has(t, "new@example.com", "<strong>admin</strong>")
		token := strings.TrimPrefix(path, "/signup?token=")
		nb.post("/signup", url.Values{"token": {token}, "name": {"New Admin"}, "password": {"too short"}, "confirm": {"too short"}}).want(t, 400)
		landed := nb.follow(nb.post("/signup", url.Values{"token": {token}, "name": {"New Admin"}, "password": {Password}, "confirm": {Password}}).want(t, http.StatusSeeOther))
		landed.want(t, 200).has(t, "new@example.com (admin)")
		newBrowser(t, srv).get(path).want(t, 404).has(t, "not valid")
		// … and can sign in again with that password.
		newBrowser(t, srv).signIn("new@example.com").want(t, 200).has(t, "new@example.com (admin)")

		// The admin sees the form without the owner role, and is refused an
		// owner invite with the Service's message.
		admin := nb.get(projectPath(srv, "/members")).want(t, 200)
		admin.has(t, "Create sign-up link", `<option value="admin">admin</option>`).lacks(t, `<option value="owner"`)
		if row := memberRowOf(t, admin, "new@example.com"); !strings.Contains(row, "(you)") || !strings.Contains(row, "<td>admin</td>") || !strings.Contains(row, "New Admin") {
			t.Errorf("the new admin's row: %s", row)
		}
		nb.post(projectPath(srv, "/members"), url.Values{"email": {"boss@example.com"}, "role": {"owner"}}).want(t, http.StatusForbidden).
			has(t, `role="alert">Only owners may invite owners.`, `value="boss@example.com"`).lacks(t, "invite-link")
		nb.post(projectPath(srv, "/members"), url.Values{"email": {"helper@example.com"}, "role": {"member"}}).want(t, 200).
			has(t, "Invite for helper@example.com created", "with the role <strong>member</strong>")

		// Refusals keep the form filled and say why.
		b.post(projectPath(srv, "/members"), url.Values{"email": {"not-an-email"}, "role": {"member"}}).want(t, 400).
			has(t, "is not an email address", `value="not-an-email"`).lacks(t, "invite-link")
		b.post(projectPath(srv, "/members"), url.Values{"email": {"new@example.com"}, "role": {"member"}}).want(t, http.StatusConflict).
			has(t, "new@example.com can already sign in.")
		b.post(projectPath(srv, "/members"), url.Values{"email": {"x@example.com"}, "role": {"emperor"}}).want(t, 400).has(t, "role must be one of")
		b.post(projectPath(srv, "/members"), url.Values{"email": {"forged@example.com"}, "role": {"member"}, "csrf": {"wrong"}}).want(t, http.StatusForbidden).has(t, "expired")

		// A member sees the list without the form, and a forced invite is
		// refused.
		mb := newBrowser(t, srv)
		mb.signIn(member(t, srv, "dev@example.com", patchbay.RoleMember))
		mp := mb.get(projectPath(srv, "/members")).want(t, 200)
		mp.has(t, owner, "new@example.com", "New Admin").lacks(t, "Create sign-up link", "invite-email")
		if row := memberRowOf(t, mp, "dev@example.com"); !strings.Contains(row, "(you)") {
			t.Errorf("the member's own row: %s", row)
		}
		mb.post(projectPath(srv, "/members"), url.Values{"email": {"sneaky@example.com"}, "role": {"member"}}).want(t, http.StatusForbidden).
			has(t, "Only owners and admins").lacks(t, "invite-link", "Create sign-up link")
		if _, err := srv.Service.InviteFor(t.Context(), "pbi_guess"); err == nil {
			t.Error("a guessed token is an invite")
		}
		b.get("/projects/prj_elsewhere/members").want(t, 404)
	})
}
