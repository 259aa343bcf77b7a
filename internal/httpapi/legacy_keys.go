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

// legacyListKeys: GET /api/v1/api_keys, a bare array of the project's keys,
// newest first, revoked ones included and marked.
func (s *Server) legacyListKeys(w http.ResponseWriter, r *http.Request) error {
	return s.rendered(w, r, patchbay.ViewAPIKeys, func() (any, error) {
		keys, err := s.svc.ListAPIKeys(r.Context(), principal(r), patchbay.KeyQuery{Kind: patchbay.KeyKindProject, IncludeRevoked: true})
		if err != nil {
			return nil, err
		}
		out := make([]legacyKey, 0, len(keys))
		for _, k := range keys {
			out = append(out, toLegacyKey(k.APIKey, k.Creator))
		}
		return out, nil
	})
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
	k, tok, err := s.svc.CreateAPIKey(r.Context(), principal(r), patchbay.NewKey{Kind: patchbay.KeyKindProject, Name: name})
	if err != nil {
		return err
	}
	return s.writeNewLegacyKey(w, k, tok, http.StatusCreated)
}

func (s *Server) writeNewLegacyKey(w http.ResponseWriter, k *patchbay.KeyRecord, tok patchbay.KeyToken, status int) error {
	out := toLegacyKey(k.APIKey, k.Creator)
	out.Key, out.IsHidden = tok.Secret.Reveal(), false
	w.Header().Set("Cache-Control", "no-store")
	writeJSON(w, status, out)
	return nil
}

// legacyRevokeKey: DELETE /api/v1/api_keys/{id} → {"deleted": true}. The
// key is revoked, not erased: it stays listed as revoked.
func (s *Server) legacyRevokeKey(w http.ResponseWriter, r *http.Request) error {
	if _, err := s.svc.RevokeAPIKey(r.Context(), principal(r), r.PathValue("id")); err != nil {
		return legacyName(err, patchbay.ENOTFOUND, "ApiKeyNotFoundError")
	}
	writeJSON(w, http.StatusOK, map[string]bool{"deleted": true})
	return nil
}

// legacyRegenerateKey: POST /api/v1/api_keys/{id}/regenerate (a patchbay
// extension): revokes the key and returns its replacement, once.
func (s *Server) legacyRegenerateKey(w http.ResponseWriter, r *http.Request) error {
	k, tok, err := s.svc.RegenerateAPIKey(r.Context(), principal(r), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.writeNewLegacyKey(w, k, tok, http.StatusCreated)
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
	out.Client.ID, out.Client.OrgID, out.Client.Email, out.Client.Name = p.ProjectID, p.OrgID, p.Member.Email, p.Member.Name
	out.APIKey.ID, out.APIKey.Name, out.APIKey.Key = p.Credential.ID, p.Credential.Name, p.Credential.Masked
	out.APIKey.MemberID, out.APIKey.Role = p.Member.ID, string(p.Member.Role)
	writeJSON(w, http.StatusOK, &out)
	return nil
}
