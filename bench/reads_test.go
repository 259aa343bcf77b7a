package bench

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/testdb"
)

// This file holds what BenchmarkReads (reads_bench_test.go) and its unit
// test share: starting `patchbay serve` on a store, seeding it through the
// HTTP API the SDKs use, and the benchmarked requests with a check of each
// answer's shape, so the benchmark cannot measure an error page or an
// empty list.

// readsStores are the stores BenchmarkReads and TestReads run on. The
// PostgreSQL one needs PATCHBAY_TEST_POSTGRES_URL (see internal/testdb).
var readsStores = []string{"sqlite", "postgres"}

// mustStartStore starts `patchbay serve` as a process on a fresh SQLite
// data dir, or, for "postgres", on a fresh schema of the test database
// (dropped when tb ends; skipped without PATCHBAY_TEST_POSTGRES_URL). It
// returns the server and a project key acting as the owner.
func mustStartStore(tb testing.TB, store, pbBin string) (*server, string) {
	tb.Helper()
	// The data dir holds the SQLite database, or, on PostgreSQL, only the
	// development root key.
	dataDir := filepath.Join(tb.TempDir(), "data")
	var db []string
	switch store {
	case "sqlite":
	case "postgres":
		db = []string{"--database-url", testdb.PostgresURL(tb)}
	default:
		tb.Fatalf("unknown store %q", store)
	}
	key := MustCreateKey(tb, pbBin, dataDir, db...)
	return MustStart(tb, "patchbay-"+store, pbBin, append([]string{"serve", "--data-dir", dataDir}, db...)...), key
}

// readsToolkits are the toolkits of the seeded auth configs: API-key
// schemes, so accounts are ACTIVE on creation, with the credential field
// each toolkit names.
var readsToolkits = []struct{ slug, field string }{
	{"serpapi", "generic_api_key"},
	{"tavily", "generic_api_key"},
	{"exa", "generic_api_key"},
	{"openai", "api_key"},
}

const (
	readsConfigsPerToolkit = 2 // auth configs per toolkit
	readsExtraKeys         = 4 // API keys created besides the one the requests use
	readsToolkit           = "github"
)

// readsSize is how much BenchmarkReads seeds.
type readsSize struct{ accounts, users int }

// seededConfig is one auth config created by seedReads.
type seededConfig struct {
	id, toolkit, field string
	accounts           int // connected accounts created on it
}

// seededAccount is one connected account created by seedReads.
type seededAccount struct {
	id, userID, secret string
	config             int // index into readsData.configs
}

// readsData is what seedReads created.
type readsData struct {
	keys     int // project keys: the one given plus those created
	users    int
	configs  []seededConfig
	accounts []seededAccount // in creation order of their index
}

