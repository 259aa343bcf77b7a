package client_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/client"
)

func TestProjects(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		np, err := e.org.CreateProject(ctx(t), "staging", true)
		must(t, err)
		e.keys = append(e.keys, np.APIKey)
		if np.ID == "" || np.Name != "staging" || !strings.HasPrefix(np.APIKey, "ak_") {
			t.Errorf("CreateProject = %s", np)
		}
		for _, verb := range []string{"%v", "%+v", "%#v"} {
			e.noKeys(t, fmt.Sprintf(verb, np))
		}
		staging := mustNew(t, e.srv.URL, client.WithAPIKey(np.APIKey))
		s, err := staging.Session(ctx(t))
		must(t, err)
		if s.Project == nil || s.Project.ID != np.ID {
			t.Errorf("the new project's key acts for %+v", s.Project)
		}
		// Projects are isolated: the default project's configs are not
		// visible from staging.
		acID := e.serpapiConfig(t)
		_, err = staging.AuthConfig(ctx(t), acID)
		e.wantErr(t, err, client.ErrNotFound)

		bare, err := e.org.CreateProject(ctx(t), "bare", false)
		must(t, err)
		if bare.APIKey != "" || bare.String() != fmt.Sprintf(`{ID:%s Name:"bare" APIKey:}`, bare.ID) {
			t.Errorf("CreateProject without a key = %s", bare)
		}

		p, err := e.org.Project(ctx(t), np.ID)
		must(t, err)
		if p.ID != np.ID || p.Name != "staging" || p.OrgID != e.srv.Org.ID || p.Deleted || p.WebhookVersion == "" || len(p.APIKeys) != 1 || strings.Contains(p.APIKeys[0].Key, np.APIKey[4:]) {
			t.Errorf("Project = %+v", p)
		}

		// Paging through the organization's three projects, one at a time.
		var ids []string
		lp := client.ProjectListParams{Limit: 1}
		for {
			page, err := e.org.Projects(ctx(t), lp)
			must(t, err)
			if len(page.Items) > 1 {
				t.Errorf("page of %d projects, want 1", len(page.Items))
			}
			for _, p := range page.Items {
				ids = append(ids, p.ID)
			}
			if page.NextCursor == "" || len(ids) > 10 {
				break
			}
			lp.Cursor = page.NextCursor
		}
		if want := []string{e.srv.Project.ID, np.ID, bare.ID}; !slices.Equal(ids, want) {
			t.Errorf("paged projects %v, want %v", ids, want)
		}

		nk, err := e.org.RegenerateProjectKey(ctx(t), np.ID)
		must(t, err)
		e.keys = append(e.keys, nk.Key)
		if nk.ProjectID != np.ID || !strings.HasPrefix(nk.Key, "ak_") || nk.Key == np.APIKey {
			t.Errorf("RegenerateProjectKey = %s", nk)
		}
		_, err = staging.Session(ctx(t))
		e.wantErr(t, err, client.ErrUnauthorized)
		_, err = mustNew(t, e.srv.URL, client.WithAPIKey(nk.Key)).Session(ctx(t))
		must(t, err)

		must(t, e.org.DeleteProject(ctx(t), np.ID))
		_, err = mustNew(t, e.srv.URL, client.WithAPIKey(nk.Key)).Session(ctx(t))
		e.wantErr(t, err, client.ErrUnauthorized)
		e.wantErr(t, e.org.DeleteProject(ctx(t), np.ID), client.ErrNotFound)
		_, err = e.org.Project(ctx(t), "proj_doesnotexist")
		e.wantErr(t, err, client.ErrNotFound)
		_, err = e.org.RegenerateProjectKey(ctx(t), "proj_doesnotexist")
		e.wantErr(t, err, client.ErrNotFound)
		_, err = e.org.CreateProject(ctx(t), "", false)
		e.wantErr(t, err, client.ErrInvalid, "name")

		// Organization endpoints need the organization key.
		_, err = e.c.Projects(ctx(t), client.ProjectListParams{})
		e.wantErr(t, err, client.ErrUnauthorized, "x-org-api-key")
		_, err = e.org.Toolkits(ctx(t), client.ToolkitListParams{})
		e.wantErr(t, err, client.ErrUnauthorized, "x-api-key")
	})
}
