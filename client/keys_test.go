package client_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/client"
)

func TestAPIKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		keys, err := e.c.APIKeys(ctx(t))
		must(t, err)
		var listed []string
		for _, k := range keys {
			listed = append(listed, k.Name)
			if k.Revoked || k.Status == "" || k.ProjectID != e.srv.Project.ID || k.CreatedAt.IsZero() || !strings.HasPrefix(k.Key, "ak_") || len(k.Key) > 12 {
				t.Errorf("listed key %+v", k)
			}
		}
		if !slices.Contains(listed, "owner") || !slices.Contains(listed, "member") {
			t.Errorf("listed %v, want owner and member", listed)
		}

		nk, err := e.c.CreateAPIKey(ctx(t), "ci")
		must(t, err)
		e.keys = append(e.keys, nk.Key)
		if nk.ID == "" || nk.Name != "ci" || nk.ProjectID != e.srv.Project.ID || !strings.HasPrefix(nk.Key, "ak_") || nk.CreatedAt.IsZero() {
			t.Errorf("CreateAPIKey = %s", nk)
		}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s"} {
			for _, v := range []any{nk, *nk} {
				e.noKeys(t, fmt.Sprintf(verb, v))
			}
		}
		ci := mustNew(t, e.srv.URL, client.WithAPIKey(nk.Key))
		s, err := ci.Session(ctx(t))
		must(t, err)
		if s.APIKey.ID != nk.ID || s.APIKey.Name != "ci" {
			t.Errorf("the new key's session: %+v", s.APIKey)
		}
		keys, err = e.c.APIKeys(ctx(t))
		must(t, err)
		if keys[0].ID != nk.ID || strings.Contains(keys[0].Key, nk.Key[4:]) {
			t.Errorf("newest key %+v, want %s masked", keys[0], nk.ID)
		}

		must(t, e.c.RevokeAPIKey(ctx(t), nk.ID))
		_, err = ci.Toolkits(ctx(t), client.ToolkitListParams{})
		e.wantErr(t, err, client.ErrUnauthorized)
		keys, err = e.c.APIKeys(ctx(t))
		must(t, err)
		if i := slices.IndexFunc(keys, func(k client.APIKey) bool { return k.ID == nk.ID }); i < 0 || !keys[i].Revoked || keys[i].RevokedAt == nil {
			t.Errorf("revoked key not listed as revoked: %+v", keys)
		}

		// A member may use the project but not manage its keys.
		_, err = e.member.Toolkits(ctx(t), client.ToolkitListParams{Limit: 1})
		must(t, err)
		_, err = e.member.CreateAPIKey(ctx(t), "nope")
		ce := e.wantErr(t, err, client.ErrForbidden)
		if ce.StatusCode != 403 || ce.Slug != "forbidden" {
			t.Errorf("member CreateAPIKey: %#v", ce)
		}
		e.wantErr(t, e.member.RevokeAPIKey(ctx(t), nk.ID), client.ErrForbidden)

		_, err = e.c.CreateAPIKey(ctx(t), " ")
		e.wantErr(t, err, client.ErrInvalid, "name")
		e.wantErr(t, e.c.RevokeAPIKey(ctx(t), "key_doesnotexist"), client.ErrNotFound)
	})
}

func TestReportLeakedKeys(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		nk, err := e.c.CreateAPIKey(ctx(t), "leaky")
		must(t, err)
		e.keys = append(e.keys, nk.Key)
		leaky := mustNew(t, e.srv.URL, client.WithAPIKey(nk.Key))
		_, err = leaky.Toolkits(ctx(t), client.ToolkitListParams{Limit: 1})
		must(t, err)

		// Anyone may report, without a key; unknown keys change nothing.
		anon := mustNew(t, e.srv.URL)
		must(t, anon.ReportLeakedKeys(ctx(t), []string{nk.Key, "ak_notarealkey", "hello"}))
		_, err = leaky.Toolkits(ctx(t), client.ToolkitListParams{Limit: 1})
		e.wantErr(t, err, client.ErrUnauthorized)
		_, err = e.c.Toolkits(ctx(t), client.ToolkitListParams{Limit: 1})
		must(t, err)

		e.wantErr(t, anon.ReportLeakedKeys(ctx(t), nil), client.ErrInvalid, "api_keys")
	})
}

func TestSession(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		s, err := e.c.Session(ctx(t))
		must(t, err)
		if s.Project == nil || s.Project.ID != e.srv.Project.ID || s.APIKey.Name != "owner" || s.APIKey.ProjectID != e.srv.Project.ID ||
			s.OrgMember.Email != "owner@example.com" || s.OrgMember.Role != "owner" || strings.Contains(s.APIKey.Key, e.srv.OwnerKey[4:]) {
			t.Errorf("project key session = %+v (project %+v)", s, s.Project)
		}
		s, err = e.org.Session(ctx(t))
		must(t, err)
		if s.Project != nil || s.APIKey.Name != "org" || s.APIKey.ProjectID != "" {
			t.Errorf("org key session = %+v", s)
		}
		s, err = e.member.Session(ctx(t))
		must(t, err)
		if s.OrgMember.Role != "member" {
			t.Errorf("member session = %+v", s.OrgMember)
		}
		// With both keys set, each call still sends exactly one.
		both := mustNew(t, e.srv.URL, client.WithAPIKey(e.srv.OwnerKey), client.WithOrgAPIKey(e.srv.OrgKey))
		s, err = both.Session(ctx(t))
		must(t, err)
		if s.APIKey.Name != "owner" {
			t.Errorf("with both keys, Session used %s, want the project key", s.APIKey.Name)
		}
		_, err = both.Projects(ctx(t), client.ProjectListParams{})
		must(t, err)
		_, err = both.Toolkits(ctx(t), client.ToolkitListParams{Limit: 1})
		must(t, err)
	})
}
