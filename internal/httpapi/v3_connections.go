package httpapi

import (
	"net/http"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

type v3ConnAuthConfig struct {
	ID                string `json:"id"`
	AuthScheme        string `json:"auth_scheme"`
	IsComposioManaged bool   `json:"is_composio_managed"`
	IsDisabled        bool   `json:"is_disabled"`
}

type v3State struct {
	AuthScheme string         `json:"authScheme"`
	Val        map[string]any `json:"val"`
}

// v3Connection is the v3.1 connected account. Credentials appear only
// masked, in state.val, data and params.
type v3Connection struct {
	ID           string           `json:"id"`
	UserID       string           `json:"user_id"`
	Status       string           `json:"status"`
	StatusReason *string          `json:"status_reason"`
	IsDisabled   bool             `json:"is_disabled"`
	WordID       *string          `json:"word_id"`
	Alias        *string          `json:"alias"`
	Labels       []string         `json:"labels"`
	CreatedAt    string           `json:"created_at"`
	UpdatedAt    string           `json:"updated_at"`
	Toolkit      map[string]any   `json:"toolkit"`
	AuthConfig   v3ConnAuthConfig `json:"auth_config"`
	State        v3State          `json:"state"`
	Data         map[string]any   `json:"data"`
	Params       map[string]any   `json:"params,omitempty"`
}

func toV3Connection(v *patchbay.ConnectionView, withParams bool) v3Connection {
	out := v3Connection{
		ID: v.ID, UserID: v.UserID, Status: string(v.Status), IsDisabled: v.Disabled, Labels: nonNil(v.Labels),
		CreatedAt: wireTime(v.CreatedAt), UpdatedAt: wireTime(v.UpdatedAt),
		Toolkit: map[string]any{"slug": v.Toolkit},
		AuthConfig: v3ConnAuthConfig{ID: v.AuthConfigID, AuthScheme: string(v.Mode),
			IsComposioManaged: v.AuthConfigManaged, IsDisabled: v.AuthConfigDisabled},
	}
	if v.StatusReason != "" {
		out.StatusReason = &v.StatusReason
	}
	if v.Alias != "" {
		out.Alias = &v.Alias
	}
	masked := map[string]string{}
	if v.Scheme != nil {
		for k, val := range v.Credentials {
			masked[k] = val
		}
		// The SDK's state schemas require each scheme's credential keys as
		// strings; erased credentials (a revoked account) keep their keys
		// with empty values.
		for _, f := range v.Scheme.FieldsFor(patchbay.ScopeConnection) {
			if _, ok := masked[f.Name]; !ok && f.Required {
				masked[f.Name] = ""
			}
		}
	}
	val := map[string]any{"status": stateStatus(v.ConnectedAccount)}
	data := map[string]any{}
	for k, x := range masked {
		val[k], data[k] = x, x
	}
	if v.Mode == patchbay.AuthOAuth2 && v.Status == patchbay.StatusInitiated {
		// The SDK's INITIATED OAuth2 state requires redirectUrl; the link
		// itself was shown once, on creation, and is not kept in clear.
		val["redirectUrl"] = ""
	}
	out.State, out.Data = v3State{AuthScheme: string(v.Mode), Val: val}, data
	if withParams {
		out.Params = data
	}
	return out
}

// stateStatus is state.val.status. The top-level status is the account's
// own; in state the SDK accepts, for user-supplied schemes, only ACTIVE and
// INACTIVE, so every settled non-active account reads INACTIVE there.
func stateStatus(ca *patchbay.ConnectedAccount) string {
	if !ca.Mode.UserSupplied() || ca.Status == patchbay.StatusActive {
		return string(ca.Status)
	}
	return string(patchbay.StatusInactive)
}

type createConnectionRequest struct {
	AuthConfig *struct {
		ID *string `json:"id"`
	} `json:"auth_config"`
	Connection *struct {
		UserID   *string        `json:"user_id"`
		EntityID *string        `json:"entity_id"`
		State    *v3State       `json:"state"`
		Data     map[string]any `json:"data"`
		Alias    *string        `json:"alias"`
		Labels   []string       `json:"labels"`
		// CallbackURL is where the end user's browser lands after an
		// OAuth2 consent.
		CallbackURL *string `json:"callback_url"`
	} `json:"connection"`
	ValidateCredentials *bool `json:"validate_credentials"`
	AllowMultiple       *bool `json:"allow_multiple"`
}

// createConnection: POST /connected_accounts. For key-based schemes the
// account is ACTIVE at once and there is no redirect.
func (s *Server) createConnection(w http.ResponseWriter, r *http.Request) error {
	var req createConnectionRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	if req.AuthConfig == nil || req.AuthConfig.ID == nil || *req.AuthConfig.ID == "" {
		return errorf(patchbay.EINVALID, "auth_config.id is required.")
	}
	if req.Connection == nil {
		return errorf(patchbay.EINVALID, "connection is required, with user_id and the credentials in state.")
	}
	c := req.Connection
	n := patchbay.NewConnection{AuthConfigID: *req.AuthConfig.ID, Labels: c.Labels}
	for _, id := range []*string{c.UserID, c.EntityID} {
		if id != nil && *id != "" {
			n.UserID = *id
			break
		}
	}
	if c.Alias != nil {
		n.Alias = *c.Alias
	}
	switch {
	case c.State != nil:
		n.Mode = patchbay.AuthMode(strings.ToUpper(c.State.AuthScheme))
		n.Values = make(map[string]any, len(c.State.Val))
		for k, v := range c.State.Val {
			if k != "status" { // the SDK helpers put the desired status here
				n.Values[k] = v
			}
		}
	default:
		n.Values = c.Data
	}
	n.OAuth = oauthStart(r, c.CallbackURL)
	n.Validate = req.ValidateCredentials != nil && *req.ValidateCredentials
	n.Exclusive = req.AllowMultiple != nil && !*req.AllowMultiple
	ca, err := s.svc.Connect(r.Context(), principal(r), n)
	if err != nil {
		return err
	}
	val := map[string]any{"status": string(ca.Status)}
	if ca.StatusReason != "" {
		val["status_reason"] = ca.StatusReason
	}
	link := linkURL(ca)
	if link != nil {
		val["redirectUrl"] = *link
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"id":             ca.ID,
		"connectionData": v3State{AuthScheme: string(ca.Mode), Val: val},
		"status":         string(ca.Status),
		"redirect_url":   link,
		"redirect_uri":   link,
	})
	return nil
}