// seedReads creates, through the HTTP API, readsExtraKeys more API keys,
// readsConfigsPerToolkit custom auth configs for each of readsToolkits and
// size.accounts connected accounts spread round-robin across the auth
// configs and size.users user ids, from 8 concurrent clients.
func seedReads(tb testing.TB, c *connClient, size readsSize) *readsData {
	tb.Helper()
	d := &readsData{keys: 1 + readsExtraKeys, users: size.users}
	for i := range readsExtraKeys {
		status, body, err := c.do("POST", "/api/v1/api_keys", map[string]string{"name": fmt.Sprintf("bench-%d", i+1)})
		if err != nil || status != http.StatusCreated {
			tb.Fatalf("POST /api/v1/api_keys: %d %s %v", status, body, err)
		}
	}
	for _, tk := range readsToolkits {
		for i := range readsConfigsPerToolkit {
			status, body, err := c.do("POST", "/api/v3.1/auth_configs", map[string]any{
				"toolkit": map[string]string{"slug": tk.slug},
				"auth_config": map[string]any{
					"type": "use_custom_auth", "authScheme": "API_KEY", "credentials": map[string]any{},
					"name": fmt.Sprintf("%s bench %d", tk.slug, i+1),
				},
			})
			if err != nil || status != http.StatusCreated {
				tb.Fatalf("POST /api/v3.1/auth_configs (%s): %d %s %v", tk.slug, status, body, err)
			}
			var out struct {
				AuthConfig struct{ ID string } `json:"auth_config"`
			}
			if err := json.Unmarshal(body, &out); err != nil || out.AuthConfig.ID == "" {
				tb.Fatalf("POST /api/v3.1/auth_configs: no auth_config.id in %s (%v)", body, err)
			}
			d.configs = append(d.configs, seededConfig{id: out.AuthConfig.ID, toolkit: tk.slug, field: tk.field})
		}
	}

	d.accounts = make([]seededAccount, size.accounts)
	for i := range d.accounts {
		a := &d.accounts[i]
		a.config = i % len(d.configs)
		a.userID = fmt.Sprintf("user-%03d", i%size.users)
		a.secret = fmt.Sprintf("bench-secret-%06d-0123456789abcdef", i)
		d.configs[a.config].accounts++
	}
	const workers = 8
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		errs    []error
		indexes = make(chan int)
	)
	for range workers {
		wg.Go(func() {
			for i := range indexes {
				a := &d.accounts[i]
				ac := d.configs[a.config]
				// What @composio/core sends for AuthScheme.APIKey(…).
				status, body, err := c.do("POST", "/api/v3.1/connected_accounts", map[string]any{
					"auth_config": map[string]string{"id": ac.id},
					"connection": map[string]any{
						"user_id": a.userID,
						"state":   map[string]any{"authScheme": "API_KEY", "val": map[string]any{"status": "ACTIVE", ac.field: a.secret}},
					},
				})
				var out struct{ ID, Status string }
				if err == nil && status == http.StatusCreated {
					err = json.Unmarshal(body, &out)
				}
				switch {
				case err == nil && status == http.StatusCreated && out.ID != "" && out.Status == "ACTIVE":
					a.id = out.ID
				case err == nil:
					err = fmt.Errorf("%d %s", status, body)
				}
				if err != nil {
					mu.Lock()
					errs = append(errs, fmt.Errorf("POST /api/v3.1/connected_accounts #%d: %w", i, err))
					mu.Unlock()
				}
			}
		})
	}
	for i := range d.accounts {
		indexes <- i
	}
	close(indexes)
	wg.Wait()
	if len(errs) > 0 {
		tb.Fatalf("%d of %d connections failed, e.g. %v", len(errs), len(d.accounts), errs[0])
	}
	return d
}

// readRow is one benchmarked request.
type readRow struct {
	metric string  // short name, for reported metrics and -reads.rows
	route  string  // the route, as the table prints it
	path   string  // the request's path and query
	target float64 // patchbay/bare throughput wanted; 0 for a reference row
	check  func(body []byte) error
}

// readRows are the requests of BenchmarkReads, in the order of the table:
// the reads the SDKs make, then client_info, the reference row (a cheap
// route answered from the verified key alone, which no SDK calls).
func readRows(d *readsData) []readRow {
	account := d.accounts[len(d.accounts)/2]
	accountConfig := d.configs[account.config]
	config := d.configs[0]
	return []readRow{
		{"session_info", "GET /api/v3.1/auth/session/info", "/api/v3.1/auth/session/info", 0.8, checkSessionInfo},
		{"list_api_keys", "GET /api/v1/api_keys", "/api/v1/api_keys", 0.5, d.checkAPIKeys},
		{"list_accounts", fmt.Sprintf("GET /api/v3.1/connected_accounts?limit=10 (10 of %d)", len(d.accounts)),
			"/api/v3.1/connected_accounts?limit=10", 0.5, d.checkAccountList},
		{"get_account", "GET /api/v3.1/connected_accounts/{id}", "/api/v3.1/connected_accounts/" + account.id, 0.5,
			func(body []byte) error { return checkAccount(body, account, accountConfig) }},
		{"get_auth_config", "GET /api/v3.1/auth_configs/{id}", "/api/v3.1/auth_configs/" + config.id, 0.5,
			func(body []byte) error { return checkAuthConfig(body, config) }},
		{"get_toolkit", "GET /api/v3.1/toolkits/" + readsToolkit, "/api/v3.1/toolkits/" + readsToolkit, 0.8, checkToolkit},
		{"client_info", "GET /api/v1/client/auth/client_info", "/api/v1/client/auth/client_info", 0, checkClientInfo},
	}
}

func checkSessionInfo(body []byte) error {
	var s struct {
		Project *struct {
			ID string `json:"id"`
		} `json:"project"`
		APIKey *struct {
			ID        string `json:"id"`
			ProjectID string `json:"project_id"`
			Key       string `json:"key"`
		} `json:"api_key"`
		OrgMember *struct {
			ID   string `json:"id"`
			Role string `json:"role"`
		} `json:"org_member"`
	}
	if err := json.Unmarshal(body, &s); err != nil {
		return err
	}
	switch {
	case s.Project == nil || s.Project.ID == "":
		return errors.New("no project.id")
	case s.APIKey == nil || s.APIKey.ID == "" || s.APIKey.Key == "":
		return errors.New("no api_key.id or api_key.key")
	case s.APIKey.ProjectID != s.Project.ID:
		return fmt.Errorf("api_key.project_id %q, project.id %q", s.APIKey.ProjectID, s.Project.ID)
	case s.OrgMember == nil || s.OrgMember.ID == "" || s.OrgMember.Role != "owner":
		return errors.New("org_member is not the owner")
	}
	return nil
}

