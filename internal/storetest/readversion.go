package storetest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// testReadVersion: an organization's read version grows with every
// committed write to anything its reads show, and with nothing else: not
// reads, not a rolled-back transaction, not another organization's writes.
func testReadVersion(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	org, other := MustOrg(t, s), MustOrg(t, s)
	otherMember := MustMember(t, s, other.ID, patchbay.RoleOwner)
	otherProject := MustProject(t, s, other.ID, at(1))

	version := func() int64 {
		t.Helper()
		v, err := s.ReadVersion(ctx, org.ID)
		mustOK(t, "ReadVersion", err)
		return v
	}
	last := version()
	// grows runs a write and checks the version moved past last.
	grows := func(what string, write func() error) {
		t.Helper()
		mustOK(t, what, write())
		if v := version(); v <= last {
			t.Errorf("after %s: read version %d, want more than %d", what, v, last)
		} else {
			last = v
		}
	}
	// stays runs fn and checks the version did not move.
	stays := func(what string, fn func() error) {
		t.Helper()
		_ = fn()
		if v := version(); v != last {
			t.Errorf("after %s: read version %d, want it unchanged at %d", what, v, last)
		}
	}

	var owner *patchbay.Member
	grows("CreateMember", func() error { owner = MustMember(t, s, org.ID, patchbay.RoleOwner); return nil })
	var p *patchbay.Project
	grows("CreateProject", func() error { p = MustProject(t, s, org.ID, at(2)); return nil })
	var key *patchbay.APIKey
	grows("CreateAPIKey", func() error { key = MustKey(t, s, patchbay.KeyKindProject, org.ID, p.ID, owner.ID, at(3)); return nil })
	grows("TouchAPIKeys", func() error { return s.TouchAPIKeys(ctx, map[string]time.Time{key.ID: at(4)}) })
	stays("TouchAPIKeys with an older use", func() error { return s.TouchAPIKeys(ctx, map[string]time.Time{key.ID: at(3)}) })
	grows("RevokeAPIKey", func() error { _, err := s.RevokeAPIKey(ctx, org.ID, p.ID, key.ID, owner.ID, at(5)); return err })

	var ac *patchbay.AuthConfig
	grows("CreateAuthConfig", func() error { ac = MustAuthConfig(t, s, p.ID, "github", at(6)); return nil })
	grows("UpdateAuthConfig", func() error { ac.Disabled = true; ac.UpdatedAt = at(7); return s.UpdateAuthConfig(ctx, ac) })
	var ca *patchbay.ConnectedAccount
	grows("CreateConnectedAccount", func() error { ca = MustConnectedAccount(t, s, ac, "user-1", at(8)); return nil })
	creds := patchbay.StoredSecret{Ref: patchbay.CredentialsRef(p.ID, ca.ID), Term: 1, Sealed: []byte("sealed")}
	grows("PutSecret", func() error { return s.PutSecret(ctx, creds) })
	grows("PutSecret over it", func() error { creds.Sealed = []byte("sealed again"); return s.PutSecret(ctx, creds) })
	grows("ReplaceSecret", func() error {
		next := creds
		next.Term, next.Sealed = 2, []byte("resealed")
		ok, err := s.ReplaceSecret(ctx, creds, next)
		if err == nil && !ok {
			err = errors.New("ReplaceSecret replaced nothing")
		}
		return err
	})
	grows("UpdateConnectedAccount", func() error {
		ca.Status, ca.UpdatedAt = patchbay.StatusFailed, at(9)
		return s.UpdateConnectedAccount(ctx, ca)
	})

	stays("reads", func() error {
		_, err1 := s.GetConnectedAccount(ctx, p.ID, ca.ID)
		_, _, err2 := s.ListConnectedAccounts(ctx, patchbay.ConnectionFilter{ProjectID: p.ID, WithCredentials: true, Page: patchbay.Page{Limit: 10}})
		_, err3 := s.ListAPIKeys(ctx, patchbay.KeyFilter{OrgID: org.ID, ProjectID: p.ID, IncludeRevoked: true})
		_, err4 := s.GetAuthConfigRecord(ctx, p.ID, ac.ID)
		return errors.Join(err1, err2, err3, err4)
	})
	stays("a rolled-back transaction", func() error {
		return s.InTx(ctx, func(tx patchbay.Store) error {
			MustConnectedAccount(t, tx, ac, "user-2", at(10))
			return errors.New("roll back")
		})
	})
	stays("another organization's writes", func() error {
		MustKey(t, s, patchbay.KeyKindOrg, other.ID, "", otherMember.ID, at(11))
		oac := MustAuthConfig(t, s, otherProject.ID, "github", at(11))
		MustConnectedAccount(t, s, oac, "user-1", at(11))
		return nil
	})

	grows("DeleteConnectedAccount", func() error { return s.DeleteConnectedAccount(ctx, p.ID, ca.ID) })
	grows("DeleteAuthConfig", func() error { return s.DeleteAuthConfig(ctx, p.ID, ac.ID) })
	grows("DeleteProject", func() error { return s.DeleteProject(ctx, org.ID, p.ID, at(12)) })

	if v, err := s.ReadVersion(ctx, "org_unknown"); err != nil || v != 0 {
		t.Errorf("ReadVersion(unknown organization) = %d, %v; want 0, nil", v, err)
	}
}
