package httpapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"net/url"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// The hosted connect page of a key link (API key, bearer token, basic):
// a server-rendered form, embedded, with no script and no external asset.

//go:embed templates/connect.html
var connectFS embed.FS

var connectTemplate = template.Must(template.ParseFS(connectFS, "templates/connect.html"))

// connectStyle is the page's only style, allowed by its hash in the CSP.
const connectStyle = `body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;color:#1b1f24;background:#f5f6f8}` +
	`main{max-width:30rem;margin:3rem auto;padding:2rem;background:#fff;border:1px solid #d8dce1;border-radius:8px}` +
	`h1{font-size:1.4rem;margin:0 0 .5rem}.lead,.foot,.desc{color:#555f6b}.foot{font-size:.85rem;margin-top:1.5rem}` +
	`.field{margin:1.25rem 0}label{display:block;font-weight:600;margin-bottom:.25rem}` +
	`input{box-sizing:border-box;width:100%;padding:.55rem .6rem;font:inherit;border:1px solid #aab2bc;border-radius:5px}` +
	`input:focus{outline:2px solid #2b6cd4;outline-offset:1px}.invalid input{border-color:#b3261e}` +
	`.desc{font-size:.85rem;margin:.3rem 0 0}.required{color:#b3261e}` +
	`.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}` +
	`.problem{background:#fdecea;border:1px solid #f1b5b0;color:#8c1d18;padding:.6rem .8rem;border-radius:5px}` +
	`button{margin-top:.5rem;padding:.6rem 1.2rem;font:inherit;font-weight:600;color:#fff;background:#2b6cd4;border:0;border-radius:5px;cursor:pointer}`

var connectStyleHash = func() string {
	sum := sha256.Sum256([]byte(connectStyle))
	return "'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) + "'"
}()

// maxConnectForm bounds a connect form's body.
const maxConnectForm = 64 << 10

// connectView is what the template shows.
type connectView struct {
	*patchbay.ConnectForm
	Style   template.CSS
	Expires string
}

// connectHeaders are the security headers of every connect page: never
// cached, never framed, no referrer (the URL holds the link token), and a
// CSP that allows the page's own style and nothing else.
func connectHeaders(h http.Header) {
	h.Set("Cache-Control", "no-store")
	h.Set("Pragma", "no-cache")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src "+connectStyleHash+"; base-uri 'none'; frame-ancestors 'none'")
}

// formAction is the form-action source list of a key link's page: the
// form posts to patchbay, which redirects to the callback's origin, and
// browsers check redirects of a form submission against it too.
func formAction(callbackURL string) string {
	out := "'self'"
	if u, err := url.Parse(callbackURL); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
		out += " " + u.Scheme + "://" + u.Host
	}
	return out
}

// writeConnectForm renders a key link's form with p's status.
func writeConnectForm(w http.ResponseWriter, p *patchbay.OAuthPage) {
	var buf bytes.Buffer
	v := connectView{ConnectForm: p.Form, Style: template.CSS(connectStyle), Expires: p.Form.ExpiresAt.UTC().Format("15:04 UTC on 2 January 2006")}
	if err := connectTemplate.Execute(&buf, v); err != nil {
		http.Error(w, "patchbay could not show this page; try again.", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", h.Get("Content-Security-Policy")+"; form-action "+formAction(p.Form.CallbackURL))
	h.Set("Content-Type", "text/html; charset=utf-8")
	status := p.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// sameOrigin reports whether a form POST comes from patchbay's own page:
// its Origin is patchbay's public origin; a browser that hides the origin
// ("null", as the no-referrer policy makes some do) must then say the
// request is same-origin through Sec-Fetch-Site, which pages cannot set.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	switch origin {
	case "", "null":
		return r.Header.Get("Sec-Fetch-Site") == "same-origin"
	}
	return strings.EqualFold(origin, publicOrigin(r)) && r.Header.Get("Sec-Fetch-Site") != "cross-site"
}

// submitConnectLink: POST /connect/{token}, the end user sending a key
// link's form; no API key (the link token is the credential, the CSRF
// token and the origin prove the form is patchbay's page).
func (s *Server) submitConnectLink(w http.ResponseWriter, r *http.Request) error {
	plain := func(status int, msg string) error {
		writeOAuthPage(w, r, &patchbay.OAuthPage{Status: status, Message: msg})
		return nil
	}
	if !s.linkPosts.Allow(httpserver.ClientIP(r)) {
		return plain(http.StatusTooManyRequests, "Too many attempts from your address; wait a minute and open the link again.")
	}
	if !sameOrigin(r) {
		return plain(http.StatusForbidden, "This form must be sent from its connect link's page on patchbay. Open the link again and re-enter your credentials.")
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(strings.ToLower(ct), "application/x-www-form-urlencoded") {
		return plain(http.StatusUnsupportedMediaType, "This form must be sent as application/x-www-form-urlencoded.")
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxConnectForm)
	if err := r.ParseForm(); err != nil {
		return plain(http.StatusBadRequest, "This form could not be read; open the link again.")
	}
	sub := patchbay.KeyLinkSubmission{CSRF: r.PostForm.Get("csrf"), Values: map[string]string{}, IP: httpserver.ClientIP(r)}
	for k, vs := range r.PostForm {
		if k != "csrf" && len(vs) > 0 {
			sub.Values[k] = vs[0]
		}
	}
	writeOAuthPage(w, r, s.svc.SubmitConnectLink(r.Context(), r.PathValue("token"), sub))
	return nil
}
