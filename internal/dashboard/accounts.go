package dashboard

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// The connected accounts page: the project's accounts, filtered by user,
// toolkit and status, a page at a time, with their credentials masked by
// the Service; each row can be disabled (confirmed), enabled, or deleted
// (confirmed).

func init() {
	sections = append(sections, func(s *Server, sf *httpserver.Surface) {
		sf.Handle("GET /projects/{pid}/accounts", s.inProject(s.accountsPage))
		sf.Handle("GET /projects/{pid}/accounts/{id}/disable", s.inProject(s.accountConfirmPage("disable")))
		sf.Handle("POST /projects/{pid}/accounts/{id}/disable", s.inProject(s.disableAccount))
		sf.Handle("POST /projects/{pid}/accounts/{id}/enable", s.inProject(s.enableAccount))
		sf.Handle("GET /projects/{pid}/accounts/{id}/delete", s.inProject(s.accountConfirmPage("delete")))
		sf.Handle("POST /projects/{pid}/accounts/{id}/delete", s.inProject(s.deleteAccount))
	})
}

// accountsPerPage are the page sizes the filter offers.
var accountsPerPage = []int{10, 25, 50, 100}

const accountsPerPageDefault = 25

// accountFilter is the listing's query: its filters and its page.
type accountFilter struct {
	UserID  string
	Toolkit string
	Status  string
	Page    int
	Per     int
}

// parseAccountFilter reads a listing's query. A bad value is dropped (the
// listing goes on without it) and reported in problem.
func parseAccountFilter(q url.Values) (f accountFilter, problem string) {
	f = accountFilter{UserID: strings.TrimSpace(q.Get("user_id")), Toolkit: strings.ToLower(strings.TrimSpace(q.Get("toolkit"))),
		Status: strings.ToUpper(strings.TrimSpace(q.Get("status"))), Page: 1, Per: accountsPerPageDefault}
	var problems []string
	if f.UserID != "" {
		if patchbay.ValidateUserID(f.UserID) != nil {
			problems = append(problems, "The user id filter must be at most 256 characters of valid UTF-8, without NUL characters.")
			f.UserID = ""
		}
	}
	if len(f.Toolkit) > 100 {
		problems = append(problems, "The toolkit filter is not a toolkit slug.")
		f.Toolkit = ""
	}
	if f.Status != "" && !slices.Contains(patchbay.ConnectionStatuses, patchbay.ConnectionStatus(f.Status)) {
		problems = append(problems, "The status filter must be one of "+strings.Join(accountStatusNames(), ", ")+"; got "+strconv.Quote(patchbay.Truncate(f.Status, 20))+".")
		f.Status = ""
	}
	if v := q.Get("page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 1_000_000 {
			problems = append(problems, "The page number must be a whole number from 1; got "+strconv.Quote(patchbay.Truncate(v, 20))+".")
		} else {
			f.Page = n
		}
	}
	if v := q.Get("per_page"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || !slices.Contains(accountsPerPage, n) {
			problems = append(problems, "Accounts per page must be 10, 25, 50 or 100; got "+strconv.Quote(patchbay.Truncate(v, 20))+".")
		} else {
			f.Per = n
		}
	}
	return f, strings.Join(problems, " ")
}

// Filtered reports whether any filter is set.
func (f accountFilter) Filtered() bool { return f.UserID != "" || f.Toolkit != "" || f.Status != "" }

