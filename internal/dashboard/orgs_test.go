package dashboard_test

import (
	"context"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// TestOrganizationSwitcher: a person who is a member of two organizations
// sees the current one and can switch to the other, signing in to that
// membership with its own password.
func TestOrganizationSwitcher(t *testing.T) {
	eachBackend(t, func(t *testing.T, bk testserver.Backend) {
		srv, owner := start(t, bk)
		ctx := context.Background()
		now := time.Now()
		other := &patchbay.Organization{ID: "org_second0000001", Name: "Second Org", CreatedAt: now}
		if err := srv.Store.CreateOrganization(ctx, other); err != nil {
			t.Fatal(err)
		}
		m := &patchbay.Member{ID: "mem_second0000001", OrgID: other.ID, Email: owner, Name: "Owner", Role: patchbay.RoleOwner, CreatedAt: now}
		if err := srv.Store.CreateMember(ctx, m); err != nil {
			t.Fatal(err)
		}
		p := &patchbay.Project{ID: "pr_second00000001", OrgID: other.ID, Name: "second project", CreatedAt: now, UpdatedAt: now}
		if err := srv.Store.CreateProject(ctx, p); err != nil {
			t.Fatal(err)
		}
		cli, err := srv.Service.CLIPrincipal(ctx, other.ID)
		if err != nil {
			t.Fatal(err)
		}
		_, tok, err := srv.Service.CreateInvite(ctx, cli, owner, patchbay.RoleOwner)
		if err != nil {
			t.Fatal(err)
		}
		const otherPassword = "another long password here"
		if _, _, err := srv.Service.AcceptInvite(ctx, tok, "Owner", otherPassword, "test"); err != nil {
			t.Fatal(err)
		}

		b := newBrowser(t, srv)
		home := b.signIn(owner).want(t, 200)
		home.has(t, `aria-current="true">`+srv.Org.Name+`</span>`, "Switch to:", ">Second Org</a>")
		signin := b.get("/signin?org="+other.ID+"&email="+url.QueryEscape(owner)+"&next=/").want(t, 200)
		signin.has(t, `name="org" value="`+other.ID+`"`)
		// The first organization's password does not open the second.
		b.post("/signin", url.Values{"email": {owner}, "password": {Password}, "org": {other.ID}}).want(t, 401)
		switched := b.follow(b.post("/signin", url.Values{"email": {owner}, "password": {otherPassword}, "org": {other.ID}, "next": {"/"}}))
		switched.want(t, 200).has(t, `aria-current="true">Second Org</span>`, "second project")
		if strings.Contains(switched.Body, srv.Project.Name+"</option>") {
			t.Error("the second organization's pages list the first one's projects")
		}
	})
}
