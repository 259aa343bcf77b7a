package dashboard

import (
	"net/http"
	"sort"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

func init() {
	sections = append(sections, func(s *Server, sf *httpserver.Surface) {
		sf.Handle("GET /projects/{pid}/members", s.inProject(s.membersPage))
		sf.Handle("POST /projects/{pid}/members", s.inProject(s.inviteMember))
	})
}

// memberRow is one member as the members table shows it.
type memberRow struct {
	ID, Email, Name, Since string
	Role                   patchbay.Role
	You                    bool
}

type membersData struct {
	Members []memberRow
	// CanInvite shows the invite form; Roles are the roles it offers.
	CanInvite bool
	Roles     []patchbay.Role
	// Email and Role refill the form after a refused invite.
	Email string
	Role  patchbay.Role
	// Link is a sign-up link just created, shown this once, for
	// LinkEmail with LinkRole.
	Link      string
	LinkEmail string
	LinkRole  patchbay.Role
	Expires   string
}

func (s *Server) memberRows(r *http.Request, q *req) ([]memberRow, error) {
	ms, err := s.svc.ListMembers(r.Context(), q.p)
	if err != nil {
		return nil, err
	}
	rank := map[patchbay.Role]int{patchbay.RoleOwner: 0, patchbay.RoleAdmin: 1, patchbay.RoleMember: 2}
	sort.SliceStable(ms, func(i, j int) bool {
		if rank[ms[i].Role] != rank[ms[j].Role] {
			return rank[ms[i].Role] < rank[ms[j].Role]
		}
		return strings.ToLower(ms[i].Email) < strings.ToLower(ms[j].Email)
	})
	rows := make([]memberRow, 0, len(ms))
	for _, m := range ms {
		rows = append(rows, memberRow{ID: m.ID, Email: m.Email, Name: m.Name, Role: m.Role, Since: when(m.CreatedAt), You: m.ID == q.p.Member.ID})
	}
	return rows, nil
}

func (s *Server) renderMembers(w http.ResponseWriter, r *http.Request, q *req, status int, d membersData) error {
	rows, err := s.memberRows(r, q)
	if err != nil {
		return err
	}
	d.Members = rows
	role := q.view.Member.Role
	d.CanInvite = patchbay.Allows(role, patchbay.ManageMembers)
	if d.CanInvite {
		// Only owners may invite owners; the Service says so to anyone
		// who tries, and the form offers no such choice.
		if role == patchbay.RoleOwner {
			d.Roles = append(d.Roles, patchbay.RoleOwner)
		}
		d.Roles = append(d.Roles, patchbay.RoleAdmin, patchbay.RoleMember)
	}
	if d.Role == "" {
		d.Role = patchbay.RoleMember
	}
	q.view.Title, q.view.Nav, q.view.Data = "Members", "members", d
	return s.render(w, r, status, "members", q.view)
}

func (s *Server) membersPage(w http.ResponseWriter, r *http.Request, q *req) error {
	return s.renderMembers(w, r, q, http.StatusOK, membersData{})
}

// requestOrigin is the dashboard's origin as the request reached it.
func requestOrigin(r *http.Request) string {
	scheme := "http"
	if secure(r) {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// inviteMember: POST /projects/{pid}/members {email, role}. The page that
// answers shows the one-time sign-up link once; only its hash is kept.
func (s *Server) inviteMember(w http.ResponseWriter, r *http.Request, q *req) error {
	email, role := strings.TrimSpace(r.PostFormValue("email")), patchbay.Role(r.PostFormValue("role"))
	inv, tok, err := s.svc.CreateInvite(r.Context(), q.p, email, role)
	status := 0
	switch patchbay.ErrorCode(err) {
	case patchbay.EINVALID:
		status = http.StatusBadRequest
	case patchbay.EFORBIDDEN:
		status = http.StatusForbidden
	case patchbay.ECONFLICT:
		status = http.StatusConflict
	}
	if status != 0 {
		q.view.Error = patchbay.ErrorMessage(err)
		return s.renderMembers(w, r, q, status, membersData{Email: email, Role: role})
	}
	if err != nil {
		return err
	}
	q.view.Flash = "Invite for " + inv.Email + " created. Copy the sign-up link now: it is shown only this once."
	return s.renderMembers(w, r, q, http.StatusOK, membersData{Link: requestOrigin(r) + "/signup?token=" + tok,
		LinkEmail: inv.Email, LinkRole: inv.Role, Expires: when(inv.ExpiresAt)})
}
