package bench

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // "pgx" driver for the filler SQL
	_ "modernc.org/sqlite"             // "sqlite" driver for the filler SQL

	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// BenchmarkInitiations measures connection initiation through the HTTP API
// of an in-process patchbay on each backend: POST /api/v3.1/connected_accounts
// with a user's API key (validate, seal, insert) from 8 concurrent clients;
// connections/s, p50, p99. Target on SQLite: >= 2,000/s.
//
// Run: go test -run='^$' -bench='Initiations|ConnectionReads' -benchtime=1x ./bench/
func BenchmarkInitiations(b *testing.B) {
	for _, backend := range testserver.Backends {
		b.Run(string(backend), func(b *testing.B) {
			for range b.N {
				benchInitiations(b, backend)
			}
		})
	}
}

// BenchmarkConnectionReads measures GET /api/v3.1/connected_accounts/{id}
// of a fixed sample with 1,000 and then 1,000,000 accounts in the database,
// and prints the p50 ratio. Target: <= 1.3.
func BenchmarkConnectionReads(b *testing.B) {
	for _, backend := range testserver.Backends {
		b.Run(string(backend), func(b *testing.B) {
			for range b.N {
				benchConnectionReads(b, backend)
			}
		})
	}
}

type connClient struct {
	base, key string
	http      *http.Client
}

func newConnClient(srv *testserver.Server, concurrency int) *connClient {
	return &connClient{base: srv.URL, key: srv.OwnerKey, http: newLoadgen(concurrency).client}
}

func (c *connClient) do(method, path string, body any) (int, []byte, error) {
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return 0, nil, err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, c.base+path, rd)
	if err != nil {
		return 0, nil, err
	}
	req.Header.Set("x-api-key", c.key)
	req.Header.Set("content-type", "application/json")
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	return resp.StatusCode, out, err
}

