package patchbay_test

import (
	"context"
	"sync"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// Concurrent exclusive connects for one user and auth config: exactly one
// wins, on both stores (SQLite serializes writers; PostgreSQL locks the
// auth config row).
func TestExclusiveConnectRace(t *testing.T) {
	for _, backend := range testserver.Backends {
		t.Run(string(backend), func(t *testing.T) {
			srv := testserver.Start(t, backend, testserver.Options{})
			ctx := context.Background()
			a := patchbay.Actor{Member: *srv.Owner, IP: "test"}
			ac, err := srv.Service.CreateAuthConfig(ctx, a, srv.Project.ID, patchbay.NewAuthConfig{Toolkit: "openai", Mode: patchbay.AuthAPIKey})
			if err != nil {
				t.Fatal(err)
			}
			const n = 32
			var (
				wg        sync.WaitGroup
				mu        sync.Mutex
				won, lost int
				start     = make(chan struct{})
			)
			for range n {
				wg.Go(func() {
					<-start
					_, err := srv.Service.Connect(ctx, a, srv.Project.ID, patchbay.NewConnection{
						AuthConfigID: ac.ID, UserID: "racer", Exclusive: true,
						Values: map[string]any{"api_key": "sk-race-0123456789"},
					})
					mu.Lock()
					defer mu.Unlock()
					switch patchbay.ErrorCode(err) {
					case "":
						won++
					case patchbay.ECONFLICT:
						lost++
					default:
						t.Errorf("Connect: %v", err)
					}
				})
			}
			close(start)
			wg.Wait()
			if won != 1 || lost != n-1 {
				t.Errorf("%d exclusive connects won and %d lost; want 1 and %d", won, lost, n-1)
			}
		})
	}
}
