package bench

import (
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	mcpConcurrency = flag.Int("mcp.concurrency", 32, "concurrent keep-alive connections of the MCP benchmark")
	mcpDuration    = flag.Duration("mcp.duration", 2*time.Second, "length of each measured run of the MCP benchmark")
	mcpWarmup      = flag.Duration("mcp.warmup", 500*time.Millisecond, "unmeasured load before each measured run of the MCP benchmark")
	mcpRounds      = flag.Int("mcp.rounds", 3, "measured runs per way of the MCP benchmark, alternating the ways")
	mcpAccounts    = flag.Int("mcp.accounts", 1_000, "other connected accounts seeded for the MCP benchmark (as -proxy.accounts)")
	mcpCPUProfile  = flag.String("mcp.cpuprofile", "", "write a CPU profile of patchbay during its rounds to `FILE` (as -proxy.cpuprofile)")
)

// mcpRatioTarget is the target: tools/call throughput at least
// 0.8× that of POST /tools/execute to the same app.
const mcpRatioTarget = 0.8

// mcpTool is the tool both ways run.
const mcpTool = "GITHUB_GET_THE_AUTHENTICATED_USER"

// BenchmarkMCPToolsCall compares a tool call over MCP with the same call
// through POST /api/v3.1/tools/execute/{slug}, to the same fast local app
// (bench/internal/upstream, as BenchmarkProxy), under the same keep-alive
// load, in alternating rounds. `patchbay serve` runs as a process on
// SQLite, seeded as for BenchmarkProxy; an MCP server configuration allows
// the tool. MCP is measured twice: at 2025-11-25 (what deployed clients
// send: a bare tools/call, stateless) and at 2026-07-28 (params._meta and
// the Mcp-* headers). Every way is checked once to return the app's body.
//
// One table on stdout: req/s, p50, p99 of each way (medians of the rounds),
// each MCP way's throughput over execute's (target ≥ 0.8×), and patchbay's
// CPU time per request, which other work on the machine skews much less
// than the rates. It never fails on timing. Run it with -benchtime=1x.
func BenchmarkMCPToolsCall(b *testing.B) {
	bins := mustBuildProxy(b, *mcpCPUProfile != "")
	a := mustStartApp(b, bins.upstream)
	mustCheckApp(b, a)
	s := mustStartPatchbay(b, bins, *mcpCPUProfile, a, *mcpAccounts, *proxyUsers)

	c := &connClient{base: s.pb.url(""), key: s.key, http: newLoadgen(2).client}
	status, body, err := c.do("POST", "/api/v3.1/mcp/servers/custom", map[string]any{
		"name": "bench server", "toolkits": []string{"github"}, "allowed_tools": []string{mcpTool},
	})
	if err != nil || status != http.StatusCreated {
		b.Fatalf("POST /api/v3.1/mcp/servers/custom: %d %s %v", status, body, err)
	}
	var created struct {
		MCPURL string `json:"mcp_url"`
	}
	if err := json.Unmarshal(body, &created); err != nil || created.MCPURL == "" {
		b.Fatalf("no mcp_url in %s (%v)", body, err)
	}
	endpoint := created.MCPURL + "?user_id=" + proxyUser

	execBody, _ := json.Marshal(map[string]any{"user_id": proxyUser, "arguments": map[string]any{}})
	legacyBody, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": mcpTool, "arguments": map[string]any{}}})
	currentBody, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": 1, "method": "tools/call",
		"params": map[string]any{"name": mcpTool, "arguments": map[string]any{}, "_meta": map[string]any{
			"io.modelcontextprotocol/protocolVersion":    "2026-07-28",
			"io.modelcontextprotocol/clientCapabilities": map[string]any{},
		}}})
	mcpHeader := func(version string, extra ...string) http.Header {
		h := http.Header{"X-Api-Key": {s.key}, "Content-Type": {"application/json"}, "Accept": {"application/json, text/event-stream"},
			"Mcp-Protocol-Version": {version}}
		for i := 0; i+1 < len(extra); i += 2 {
			h.Set(extra[i], extra[i+1])
		}
		return h
	}
	targets := []proxyTarget{
		{name: "POST /tools/execute", metric: "execute", method: "POST", url: s.pb.url("/api/v3.1/tools/execute/" + mcpTool),
			header: http.Header{"X-Api-Key": {s.key}, "Content-Type": {"application/json"}}, body: execBody, unwrap: unwrapExecute},
		{name: "MCP 2025-11-25", metric: "mcp_2025", method: "POST", url: endpoint, header: mcpHeader("2025-11-25"), body: legacyBody, unwrap: unwrapMCP},
		{name: "MCP 2026-07-28", metric: "mcp_2026", method: "POST", url: endpoint,
			header: mcpHeader("2026-07-28", "Mcp-Method", "tools/call", "Mcp-Name", mcpTool), body: currentBody, unwrap: unwrapMCP},
	}
	type way struct {
		proxyTarget
		g    *loadgen
		runs []loadResult
		cpu  []float64 // per measured run, patchbay's CPU µs per request
	}
	var ways []*way
	for _, t := range targets {
		w := &way{proxyTarget: t, g: newLoadgen(*mcpConcurrency)}
		defer w.g.close()
		if err := w.check(w.g.client, a.body); err != nil {
			b.Fatalf("%s: %v", w.name, err)
		}
		ways = append(ways, w)
	}

	if *mcpCPUProfile != "" {
		s.pb.cmd.Process.Signal(syscall.SIGUSR1) // start profiling
	}
	loadBefore := loadAverage()
	b.ResetTimer()
	for range *mcpRounds {
		for _, w := range ways {
			warm := w.g.runRequest(w.method, w.url, w.header, w.body, *mcpWarmup)
			c0 := mustProcCPU(b, s.pb.cmd.Process.Pid, false)
			r := w.g.runRequest(w.method, w.url, w.header, w.body, *mcpDuration)
			c1 := mustProcCPU(b, s.pb.cmd.Process.Pid, false)
			for _, r := range []loadResult{warm, r} {
				if r.failed > 0 {
					b.Fatalf("%s: %d of %d requests failed, the last with %s\n%s", w.name, r.failed, r.ok+r.failed, r.lastFail, s.pb.logTail())
				}
			}
			w.runs = append(w.runs, r)
			w.cpu = append(w.cpu, micros(c1-c0)/float64(max(r.ok, 1)))
		}
	}
	b.StopTimer()
	if *mcpCPUProfile != "" {
		s.pb.stop() // writes the profile
	}

	sums := make([]readSummary, len(ways))
	for i, w := range ways {
		sums[i] = summarize(w.runs)
	}
	var out strings.Builder
	fmt.Fprintf(&out, "\nBenchmarkMCPToolsCall: %s to a local app (%d-byte JSON, bearer token checked), on loopback, %d CPUs shared by all\n", mcpTool, len(a.body), runtime.NumCPU())
	fmt.Fprintf(&out, "patchbay on SQLite with %d other connected accounts (%d users); concurrency %d, %d rounds of %v (each after %v warm-up) per way, alternating; medians:\n",
		s.others, s.users, *mcpConcurrency, *mcpRounds, *mcpDuration, *mcpWarmup)
	fmt.Fprintf(&out, "  %-20s %9s %8s %8s │ %9s │ %s\n", "way", "req/s", "p50 µs", "p99 µs", "/execute", "patchbay CPU µs per request")
	exec := sums[0]
	met, total := 0, 0
	for i, w := range ways {
		ratio := "—"
		if i > 0 {
			ratio = fmt.Sprintf("%.3f", sums[i].rps/exec.rps)
		}
		fmt.Fprintf(&out, "  %-20s %9.0f %8.0f %8.0f │ %9s │ %8.0f\n", w.name, sums[i].rps, sums[i].p50, sums[i].p99, ratio, median(w.cpu))
	}
	for i, w := range ways[1:] {
		ratio := sums[i+1].rps / exec.rps
		total++
		if ratio >= mcpRatioTarget {
			met++
		}
		fmt.Fprintf(&out, "  %-16s tools/call throughput %.3f× POST /tools/execute's; target ≥ %.1f×: %s\n", w.name, ratio, mcpRatioTarget, verdict(ratio >= mcpRatioTarget))
		b.ReportMetric(ratio, w.metric+"/execute")
	}
	summary := fmt.Sprintf("BenchmarkMCPToolsCall: targets met: %d of %d; execute %.0f req/s, MCP %.0f req/s (%.3f×) at 2025-11-25, %.0f req/s (%.3f×) at 2026-07-28",
		met, total, exec.rps, sums[1].rps, sums[1].rps/exec.rps, sums[2].rps, sums[2].rps/exec.rps)
	fmt.Fprintf(&out, "  %s\n", summary)
	fmt.Fprintf(&out, "  machine load average before → after: %s → %s\n", loadBefore, loadAverage())
	fmt.Fprint(os.Stdout, out.String())
	b.Log(summary)

	b.ReportMetric(0, "ns/op") // one fixed measurement per call: ns/op means nothing
	for i, w := range ways {
		b.ReportMetric(sums[i].rps, w.metric+"_req/s")
		b.ReportMetric(sums[i].p50, w.metric+"_p50_µs")
		b.ReportMetric(sums[i].p99, w.metric+"_p99_µs")
		b.ReportMetric(median(w.cpu), w.metric+"_cpu_µs/req")
	}
}

// unwrapMCP takes the app's answer out of a tools/call's JSON-RPC answer:
// a result that is no tool error, successful, and its data.
func unwrapMCP(body []byte) ([]byte, error) {
	var out struct {
		Result *struct {
			IsError           bool `json:"isError"`
			StructuredContent struct {
				Successful bool            `json:"successful"`
				Error      *string         `json:"error"`
				Data       json.RawMessage `json:"data"`
			} `json:"structuredContent"`
		} `json:"result"`
		Error json.RawMessage `json:"error"`
	}
	if err := json.Unmarshal(body, &out); err != nil {
		return nil, err
	}
	switch {
	case out.Result == nil:
		return nil, fmt.Errorf("no result: error %s", out.Error)
	case out.Result.IsError || !out.Result.StructuredContent.Successful:
		return nil, fmt.Errorf("tool error: %s", str(out.Result.StructuredContent.Error))
	}
	return out.Result.StructuredContent.Data, nil
}
