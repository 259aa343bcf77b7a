// Command upstream is the proxy benchmark's app: a net/http server that
// answers every request but /healthz with the same JSON body of about
// 1 KB, shaped like GitHub's GET /user, when the request carries
// "Authorization: Bearer TOKEN", and 401 otherwise. So a 200 through a
// proxy proves that the proxy injected the token.
//
// It counts the TCP connections it accepts and the requests it answers,
// and serves the counts as JSON on a second listener (GET /stats), so that
// reading them neither opens a connection nor sends a request to the
// counted one:
//
//	upstream --addr 127.0.0.1:PORT --stats-addr 127.0.0.1:PORT --token TOKEN
//	upstream --print-body    # the body, and exit
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"strings"
	"sync/atomic"
	"time"
)

// Stats is what GET /stats answers. The benchmark decodes the same names.
type Stats struct {
	Accepted     int64 `json:"accepted"`     // TCP connections accepted, ever
	Open         int64 `json:"open"`         // connections open now
	Requests     int64 `json:"requests"`     // requests answered, but /healthz
	Unauthorized int64 `json:"unauthorized"` // of which answered 401
}

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "`HOST:PORT` to serve the app on")
	statsAddr := flag.String("stats-addr", "", "`HOST:PORT` to serve GET /stats on (none if empty)")
	token := flag.String("token", "", "the bearer `TOKEN` requests must carry")
	printBody := flag.Bool("print-body", false, "print the body and exit")
	flag.Parse()
	b := body()
	if *printBody {
		os.Stdout.Write(b)
		return
	}
	if *token == "" {
		log.Fatal("upstream: --token is required")
	}
	want := "Bearer " + *token
	denied := []byte(`{"message":"Bad credentials","documentation_url":"https://docs.github.com/rest"}`)

	var accepted, open, requests, unauthorized atomic.Int64
	srv := &http.Server{
		Addr: *addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.URL.Path == "/healthz" {
				w.Write([]byte("ok\n"))
				return
			}
			requests.Add(1)
			w.Header().Set("Content-Type", "application/json; charset=utf-8")
			if r.Header.Get("Authorization") != want {
				unauthorized.Add(1)
				w.WriteHeader(http.StatusUnauthorized)
				w.Write(denied)
				return
			}
			w.Write(b)
		}),
		ConnState: func(_ net.Conn, s http.ConnState) {
			switch s {
			case http.StateNew:
				accepted.Add(1)
				open.Add(1)
			case http.StateClosed, http.StateHijacked:
				open.Add(-1)
			}
		},
		ReadHeaderTimeout: 10 * time.Second,
	}
	if *statsAddr != "" {
		ln, err := net.Listen("tcp", *statsAddr)
		if err != nil {
			log.Fatal(err)
		}
		go http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(Stats{accepted.Load(), open.Load(), requests.Load(), unauthorized.Load()})
		}))
	}
	log.Fatal(srv.ListenAndServe())
}

// body is a GitHub-like user profile of about 1 KB, the same bytes on
// every start.
func body() []byte {
	const base = "https://api.github.com/users/octo-bench"
	user := map[string]any{
		"login": "octo-bench", "id": 583231, "node_id": "MDQ6VXNlcjU4MzIzMQ==",
		"avatar_url": "https://avatars.githubusercontent.com/u/583231?v=4", "gravatar_id": "",
		"url": base, "html_url": "https://github.com/octo-bench",
		"followers_url": base + "/followers", "following_url": base + "/following{/other_user}",
		"organizations_url": base + "/orgs", "repos_url": base + "/repos",
		"events_url": base + "/events{/privacy}", "type": "User", "site_admin": false,
		"name": "Octo Bench", "company": "@patchbay-dev", "blog": "https://patchbay.example",
		"location": "Loopback", "email": "octo-bench@example.com", "hireable": nil,
		"twitter_username": nil, "public_repos": 42, "public_gists": 7, "followers": 1200, "following": 3,
		"created_at": "2011-01-25T18:44:36Z", "updated_at": "2025-06-01T09:30:00Z",
	}
	b, err := json.Marshal(user)
	if err != nil {
		panic(err)
	}
	// Pad with a bio to 1,024 bytes.
	if pad := 1024 - len(b) - len(`,"bio":""`); pad > 0 {
		const phrase = "Answers benchmarks on loopback. "
		user["bio"] = strings.Repeat(phrase, pad/len(phrase)+1)[:pad]
		if b, err = json.Marshal(user); err != nil {
			panic(err)
		}
	}
	if len(b) != 1024 {
		panic(fmt.Sprintf("upstream body is %d bytes, want 1024", len(b)))
	}
	return b
}
