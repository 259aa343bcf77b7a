package catalog

import (
	"encoding/json"
	"os"
	"slices"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// testdata/composio-toolkits.json holds, for each of the toolkits in
// Composio's published catalog (530 when it was taken), its slug and the
// names of its auth schemes, nothing else. It was made from the reference
// data's composio-toolkits.json by keeping those two keys of every entry
// (jq '[.[] | {slug, auth_schemes}]'), so the test reads no file outside
// the repository.

// notInComposio are shipped toolkits that Composio's list does not have,
// each with the reason patchbay ships it anyway.
var notInComposio = map[string]string{
	"anthropic": "Composio lists only anthropic_administrator (the Admin API); this is the model API, with an API key",
	"telegram":  "missing from the list, although Composio documents a Telegram toolkit connected with a bot token",
	"twilio":    "Composio has no Twilio toolkit; Twilio's REST API takes the Account SID and Auth Token as HTTP basic auth",
}

// schemeExceptions are schemes ("slug/MODE") that a shipped toolkit offers
// but Composio's list does not name for it, each with the reason: a real
// way in to the app, or one kept so auth configs made with it keep
// working.
var schemeExceptions = map[string]string{
	"asana/BEARER_TOKEN":  "personal access tokens; Composio adds BEARER_TOKEN beside the OAUTH2 scheme of every OAuth toolkit (changelog of 2026-04-07), which its list does not show",
	"github/BEARER_TOKEN": "personal access tokens (github_pat_, ghp_); Composio adds BEARER_TOKEN beside every OAUTH2 scheme (changelog of 2026-04-07), which its list does not show",
	"hubspot/API_KEY":     "private app tokens, which Composio's current catalog takes as API_KEY generic_api_key (toolkit-fields.md); its list shows BEARER_TOKEN, which patchbay keeps too",
	"jira/BASIC":          "email and API token as HTTP basic auth, what Jira Cloud takes; kept beside API_KEY for auth configs made with it",
	"mailchimp/API_KEY":   "Mailchimp API keys with their server prefix; Composio lists only OAUTH2",
	"pipedrive/API_KEY":   "personal API tokens, which Composio's current catalog takes as API_KEY with subdomain and generic_api_key (toolkit-fields.md); its list shows BEARER_TOKEN",
	"stripe/OAUTH2":       "Stripe Connect; Composio's current catalog has OAUTH2 for Stripe (toolkit-fields.md), its list only API_KEY",
	"trello/API_KEY":      "an API key and a user token; Composio lists OAUTH1, a flow patchbay does not implement",
	"zendesk/API_KEY":     "API tokens with the subdomain (basic_encoded), as Composio's support pages describe; its list shows OAUTH2 only",
}

// composioSchemes reads testdata/composio-toolkits.json: slug → Composio's
// auth scheme names.
func composioSchemes(t *testing.T) map[string][]patchbay.AuthMode {
	t.Helper()
	data, err := os.ReadFile("testdata/composio-toolkits.json")
	if err != nil {
		t.Fatal(err)
	}
	var list []struct {
		Slug        string              `json:"slug"`
		AuthSchemes []patchbay.AuthMode `json:"auth_schemes"`
	}
	if err := json.Unmarshal(data, &list); err != nil {
		t.Fatalf("testdata/composio-toolkits.json: %v", err)
	}
	out := make(map[string][]patchbay.AuthMode, len(list))
	for _, tk := range list {
		if _, dup := out[tk.Slug]; dup || tk.Slug == "" {
			t.Fatalf("testdata/composio-toolkits.json: slug %q is empty or listed twice", tk.Slug)
		}
		out[tk.Slug] = tk.AuthSchemes
	}
	if len(out) < 500 {
		t.Fatalf("testdata/composio-toolkits.json lists %d toolkits; want Composio's whole list", len(out))
	}
	return out
}

// TestComposioSlugsAndSchemes: every shipped toolkit is one of Composio's,
// by slug, and offers only schemes Composio has for it, unless listed
// above with a reason; an entry that no longer applies must go.
func TestComposioSlugsAndSchemes(t *testing.T) {
	composio := composioSchemes(t)
	used := map[string]bool{}
	for _, tk := range MustLoad(t).Toolkits() {
		schemes, known := composio[tk.Slug]
		if _, excepted := notInComposio[tk.Slug]; excepted {
			used[tk.Slug] = true
			if known {
				t.Errorf("%s is in Composio's list now: remove it from notInComposio", tk.Slug)
			}
			continue
		}
		if !known {
			t.Errorf("toolkit %s is not in Composio's list (testdata/composio-toolkits.json): use Composio's slug, or add it to notInComposio with the reason", tk.Slug)
			continue
		}
		for _, s := range tk.AuthSchemes {
			key := tk.Slug + "/" + string(s.Mode)
			_, excepted := schemeExceptions[key]
			used[key] = excepted
			switch {
			case excepted && slices.Contains(schemes, s.Mode):
				t.Errorf("%s: Composio has %s now: remove %q from schemeExceptions", tk.Slug, s.Mode, key)
			case !excepted && !slices.Contains(schemes, s.Mode):
				t.Errorf("%s: scheme %s is not one of Composio's (%v): use one of those, or add %q to schemeExceptions with the reason", tk.Slug, s.Mode, schemes, key)
			}
		}
	}
	for _, exceptions := range []map[string]string{notInComposio, schemeExceptions} {
		for key, reason := range exceptions {
			if !used[key] {
				t.Errorf("exception %q (%s) matches no shipped toolkit or scheme: remove it", key, reason)
			}
		}
	}
}
