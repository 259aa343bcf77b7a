package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// MustOrg creates an organization created at at(0).
func MustOrg(tb testing.TB, s patchbay.Store) *patchbay.Organization {
	tb.Helper()
	o := &patchbay.Organization{ID: id(patchbay.PrefixOrg), Name: "Acme", CreatedAt: at(0)}
	if err := s.CreateOrganization(context.Background(), o); err != nil {
		tb.Fatalf("CreateOrganization: %v", err)
	}
	return o
}

// MustMember creates a member of org with a unique email.
func MustMember(tb testing.TB, s patchbay.Store, orgID string, role patchbay.Role) *patchbay.Member {
	tb.Helper()
	mid := id(patchbay.PrefixMember)
	m := &patchbay.Member{ID: mid, OrgID: orgID, Email: mid + "@example.com", Name: "Ada", Role: role, CreatedAt: at(1)}
	if err := s.CreateMember(context.Background(), m); err != nil {
		tb.Fatalf("CreateMember: %v", err)
	}
	return m
}

// MustProject creates a project of org created at created.
func MustProject(tb testing.TB, s patchbay.Store, orgID string, created time.Time) *patchbay.Project {
	tb.Helper()
	p := &patchbay.Project{ID: id(patchbay.PrefixProject), OrgID: orgID, Name: "Project", CreatedAt: created, UpdatedAt: created}
	if err := s.CreateProject(context.Background(), p); err != nil {
		tb.Fatalf("CreateProject: %v", err)
	}
	return p
}

func projectIDs(ps []*patchbay.Project) []string {
	var ids []string
	for _, p := range ps {
		ids = append(ids, p.ID)
	}
	return ids
}

func wantProject(tb testing.TB, got, want *patchbay.Project) {
	tb.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.Name != want.Name {
		tb.Errorf("project = {%s %s %q}, want {%s %s %q}", got.ID, got.OrgID, got.Name, want.ID, want.OrgID, want.Name)
	}
	wantTime(tb, "project CreatedAt", got.CreatedAt, want.CreatedAt)
	wantTime(tb, "project UpdatedAt", got.UpdatedAt, want.UpdatedAt)
	wantTimePtr(tb, "project DeletedAt", got.DeletedAt, want.DeletedAt)
}

func wantMember(tb testing.TB, got, want *patchbay.Member) {
	tb.Helper()
	if got.ID != want.ID || got.OrgID != want.OrgID || got.Email != want.Email || got.Name != want.Name || got.Role != want.Role {
		tb.Errorf("member = %+v, want %+v", *got, *want)
	}
	wantTime(tb, "member CreatedAt", got.CreatedAt, want.CreatedAt)
}

func testOrganizations(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	newer := &patchbay.Organization{ID: id(patchbay.PrefixOrg), Name: "Newer", CreatedAt: at(10)}
	older := &patchbay.Organization{ID: id(patchbay.PrefixOrg), Name: "Older", CreatedAt: at(5)}
	mustOK(t, "CreateOrganization newer", s.CreateOrganization(ctx, newer))
	mustOK(t, "CreateOrganization older", s.CreateOrganization(ctx, older))

	got, err := s.GetOrganization(ctx, newer.ID)
	mustOK(t, "GetOrganization", err)
	if got.ID != newer.ID || got.Name != newer.Name {
		t.Errorf("GetOrganization = %+v, want %+v", *got, *newer)
	}
	wantTime(t, "organization CreatedAt", got.CreatedAt, newer.CreatedAt)

	first, err := s.FirstOrganization(ctx)
	mustOK(t, "FirstOrganization", err)
	if first.ID != older.ID {
		t.Errorf("FirstOrganization = %s, want the oldest, %s", first.ID, older.ID)
	}

	_, err = s.GetOrganization(ctx, "org_unknown")
	wantCode(t, "GetOrganization(unknown)", err, patchbay.ENOTFOUND)

	dup := &patchbay.Organization{ID: newer.ID, Name: "Again", CreatedAt: at(20)}
	wantCode(t, "CreateOrganization(duplicate ID)", s.CreateOrganization(ctx, dup), patchbay.ECONFLICT)
}

