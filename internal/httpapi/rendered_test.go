package httpapi_test

import (
	"context"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// TestKeptReadsFollowEveryWriter: reads answered from the render cache show
// a change as soon as it is committed, whoever commits it: this server, or
// another writer on the same database (another instance, an admin command),
// here a second store handle that the server knows nothing about. A kept
// answer never crosses projects, and a revoked key is refused although its
// answer is kept.
func TestKeptReadsFollowEveryWriter(t *testing.T) {
	eachBackend(t, func(t *testing.T, b testserver.Backend) {
		ctx := context.Background()
		a := start(t, b, testserver.Options{})
		ac := a.createAuthConfig("serpapi", "", nil)
		id := a.connect(ac, "u", "API_KEY", map[string]any{"api_key": a.secret("serp-SECRETVALUE-0123456789abcdef")})

		paths := []string{
			"/api/v3.1/connected_accounts/" + id,
			"/api/v1/connectedAccounts/" + id,
			"/api/v3.1/connected_accounts?limit=10",
			"/api/v1/connectedAccounts?user_uuid=u",
		}
		statusAt := map[string]string{paths[0]: "status", paths[1]: "status", paths[2]: "items.0.status", paths[3]: "items.0.status"}
		for _, p := range paths {
			for range 2 { // the second answer is the kept one
				a.get(p).want(200).eq(statusAt[p], "ACTIVE")
			}
		}
		// Another writer marks the account FAILED behind the server's back.
		rec, err := a.srv.Store.GetConnectedAccount(ctx, a.projectID, id)
		if err != nil {
			t.Fatal(err)
		}
		ca := rec.ConnectedAccount
		ca.Status, ca.StatusReason = patchbay.StatusFailed, "expired upstream"
		if err := a.srv.Store.UpdateConnectedAccount(ctx, ca); err != nil {
			t.Fatal(err)
		}
		for _, p := range paths {
			a.get(p).want(200).eq(statusAt[p], "FAILED")
		}
		// A change through the server itself shows at once too.
		a.del("/api/v3.1/connected_accounts/" + id).want(200)
		a.get(paths[0]).v3err(404)
		a.get(paths[2]).want(200).eq("total_items", float64(0))

		// The same path in another project is that project's answer.
		other := a.newProject("other")
		ours := a.get("/api/v1/api_keys").want(200)
		theirs := other.get("/api/v1/api_keys").want(200)
		if canon(t, ours.JSON) == canon(t, theirs.JSON) {
			t.Errorf("two projects' key lists are the same answer:\n%s", ours.Raw)
		}
		a.get("/api/v1/api_keys").want(200) // kept
		keys := len(a.get("/api/v1/api_keys").want(200).list(""))
		a.post("/api/v1/api_keys", map[string]any{"name": "third"}).want(201)
		if got := len(a.get("/api/v1/api_keys").want(200).list("")); got != keys+1 {
			t.Errorf("after creating a key the list has %d keys, want %d", got, keys+1)
		}

		// A kept answer is no way around revocation.
		list := other.get("/api/v1/api_keys").want(200).list("")
		if len(list) != 1 {
			t.Fatalf("the new project has %d keys, want 1", len(list))
		}
		other.get("/api/v1/api_keys").want(200) // kept
		other.del("/api/v1/api_keys/" + list[0].(map[string]any)["id"].(string)).want(200)
		other.get("/api/v1/api_keys").legacyErr(401)
	})
}