// getConnection: GET /connected_accounts/{id}.
func (s *Server) getConnection(w http.ResponseWriter, r *http.Request) error {
	return s.rendered(w, r, patchbay.ViewConnections, func() (any, error) {
		v, err := s.svc.ConnectedAccount(r.Context(), principal(r), r.PathValue("id"))
		if err != nil {
			return nil, err
		}
		return toV3Connection(v, true), nil
	})
}

// listConnections: GET /connected_accounts?user_ids=&auth_config_ids=&toolkit_slugs=&statuses=&connected_account_ids=&cursor=&limit=&order_direction=.
func (s *Server) listConnections(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 50, 1, 1000)
	if err != nil {
		return err
	}
	page, after, err := decodeCursor(r)
	if err != nil {
		return err
	}
	f := patchbay.ConnectionFilter{
		IDs: queryList(r, "connected_account_ids"), UserIDs: queryList(r, "user_ids"),
		AuthConfigIDs: queryList(r, "auth_config_ids"), Toolkits: queryList(r, "toolkit_slugs"),
		Page: patchbay.Page{After: after, Limit: limit + 1, Desc: true},
	}
	if f.Statuses, err = statusList(queryList(r, "statuses"), "statuses"); err != nil {
		return err
	}
	switch d := strings.ToLower(r.URL.Query().Get("order_direction")); d {
	case "", "desc":
	case "asc":
		f.Page.Desc = false
	default:
		return errorf(patchbay.EINVALID, "order_direction must be asc or desc; got %q.", patchbay.Truncate(d, 20))
	}
	switch o := r.URL.Query().Get("order_by"); o {
	case "", "created_at":
	default:
		return errorf(patchbay.EINVALID, "order_by must be created_at; got %q.", patchbay.Truncate(o, 40))
	}
	return s.rendered(w, r, patchbay.ViewConnections, func() (any, error) {
		cas, total, err := s.svc.ListConnectedAccounts(r.Context(), principal(r), f, true)
		if err != nil {
			return nil, err
		}
		out := v3Page{TotalPages: totalPages(total, limit), CurrentPage: page, TotalItems: total}
		if len(cas) > limit {
			cas = cas[:limit]
			out.NextCursor = encodeCursor(page+1, cas[limit-1].ID)
		}
		items := make([]v3Connection, 0, len(cas))
		for _, v := range cas {
			items = append(items, toV3Connection(v, false))
		}
		out.Items = items
		return out, nil
	})
}

type connectionStatusRequest struct {
	Enabled *bool `json:"enabled"`
}

// setConnectionStatus: PATCH /connected_accounts/{id}/status {"enabled": bool}.
func (s *Server) setConnectionStatus(w http.ResponseWriter, r *http.Request) error {
	var req connectionStatusRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	if req.Enabled == nil {
		return errorf(patchbay.EINVALID, "Field \"enabled\" is required: true or false.")
	}
	if _, err := s.svc.SetConnectionDisabled(r.Context(), principal(r), r.PathValue("id"), !*req.Enabled); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}

type refreshRequest struct {
	RedirectURL         *string `json:"redirect_url"`
	ValidateCredentials *bool   `json:"validate_credentials"`
}

// refreshConnection: POST /connected_accounts/{id}/refresh.
func (s *Server) refreshConnection(w http.ResponseWriter, r *http.Request) error {
	var req refreshRequest
	if err := decodeJSON(r, &req, true); err != nil {
		return err
	}
	ca, err := s.svc.RefreshConnection(r.Context(), principal(r), r.PathValue("id"),
		req.ValidateCredentials != nil && *req.ValidateCredentials)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"id": ca.ID, "status": string(ca.Status), "redirect_url": nil})
	return nil
}

// revokeConnection: POST /connected_accounts/{id}/revoke.
func (s *Server) revokeConnection(w http.ResponseWriter, r *http.Request) error {
	ca, erased, err := s.svc.RevokeConnection(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"revoked_tokens":    erased,
		"connected_account": map[string]string{"id": ca.ID, "status": string(ca.Status)},
	})
	return nil
}

// deleteConnection: DELETE /connected_accounts/{id}.
func (s *Server) deleteConnection(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteConnection(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]bool{"success": true})
	return nil
}