func testFirstOrganizationEmpty(t *testing.T, s patchbay.Store) {
	_, err := s.FirstOrganization(context.Background())
	wantCode(t, "FirstOrganization on an empty store", err, patchbay.ENOTFOUND)
}

func testProjects(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org, other := MustOrg(t, s), MustOrg(t, s)
	p := &patchbay.Project{ID: id(patchbay.PrefixProject), OrgID: org.ID, Name: "Billing", CreatedAt: at(1), UpdatedAt: at(2)}
	mustOK(t, "CreateProject", s.CreateProject(ctx, p))

	got, err := s.GetProject(ctx, org.ID, p.ID)
	mustOK(t, "GetProject", err)
	wantProject(t, got, p)

	_, err = s.GetProject(ctx, other.ID, p.ID)
	wantCode(t, "GetProject(another org)", err, patchbay.ENOTFOUND)
	_, err = s.GetProject(ctx, org.ID, "pr_unknown")
	wantCode(t, "GetProject(unknown)", err, patchbay.ENOTFOUND)

	dup := &patchbay.Project{ID: p.ID, OrgID: org.ID, Name: "Again", CreatedAt: at(3), UpdatedAt: at(3)}
	wantCode(t, "CreateProject(duplicate ID)", s.CreateProject(ctx, dup), patchbay.ECONFLICT)

	list, err := s.ListProjects(ctx, other.ID, "", 10)
	mustOK(t, "ListProjects(other org)", err)
	wantIDs(t, "ListProjects(other org)", projectIDs(list), nil)
}

func testListProjectsPaging(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org, other := MustOrg(t, s), MustOrg(t, s)
	// Created out of order: the list follows creation time, not insertion.
	var want []string
	ps := make([]*patchbay.Project, 5)
	for _, i := range []int{3, 0, 4, 1, 2} {
		ps[i] = MustProject(t, s, org.ID, at(10+i))
	}
	for _, p := range ps {
		want = append(want, p.ID)
	}
	MustProject(t, s, other.ID, at(12)) // never listed

	all, err := s.ListProjects(ctx, org.ID, "", 100)
	mustOK(t, "ListProjects", err)
	wantIDs(t, "ListProjects", projectIDs(all), want)
	for i, got := range all {
		wantProject(t, got, ps[i])
	}

	var paged []string
	after := ""
	for range 10 {
		page, err := s.ListProjects(ctx, org.ID, after, 2)
		mustOK(t, "ListProjects page", err)
		if len(page) > 2 {
			t.Fatalf("ListProjects(limit 2) returned %d projects", len(page))
		}
		if len(page) == 0 {
			break
		}
		paged = append(paged, projectIDs(page)...)
		after = page[len(page)-1].ID
	}
	wantIDs(t, "pages of 2", paged, want)

	// A cursor stays valid after its project is deleted, so paging on
	// while someone deletes neither repeats nor skips.
	mustOK(t, "DeleteProject", s.DeleteProject(ctx, org.ID, ps[1].ID, at(30)))
	page, err := s.ListProjects(ctx, org.ID, ps[1].ID, 2)
	mustOK(t, "ListProjects(after a deleted project)", err)
	wantIDs(t, "ListProjects(after a deleted project)", projectIDs(page), want[2:4])
}

func testListProjectsPagingTies(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org := MustOrg(t, s)
	want := map[string]bool{}
	for range 5 {
		want[MustProject(t, s, org.ID, at(1)).ID] = true
	}
	seen := map[string]bool{}
	after := ""
	for range 10 {
		page, err := s.ListProjects(ctx, org.ID, after, 2)
		mustOK(t, "ListProjects page", err)
		if len(page) == 0 {
			break
		}
		for _, p := range page {
			if seen[p.ID] {
				t.Errorf("project %s listed twice", p.ID)
			}
			seen[p.ID] = true
		}
		after = page[len(page)-1].ID
	}
	if len(seen) != len(want) {
		t.Errorf("paging projects created at the same instant listed %d, want %d", len(seen), len(want))
	}
}