func (d *readsData) checkAPIKeys(body []byte) error {
	var keys []struct {
		ID        string `json:"id"`
		Key       string `json:"key"`
		IsHidden  bool   `json:"isHidden"`
		Status    string `json:"status"`
		ProjectID string `json:"projectId"`
		Member    *struct {
			ID string `json:"id"`
		} `json:"member"`
	}
	if err := json.Unmarshal(body, &keys); err != nil {
		return err
	}
	if len(keys) != d.keys {
		return fmt.Errorf("%d keys, want %d", len(keys), d.keys)
	}
	for _, k := range keys {
		if k.ID == "" || k.Key == "" || !k.IsHidden || k.Status != "active" || k.ProjectID == "" || k.Member == nil || k.Member.ID == "" {
			return fmt.Errorf("key %q: want id, masked key, isHidden, status active, projectId and member", k.ID)
		}
	}
	return nil
}

// wireAccount is the part of a v3.1 connected account the checks read.
type wireAccount struct {
	ID      string `json:"id"`
	UserID  string `json:"user_id"`
	Status  string `json:"status"`
	Toolkit struct {
		Slug string `json:"slug"`
	} `json:"toolkit"`
	AuthConfig struct {
		ID         string `json:"id"`
		AuthScheme string `json:"auth_scheme"`
	} `json:"auth_config"`
	State struct {
		AuthScheme string            `json:"authScheme"`
		Val        map[string]string `json:"val"`
	} `json:"state"`
}

// checkMasked reports whether a's state carries the credential field,
// masked: present, and not the plaintext.
func (a wireAccount) checkMasked(field, secret string) error {
	v, ok := a.State.Val[field]
	switch {
	case !ok || v == "":
		return fmt.Errorf("account %s: no state.val.%s", a.ID, field)
	case strings.Contains(v, secret):
		return fmt.Errorf("account %s: state.val.%s is not masked", a.ID, field)
	}
	return nil
}

func (d *readsData) checkAccountList(body []byte) error {
	var page struct {
		Items       []wireAccount `json:"items"`
		NextCursor  *string       `json:"next_cursor"`
		TotalPages  int           `json:"total_pages"`
		CurrentPage int           `json:"current_page"`
		TotalItems  int           `json:"total_items"`
	}
	if err := json.Unmarshal(body, &page); err != nil {
		return err
	}
	n := len(d.accounts)
	want := min(10, n)
	switch {
	case len(page.Items) != want:
		return fmt.Errorf("%d items, want %d", len(page.Items), want)
	case page.TotalItems != n:
		return fmt.Errorf("total_items %d, want %d", page.TotalItems, n)
	case page.TotalPages != (n+9)/10 || page.CurrentPage != 1:
		return fmt.Errorf("total_pages %d, current_page %d; want %d, 1", page.TotalPages, page.CurrentPage, (n+9)/10)
	case (page.NextCursor != nil) != (n > 10):
		return fmt.Errorf("next_cursor %v with %d accounts", page.NextCursor, n)
	}
	byID := make(map[string]seededAccount, n)
	for _, a := range d.accounts {
		byID[a.id] = a
	}
	for _, it := range page.Items {
		a, ok := byID[it.ID]
		if !ok {
			return fmt.Errorf("item %q is not a seeded account", it.ID)
		}
		if err := it.check(a, d.configs[a.config]); err != nil {
			return err
		}
	}
	return nil
}

// check compares a listed or read account with what was seeded.
func (it wireAccount) check(a seededAccount, ac seededConfig) error {
	switch {
	case it.ID != a.id || it.UserID != a.userID || it.Status != "ACTIVE":
		return fmt.Errorf("account %s: user_id %q, status %q; want %q, ACTIVE", it.ID, it.UserID, it.Status, a.userID)
	case it.AuthConfig.ID != ac.id || it.AuthConfig.AuthScheme != "API_KEY" || it.Toolkit.Slug != ac.toolkit:
		return fmt.Errorf("account %s: auth_config %s (%s), toolkit %s; want %s (API_KEY), %s",
			it.ID, it.AuthConfig.ID, it.AuthConfig.AuthScheme, it.Toolkit.Slug, ac.id, ac.toolkit)
	case it.State.AuthScheme != "API_KEY" || it.State.Val["status"] != "ACTIVE":
		return fmt.Errorf("account %s: state %s/%s, want API_KEY/ACTIVE", it.ID, it.State.AuthScheme, it.State.Val["status"])
	}
	return it.checkMasked(ac.field, a.secret)
}

