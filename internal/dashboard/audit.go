package dashboard

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// The audit log page: who did what in the project, when, through which
// credential and from where, newest first. Only owners and admins may
// read it; the Service says so to anyone else, and the page tells them.

func init() {
	sections = append(sections, func(s *Server, sf *httpserver.Surface) {
		sf.Handle("GET /projects/{pid}/audit", s.inProject(s.auditPage))
	})
}

// The page shows auditStep events, and that many more each time the
// member asks for older ones, up to the Service's most.
const (
	auditStep = 100
	auditMost = 1000
)

// auditActions says what each action did, for people.
var auditActions = map[string]string{
	patchbay.ActionKeyCreate:     "Created an API key",
	patchbay.ActionKeyRevoke:     "Revoked an API key",
	patchbay.ActionKeyRegenerate: "Regenerated an API key",
	patchbay.ActionKeyLeaked:     "Revoked a leaked API key",
	patchbay.ActionProjectCreate: "Created the project",
	patchbay.ActionProjectDelete: "Deleted the project",
	patchbay.ActionMemberCreate:  "Added a member",
	patchbay.ActionMemberInvite:  "Invited a member",
	patchbay.ActionMemberSignUp:  "Signed up",

	patchbay.ActionAuthConfigCreate:  "Created an auth config",
	patchbay.ActionAuthConfigUpdate:  "Updated an auth config",
	patchbay.ActionAuthConfigEnable:  "Enabled an auth config",
	patchbay.ActionAuthConfigDisable: "Disabled an auth config",
	patchbay.ActionAuthConfigDelete:  "Deleted an auth config",

	patchbay.ActionConnectionCreate:     "Connected an account",
	patchbay.ActionConnectionEnable:     "Enabled a connected account",
	patchbay.ActionConnectionDisable:    "Disabled a connected account",
	patchbay.ActionConnectionReinitiate: "Reconnected an account",
	patchbay.ActionConnectionRefresh:    "Refreshed a connected account",
	patchbay.ActionConnectionRevoke:     "Revoked a connected account",
	patchbay.ActionConnectionDelete:     "Deleted a connected account",

	patchbay.ActionKeyringRotate: "Rotated the keyring",
}

// auditRow is one event as the table shows it.
type auditRow struct {
	ID         string
	When       string
	Who        string
	WhoIsID    bool // Who is an ID (a member since removed), not an email
	Through    string
	Action     string // as recorded, e.g. "connected_account.disable"
	Label      string // what it means, "" for an action the page does not know
	Target     string
	TargetName string // a key's name or a member's email, when known
	IP         string
}

type auditData struct {
	Events []auditRow
	// Forbidden is set for a member who may not read the log.
	Forbidden bool
	// More is the link to older events, "" when there are none (or the
	// page shows the most it can).
	More  string
	Limit int
}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request, q *req) error {
	q.view.Title, q.view.Nav = "Audit log", "audit"
	limit := auditStep
	if v := r.URL.Query().Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > auditMost {
			q.view.Error = "The number of events to show must be a whole number from 1 to " + strconv.Itoa(auditMost) + "; got " + strconv.Quote(patchbay.Truncate(v, 20)) + "."
			q.view.Data = auditData{Limit: limit}
			return s.render(w, r, http.StatusBadRequest, "audit", q.view)
		}
		limit = n
	}
	events, err := s.svc.ListAudit(r.Context(), q.p, "", limit)
	if patchbay.ErrorCode(err) == patchbay.EFORBIDDEN {
		// Say why there is nothing to see, rather than show an empty log.
		q.view.Error = patchbay.ErrorMessage(err)
		q.view.Data = auditData{Forbidden: true}
		return s.render(w, r, http.StatusForbidden, "audit", q.view)
	}
	if err != nil {
		return err
	}
	members, err := s.memberNames(r, q)
	if err != nil {
		return err
	}
	keys, err := s.svc.ListAPIKeys(r.Context(), q.p, patchbay.KeyQuery{Kind: patchbay.KeyKindProject, IncludeRevoked: true})
	if err != nil {
		return err
	}
	keyNames := map[string]string{}
	for _, k := range keys {
		keyNames[k.ID] = k.Name + " (" + k.Masked() + ")"
	}
	d := auditData{Limit: limit}
	for _, e := range events {
		d.Events = append(d.Events, auditEventRow(e, members, keyNames))
	}
	if len(events) == limit && limit < auditMost {
		d.More = "/projects/" + q.p.ProjectID + "/audit?limit=" + strconv.Itoa(min(limit+auditStep, auditMost))
	}
	q.view.Data = d
	return s.render(w, r, http.StatusOK, "audit", q.view)
}

// auditEventRow describes e with the names of the project's members and
// keys.
func auditEventRow(e *patchbay.AuditEvent, members, keys map[string]string) auditRow {
	row := auditRow{ID: e.ID, When: e.At.UTC().Format("2006-01-02 15:04:05 UTC"), Action: e.Action, Label: auditActions[e.Action],
		Target: e.TargetID, IP: e.IP}
	switch {
	case e.ActorID == "":
		row.Who = "patchbay" // nobody signed in: a leaked-key report
	case members[e.ActorID] != "":
		row.Who = members[e.ActorID]
	default:
		row.Who, row.WhoIsID = e.ActorID, true // a member since removed
	}
	switch {
	case e.ActorKey == "" && e.ActorID == "":
		row.Through = "No credential (public endpoint)"
	case e.ActorKey == "" && e.Action == patchbay.ActionMemberSignUp:
		row.Through = "Sign-up invitation"
	case e.ActorKey == "" && e.IP == "bootstrap":
		row.Through = "First start of patchbay"
	case e.ActorKey == "":
		row.Through = "Command line"
	case strings.HasPrefix(e.ActorKey, "sess_"):
		row.Through = "Dashboard sign-in"
	case keys[e.ActorKey] != "":
		row.Through = "API key " + keys[e.ActorKey]
	default:
		row.Through = "API key " + e.ActorKey // an organization key, or a key of a deleted project
	}
	if n := keys[e.TargetID]; n != "" {
		row.TargetName = "API key " + n
	} else if n := members[e.TargetID]; n != "" {
		row.TargetName = n
	}
	return row
}
