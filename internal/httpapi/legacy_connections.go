package httpapi

import (
	"net/http"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// legacyConnection is composio-core's ConnectedAccountResponseDTO.
// connectionParams carries the masked credentials, the resolved base URL and
// the headers the account's calls carry (secrets masked); in listings it is
// {}. The Python SDK requires it as an object everywhere, and reads
// headers.Authorization of a GitHub account in every get_tools call.
type legacyConnection struct {
	ID                 string         `json:"id"`
	IntegrationID      string         `json:"integrationId"`
	AppUniqueID        string         `json:"appUniqueId"`
	AppName            string         `json:"appName"`
	EntityID           string         `json:"entityId"`
	ClientUniqueUserID string         `json:"clientUniqueUserId"`
	Status             string         `json:"status"`
	StatusReason       *string        `json:"statusReason"`
	Enabled            bool           `json:"enabled"`
	IsDisabled         bool           `json:"isDisabled"`
	Labels             []string       `json:"labels"`
	Logo               string         `json:"logo"`
	CreatedAt          string         `json:"createdAt"`
	UpdatedAt          string         `json:"updatedAt"`
	ConnectionParams   map[string]any `json:"connectionParams"`
}

// toLegacyConnection converts an account; connectionParams is filled in
// only when withParams.
func toLegacyConnection(v *patchbay.ConnectionView, withParams bool) legacyConnection {
	out := legacyConnection{
		ID: v.ID, IntegrationID: v.AuthConfigID, AppUniqueID: v.Toolkit, AppName: v.Toolkit, EntityID: v.UserID,
		ClientUniqueUserID: v.UserID, Status: string(v.Status), Enabled: !v.Disabled, IsDisabled: v.Disabled,
		Labels: v.Labels, CreatedAt: wireTime(v.CreatedAt), UpdatedAt: wireTime(v.UpdatedAt),
		ConnectionParams: map[string]any{},
	}
	if out.Labels == nil {
		out.Labels = []string{}
	}
	if v.StatusReason != "" {
		out.StatusReason = &v.StatusReason
	}
	if v.Scheme == nil {
		return out
	}
	out.Logo = v.ToolkitDef.Logo
	if withParams {
		params := map[string]any{}
		for k, val := range v.Credentials {
			params[k] = val
		}
		params["base_url"] = v.BaseURL
		if hs := v.Scheme.Inject.Headers; len(hs) > 0 {
			headers := make(map[string]string, len(hs))
			for name, tmpl := range hs {
				headers[name] = patchbay.Expand(tmpl, v.Credentials) // masked values only
			}
			params["headers"] = headers
		}
		out.ConnectionParams = params
	}
	return out
}

type legacyInitiateRequest struct {
	legacyIntegrationRequest
	Connection *struct {
		EntityID     *string        `json:"entityId"`
		InitiateData map[string]any `json:"initiateData"`
		RedirectURI  *string        `json:"redirectUri"`
		Extra        *struct {
			RedirectURL *string  `json:"redirectURL"`
			Labels      []string `json:"labels"`
		} `json:"extra"`
	} `json:"connection"`
}

type legacyConnectionResponse struct {
	ConnectionStatus   string  `json:"connectionStatus"`
	ConnectedAccountID string  `json:"connectedAccountId"`
	RedirectURL        *string `json:"redirectUrl"`
}

// legacyInitiateConnection: POST /api/v2/connectedAccounts/initiateConnection.
// The integration comes from app.integrationId, or is found (or created)
// for app.uniqueKey and config.authScheme.
func (s *Server) legacyInitiateConnection(w http.ResponseWriter, r *http.Request) error {
	var req legacyInitiateRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	p := principal(r)
	app, cfg := req.parts()
	var (
		ac      *patchbay.AuthConfigView
		created bool
		err     error
	)
	switch {
	case req.App != nil && req.App.IntegrationID != nil && *req.App.IntegrationID != "":
		if ac, err = s.svc.AuthConfig(r.Context(), p, *req.App.IntegrationID); err != nil {
			return err
		}
		if app != "" && !strings.EqualFold(app, ac.Toolkit) {
			return errorf(patchbay.EINVALID, "Integration %s is for %s, not %s.", ac.ID, ac.Toolkit, app)
		}
	case app != "":
		if ac, created, err = s.svc.FindOrCreateAuthConfig(r.Context(), p, app, cfg.Mode); err != nil {
			return err
		}
	default:
		return errorf(patchbay.EINVALID, "Name the integration (app.integrationId) or the app (app.uniqueKey).")
	}
	n := patchbay.NewConnection{AuthConfigID: ac.ID, UserID: "default", Mode: cfg.Mode}
	if c := req.Connection; c != nil {
		if c.EntityID != nil && *c.EntityID != "" {
			n.UserID = *c.EntityID
		}
		n.Values = c.InitiateData
		n.OAuth = oauthStart(r, c.RedirectURI)
		if c.Extra != nil {
			n.Labels = c.Extra.Labels
			if c.Extra.RedirectURL != nil && *c.Extra.RedirectURL != "" {
				n.OAuth.CallbackURL = *c.Extra.RedirectURL
			}
		}
	} else {
		n.OAuth = oauthStart(r, nil)
	}
	ca, err := s.svc.Connect(r.Context(), p, n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"connectionResponse": legacyConnectionResponse{ConnectionStatus: string(ca.Status), ConnectedAccountID: ca.ID, RedirectURL: linkURL(ca)},
		"integration":        map[string]any{"id": ac.ID, "isNewIntegration": created},
	})
	return nil
}

