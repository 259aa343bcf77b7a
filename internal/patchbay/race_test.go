package patchbay_test

import (
	"context"
	"sync"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// mustCLI is the principal of srv's admin commands: its owner, spanning
// the organization.
func mustCLI(t *testing.T, srv *testserver.Server) *patchbay.Principal {
	t.Helper()
	p, err := srv.Service.CLIPrincipal(context.Background(), srv.Org.ID)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// mustPrincipal is the principal of one of srv's keys.
func mustPrincipal(t *testing.T, srv *testserver.Server, raw string) *patchbay.Principal {
	t.Helper()
	p, err := srv.Service.Authenticate(context.Background(), raw)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// race runs fn from n goroutines released at once and counts successes
// and ECONFLICT failures; any other error fails t.
func race(t *testing.T, n int, fn func() error) (won, lost int) {
	t.Helper()
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		start = make(chan struct{})
	)
	for range n {
		wg.Go(func() {
			<-start
			err := fn()
			mu.Lock()
			defer mu.Unlock()
			switch patchbay.ErrorCode(err) {
			case "":
				won++
			case patchbay.ECONFLICT:
				lost++
			default:
				t.Errorf("unexpected error: %v", err)
			}
		})
	}
	close(start)
	wg.Wait()
	return won, lost
}

// Concurrent exclusive connects for one user and auth config: exactly one
// wins, on both stores (SQLite serializes writers; PostgreSQL locks the
// auth config row).
func TestExclusiveConnectRace(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(string(backend), func(t *testing.T) {
			srv := testserver.Start(t, backend, testserver.Options{})
			ctx := context.Background()
			a := mustPrincipal(t, srv, srv.OwnerKey)
			ac, err := srv.Service.CreateAuthConfig(ctx, a, patchbay.NewAuthConfig{Toolkit: "openai", Mode: patchbay.AuthAPIKey})
			if err != nil {
				t.Fatal(err)
			}
			const n = 32
			won, lost := race(t, n, func() error {
				_, err := srv.Service.Connect(ctx, a, patchbay.NewConnection{
					AuthConfigID: ac.ID, UserID: "racer", Exclusive: true,
					Values: map[string]any{"api_key": "sk-race-0123456789"},
				})
				return err
			})
			if won != 1 || lost != n-1 {
				t.Errorf("%d exclusive connects won and %d lost; want 1 and %d", won, lost, n-1)
			}
		})
	}
}

// Concurrent regenerations of one key: exactly one replaces it, the others
// find it revoked (ECONFLICT), on both stores.
func TestRegenerateRace(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(string(backend), func(t *testing.T) {
			srv := testserver.Start(t, backend, testserver.Options{})
			ctx := context.Background()
			a := mustCLI(t, srv)
			k, _, err := srv.Service.CreateAPIKey(ctx, a, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: srv.Project.ID, Name: "raced"})
			if err != nil {
				t.Fatal(err)
			}
			const n = 16
			won, lost := race(t, n, func() error {
				_, _, err := srv.Service.RegenerateAPIKey(ctx, a, k.ID)
				return err
			})
			if won != 1 || lost != n-1 {
				t.Errorf("%d regenerations won and %d lost; want 1 and %d", won, lost, n-1)
			}
			keys, err := srv.Store.ListAPIKeys(ctx, patchbay.KeyFilter{OrgID: srv.Org.ID, ProjectID: srv.Project.ID})
			if err != nil {
				t.Fatal(err)
			}
			named := 0
			for _, key := range keys {
				if key.Name == "raced" {
					named++
				}
			}
			if named != 1 {
				t.Errorf("%d active keys named %q after the race, want exactly the one replacement", named, "raced")
			}
		})
	}
}

// Revoking a revoked key changes nothing: one revocation, one audit record.
func TestRevokeTwiceAuditsOnce(t *testing.T) {
	srv := testserver.Start(t, testserver.SQLite, testserver.Options{})
	ctx := context.Background()
	a := mustCLI(t, srv)
	k, _, err := srv.Service.CreateAPIKey(ctx, a, patchbay.NewKey{Kind: patchbay.KeyKindProject, ProjectID: srv.Project.ID, Name: "twice"})
	if err != nil {
		t.Fatal(err)
	}
	first, err := srv.Service.RevokeAPIKey(ctx, a, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	second, err := srv.Service.RevokeAPIKey(ctx, a, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !first.RevokedAt.Equal(*second.RevokedAt) {
		t.Errorf("second revoke moved revoked_at from %v to %v", first.RevokedAt, second.RevokedAt)
	}
	events, err := srv.Service.ListAudit(ctx, a, "", 1000)
	if err != nil {
		t.Fatal(err)
	}
	revokes := 0
	for _, e := range events {
		if e.Action == patchbay.ActionKeyRevoke && e.TargetID == k.ID {
			revokes++
		}
	}
	if revokes != 1 {
		t.Errorf("%d revoke audit records for one key revoked twice, want 1", revokes)
	}
}
