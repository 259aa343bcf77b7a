// Command fastproxy is the proxy benchmark's second floor: the least proxy
// built on valyala/fasthttp instead of net/http, the same work as
// bench/internal/goproxy (method, path and query sent on with the app's
// bearer token, over a keep-alive pool; status, headers and body back).
// It shows what an HTTP stack that reuses its buffers and runs no
// goroutines per upstream connection costs, for comparison with net/http,
// which patchbay is built on.
//
//	fastproxy --addr 127.0.0.1:PORT --upstream http://127.0.0.1:PORT --token TOKEN
package main

import (
	"flag"
	"log"
	"strings"

	"github.com/valyala/fasthttp"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8083", "`HOST:PORT` to listen on")
	upstream := flag.String("upstream", "", "the app's base `URL` (http://HOST:PORT)")
	token := flag.String("token", "", "the app's bearer `TOKEN`")
	flag.Parse()
	host := strings.TrimPrefix(*upstream, "http://")
	app := &fasthttp.HostClient{Addr: host, MaxConns: 256}
	auth := "Bearer " + *token
	handle := func(ctx *fasthttp.RequestCtx) {
		req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
		defer fasthttp.ReleaseRequest(req)
		defer fasthttp.ReleaseResponse(resp)
		ctx.Request.CopyTo(req)
		req.SetHost(host)
		req.Header.Set("Authorization", auth)
		if err := app.Do(req, resp); err != nil {
			ctx.Error(err.Error(), fasthttp.StatusBadGateway)
			return
		}
		resp.CopyTo(&ctx.Response)
	}
	log.Fatal(fasthttp.ListenAndServe(*addr, handle))
}