func (c *connClient) mustAuthConfig(b *testing.B) string {
	status, body, err := c.do("POST", "/api/v3.1/auth_configs", map[string]any{
		"toolkit":     map[string]string{"slug": "openai"},
		"auth_config": map[string]any{"type": "use_custom_auth", "authScheme": "API_KEY", "credentials": map[string]any{}},
	})
	if err != nil || status != http.StatusCreated {
		b.Fatalf("create auth config: %d %s %v", status, body, err)
	}
	var out struct {
		AuthConfig struct{ ID string } `json:"auth_config"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		b.Fatal(err)
	}
	return out.AuthConfig.ID
}

func connectBody(acID string, i int) map[string]any {
	return map[string]any{
		"auth_config": map[string]string{"id": acID},
		"connection": map[string]any{
			"user_id": fmt.Sprintf("user-%d", i),
			"state":   map[string]any{"authScheme": "API_KEY", "val": map[string]any{"status": "ACTIVE", "api_key": fmt.Sprintf("sk-bench-%032d", i)}},
		},
	}
}

func (c *connClient) mustConnect(b *testing.B, acID string, i int) string {
	status, body, err := c.do("POST", "/api/v3.1/connected_accounts", connectBody(acID, i))
	if err != nil || status != http.StatusCreated {
		b.Fatalf("connect: %d %s %v", status, body, err)
	}
	var out struct{ ID string }
	if err := json.Unmarshal(body, &out); err != nil {
		b.Fatal(err)
	}
	return out.ID
}

func benchInitiations(b *testing.B, backend testserver.Backend) {
	srv := testserver.Start(b, backend, testserver.Options{})
	const (
		concurrency = 8
		total       = 6000
		warmup      = 300
	)
	c := newConnClient(srv, concurrency)
	acID := c.mustAuthConfig(b)
	for i := range warmup {
		c.mustConnect(b, acID, -1-i)
	}
	var (
		next   atomic.Int64
		mu     sync.Mutex
		lat    = make([]time.Duration, 0, total)
		failed atomic.Int64
		wg     sync.WaitGroup
	)
	start := time.Now()
	for range concurrency {
		wg.Go(func() {
			local := make([]time.Duration, 0, total/concurrency+1)
			for {
				i := int(next.Add(1))
				if i > total {
					break
				}
				t0 := time.Now()
				status, _, err := c.do("POST", "/api/v3.1/connected_accounts", connectBody(acID, i))
				if err != nil || status != http.StatusCreated {
					failed.Add(1)
					continue
				}
				local = append(local, time.Since(t0))
			}
			mu.Lock()
			lat = append(lat, local...)
			mu.Unlock()
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	if failed.Load() > 0 {
		b.Fatalf("%d initiations failed", failed.Load())
	}
	slices.Sort(lat)
	rate := float64(len(lat)) / elapsed.Seconds()
	b.ReportMetric(rate, "initiations/s")
	b.ReportMetric(micros(percentile(lat, 0.50)), "init-p50-µs")
	b.ReportMetric(micros(percentile(lat, 0.99)), "init-p99-µs")
	b.Logf("%s initiations: %d in %v = %.0f/s (8 clients), p50 %v, p99 %v [target on sqlite: >= 2000/s: %s]",
		backend, len(lat), elapsed.Round(time.Millisecond), rate, percentile(lat, 0.5), percentile(lat, 0.99),
		verdict(backend != testserver.SQLite || rate >= 2000))
}

func benchConnectionReads(b *testing.B, backend testserver.Backend) {
	srv := testserver.Start(b, backend, testserver.Options{})
	c := newConnClient(srv, 1)
	acID := c.mustAuthConfig(b)
	const sampleSize = 200
	sample := make([]string, sampleSize)
	for i := range sample {
		sample[i] = c.mustConnect(b, acID, i)
	}
	db := openFillerDB(b, backend, srv.DSN)
	fill := func(n int) {
		t0 := time.Now()
		fillConnections(b, db, backend, srv.Project.ID, acID, n)
		b.Logf("%s: %d accounts in the database (filled in %v)", backend, n, time.Since(t0).Round(time.Millisecond))
	}
	measure := func() time.Duration {
		const reads = 3000
		lat := make([]time.Duration, 0, reads)
		for i := range reads {
			t0 := time.Now()
			status, body, err := c.do("GET", "/api/v3.1/connected_accounts/"+sample[i%sampleSize], nil)
			if err != nil || status != http.StatusOK {
				b.Fatalf("read: %d %s %v", status, body, err)
			}
			lat = append(lat, time.Since(t0))
		}
		slices.Sort(lat)
		return percentile(lat, 0.5)
	}
	fill(1_000)
	measure() // warm up connections and caches
	small := measure()
	fill(1_000_000)
	measure()
	large := measure()
	ratio := float64(large) / float64(small)
	b.ReportMetric(micros(small), "read-p50-1k-µs")
	b.ReportMetric(micros(large), "read-p50-1M-µs")
	b.ReportMetric(ratio, "read-p50-ratio")
	b.Logf("%s reads: p50 %v with 1k accounts, %v with 1M; ratio %.2f [target <= 1.3: %s]",
		backend, small, large, ratio, verdict(ratio <= 1.3))
}

func openFillerDB(b *testing.B, backend testserver.Backend, dsn string) *sql.DB {
	driver := "pgx"
	if backend == testserver.SQLite {
		driver, dsn = "sqlite", "file:"+dsn+"?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)"
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		b.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	b.Cleanup(func() { db.Close() })
	return db
}

// fillConnections adds filler accounts (with filler sealed bytes, never
// opened) until the project has n, generating the rows inside the database.
func fillConnections(b *testing.B, db *sql.DB, backend testserver.Backend, projectID, acID string, n int) {
	ctx := context.Background()
	var have int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM connected_accounts`).Scan(&have); err != nil {
		b.Fatal(err)
	}
	now := time.Now().Add(-time.Hour).UTC()
	const chunk = 100_000
	for from := have; from < n; from += chunk {
		to := min(from+chunk, n)
		var accounts, secrets string
		if backend == testserver.SQLite {
			series := `WITH RECURSIVE s(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM s WHERE i < $2) `
			accounts = series + `INSERT INTO connected_accounts (id, project_id, auth_config_id, toolkit, mode, user_id, status, status_reason, disabled, alias, labels, created_at, updated_at)
				SELECT 'ca_fill' || i, $3, $4, 'openai', 'API_KEY', 'fill-' || (i % 50000), 'ACTIVE', '', 0, '', '[]', $5, $5 FROM s`
			secrets = series + `INSERT INTO secrets (project_id, record, field, term, sealed)
				SELECT $3, 'ca_fill' || i, 'credentials', 1, randomblob(80) FROM s WHERE $4 <> '' AND $5 IS NOT NULL`
		} else {
			accounts = `INSERT INTO connected_accounts (id, project_id, auth_config_id, toolkit, mode, user_id, status, status_reason, disabled, alias, labels, created_at, updated_at)
				SELECT 'ca_fill' || i, $3, $4, 'openai', 'API_KEY', 'fill-' || (i % 50000), 'ACTIVE', '', false, '', '[]', $5, $5 FROM generate_series($1::bigint, $2::bigint) i`
			secrets = `INSERT INTO secrets (project_id, record, field, term, sealed)
				SELECT $3, 'ca_fill' || i, 'credentials', 1, decode(md5(i::text) || md5(i::text), 'hex') FROM generate_series($1::bigint, $2::bigint) i WHERE $4 <> '' AND $5::timestamptz IS NOT NULL`
		}
		for _, q := range []string{accounts, secrets} {
			if _, err := db.ExecContext(ctx, q, from+1, to, projectID, acID, now); err != nil {
				b.Fatalf("fill: %v", err)
			}
		}
	}
	if backend == testserver.Postgres {
		if _, err := db.ExecContext(ctx, `ANALYZE connected_accounts; ANALYZE secrets`); err != nil {
			b.Fatal(err)
		}
	}
}