// query encodes f for a link, at page (defaults left out).
func (f accountFilter) query(page int) string {
	v := url.Values{}
	if f.UserID != "" {
		v.Set("user_id", f.UserID)
	}
	if f.Toolkit != "" {
		v.Set("toolkit", f.Toolkit)
	}
	if f.Status != "" {
		v.Set("status", f.Status)
	}
	if f.Per != accountsPerPageDefault {
		v.Set("per_page", strconv.Itoa(f.Per))
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v.Encode()
}

func accountStatusNames() []string {
	out := make([]string, len(patchbay.ConnectionStatuses))
	for i, st := range patchbay.ConnectionStatuses {
		out[i] = string(st)
	}
	return out
}

// accountsURL is the listing at a query ("" for the first page unfiltered).
func accountsURL(projectID, query string) string {
	return "/projects/" + projectID + "/accounts" + accountsSuffix(query)
}

// accountsSuffix is a query as a URL's end: "" or "?" and the query.
func accountsSuffix(query string) string {
	if query == "" {
		return ""
	}
	return "?" + query
}

// credentialField is one masked credential.
type credentialField struct {
	Name, Masked string
}

// accountRow is one connected account as the table shows it.
type accountRow struct {
	ID, UserID, Alias    string
	Toolkit, ToolkitName string
	Scheme               string
	Status, StatusClass  string
	StatusReason         string
	Disabled             bool
	AuthConfigID         string
	AuthConfigDisabled   bool
	Credentials          []credentialField
	Created              string
}

// statusClass is the badge class for a status.
func statusClass(st patchbay.ConnectionStatus) string {
	switch st {
	case patchbay.StatusActive:
		return "active"
	case patchbay.StatusFailed, patchbay.StatusExpired:
		return "failed"
	case patchbay.StatusRevoked, patchbay.StatusInactive:
		return "revoked"
	}
	return ""
}

func newAccountRow(v *patchbay.ConnectionView) accountRow {
	row := accountRow{ID: v.ID, UserID: v.UserID, Alias: v.Alias, Toolkit: v.Toolkit, ToolkitName: v.Toolkit, Scheme: string(v.Mode),
		Status: string(v.Status), StatusClass: statusClass(v.Status), StatusReason: v.StatusReason, Disabled: v.Disabled,
		AuthConfigID: v.AuthConfigID, AuthConfigDisabled: v.AuthConfigDisabled, Created: when(v.CreatedAt)}
	if v.ToolkitDef != nil {
		row.ToolkitName = v.ToolkitDef.Name
	}
	// The Service hands credentials over masked; the page shows them as
	// they come, in a stable order.
	names := make([]string, 0, len(v.Credentials))
	for k := range v.Credentials {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		row.Credentials = append(row.Credentials, credentialField{Name: k, Masked: v.Credentials[k]})
	}
	return row
}

// accountToolkit is a toolkit the filter offers.
type accountToolkit struct {
	Slug, Name string
}

type accountsData struct {
	Filter    accountFilter
	Toolkits  []accountToolkit
	Statuses  []string
	PerPages  []int
	Accounts  []accountRow
	Total     int
	Page      int
	Pages     int
	Prev      string // the previous page's URL, "" on the first
	Next      string // the next page's URL, "" on the last
	First     string // the first page's URL with the same filters
	Back      string // the listing's query, for the forms to come back to
	Suffix    string // "?" and Back, for the confirmation pages' links ("" without)
	Clear     string // the listing without filters
	CanManage bool
}

func (s *Server) accountsPage(w http.ResponseWriter, r *http.Request, q *req) error {
	f, problem := parseAccountFilter(r.URL.Query())
	status := http.StatusOK
	if problem != "" {
		q.view.Error, status = problem, http.StatusBadRequest
	}
	cf := patchbay.ConnectionFilter{Page: patchbay.Page{Limit: f.Per, Offset: (f.Page - 1) * f.Per, Desc: true}}
	if f.UserID != "" {
		cf.UserIDs = []string{f.UserID}
	}
	if f.Toolkit != "" {
		cf.Toolkits = []string{f.Toolkit}
	}
	if f.Status != "" {
		cf.Statuses = []patchbay.ConnectionStatus{patchbay.ConnectionStatus(f.Status)}
	}
	views, total, err := s.svc.ListConnectedAccounts(r.Context(), q.p, cf, true)
	if err != nil {
		return err
	}
	tks, err := s.svc.Toolkits(q.p)
	if err != nil {
		return err
	}
	pid := q.p.ProjectID
	d := accountsData{Filter: f, Statuses: accountStatusNames(), PerPages: accountsPerPage, Total: total, Page: f.Page,
		Pages: max(1, (total+f.Per-1)/f.Per), First: accountsURL(pid, f.query(1)), Back: f.query(f.Page),
		Suffix: accountsSuffix(f.query(f.Page)), Clear: accountsURL(pid, ""), CanManage: patchbay.Allows(q.view.Member.Role, patchbay.ManageConnections)}
	known := false
	for _, tk := range tks {
		d.Toolkits = append(d.Toolkits, accountToolkit{Slug: tk.Slug, Name: tk.Name})
		known = known || tk.Slug == f.Toolkit
	}
	slices.SortFunc(d.Toolkits, func(a, b accountToolkit) int {
		return strings.Compare(strings.ToLower(a.Name), strings.ToLower(b.Name))
	})
	if f.Toolkit != "" && !known {
		// A toolkit that left the catalog may still have accounts.
		d.Toolkits = append(d.Toolkits, accountToolkit{Slug: f.Toolkit, Name: f.Toolkit})
	}
	for _, v := range views {
		d.Accounts = append(d.Accounts, newAccountRow(v))
	}
	if f.Page > 1 {
		d.Prev = accountsURL(pid, f.query(min(f.Page-1, d.Pages)))
	}
	if f.Page < d.Pages {
		d.Next = accountsURL(pid, f.query(f.Page+1))
	}
	q.view.Title, q.view.Nav, q.view.Data = "Connected accounts", "accounts", d
	return s.render(w, r, status, "accounts", q.view)
}

// findAccount returns an account of the page's project, without opening
// its credentials (so that an account whose credentials no longer open
// can still be disabled or deleted). ENOTFOUND if the project has none
// with that ID.
func (s *Server) findAccount(r *http.Request, q *req, id string) (accountRow, error) {
	views, _, err := s.svc.ListConnectedAccounts(r.Context(), q.p, patchbay.ConnectionFilter{IDs: []string{id}, Page: patchbay.Page{Limit: 1}}, false)
	if err != nil {
		return accountRow{}, err
	}
	if len(views) == 0 {
		return accountRow{}, patchbay.Errorf(patchbay.ENOTFOUND, "This project has no connected account %s.", patchbay.Truncate(id, 60))
	}
	return newAccountRow(views[0]), nil
}

// accountBack is where a form sends the browser after an action: the
// listing it came from (its filters and page, as the form's back field
// says), rebuilt from known fields only.
func accountBack(q *req, r *http.Request) string {
	v, err := url.ParseQuery(r.PostFormValue("back"))
	if err != nil {
		return accountsURL(q.p.ProjectID, "")
	}
	f, _ := parseAccountFilter(v)
	return accountsURL(q.p.ProjectID, f.query(f.Page))
}

type accountConfirmData struct {
	Action  string // "disable" or "delete"
	Account accountRow
	Back    string // the listing's query
	Cancel  string // the listing's URL
}

// accountConfirmPage: GET /projects/{pid}/accounts/{id}/disable and
// /delete?back=, the confirmation for browsers without script (with
// script, the same confirmation is a dialog on the listing).
func (s *Server) accountConfirmPage(action string) pageFunc {
	return func(w http.ResponseWriter, r *http.Request, q *req) error {
		row, err := s.findAccount(r, q, r.PathValue("id"))
		if err != nil {
			return err
		}
		back, _ := parseAccountFilter(r.URL.Query())
		pid := q.p.ProjectID
		if action == "disable" && row.Disabled {
			return s.redirect(w, r, accountsURL(pid, back.query(back.Page)), "The account "+row.ID+" of "+row.UserID+" is disabled already.")
		}
		title := "Disable the account " + row.ID + "?"
		if action == "delete" {
			title = "Delete the account " + row.ID + "?"
		}
		q.view.Title, q.view.Nav = title, "accounts"
		q.view.Data = accountConfirmData{Action: action, Account: row, Back: back.query(back.Page), Cancel: accountsURL(pid, back.query(back.Page))}
		return s.render(w, r, http.StatusOK, "account_confirm", q.view)
	}
}

// disableAccount: POST /projects/{pid}/accounts/{id}/disable {back}.
func (s *Server) disableAccount(w http.ResponseWriter, r *http.Request, q *req) error {
	ca, err := s.svc.SetConnectionDisabled(r.Context(), q.p, r.PathValue("id"), true)
	if err != nil {
		return err
	}
	return s.redirect(w, r, accountBack(q, r), "The account "+ca.ID+" of "+ca.UserID+" is disabled: patchbay will not use it until it is enabled again.")
}

// enableAccount: POST /projects/{pid}/accounts/{id}/enable {back}.
func (s *Server) enableAccount(w http.ResponseWriter, r *http.Request, q *req) error {
	ca, err := s.svc.SetConnectionDisabled(r.Context(), q.p, r.PathValue("id"), false)
	if err != nil {
		return err
	}
	return s.redirect(w, r, accountBack(q, r), "The account "+ca.ID+" of "+ca.UserID+" is enabled.")
}

// deleteAccount: POST /projects/{pid}/accounts/{id}/delete {back}.
// Permanent: the account and its credentials are erased.
func (s *Server) deleteAccount(w http.ResponseWriter, r *http.Request, q *req) error {
	row, err := s.findAccount(r, q, r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := s.svc.DeleteConnection(r.Context(), q.p, row.ID); err != nil {
		return err
	}
	return s.redirect(w, r, accountBack(q, r), "The account "+row.ID+" of "+row.UserID+" is deleted, with its credentials.")
}