type legacyCreateConnectionRequest struct {
	IntegrationID *string        `json:"integrationId"`
	Data          map[string]any `json:"data"`
	UserUUID      *string        `json:"userUuid"`
	RedirectURI   *string        `json:"redirectUri"`
	EntityID      *string        `json:"entityId"`
	Labels        []string       `json:"labels"`
}

// legacyCreateConnection: POST /api/v1/connectedAccounts (v1 initiate).
func (s *Server) legacyCreateConnection(w http.ResponseWriter, r *http.Request) error {
	var req legacyCreateConnectionRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	acID, err := requireString("integrationId", req.IntegrationID)
	if err != nil {
		return err
	}
	n := patchbay.NewConnection{AuthConfigID: acID, UserID: "default", Values: req.Data, Labels: req.Labels, OAuth: oauthStart(r, req.RedirectURI)}
	for _, id := range []*string{req.EntityID, req.UserUUID} {
		if id != nil && *id != "" {
			n.UserID = *id
			break
		}
	}
	ca, err := s.svc.Connect(r.Context(), principal(r), n)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, legacyConnectionResponse{ConnectionStatus: string(ca.Status), ConnectedAccountID: ca.ID, RedirectURL: linkURL(ca)})
	return nil
}

// legacyGetConnection: GET /api/v1/connectedAccounts/{id}.
func (s *Server) legacyGetConnection(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", "Connected account")
	if err != nil {
		return err
	}
	return s.rendered(w, r, patchbay.ViewConnections, func() (any, error) {
		v, err := s.svc.ConnectedAccount(r.Context(), principal(r), id)
		if err != nil {
			return nil, err
		}
		return toLegacyConnection(v, true), nil
	})
}

// legacyListConnections: GET /api/v1/connectedAccounts with the legacy
// filters. Without pageSize every match is returned (getConnection relies
// on it).
func (s *Server) legacyListConnections(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var f patchbay.ConnectionFilter
	for _, key := range []string{"user_uuid", "entityId"} {
		if v := q.Get(key); v != "" {
			f.UserIDs = append(f.UserIDs, v)
		}
	}
	f.Toolkits = queryList(r, "appNames")
	if v := q.Get("integrationId"); v != "" {
		f.AuthConfigIDs = []string{v}
	}
	var err error
	if f.Statuses, err = statusList(queryList(r, "status"), "status"); err != nil {
		return err
	}
	activeOnly, err := queryBool(r, "showActiveOnly")
	if err != nil {
		return err
	}
	if activeOnly != nil && *activeOnly {
		f.Statuses = []patchbay.ConnectionStatus{patchbay.StatusActive}
	}
	showDisabled, err := queryBool(r, "showDisabled")
	if err != nil {
		return err
	}
	if showDisabled == nil || !*showDisabled {
		f.Disabled = new(bool)
	}
	page, err := queryInt(r, "page", 1, 1, 1_000_000)
	if err != nil {
		return err
	}
	pageSize, err := queryPageSize(r, "pageSize", 0, 100_000)
	if err != nil {
		return err
	}
	f.Labels = queryList(r, "labels")
	f.Page = patchbay.Page{Limit: pageSize, Offset: (page - 1) * pageSize, Desc: true}
	return s.rendered(w, r, patchbay.ViewConnections, func() (any, error) {
		cas, total, err := s.svc.ListConnectedAccounts(r.Context(), principal(r), f, false)
		if err != nil {
			return nil, err
		}
		items := make([]legacyConnection, 0, len(cas))
		for _, v := range cas {
			items = append(items, toLegacyConnection(v, false))
		}
		return map[string]any{"items": items, "totalPages": totalPages(total, pageSize), "page": page}, nil
	})
}

// legacySetConnectionDisabled: POST /api/v1/connectedAccounts/{id}/disable|enable (no body).
func (s *Server) legacySetConnectionDisabled(disabled bool) httpserver.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		id, err := pathID(r, "id", "Connected account")
		if err != nil {
			return err
		}
		if _, err := s.svc.SetConnectionDisabled(r.Context(), principal(r), id, disabled); err != nil {
			return err
		}
		writeJSON(w, http.StatusOK, map[string]any{"status": "success", "connectedAccountId": id})
		return nil
	}
}

// legacyDeleteConnection: DELETE /api/v1/connectedAccounts/{id}.
func (s *Server) legacyDeleteConnection(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", "Connected account")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteConnection(r.Context(), principal(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "count": 1})
	return nil
}

type legacyReinitiateRequest struct {
	Data        map[string]any `json:"data"`
	RedirectURI *string        `json:"redirectUri"`
}

// legacyReinitiate: POST /api/v1/connectedAccounts/{id}/reinitiate {data}.
func (s *Server) legacyReinitiate(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", "Connected account")
	if err != nil {
		return err
	}
	var req legacyReinitiateRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	ca, err := s.svc.Reinitiate(r.Context(), principal(r), id, req.Data)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, legacyConnectionResponse{ConnectionStatus: string(ca.Status), ConnectedAccountID: ca.ID})
	return nil
}

// legacyConnectionInfo: GET /api/v1/connectedAccounts/{id}/info, the
// Python SDK's get_auth_params, which would hand the account's credentials
// to the caller in clear. patchbay never does: 403, naming the way that
// works. The account is looked up first, so an unknown one is a 404.
func (s *Server) legacyConnectionInfo(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", "Connected account")
	if err != nil {
		return err
	}
	if _, err := s.svc.ConnectedAccount(r.Context(), principal(r), id); err != nil {
		return err
	}
	return errorf(patchbay.EFORBIDDEN, "patchbay never returns a connected account's credentials: execute a tool, or call the app through POST /api/v2/actions/proxy, and patchbay adds them.")
}
