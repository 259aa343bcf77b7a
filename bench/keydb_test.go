package bench

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/binary"
	"fmt"
	"iter"
	"log/slog"
	mathrand "math/rand/v2"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/patchbay-dev/patchbay/internal/keyring"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/postgres"
	"github.com/patchbay-dev/patchbay/internal/sqlite"
	"github.com/patchbay-dev/patchbay/internal/sqlstore"
	"github.com/patchbay-dev/patchbay/internal/testdb"
)

// keyDB is a store holding n API keys, of which the plaintexts of a sample
// are known, so lookups hit real rows.
type keyDB struct {
	n      int
	store  patchbay.Store
	root   patchbay.Secret // the keyring's root key, for service
	tokens []string        // plaintexts of the sample keys
	hashes [][32]byte      // their hashes, in the same order
}

// keyScope is where bulk keys go: the bootstrapped organization, its
// default project, and its owner, whose role the keys act with; root
// opens the keyring that sealed the project's webhook secret.
type keyScope struct {
	orgID, projectID, ownerID string
	root                      patchbay.Secret
}

// service returns a fresh Service over db's store, never started: its
// Authenticator has an empty cache, so every verification reads the store.
// No watcher: its check is the same work whatever the number of keys. The
// keyring is needed because verifying a project key reads its project's
// masked webhook secret.
func (db *keyDB) service(tb testing.TB) *patchbay.Service {
	tb.Helper()
	kr, err := keyring.Open(context.Background(), db.store, db.root, rand.Reader, time.Now)
	if err != nil {
		tb.Fatal(err)
	}
	return patchbay.NewService(patchbay.Config{
		Store: db.store, Sealer: kr, Watcher: nil, Now: time.Now, Rand: rand.Reader, Log: slog.New(slog.DiscardHandler),
	})
}

// mustBootstrap creates the organization, project and owner the way
// `patchbay serve` does on a new database.
func mustBootstrap(tb testing.TB, store patchbay.Store) keyScope {
	tb.Helper()
	ctx := context.Background()
	hexRoot, err := keyring.NewRootKey(rand.Reader)
	if err != nil {
		tb.Fatal(err)
	}
	root, err := keyring.ParseRootKey(hexRoot)
	if err != nil {
		tb.Fatal(err)
	}
	kr, err := keyring.Open(ctx, store, root, rand.Reader, time.Now)
	if err != nil {
		tb.Fatal(err)
	}
	svc := patchbay.NewService(patchbay.Config{Store: store, Sealer: kr, Now: time.Now, Rand: rand.Reader, Log: slog.New(slog.DiscardHandler)})
	org, _, err := svc.Bootstrap(ctx, "owner@patchbay.local")
	if err != nil {
		tb.Fatal(err)
	}
	owner, err := svc.CLIPrincipal(ctx, org.ID)
	if err != nil {
		tb.Fatal(err)
	}
	ps, _, err := svc.ListProjects(ctx, owner, "", 1)
	if err != nil || len(ps) == 0 {
		tb.Fatalf("default project: %v", err)
	}
	return keyScope{orgID: org.ID, projectID: ps[0].Project.ID, ownerID: owner.Member.ID, root: root}
}

// keyRow is one api_keys row of a bulk load.
type keyRow struct {
	id, prefix string
	hash       [32]byte
	createdAt  time.Time
}

// keyRows yields n rows. The sample tokens are spread evenly among them;
// the other rows get random hashes, indistinguishable from real ones to the
// index. IDs count up, so the primary key grows at its end as it would
// with time.
func keyRows(n int, sample []patchbay.KeyToken) iter.Seq[keyRow] {
	return func(yield func(keyRow) bool) {
		rng := mathrand.NewChaCha8([32]byte{1})
		base := time.Now().UTC().Truncate(time.Microsecond).Add(-time.Duration(n) * time.Millisecond)
		next := 0
		for i := range n {
			r := keyRow{id: fmt.Sprintf("key_%016d", i), createdAt: base.Add(time.Duration(i) * time.Millisecond)}
			if next < len(sample) && i == next*n/len(sample) {
				tok := sample[next]
				r.prefix, r.hash = tok.DisplayPrefix(), tok.Hash()
				next++
			} else {
				rng.Read(r.hash[:])
				r.prefix = fmt.Sprintf("ak_%04x", binary.BigEndian.Uint16(r.hash[:]))
			}
			if !yield(r) {
				return
			}
		}
	}
}