func checkAccount(body []byte, a seededAccount, ac seededConfig) error {
	var it wireAccount
	if err := json.Unmarshal(body, &it); err != nil {
		return err
	}
	return it.check(a, ac)
}

func checkAuthConfig(body []byte, ac seededConfig) error {
	var out struct {
		ID      string `json:"id"`
		Type    string `json:"type"`
		Status  string `json:"status"`
		Toolkit struct {
			Slug string `json:"slug"`
		} `json:"toolkit"`
		AuthScheme  string `json:"auth_scheme"`
		Connections *int   `json:"no_of_connections"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return err
	}
	switch {
	case out.ID != ac.id || out.Toolkit.Slug != ac.toolkit || out.AuthScheme != "API_KEY":
		return fmt.Errorf("auth config %s of %s (%s), want %s of %s (API_KEY)", out.ID, out.Toolkit.Slug, out.AuthScheme, ac.id, ac.toolkit)
	case out.Type != "custom" || out.Status != "ENABLED":
		return fmt.Errorf("auth config %s: type %q, status %q; want custom, ENABLED", out.ID, out.Type, out.Status)
	case out.Connections == nil:
		return fmt.Errorf("auth config %s: no no_of_connections", out.ID)
	case *out.Connections != ac.accounts:
		return fmt.Errorf("auth config %s: no_of_connections %d, want %d", out.ID, *out.Connections, ac.accounts)
	}
	return nil
}

func checkToolkit(body []byte) error {
	var out struct {
		Slug    string `json:"slug"`
		Name    string `json:"name"`
		Details []struct {
			Mode string `json:"mode"`
		} `json:"auth_config_details"`
		Meta map[string]any `json:"meta"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return err
	}
	if out.Slug != readsToolkit || out.Name == "" || len(out.Details) == 0 || out.Meta == nil {
		return fmt.Errorf("toolkit %q (%q): want slug %s, a name, meta and auth_config_details", out.Slug, out.Name, readsToolkit)
	}
	return nil
}

func checkClientInfo(body []byte) error {
	var out struct {
		Client struct {
			ID    string `json:"id"`
			OrgID string `json:"orgId"`
		} `json:"client"`
		APIKey struct {
			ID  string `json:"id"`
			Key string `json:"key"`
		} `json:"apiKey"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return err
	}
	if out.Client.ID == "" || out.Client.OrgID == "" || out.APIKey.ID == "" || out.APIKey.Key == "" {
		return errors.New("want client.id, client.orgId, apiKey.id and apiKey.key")
	}
	return nil
}

// TestReads checks, against a built `patchbay serve` on each store, that
// the seeding of BenchmarkReads succeeds and that every benchmarked request
// answers 200 with the expected shape (the list: 10 items of total_items
// 1,000). It measures nothing.
func TestReads(t *testing.T) {
	pbBin, _ := MustBuild(t)
	for _, store := range readsStores {
		t.Run(store, func(t *testing.T) {
			pb, key := mustStartStore(t, store, pbBin)
			g := newLoadgen(8)
			defer g.close()
			c := &connClient{base: pb.url(""), key: key, http: g.client}
			d := seedReads(t, c, readsSize{accounts: *readsAccounts, users: *readsUsers})
			users := map[string]bool{}
			for _, a := range d.accounts {
				users[a.userID] = true
			}
			if len(users) != min(d.users, len(d.accounts)) {
				t.Errorf("%d distinct users, want %d", len(users), d.users)
			}
			rows := readRows(d)
			if !slices.ContainsFunc(rows, func(r readRow) bool { return r.target == 0 }) {
				t.Error("no reference row")
			}
			authed := http.Header{"X-Api-Key": {key}}
			for _, row := range rows {
				body := mustGet(t, g.client, pb.url(row.path), authed)
				if err := row.check(body); err != nil {
					t.Errorf("%s: %v\n%s", row.route, err, clip(body))
				}
			}
		})
	}
}

// clip shortens a response body for an error message.
func clip(body []byte) string {
	if len(body) > 600 {
		return string(body[:600]) + "…"
	}
	return string(body)
}
