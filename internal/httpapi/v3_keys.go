package httpapi

import (
	"bytes"
	"encoding/json"
	"net/http"

	"github.com/patchbay-dev/patchbay/internal/httpserver"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

type leakReport struct {
	APIKeys *[]string `json:"api_keys"`
}

// revokeLeaked: POST /api_key_revocation {"api_keys": [...]}. Anyone may
// report leaked keys, without authentication. The answer is the same
// whether or not a key matched, and reports are rate-limited per address.
func (s *Server) revokeLeaked(w http.ResponseWriter, r *http.Request) error {
	if !s.leaks.Allow(httpserver.ClientIP(r)) {
		w.Header().Set("Retry-After", "60")
		w.Header().Set("x-should-retry", "false")
		return errorf(patchbay.ERATELIMIT, "Too many leaked-key reports from this address; try again in a minute.")
	}
	var req leakReport
	if err := decodeJSON(r, &req, false); err != nil {
		return err
	}
	if req.APIKeys == nil {
		return errorf(patchbay.EINVALID, "Field \"api_keys\" is required: a list of 1 to %d keys.", patchbay.MaxLeakedBatch)
	}
	n, err := s.svc.RevokeLeakedKeys(r.Context(), *req.APIKeys, httpserver.ClientIP(r))
	if err != nil {
		return err
	}
	if n > 0 {
		s.log.InfoContext(r.Context(), "leaked keys revoked", "request_id", httpserver.RequestID(r.Context()), "count", n)
	}
	writeJSON(w, http.StatusOK, map[string]bool{"received": true})
	return nil
}

type sessionAPIKey struct {
	AutoID      int     `json:"auto_id"`
	ID          string  `json:"id"`
	Name        string  `json:"name"`
	ProjectID   *string `json:"project_id"`
	OrgMemberID string  `json:"org_member_id"`
	CreatedAt   string  `json:"created_at"`
	UpdatedAt   string  `json:"updated_at"`
	DeletedAt   *string `json:"deleted_at"`
	Key         string  `json:"key"`
	Deleted     bool    `json:"deleted"`
}

type sessionMember struct {
	wireMember
	Metadata map[string]any `json:"metadata"`
}

type sessionInfo struct {
	Project   *wireProject  `json:"project"`
	APIKey    sessionAPIKey `json:"api_key"`
	OrgMember sessionMember `json:"org_member"`
}

// sessionInfo: GET /auth/session/info, who the presented key acts as.
// Answered from the verified key alone: its project's facts were read
// when the key was verified, and are evicted with it.
func (s *Server) sessionInfo(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	// The answer depends on the verified principal only, which the key
	// cache holds until the key is evicted: its encoding is kept beside it,
	// valid while the principal's credential, member and project view are
	// the ones it was made from.
	if v, ok := s.sessions.Load(p.Credential.ID); ok {
		if e := v.(*sessionEntry); e.matches(p) {
			httpserver.WriteJSONBytes(w, http.StatusOK, e.body)
			return nil
		}
	}
	c := &p.Credential
	out := sessionInfo{
		APIKey: sessionAPIKey{
			ID: c.ID, Name: c.Name, OrgMemberID: p.Member.ID,
			CreatedAt: wireTime(c.CreatedAt), UpdatedAt: wireTime(c.CreatedAt), Key: c.Masked,
		},
		OrgMember: sessionMember{wireMember: toWireMember(&p.Member), Metadata: map[string]any{}},
	}
	if p.ProjectID != "" {
		out.APIKey.ProjectID = &p.ProjectID
		pv, err := s.svc.Project(r.Context(), p, p.ProjectID)
		if err != nil {
			return err
		}
		wp := toWireProject(pv, nil)
		out.Project = &wp
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(out); err != nil {
		return err
	}
	if p.Credential.ID != "" && s.sessionCount.Add(1) <= maxSessionEntries {
		s.sessions.Store(p.Credential.ID, &sessionEntry{cred: p.Credential, member: p.Member, project: p.Project, body: buf.Bytes()})
	}
	httpserver.WriteJSONBytes(w, http.StatusOK, buf.Bytes())
	return nil
}

// sessionEntry is a session info answer and what it was made from.
type sessionEntry struct {
	cred    patchbay.Credential
	member  patchbay.Member
	project *patchbay.ProjectView
	body    []byte
}

func (e *sessionEntry) matches(p *patchbay.Principal) bool {
	return e.cred == p.Credential && e.member == p.Member && e.project == p.Project
}

// maxSessionEntries bounds the kept session answers (one per key).
const maxSessionEntries = 100_000

type wireAudit struct {
	ID        string `json:"id"`
	ProjectID string `json:"project_id"`
	ActorID   string `json:"actor_id"`
	ActorKey  string `json:"actor_key_id"`
	Action    string `json:"action"`
	TargetID  string `json:"target_id"`
	IP        string `json:"ip"`
	At        string `json:"created_at"`
}

// listAudit: GET /audit_logs (a patchbay extension). Owners and admins see
// their project's events (an organization key sees the whole organization).
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request) error {
	limit, err := queryInt(r, "limit", 100, 1, 1000)
	if err != nil {
		return err
	}
	events, err := s.svc.ListAudit(r.Context(), principal(r), "", limit)
	if err != nil {
		return err
	}
	out := make([]wireAudit, 0, len(events))
	for _, e := range events {
		out = append(out, wireAudit{ID: e.ID, ProjectID: e.ProjectID, ActorID: e.ActorID, ActorKey: e.ActorKey,
			Action: e.Action, TargetID: e.TargetID, IP: e.IP, At: wireTime(e.At)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": out})
	return nil
}
