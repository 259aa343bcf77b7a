package httpapi

import (
	"net/http"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// legacyIntegration is composio-core's connector (GetConnectorInfoResDTO):
// an auth config seen through the legacy API. Credentials are masked.
type legacyIntegration struct {
	ID                  string            `json:"id"`
	Name                string            `json:"name"`
	AuthScheme          string            `json:"authScheme"`
	AuthConfig          map[string]string `json:"authConfig"`
	CreatedAt           string            `json:"createdAt"`
	UpdatedAt           string            `json:"updatedAt"`
	Enabled             bool              `json:"enabled"`
	Deleted             bool              `json:"deleted"`
	AppID               string            `json:"appId"`
	AppName             string            `json:"appName"`
	Logo                string            `json:"logo"`
	UseComposioAuth     bool              `json:"useComposioAuth"`
	ExpectedInputFields []legacyField     `json:"expectedInputFields"`
	LimitedActions      []string          `json:"limitedActions"`
	Count               map[string]int    `json:"_count"`
}

func toLegacyIntegration(v *patchbay.AuthConfigView) legacyIntegration {
	limited := v.Settings.RestrictToTools
	if limited == nil {
		limited = []string{}
	}
	return legacyIntegration{
		ID: v.ID, Name: v.Name, AuthScheme: string(v.Mode), AuthConfig: v.Credentials,
		CreatedAt: wireTime(v.CreatedAt), UpdatedAt: wireTime(v.UpdatedAt), Enabled: !v.Disabled,
		AppID: stableUUID(v.ToolkitDef.Slug), AppName: v.ToolkitDef.Slug, Logo: v.ToolkitDef.Logo, UseComposioAuth: v.Managed,
		ExpectedInputFields: toLegacyFields(v.Scheme.FieldsFor(patchbay.ScopeConnection)),
		LimitedActions:      limited, Count: map[string]int{"connections": v.Connections},
	}
}

func writeLegacyIntegration(w http.ResponseWriter, v *patchbay.AuthConfigView, status int, extra map[string]any) {
	li := toLegacyIntegration(v)
	if extra == nil {
		writeJSON(w, status, li)
		return
	}
	// Merge extra fields (integrationId, isNewIntegration) into the object.
	out := map[string]any{
		"id": li.ID, "name": li.Name, "authScheme": li.AuthScheme, "authConfig": li.AuthConfig, "createdAt": li.CreatedAt,
		"updatedAt": li.UpdatedAt, "enabled": li.Enabled, "deleted": li.Deleted, "appId": li.AppID, "appName": li.AppName,
		"logo": li.Logo, "useComposioAuth": li.UseComposioAuth, "expectedInputFields": li.ExpectedInputFields,
		"limitedActions": li.LimitedActions, "_count": li.Count,
	}
	for k, v := range extra {
		out[k] = v
	}
	writeJSON(w, status, out)
}

type legacyIntegrationRequest struct {
	App *struct {
		UniqueKey     *string `json:"uniqueKey"`
		IntegrationID *string `json:"integrationId"`
	} `json:"app"`
	Config *struct {
		Name               *string        `json:"name"`
		AuthScheme         *string        `json:"authScheme"`
		UseComposioAuth    *bool          `json:"useComposioAuth"`
		IntegrationSecrets map[string]any `json:"integrationSecrets"`
	} `json:"config"`
}

func (q *legacyIntegrationRequest) parts() (app string, cfg patchbay.NewAuthConfig) {
	if q.App != nil && q.App.UniqueKey != nil {
		app = strings.TrimSpace(*q.App.UniqueKey)
	}
	cfg.Toolkit = app
	if c := q.Config; c != nil {
		if c.Name != nil {
			cfg.Name = *c.Name
		}
		if c.AuthScheme != nil {
			cfg.Mode = patchbay.AuthMode(strings.ToUpper(*c.AuthScheme))
		}
		cfg.Managed = c.UseComposioAuth != nil && *c.UseComposioAuth
		cfg.Credentials = c.IntegrationSecrets
	}
	if cfg.Mode == "" {
		cfg.Managed = true // no scheme named: the toolkit's default
	}
	return app, cfg
}

// legacyCreateIntegration: POST /api/v2/integrations/create.
func (s *Server) legacyCreateIntegration(w http.ResponseWriter, r *http.Request) error {
	var req legacyIntegrationRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	app, cfg := req.parts()
	if app == "" {
		return errorf(patchbay.EINVALID, "app.uniqueKey is required: the app (toolkit) slug, e.g. \"serpapi\".")
	}
	v, err := s.svc.CreateAuthConfig(r.Context(), principal(r), cfg)
	if err != nil {
		return err
	}
	writeLegacyIntegration(w, v, http.StatusCreated, map[string]any{"integrationId": v.ID})
	return nil
}

// legacyGetOrCreateIntegration: POST /api/v2/integrations/get-or-create.
func (s *Server) legacyGetOrCreateIntegration(w http.ResponseWriter, r *http.Request) error {
	var req legacyIntegrationRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	app, cfg := req.parts()
	if app == "" {
		return errorf(patchbay.EINVALID, "app.uniqueKey is required: the app (toolkit) slug, e.g. \"serpapi\".")
	}
	v, created, err := s.svc.FindOrCreateAuthConfig(r.Context(), principal(r), app, cfg.Mode)
	if err != nil {
		return err
	}
	writeLegacyIntegration(w, v, http.StatusOK, map[string]any{"integrationId": v.ID, "isNewIntegration": created})
	return nil
}

// legacyGetIntegration: GET /api/v1/integrations/{id}.
func (s *Server) legacyGetIntegration(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", "Integration")
	if err != nil {
		return err
	}
	v, err := s.svc.AuthConfig(r.Context(), principal(r), id)
	if err != nil {
		return err
	}
	writeLegacyIntegration(w, v, http.StatusOK, nil)
	return nil
}

// legacyListIntegrations: GET /api/v1/integrations?appName=&showDisabled=&page=&pageSize=.
// Without pageSize every match is returned.
func (s *Server) legacyListIntegrations(w http.ResponseWriter, r *http.Request) error {
	showDisabled, err := queryBool(r, "showDisabled")
	if err != nil {
		return err
	}
	page, err := queryInt(r, "page", 1, 1, 1_000_000)
	if err != nil {
		return err
	}
	pageSize, err := queryPageSize(r, "pageSize", 0, 1000)
	if err != nil {
		return err
	}
	f := patchbay.AuthConfigFilter{
		Toolkit:      r.URL.Query().Get("appName"),
		ShowDisabled: showDisabled != nil && *showDisabled, Page: patchbay.Page{Limit: pageSize, Offset: (page - 1) * pageSize},
	}
	acs, total, err := s.svc.ListAuthConfigs(r.Context(), principal(r), f)
	if err != nil {
		return err
	}
	items := make([]legacyIntegration, 0, len(acs))
	for _, v := range acs {
		items = append(items, toLegacyIntegration(v))
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "totalPages": totalPages(total, pageSize), "page": page})
	return nil
}

