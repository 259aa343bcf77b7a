package dashboard

import (
	"net/http"
	"strings"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

type signInData struct {
	Email string
	Next  string
	Org   string // the organization to sign in to, "" for the first
}

// safeNext keeps a post-sign-in destination on this site.
func safeNext(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.Contains(next, `\`) {
		return "/"
	}
	return next
}

func (s *Server) signInPage(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	v := &view{Title: "Sign in", Flash: s.takeFlash(w, r), Data: signInData{Next: safeNext(q.Get("next")), Email: q.Get("email"), Org: q.Get("org")}}
	return s.render(w, r, http.StatusOK, "signin", v)
}

// signIn: POST /signin {email, password, next}. Attempts are limited per
// client address; a failure says the same whatever was wrong.
func (s *Server) signIn(w http.ResponseWriter, r *http.Request) error {
	email, next, org := strings.TrimSpace(r.PostFormValue("email")), safeNext(r.PostFormValue("next")), r.PostFormValue("org")
	v := &view{Title: "Sign in", Data: signInData{Email: email, Next: next, Org: org}}
	if err := sameOrigin(r); err != nil {
		return err
	}
	if !s.signins.Allow(httpserver.ClientIP(r)) {
		v.Error = "Too many sign-in attempts from your address: wait a minute and try again."
		return s.render(w, r, http.StatusTooManyRequests, "signin", v)
	}
	tok, sess, err := s.svc.SignIn(r.Context(), email, r.PostFormValue("password"), org)
	if patchbay.ErrorCode(err) == patchbay.EUNAUTHORIZED {
		v.Error = patchbay.ErrorMessage(err)
		return s.render(w, r, http.StatusUnauthorized, "signin", v)
	}
	if err != nil {
		return err
	}
	s.setSession(w, r, tok, sess)
	http.Redirect(w, r, next, http.StatusSeeOther)
	return nil
}

func (s *Server) signOut(w http.ResponseWriter, r *http.Request, q *req) error {
	c, _ := r.Cookie(sessionCookie)
	if c != nil {
		if err := s.svc.SignOut(r.Context(), c.Value); err != nil {
			return err
		}
	}
	s.clearSession(w, r)
	return s.redirect(w, r, "/signin", "You are signed out.")
}

type signUpData struct {
	Token string
	Email string
	Role  patchbay.Role
}

func (s *Server) signUpPage(w http.ResponseWriter, r *http.Request) error {
	tok := r.URL.Query().Get("token")
	inv, err := s.svc.InviteFor(r.Context(), tok)
	if err != nil {
		return err
	}
	return s.render(w, r, http.StatusOK, "signup", &view{Title: "Sign up", Data: signUpData{Token: tok, Email: inv.Email, Role: inv.Role}})
}

// signUp: POST /signup {token, name, password, confirm}.
func (s *Server) signUp(w http.ResponseWriter, r *http.Request) error {
	if err := sameOrigin(r); err != nil {
		return err
	}
	tok := r.PostFormValue("token")
	inv, err := s.svc.InviteFor(r.Context(), tok)
	if err != nil {
		return err
	}
	v := &view{Title: "Sign up", Data: signUpData{Token: tok, Email: inv.Email, Role: inv.Role}}
	if r.PostFormValue("password") != r.PostFormValue("confirm") {
		v.Error = "The two passwords differ."
		return s.render(w, r, http.StatusBadRequest, "signup", v)
	}
	cookie, sess, err := s.svc.AcceptInvite(r.Context(), tok, r.PostFormValue("name"), r.PostFormValue("password"), httpserver.ClientIP(r))
	if patchbay.ErrorCode(err) == patchbay.EINVALID {
		v.Error = patchbay.ErrorMessage(err)
		return s.render(w, r, http.StatusBadRequest, "signup", v)
	}
	if err != nil {
		return err
	}
	s.setSession(w, r, cookie, sess)
	return s.redirect(w, r, "/", "Welcome to patchbay.")
}
