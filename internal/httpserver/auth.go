package httpserver

import (
	"context"
	"net/http"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Authenticator verifies a raw API key (patchbay.Service does).
type Authenticator interface {
	Authenticate(ctx context.Context, raw string) (*patchbay.Principal, error)
}

// KeyNeed says which kind of API key a route accepts.
type KeyNeed int

const (
	NeedProject KeyNeed = iota // x-api-key with a project key (ak_)
	NeedOrg                    // x-org-api-key (or x-api-key) with an organization key (oak_)
	NeedAny                    // either
)

var errMultipleAuth = patchbay.Errorf(patchbay.EUNAUTHORIZED, "Multiple authentication modes were provided: send either x-api-key or x-org-api-key, not both.")

// RequireKey authenticates the request's API key before h runs; h finds
// the principal with Principal.
func RequireKey(auth Authenticator, need KeyNeed, h HandlerFunc) HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		projectKey, orgKey := r.Header.Get("X-Api-Key"), r.Header.Get("X-Org-Api-Key")
		if projectKey != "" && orgKey != "" {
			return errMultipleAuth
		}
		raw := projectKey + orgKey
		if raw == "" {
			if need == NeedOrg {
				return patchbay.Errorf(patchbay.EUNAUTHORIZED, "Missing API key: send an organization API key in the x-org-api-key header.")
			}
			return patchbay.Errorf(patchbay.EUNAUTHORIZED, "Missing API key: send it in the x-api-key header.")
		}
		p, err := auth.Authenticate(r.Context(), raw)
		if err != nil {
			return err
		}
		switch kind := p.Credential.Kind; {
		case need == NeedProject && kind != patchbay.CredentialProjectKey:
			return patchbay.Errorf(patchbay.EUNAUTHORIZED, "This endpoint needs a project API key (ak_…) in x-api-key; an organization key was sent.")
		case need == NeedOrg && kind != patchbay.CredentialOrgKey:
			return patchbay.Errorf(patchbay.EUNAUTHORIZED, "This endpoint needs an organization API key (oak_…) in x-org-api-key; a project key was sent.")
		}
		st := state(r.Context())
		st.principal, st.authed = *p, true
		st.principal.IP = ClientIP(r)
		return h(w, r)
	}
}