func totalPages(total, size int) int {
	if size <= 0 || total == 0 {
		return 1
	}
	return (total + size - 1) / size
}

// legacyDeleteIntegration: DELETE /api/v1/integrations/{id}; its connected
// accounts go with it.
func (s *Server) legacyDeleteIntegration(w http.ResponseWriter, r *http.Request) error {
	id, err := pathID(r, "id", "Integration")
	if err != nil {
		return err
	}
	if err := s.svc.DeleteAuthConfig(r.Context(), principal(r), id); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"status": "success", "count": 1})
	return nil
}

// legacyV1IntegrationRequest is the body of POST /api/v1/integrations, as
// the Python SDK's create_integration sends it: the app named by appId (the
// UUID /api/v1/apps reports; a slug is accepted too), the auth config's
// secrets in authConfig.
type legacyV1IntegrationRequest struct {
	AppID               *string        `json:"appId"`
	AppName             *string        `json:"appName"`
	Name                *string        `json:"name"`
	AuthScheme          *string        `json:"authScheme"`
	AuthConfig          map[string]any `json:"authConfig"`
	UseComposioAuth     *bool          `json:"useComposioAuth"`
	ForceNewIntegration *bool          `json:"forceNewIntegration"`
}

// legacyCreateV1Integration: POST /api/v1/integrations. It always creates
// (forceNewIntegration only says so) and answers 200: the Python SDK takes
// any other status as an error.
func (s *Server) legacyCreateV1Integration(w http.ResponseWriter, r *http.Request) error {
	var req legacyV1IntegrationRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	var app string
	switch {
	case req.AppID != nil && strings.TrimSpace(*req.AppID) != "":
		app = strings.TrimSpace(*req.AppID)
	case req.AppName != nil && strings.TrimSpace(*req.AppName) != "":
		app = strings.TrimSpace(*req.AppName)
	default:
		return errorf(patchbay.EINVALID, "Field \"appId\" is required: the app's appId from GET /api/v1/apps (or its key, e.g. \"shopify\").")
	}
	tk, err := s.toolkitByAppID(principal(r), app)
	if err != nil {
		return err
	}
	cfg := patchbay.NewAuthConfig{Toolkit: tk.Slug, Credentials: req.AuthConfig}
	if req.Name != nil {
		cfg.Name = *req.Name
	}
	if req.AuthScheme != nil {
		cfg.Mode = patchbay.AuthMode(strings.ToUpper(strings.TrimSpace(*req.AuthScheme)))
	}
	cfg.Managed = req.UseComposioAuth != nil && *req.UseComposioAuth
	if cfg.Mode == "" {
		cfg.Managed = true // no scheme named: the toolkit's default
	}
	v, err := s.svc.CreateAuthConfig(r.Context(), principal(r), cfg)
	if err != nil {
		return err
	}
	writeLegacyIntegration(w, v, http.StatusOK, nil)
	return nil
}

// toolkitByAppID finds a toolkit by its legacy appId, or by its slug in
// any case. ENOTFOUND names what was asked for.
func (s *Server) toolkitByAppID(p *patchbay.Principal, app string) (*patchbay.Toolkit, error) {
	if tk, err := s.svc.FindToolkit(p, app); err == nil {
		return tk, nil
	}
	tks, err := s.svc.Toolkits(p)
	if err != nil {
		return nil, err
	}
	for _, tk := range tks {
		if strings.EqualFold(stableUUID(tk.Slug), app) {
			return tk, nil
		}
	}
	return nil, errorf(patchbay.ENOTFOUND, "App %q not found: appId must be an appId from GET /api/v1/apps or an app key.", patchbay.Truncate(app, 60))
}
