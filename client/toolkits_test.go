package client_test

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/client"
)

func TestToolkits(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		tk, err := e.c.Toolkit(ctx(t), "serpapi")
		must(t, err)
		if tk.Slug != "serpapi" || tk.Name != "SerpApi" || tk.Meta.Logo == "" || len(tk.Meta.Categories) == 0 || tk.Meta.Categories[0].Slug == "" {
			t.Errorf("Toolkit(serpapi) = %+v", tk)
		}
		if len(tk.AuthConfigDetails) != 1 || tk.AuthConfigDetails[0].Mode != client.SchemeAPIKey || !slices.Equal(tk.AuthSchemes, []string{"API_KEY"}) {
			t.Errorf("serpapi schemes: %+v, details %+v", tk.AuthSchemes, tk.AuthConfigDetails)
		}

		_, err = e.c.Toolkit(ctx(t), "no-such-toolkit")
		ce := e.wantErr(t, err, client.ErrNotFound, "no-such-toolkit")
		if ce.StatusCode != 404 || ce.Code != 404 || ce.Slug != "not_found" {
			t.Errorf("unknown toolkit: %#v", ce)
		}

		// Every toolkit once, over pages of 5.
		var seen []string
		p := client.ToolkitListParams{Limit: 5}
		total := -1
		for pages := 0; ; pages++ {
			page, err := e.c.Toolkits(ctx(t), p)
			must(t, err)
			if pages > 100 {
				t.Fatal("paging does not end")
			}
			total = page.TotalItems
			if len(page.Items) > 5 || page.CurrentPage != pages+1 {
				t.Errorf("page %d: %d items, current page %d", pages+1, len(page.Items), page.CurrentPage)
			}
			for _, tk := range page.Items {
				if tk.AuthConfigDetails != nil {
					t.Errorf("list item %s carries auth_config_details", tk.Slug)
				}
				seen = append(seen, tk.Slug)
			}
			if page.NextCursor == "" {
				break
			}
			p.Cursor = page.NextCursor
		}
		sorted := slices.Clone(seen)
		slices.Sort(sorted)
		if len(seen) != total || len(slices.Compact(sorted)) != total || !slices.Contains(seen, "serpapi") {
			t.Errorf("paged %d toolkits (%v), want %d distinct ones including serpapi", len(seen), seen, total)
		}

		page, err := e.c.Toolkits(ctx(t), client.ToolkitListParams{Search: "SERP"})
		must(t, err)
		if len(page.Items) != 1 || page.Items[0].Slug != "serpapi" || page.NextCursor != "" {
			t.Errorf("Search SERP: %+v", page)
		}
		page, err = e.c.Toolkits(ctx(t), client.ToolkitListParams{Category: "analytics"})
		must(t, err)
		if len(page.Items) == 0 || !slices.ContainsFunc(page.Items, func(tk client.Toolkit) bool { return tk.Slug == "serpapi" }) {
			t.Errorf("Category analytics: %+v", page.Items)
		}
		_, err = e.c.Toolkits(ctx(t), client.ToolkitListParams{Cursor: "not-a-cursor"})
		e.wantErr(t, err, client.ErrInvalid, "cursor")
		_, err = e.c.Toolkits(ctx(t), client.ToolkitListParams{Limit: 5000})
		e.wantErr(t, err, client.ErrInvalid, "limit")
	})
}

func TestFields(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		fields, err := e.c.ConnectionFields(ctx(t), "serpapi", client.SchemeAPIKey)
		must(t, err)
		if len(fields) != 1 || fields[0].Name != "generic_api_key" || !fields[0].Required || !fields[0].IsSecret || fields[0].DisplayName != "API Key" {
			t.Errorf("serpapi connection fields: %+v", fields)
		}
		fields, err = e.c.ConnectionFields(ctx(t), "jira", client.SchemeBasic)
		must(t, err)
		if got := names(fields); !slices.Equal(got, []string{"subdomain", "username", "password"}) {
			t.Errorf("jira BASIC fields: %v", got)
		}
		fields, err = e.c.ConnectionFields(ctx(t), "github", client.SchemeOAuth2)
		must(t, err)
		if len(fields) != 1 || fields[0].Name != "access_token" || fields[0].Required {
			t.Errorf("github OAUTH2 connection fields: %+v", fields)
		}
		fields, err = e.c.AuthConfigFields(ctx(t), "github", client.SchemeOAuth2)
		must(t, err)
		if got := names(fields); !slices.Equal(got, []string{"client_id", "client_secret"}) || !fields[0].Required {
			t.Errorf("github OAUTH2 auth config fields: %+v", fields)
		}
		fields, err = e.c.AuthConfigFields(ctx(t), "serpapi", client.SchemeAPIKey)
		must(t, err)
		if len(fields) != 0 {
			t.Errorf("serpapi auth config fields: %+v, want none", fields)
		}
		// "" is the toolkit's first scheme.
		fields, err = e.c.ConnectionFields(ctx(t), "serpapi", "")
		must(t, err)
		if len(fields) != 1 {
			t.Errorf("serpapi default scheme fields: %+v", fields)
		}

		_, err = e.c.ConnectionFields(ctx(t), "serpapi", client.SchemeOAuth2)
		if !errors.Is(err, client.ErrNoAuthScheme) || !strings.Contains(err.Error(), "API_KEY") {
			t.Errorf("serpapi OAUTH2: %v, want ErrNoAuthScheme naming API_KEY", err)
		}
		_, err = e.c.AuthConfigFields(ctx(t), "no-such-toolkit", client.SchemeAPIKey)
		e.wantErr(t, err, client.ErrNotFound)
	})
}

// TestFieldOrder pins the required-first order against a server that
// lists a scheme's fields in both groups.
func TestFieldOrder(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"slug":"x","name":"X","meta":{},"auth_config_details":[
			{"mode":"OAUTH2","fields":{"connected_account_initiation":{"required":[],"optional":[]}}},
			{"mode":"API_KEY","fields":{
				"auth_config_creation":{"required":[{"name":"c"}],"optional":[]},
				"connected_account_initiation":{
					"required":[{"name":"a","required":false},{"name":"b"}],
					"optional":[{"name":"o","required":true,"default":"v"}]}}}]}`)
	}))
	defer srv.Close()
	c := mustNew(t, srv.URL, client.WithAPIKey("ak_x"))
	fields, err := c.ConnectionFields(ctx(t), "x", client.SchemeAPIKey)
	must(t, err)
	var got []string
	for _, f := range fields {
		got = append(got, fmt.Sprintf("%s:%t", f.Name, f.Required))
	}
	if want := []string{"a:true", "b:true", "o:false"}; !slices.Equal(got, want) {
		t.Errorf("fields = %v, want %v", got, want)
	}
	if fields[2].Default == nil || *fields[2].Default != "v" {
		t.Errorf("default of o = %v, want v", fields[2].Default)
	}
	fields, err = c.ConnectionFields(ctx(t), "x", "")
	must(t, err)
	if len(fields) != 0 {
		t.Errorf(`scheme "" = %v, want the first scheme's (no) fields`, fields)
	}
}

func names(fs []client.AuthField) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}