func testDeleteProject(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org, other := MustOrg(t, s), MustOrg(t, s)
	keep := MustProject(t, s, org.ID, at(1))
	gone := MustProject(t, s, org.ID, at(2))

	wantCode(t, "DeleteProject(another org)", s.DeleteProject(ctx, other.ID, gone.ID, at(3)), patchbay.ENOTFOUND)
	if _, err := s.GetProject(ctx, org.ID, gone.ID); err != nil {
		t.Fatalf("GetProject after another org's delete: %v", err)
	}

	mustOK(t, "DeleteProject", s.DeleteProject(ctx, org.ID, gone.ID, at(4)))
	_, err := s.GetProject(ctx, org.ID, gone.ID)
	wantCode(t, "GetProject(deleted)", err, patchbay.ENOTFOUND)
	list, err := s.ListProjects(ctx, org.ID, "", 10)
	mustOK(t, "ListProjects", err)
	wantIDs(t, "ListProjects after delete", projectIDs(list), []string{keep.ID})

	wantCode(t, "DeleteProject(twice)", s.DeleteProject(ctx, org.ID, gone.ID, at(5)), patchbay.ENOTFOUND)
	wantCode(t, "DeleteProject(unknown)", s.DeleteProject(ctx, org.ID, "pr_unknown", at(5)), patchbay.ENOTFOUND)
}

func testMembers(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org, other := MustOrg(t, s), MustOrg(t, s)
	ada := &patchbay.Member{ID: id(patchbay.PrefixMember), OrgID: org.ID, Email: "Ada.Lovelace@Example.com", Name: "Ada", Role: patchbay.RoleOwner, CreatedAt: at(2)}
	bob := &patchbay.Member{ID: id(patchbay.PrefixMember), OrgID: org.ID, Email: "bob@example.com", Name: "Bob", Role: patchbay.RoleMember, CreatedAt: at(1)}
	mustOK(t, "CreateMember ada", s.CreateMember(ctx, ada))
	mustOK(t, "CreateMember bob", s.CreateMember(ctx, bob))

	got, err := s.GetMember(ctx, org.ID, ada.ID)
	mustOK(t, "GetMember", err)
	wantMember(t, got, ada)

	got, err = s.GetMemberByEmail(ctx, org.ID, "ada.lovelace@EXAMPLE.COM")
	mustOK(t, "GetMemberByEmail(other case)", err)
	wantMember(t, got, ada)

	_, err = s.GetMember(ctx, other.ID, ada.ID)
	wantCode(t, "GetMember(another org)", err, patchbay.ENOTFOUND)
	_, err = s.GetMemberByEmail(ctx, other.ID, ada.Email)
	wantCode(t, "GetMemberByEmail(another org)", err, patchbay.ENOTFOUND)
	_, err = s.GetMemberByEmail(ctx, org.ID, "nobody@example.com")
	wantCode(t, "GetMemberByEmail(unknown)", err, patchbay.ENOTFOUND)

	dup := &patchbay.Member{ID: id(patchbay.PrefixMember), OrgID: org.ID, Email: "ADA.LOVELACE@example.com", Name: "Ada 2", Role: patchbay.RoleAdmin, CreatedAt: at(3)}
	wantCode(t, "CreateMember(same email, other case)", s.CreateMember(ctx, dup), patchbay.ECONFLICT)

	// The same person may belong to another organization.
	elsewhere := &patchbay.Member{ID: id(patchbay.PrefixMember), OrgID: other.ID, Email: ada.Email, Name: "Ada", Role: patchbay.RoleMember, CreatedAt: at(3)}
	mustOK(t, "CreateMember(same email, another org)", s.CreateMember(ctx, elsewhere))

	// Ordered by creation: Service.Owner takes the first owner listed.
	list, err := s.ListMembers(ctx, org.ID)
	mustOK(t, "ListMembers", err)
	if len(list) != 2 {
		t.Fatalf("ListMembers returned %d members, want 2", len(list))
	}
	wantMember(t, list[0], bob)
	wantMember(t, list[1], ada)
}

