// Command goproxy is the proxy benchmark's floor for a Go proxy: the least
// a net/http server can do in front of an app. Every request is sent on to
// the app with the same method, path and query and the app's bearer token
// set, over a keep-alive pool, and the app's status, content type and body
// come back. No authentication, no lookups, no logs: what it costs is what
// Go's HTTP server and client cost, which patchbay pays too.
//
//	goproxy --addr 127.0.0.1:PORT --upstream http://127.0.0.1:PORT --token TOKEN
package main

import (
	"flag"
	"io"
	"log"
	"net/http"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8082", "`HOST:PORT` to listen on")
	upstream := flag.String("upstream", "", "the app's base `URL`")
	token := flag.String("token", "", "the app's bearer `TOKEN`")
	flag.Parse()
	client := &http.Client{Transport: &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}}
	auth := "Bearer " + *token
	srv := &http.Server{
		Addr: *addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			out, err := http.NewRequestWithContext(r.Context(), r.Method, *upstream+r.URL.RequestURI(), r.Body)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			out.Header.Set("Authorization", auth)
			resp, err := client.Do(out)
			if err != nil {
				http.Error(w, err.Error(), http.StatusBadGateway)
				return
			}
			defer resp.Body.Close()
			if ct := resp.Header.Get("Content-Type"); ct != "" {
				w.Header().Set("Content-Type", ct)
			}
			w.WriteHeader(resp.StatusCode)
			io.Copy(w, resp.Body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
