package httpapi

import (
	"net/http"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// legacyKey is composio-core's APIKeyResDTO, plus revocation fields. Key
// holds the plaintext only in the response that creates the key; listings
// carry the masked form and isHidden:true.
type legacyKey struct {
	ID        string      `json:"id"`
	Name      string      `json:"name"`
	CreatedAt string      `json:"createdAt"`
	UpdatedAt string      `json:"updatedAt"`
	Key       string      `json:"key"`
	IsHidden  bool        `json:"isHidden"`
	LastUsed  *string     `json:"lastUsed"`
	Member    *wireMember `json:"member"`
	Status    string      `json:"status"`
	Revoked   bool        `json:"revoked"`
	RevokedAt *string     `json:"revokedAt"`
	RevokedBy *string     `json:"revokedBy"`
	ProjectID string      `json:"projectId"`
}

func toLegacyKey(k *patchbay.APIKey, creator *patchbay.Member) legacyKey {
	updated := k.CreatedAt
	if k.RevokedAt != nil {
		updated = *k.RevokedAt
	}
	out := legacyKey{
		ID: k.ID, Name: k.Name, CreatedAt: wireTime(k.CreatedAt), UpdatedAt: wireTime(updated),
		Key: k.Masked(), IsHidden: true, LastUsed: wireTimePtr(k.LastUsedAt),
		Status: k.Status(), Revoked: k.Revoked(), RevokedAt: wireTimePtr(k.RevokedAt), ProjectID: k.ProjectID,
	}
	if creator != nil {
		m := toWireMember(creator)
		out.Member = &m
	}
	if k.RevokedBy != "" {
		out.RevokedBy = &k.RevokedBy
	}
	return out
}

// memberIndex resolves creators for a listing with one query.
func (s *Server) memberIndex(r *http.Request, orgID string) (map[string]*patchbay.Member, error) {
	ms, err := s.svc.Store.ListMembers(r.Context(), orgID)
	if err != nil {
		return nil, err
	}
	idx := make(map[string]*patchbay.Member, len(ms))
	for _, m := range ms {
		idx[m.ID] = m
	}
	return idx, nil
}

// legacyListKeys: GET /api/v1/api_keys, a bare array of the project's keys,
// newest first, revoked ones included and marked.
func (s *Server) legacyListKeys(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	keys, err := s.svc.ListAPIKeys(r.Context(), actor(r), patchbay.KeyFilter{
		OrgID: p.Key.OrgID, ProjectID: p.Key.ProjectID, Kind: patchbay.KeyKindProject, IncludeRevoked: true,
	})
	if err != nil {
		return err
	}
	members, err := s.memberIndex(r, p.Key.OrgID)
	if err != nil {
		return err
	}
	out := make([]legacyKey, 0, len(keys))
	for _, k := range keys {
		out = append(out, toLegacyKey(k, members[k.CreatedBy]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

type legacyCreateKeyRequest struct {
	Name *string `json:"name"`
}

// legacyCreateKey: POST /api/v1/api_keys {"name"}; the only response that
// carries the plaintext key.
func (s *Server) legacyCreateKey(w http.ResponseWriter, r *http.Request) error {
	var req legacyCreateKeyRequest
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	name, err := requireString("name", req.Name)
	if err != nil {
		return err
	}
	p := principal(r)
	k, tok, err := s.svc.CreateAPIKey(r.Context(), actor(r), patchbay.NewKey{
		Kind: patchbay.KeyKindProject, OrgID: p.Key.OrgID, ProjectID: p.Key.ProjectID, Name: name,
	})
	if err != nil {
		return err
	}
	return s.writeNewLegacyKey(w, r, k, tok, http.StatusCreated)
}

func (s *Server) writeNewLegacyKey(w http.ResponseWriter, r *http.Request, k *patchbay.APIKey, tok patchbay.KeyToken, status int) error {
	creator, err := s.svc.Store.GetMember(r.Context(), k.OrgID, k.CreatedBy)
	if err != nil {
		return err
	}
	out := toLegacyKey(k, creator)
	out.Key, out.IsHidden = tok.Secret.Reveal(), false
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, out)
	return nil
}

// legacyRevokeKey: DELETE /api/v1/api_keys/{id} → {"deleted": true}. The
// key is revoked, not erased: it stays listed as revoked.
func (s *Server) legacyRevokeKey(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	if _, err := s.svc.RevokeAPIKey(r.Context(), actor(r), p.Key.OrgID, p.Key.ProjectID, r.PathValue("id")); err != nil {
		return legacyName(err, patchbay.ENOTFOUND, "ApiKeyNotFoundError")
	}
	writeJSON(w, http.StatusOK, map[string]bool{"deleted": true})
	return nil
}

// legacyRegenerateKey: POST /api/v1/api_keys/{id}/regenerate (a patchbay
// extension): revokes the key and returns its replacement, once.
func (s *Server) legacyRegenerateKey(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	k, tok, err := s.svc.RegenerateAPIKey(r.Context(), actor(r), p.Key.OrgID, p.Key.ProjectID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.writeNewLegacyKey(w, r, k, tok, http.StatusCreated)
}

type clientInfo struct {
	Client struct {
		ID    string `json:"id"`
		OrgID string `json:"orgId"`
		Email string `json:"email"`
		Name  string `json:"name"`
	} `json:"client"`
	APIKey struct {
		ID       string `json:"id"`
		Name     string `json:"name"`
		Key      string `json:"key"`
		MemberID string `json:"memberId"`
		Role     string `json:"role"`
	} `json:"apiKey"`
}

// legacyClientInfo: GET /api/v1/client/auth/client_info, who the key is
// (composio-core reads client.id). Answered from the verified key alone,
// without a database read.
func (s *Server) legacyClientInfo(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var out clientInfo
	out.Client.ID, out.Client.OrgID, out.Client.Email, out.Client.Name = p.Key.ProjectID, p.Key.OrgID, p.Member.Email, p.Member.Name
	out.APIKey.ID, out.APIKey.Name, out.APIKey.Key = p.Key.ID, p.Key.Name, p.Key.Masked()
	out.APIKey.MemberID, out.APIKey.Role = p.Member.ID, string(p.Member.Role)
	writeJSON(w, http.StatusOK, &out)
	return nil
}
