package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// testOAuthFlows: a flow is found by its link and, once given one, by its
// state; a state is used once; a used flow takes no new state.
func testOAuthFlows(t *testing.T, s patchbay.Store) {
	ctx := context.Background()
	now := time.Now().UTC().Truncate(time.Second)
	f := &patchbay.OAuthFlow{AccountID: id(patchbay.PrefixConn), ProjectID: id(patchbay.PrefixProject), OrgID: id(patchbay.PrefixOrg),
		ActorID: "mem_actor", ActorKey: "key_actor", LinkHash: patchbay.HashToken("link-" + id("")),
		LinkExpiresAt: now.Add(10 * time.Minute), CallbackURL: "https://app.example/cb", RedirectURI: "https://pb.example/cb", CreatedAt: now}
	if err := s.CreateOAuthFlow(ctx, f); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateOAuthFlow(ctx, f); patchbay.ErrorCode(err) != patchbay.ECONFLICT {
		t.Errorf("a second flow for the account: %v, want ECONFLICT", err)
	}
	got, err := s.OAuthFlowByLink(ctx, f.LinkHash)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccountID != f.AccountID || got.ProjectID != f.ProjectID || got.OrgID != f.OrgID || got.ActorID != f.ActorID ||
		got.ActorKey != f.ActorKey || got.CallbackURL != f.CallbackURL || got.RedirectURI != f.RedirectURI ||
		!got.LinkExpiresAt.Equal(f.LinkExpiresAt) || !got.CreatedAt.Equal(f.CreatedAt) || got.StateHash != "" || got.UsedAt != nil {
		t.Errorf("OAuthFlowByLink = %+v, want %+v", got, f)
	}
	if _, err := s.OAuthFlowByLink(ctx, patchbay.HashToken("other")); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("an unknown link: %v, want ENOTFOUND", err)
	}
	first, second := patchbay.HashToken("state-1-"+f.AccountID), patchbay.HashToken("state-2-"+f.AccountID)
	if err := s.SetOAuthState(ctx, f.AccountID, first, now.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	// Opening the link again replaces the state.
	if err := s.SetOAuthState(ctx, f.AccountID, second, now.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OAuthFlowByState(ctx, first); patchbay.ErrorCode(err) != patchbay.ENOTFOUND {
		t.Errorf("a replaced state: %v, want ENOTFOUND", err)
	}
	got, err = s.OAuthFlowByState(ctx, second)
	if err != nil {
		t.Fatal(err)
	}
	if got.AccountID != f.AccountID || got.StateHash != second || !got.StateExpiresAt.Equal(now.Add(2*time.Minute)) {
		t.Errorf("OAuthFlowByState = %+v", got)
	}
	if ok, err := s.UseOAuthState(ctx, second, now); err != nil || !ok {
		t.Fatalf("first use: %v, %v", ok, err)
	}
	if ok, err := s.UseOAuthState(ctx, second, now); err != nil || ok {
		t.Errorf("second use: %v, %v; want false", ok, err)
	}
	got, err = s.OAuthFlowByState(ctx, second)
	if err != nil || got.UsedAt == nil || !got.UsedAt.Equal(now) {
		t.Errorf("used flow: %+v, %v", got, err)
	}
	if err := s.SetOAuthState(ctx, f.AccountID, first, now.Add(time.Minute)); patchbay.ErrorCode(err) != patchbay.ECONFLICT {
		t.Errorf("a new state for a used flow: %v, want ECONFLICT", err)
	}

	// A key link (no provider redirect) is used once, by its link.
	k := &patchbay.OAuthFlow{AccountID: id(patchbay.PrefixConn), ProjectID: f.ProjectID, OrgID: f.OrgID,
		ActorID: "mem_actor", ActorKey: "key_actor", LinkHash: patchbay.HashToken("keylink-" + id("")),
		LinkExpiresAt: now.Add(10 * time.Minute), CallbackURL: "", CreatedAt: now}
	if err := s.CreateOAuthFlow(ctx, k); err != nil {
		t.Fatal(err)
	}
	if got, err := s.OAuthFlowByLink(ctx, k.LinkHash); err != nil || !got.KeyLink() || got.UsedAt != nil || got.CallbackURL != "" {
		t.Fatalf("key link as stored: %+v, %v", got, err)
	}
	if ok, err := s.UseConnectLink(ctx, k.LinkHash, now); err != nil || !ok {
		t.Fatalf("first use of a key link: %v, %v", ok, err)
	}
	if ok, err := s.UseConnectLink(ctx, k.LinkHash, now.Add(time.Second)); err != nil || ok {
		t.Errorf("second use of a key link: %v, %v; want false", ok, err)
	}
	if got, err := s.OAuthFlowByLink(ctx, k.LinkHash); err != nil || got.UsedAt == nil || !got.UsedAt.Equal(now) {
		t.Errorf("used key link: %+v, %v", got, err)
	}
	if ok, err := s.UseConnectLink(ctx, patchbay.HashToken("no-such-link"), now); err != nil || ok {
		t.Errorf("use of an unknown link: %v, %v; want false", ok, err)
	}
}
