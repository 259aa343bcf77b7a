package httpapi

import (
	"net/http"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

type wireProjectKey struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Key       string `json:"key"`
	CreatedAt string `json:"created_at"`
}

// wireProject is the v3.1 project object. Secrets are masked.
type wireProject struct {
	ID              string           `json:"id"`
	OrgID           string           `json:"org_id"`
	Name            string           `json:"name"`
	Email           string           `json:"email"`
	CreatedAt       string           `json:"created_at"`
	UpdatedAt       string           `json:"updated_at"`
	WebhookURL      *string          `json:"webhook_url"`
	EventWebhookURL *string          `json:"event_webhook_url"`
	WebhookSecret   *string          `json:"webhook_secret"`
	TriggersEnabled bool             `json:"triggers_enabled"`
	IsNewWebhook    bool             `json:"is_new_webhook"`
	WebhookVersion  string           `json:"webhook_version"`
	Deleted         bool             `json:"deleted"`
	APIKeys         []wireProjectKey `json:"api_keys,omitempty"`
}

// toWireProject converts a project; keys, when not nil, are listed masked.
func toWireProject(v *patchbay.ProjectView, keys []patchbay.KeyRecord) wireProject {
	p := v.Project
	out := wireProject{
		ID: p.ID, OrgID: p.OrgID, Name: p.Name, Email: v.OwnerEmail, CreatedAt: wireTime(p.CreatedAt), UpdatedAt: wireTime(p.UpdatedAt),
		WebhookVersion: "V3", Deleted: p.DeletedAt != nil,
	}
	if v.MaskedWebhookSecret != "" {
		out.WebhookSecret = &v.MaskedWebhookSecret
	}
	if keys != nil {
		out.APIKeys = make([]wireProjectKey, 0, len(keys))
		for _, k := range keys {
			out.APIKeys = append(out.APIKeys, wireProjectKey{ID: k.ID, Name: k.Name, Key: k.Masked(), CreatedAt: wireTime(k.CreatedAt)})
		}
	}
	return out
}

// listProjects: GET /org/owner/project/list?limit=&cursor=. Note the
// response key is "data", as in Composio's API.
func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 50, 1, 50)
	if err != nil {
		return err
	}
	projects, next, err := s.svc.ListProjects(r.Context(), principal(r), r.URL.Query().Get("cursor"), limit)
	if err != nil {
		return err
	}
	out := map[string]any{}
	if next != "" {
		out["next_cursor"] = next
	}
	data := make([]wireProject, 0, len(projects))
	for _, pv := range projects {
		data = append(data, toWireProject(pv, nil))
	}
	out["data"] = data
	writeJSON(w, http.StatusOK, out)
	return nil
}

type createProjectRequest struct {
	Name               *string        `json:"name"`
	ShouldCreateAPIKey *bool          `json:"should_create_api_key"`
	Config             map[string]any `json:"config"`
}

// createProject: POST /org/owner/project/new → {id, name, api_key}. A key is
// created only when should_create_api_key is true, and shown once.
func (s *Server) createProject(w http.ResponseWriter, r *http.Request) error {
	var req createProjectRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	name, err := requireString("name", req.Name)
	if err != nil {
		return err
	}
	withKey := req.ShouldCreateAPIKey != nil && *req.ShouldCreateAPIKey
	cp, err := s.svc.CreateProject(r.Context(), principal(r), name, withKey)
	if err != nil {
		return err
	}
	out := map[string]any{"id": cp.Project.ID, "name": cp.Project.Name, "api_key": nil}
	if cp.Key != nil {
		out["api_key"] = cp.Token.Secret.Reveal()
		w.Header().Set("Cache-Control", "no-store")
	}
	writeJSON(w, http.StatusCreated, out)
	return nil
}

// getProject: GET /org/owner/project/{id}, with its keys masked.
func (s *Server) getProject(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	pv, err := s.svc.Project(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	keys, err := s.svc.ListAPIKeys(r.Context(), p, patchbay.KeyQuery{ProjectID: pv.Project.ID, Kind: patchbay.KeyKindProject})
	if err != nil {
		return err
	}
	if keys == nil {
		keys = []patchbay.KeyRecord{}
	}
	writeJSON(w, http.StatusOK, toWireProject(pv, keys))
	return nil
}

// deleteProject: DELETE /org/owner/project/{id}; revokes the project's keys.
func (s *Server) deleteProject(w http.ResponseWriter, r *http.Request) error {
	if err := s.svc.DeleteProject(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "success"})
	return nil
}

// regenerateProjectKey: POST /org/owner/project/{id}/regenerate_api_key.
// Revokes the project's active keys and returns the new key, once.
func (s *Server) regenerateProjectKey(w http.ResponseWriter, r *http.Request) error {
	k, tok, err := s.svc.RegenerateProjectKey(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, http.StatusOK, map[string]any{
		"api_key": map[string]string{"id": k.ID, "name": k.Name, "key": tok.Secret.Reveal(), "created_at": wireTime(k.CreatedAt)},
		"message": "API key regenerated; the project's previous keys are revoked.",
	})
	return nil
}