func testOrgOwner(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	// Another organization's owner, older than everyone: never returned.
	other := MustOrg(t, s)
	mustOK(t, "CreateMember(other owner)", s.CreateMember(ctx, &patchbay.Member{
		ID: id(patchbay.PrefixMember), OrgID: other.ID, Email: "other@example.com", Name: "Other", Role: patchbay.RoleOwner, CreatedAt: at(-100),
	}))
	org := MustOrg(t, s)
	_, err := s.OrgOwner(ctx, org.ID)
	wantCode(t, "OrgOwner(no members)", err, patchbay.ENOTFOUND)

	mk := func(role patchbay.Role, created int) *patchbay.Member {
		t.Helper()
		m := &patchbay.Member{ID: id(patchbay.PrefixMember), OrgID: org.ID, Email: id("e") + "@example.com", Name: string(role), Role: role, CreatedAt: at(created)}
		mustOK(t, "CreateMember", s.CreateMember(ctx, m))
		return m
	}
	// Admins and members older than any owner do not count.
	mk(patchbay.RoleAdmin, 1)
	mk(patchbay.RoleMember, 2)
	_, err = s.OrgOwner(ctx, org.ID)
	wantCode(t, "OrgOwner(admins and members only)", err, patchbay.ENOTFOUND)

	// Inserted newest first: the first by creation wins, not by insertion.
	later := mk(patchbay.RoleOwner, 20)
	got, err := s.OrgOwner(ctx, org.ID)
	mustOK(t, "OrgOwner(one owner)", err)
	wantMember(t, got, later)
	first := mk(patchbay.RoleOwner, 10)
	mk(patchbay.RoleAdmin, 5)
	mk(patchbay.RoleOwner, 30)
	got, err = s.OrgOwner(ctx, org.ID)
	mustOK(t, "OrgOwner", err)
	wantMember(t, got, first)

	// The other organization keeps its own owner; an unknown one has none.
	got, err = s.OrgOwner(ctx, other.ID)
	mustOK(t, "OrgOwner(other org)", err)
	if got.OrgID != other.ID || got.Email != "other@example.com" {
		t.Errorf("OrgOwner(other org) = %+v, want its own owner", *got)
	}
	_, err = s.OrgOwner(ctx, "org_unknown")
	wantCode(t, "OrgOwner(unknown org)", err, patchbay.ENOTFOUND)

	// Inside a transaction it sees the transaction's writes.
	err = s.InTx(ctx, func(tx patchbay.Store) error {
		earliest := &patchbay.Member{ID: id(patchbay.PrefixMember), OrgID: org.ID, Email: "earliest@example.com", Name: "E", Role: patchbay.RoleOwner, CreatedAt: at(0)}
		mustOK(t, "CreateMember in tx", tx.CreateMember(ctx, earliest))
		got, err := tx.OrgOwner(ctx, org.ID)
		mustOK(t, "OrgOwner in tx", err)
		wantMember(t, got, earliest)
		return errRollback
	})
	if !errors.Is(err, errRollback) {
		t.Fatalf("InTx = %v, want %v", err, errRollback)
	}
	got, err = s.OrgOwner(ctx, org.ID)
	mustOK(t, "OrgOwner after rollback", err)
	wantMember(t, got, first)
}

// testOrgOwnerTies: owners created at the same instant resolve the same
// way every time (by ID), the order ListMembers has.
func testOrgOwnerTies(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org := MustOrg(t, s)
	for range 4 {
		MustMember(t, s, org.ID, patchbay.RoleOwner) // all at at(1)
	}
	members, err := s.ListMembers(ctx, org.ID)
	mustOK(t, "ListMembers", err)
	got, err := s.OrgOwner(ctx, org.ID)
	mustOK(t, "OrgOwner", err)
	wantMember(t, got, members[0])
	for range 3 {
		again, err := s.OrgOwner(ctx, org.ID)
		mustOK(t, "OrgOwner(again)", err)
		if again.ID != got.ID {
			t.Errorf("OrgOwner = %s, then %s", got.ID, again.ID)
		}
	}
}