// mustSample generates the plaintext keys whose lookups are measured.
func mustSample(tb testing.TB, n int) []patchbay.KeyToken {
	tb.Helper()
	out := make([]patchbay.KeyToken, n)
	for i := range out {
		tok, err := patchbay.GenerateKey(patchbay.KeyKindProject, rand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = tok
	}
	return out
}

func newKeyDB(n int, store patchbay.Store, root patchbay.Secret, sample []patchbay.KeyToken) *keyDB {
	db := &keyDB{n: n, store: store, root: root}
	for _, tok := range sample {
		db.tokens = append(db.tokens, tok.Secret.Reveal())
		db.hashes = append(db.hashes, tok.Hash())
	}
	return db
}

// sqliteBatch is the rows per INSERT statement: 9 parameters each stay
// well under SQLite's limit of 32,766 host parameters per statement.
const sqliteBatch = 500

// mustSQLiteKeyDB builds a SQLite database holding n keys and returns it
// opened as patchbay opens it, with cold caches.
func mustSQLiteKeyDB(tb testing.TB, n, sampleSize int) *keyDB {
	tb.Helper()
	ctx := context.Background()
	path := filepath.Join(tb.TempDir(), "patchbay.db")
	store, err := sqlite.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	if err := store.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	scope := mustBootstrap(tb, store)
	store.Close()

	// The bulk load uses a connection of its own with a large page cache
	// (random hashes make the unique index take random inserts), no fsync
	// and no foreign-key checks (the rows are valid by construction).
	q := url.Values{}
	for _, p := range []string{"journal_mode(WAL)", "synchronous(OFF)", "foreign_keys(0)", "cache_size(-262144)"} {
		q.Add("_pragma", p)
	}
	bulk, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		tb.Fatal(err)
	}
	defer bulk.Close()
	bulk.SetMaxOpenConns(1)
	sample := mustSample(tb, min(sampleSize, n))
	if err := sqliteInsertKeys(ctx, bulk, scope, keyRows(n, sample)); err != nil {
		tb.Fatalf("bulk insert: %v", err)
	}
	// Move everything into the database file, as a server that has been
	// running for a while would have, so lookups do not read through a
	// large WAL.
	if _, err := bulk.ExecContext(ctx, `PRAGMA wal_checkpoint(TRUNCATE)`); err != nil {
		tb.Fatal(err)
	}
	bulk.Close()

	store, err = sqlite.Open(ctx, path)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	return newKeyDB(n, store, scope.root, sample)
}

// sqliteInsertKeys inserts rows into s with multi-row INSERTs of
// sqliteBatch rows, 100,000 rows per transaction.
func sqliteInsertKeys(ctx context.Context, db *sql.DB, s keyScope, rows iter.Seq[keyRow]) error {
	const perTx = 200 * sqliteBatch
	next, stop := iter.Pull(rows)
	defer stop()
	batch := make([]keyRow, 0, sqliteBatch)
	var stmt strings.Builder
	args := make([]any, 0, 9*sqliteBatch)
	for done := false; !done; {
		tx, err := db.BeginTx(ctx, nil)
		if err != nil {
			return err
		}
		for inTx := 0; inTx < perTx && !done; inTx += len(batch) {
			batch = batch[:0]
			for len(batch) < sqliteBatch {
				r, ok := next()
				if !ok {
					done = true
					break
				}
				batch = append(batch, r)
			}
			if len(batch) == 0 {
				break
			}
			stmt.Reset()
			stmt.WriteString(`INSERT INTO api_keys (lookup, id, kind, org_id, project_id, name, prefix, hash, created_by, created_at) VALUES `)
			args = args[:0]
			for i, r := range batch {
				if i > 0 {
					stmt.WriteString(", ")
				}
				stmt.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
				args = append(args, sqlstore.KeyLookup(r.hash), r.id, string(patchbay.KeyKindProject), s.orgID, s.projectID, "bench", r.prefix, r.hash[:], s.ownerID, r.createdAt)
			}
			if _, err := tx.ExecContext(ctx, stmt.String(), args...); err != nil {
				tx.Rollback()
				return err
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}

// mustPostgresKeyDB builds a PostgreSQL schema holding n keys, loaded with
// COPY, or skips when no test database is configured.
func mustPostgresKeyDB(tb testing.TB, n, sampleSize int) *keyDB {
	tb.Helper()
	ctx := context.Background()
	u := testdb.PostgresURL(tb)
	store, err := postgres.Open(ctx, u)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	if err := store.Migrate(ctx); err != nil {
		tb.Fatal(err)
	}
	scope := mustBootstrap(tb, store)

	conn, err := pgx.Connect(ctx, u) // the URL's search_path selects the schema
	if err != nil {
		tb.Fatal(err)
	}
	defer conn.Close(ctx)
	sample := mustSample(tb, min(sampleSize, n))
	next, stop := iter.Pull(keyRows(n, sample))
	defer stop()
	src := pgx.CopyFromFunc(func() ([]any, error) {
		r, ok := next()
		if !ok {
			return nil, nil
		}
		return []any{sqlstore.KeyLookup(r.hash), r.id, string(patchbay.KeyKindProject), scope.orgID, scope.projectID, "bench", r.prefix, r.hash[:], scope.ownerID, r.createdAt}, nil
	})
	cols := []string{"lookup", "id", "kind", "org_id", "project_id", "name", "prefix", "hash", "created_by", "created_at"}
	if _, err := conn.CopyFrom(ctx, pgx.Identifier{"api_keys"}, cols, src); err != nil {
		tb.Fatalf("copy: %v", err)
	}
	// What autovacuum would have done by now: planner statistics, hint bits
	// and the visibility map. Done here, it neither runs during the
	// measurement nor leaves the first lookups writing hint bits.
	if _, err := conn.Exec(ctx, `VACUUM ANALYZE api_keys`); err != nil {
		tb.Fatal(err)
	}
	return newKeyDB(n, store, scope.root, sample)
}
