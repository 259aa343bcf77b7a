package httpapi

import (
	"net/http"
	"time"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// publicOrigin is patchbay's origin as the client reached it, for the
// connect links and the OAuth callback it hands out.
func publicOrigin(r *http.Request) string { return httpserver.PublicOrigin(r) }

// oauthStart is what Connect needs from the request to begin an OAuth2
// flow that ends at callbackURL.
func oauthStart(r *http.Request, callbackURL *string) patchbay.OAuthStart {
	st := patchbay.OAuthStart{Origin: publicOrigin(r)}
	if callbackURL != nil {
		st.CallbackURL = *callbackURL
	}
	return st
}

// writeOAuthPage sends the browser on, or shows a key link's form, or a
// plain page. None carries a token or a credential: the link and the state
// are single use, the page text is the domain's fixed message, and the form
// never holds a secret value.
func writeOAuthPage(w http.ResponseWriter, r *http.Request, p *patchbay.OAuthPage) {
	h := w.Header()
	connectHeaders(h)
	switch {
	case p.Redirect != "" && p.SeeOther:
		http.Redirect(w, r, p.Redirect, http.StatusSeeOther)
		return
	case p.Redirect != "":
		http.Redirect(w, r, p.Redirect, http.StatusFound)
		return
	case p.Form != nil:
		writeConnectForm(w, p)
		return
	}
	h.Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(p.Status)
	_, _ = w.Write([]byte(p.Message + "\n"))
}

// openConnectLink: GET /connect/{token}, the end user's browser; no API key.
func (s *Server) openConnectLink(w http.ResponseWriter, r *http.Request) error {
	writeOAuthPage(w, r, s.svc.OpenConnectLink(r.Context(), r.PathValue("token")))
	return nil
}

// oauthCallback: GET /toolkits/auth/callback, the provider sending the
// browser back; no API key.
func (s *Server) oauthCallback(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	writeOAuthPage(w, r, s.svc.CompleteOAuth(r.Context(), patchbay.OAuthCallback{
		State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"), ErrorDescription: q.Get("error_description"),
	}))
	return nil
}

type linkRequest struct {
	AuthConfigID *string  `json:"auth_config_id"`
	UserID       *string  `json:"user_id"`
	CallbackURL  *string  `json:"callback_url"`
	Alias        *string  `json:"alias"`
	Labels       []string `json:"labels"`
	Experimental any      `json:"experimental"`
	// ConnectionData is accepted and ignored: the end user gives the
	// credentials at the provider, or on patchbay's hosted form.
	ConnectionData any `json:"connection_data"`
}

// createLink: POST /connected_accounts/link, a connect link: for an OAuth2
// auth config the provider's consent, for an API key, bearer token or
// basic one patchbay's hosted form (GET /connect/{token}). The account is
// INITIATED until the end user completes it.
func (s *Server) createLink(w http.ResponseWriter, r *http.Request) error {
	var req linkRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	acID, err := requireString("auth_config_id", req.AuthConfigID)
	if err != nil {
		return err
	}
	n := patchbay.NewConnection{AuthConfigID: acID, Labels: req.Labels, Link: true, OAuth: oauthStart(r, req.CallbackURL)}
	if req.UserID != nil {
		n.UserID = *req.UserID
	}
	if req.Alias != nil {
		n.Alias = *req.Alias
	}
	ca, err := s.svc.Connect(r.Context(), principal(r), n)
	if err != nil {
		return err
	}
	if ca.Link == nil { // cannot happen: Connect answers a link or an error
		return errorf(patchbay.EINVALID, "Connect links are offered for OAuth2, API key, bearer token and basic auth configs.")
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"link_token": ca.Link.Token, "redirect_url": ca.Link.URL,
		"expires_at": ca.Link.ExpiresAt.UTC().Format(time.RFC3339), "connected_account_id": ca.ID,
	})
	return nil
}

// linkURL is the connect link of a new account, nil when it has none.
func linkURL(ca *patchbay.ConnectedAccount) *string {
	if ca.Link == nil {
		return nil
	}
	return &ca.Link.URL
}
