// Command bare is the load benchmark's baseline: a net/http server that
// answers every request with the same bytes and does nothing else. The
// benchmark gives it the body patchbay returned, so both servers write the
// same response.
//
//	bare --addr 127.0.0.1:PORT --body FILE
package main

import (
	"flag"
	"log"
	"net/http"
	"os"
	"time"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8081", "`HOST:PORT` to listen on")
	bodyFile := flag.String("body", "", "`FILE` whose bytes every response carries")
	flag.Parse()
	body, err := os.ReadFile(*bodyFile)
	if err != nil {
		log.Fatal(err)
	}
	srv := &http.Server{
		Addr: *addr,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Write(body)
		}),
		ReadHeaderTimeout: 10 * time.Second,
	}
	log.Fatal(srv.ListenAndServe())
}
