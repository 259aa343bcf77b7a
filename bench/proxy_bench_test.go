package bench

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

var (
	proxyConcurrency  = flag.Int("proxy.concurrency", 32, "concurrent keep-alive connections of the proxy benchmark")
	proxyDuration     = flag.Duration("proxy.duration", 2*time.Second, "length of each measured run of the proxy benchmark")
	proxyWarmup       = flag.Duration("proxy.warmup", 500*time.Millisecond, "unmeasured load before each measured run of the proxy benchmark")
	proxyRounds       = flag.Int("proxy.rounds", 3, "measured runs per path of the proxy benchmark, alternating the paths")
	proxyAccounts     = flag.Int("proxy.accounts", 1_000, "other connected accounts seeded for the proxy benchmark (a tenth GitHub, the rest over four API-key toolkits)")
	proxyUsers        = flag.Int("proxy.users", 100, "distinct user ids of the other connected accounts")
	proxyNginxWorkers = flag.String("proxy.nginx-workers", "auto", "nginx's worker_processes in the proxy benchmark")
	proxyLatency      = flag.Duration("proxy.latency", time.Second, "length of each run of one connection, one request at a time, that measures the latency each way adds")
	proxyCPUProfile   = flag.String("proxy.cpuprofile", "", "write a CPU profile of patchbay during its rounds to `FILE` (patchbay then runs as bench/internal/pbprof: the same server, profiled)")
)

// Targets of BenchmarkProxy.
const (
	proxyAddedP50Target = 1000.0 // µs patchbay may add to the direct call's p50
	proxyRatioTarget    = 0.8    // patchbay/nginx throughput
	proxyRSSTarget      = 150.0  // MB, patchbay's peak resident set
)

// BenchmarkProxy measures what patchbay costs in front of an app. One fast
// local app (bench/internal/upstream: a fixed 1 KB JSON body, 401 without
// its bearer token) is called six ways under the same keep-alive load, in
// alternating rounds (direct, nginx, the two floors, proxy, execute,
// direct, …): directly with the token; through nginx (a child process with
// a generated config injecting the token, HTTP/1.1 keep-alive to the app);
// through the least Go proxy on net/http (bench/internal/goproxy: its
// server and client and nothing else, the floor of any proxy built on
// them, patchbay included) and on valyala/fasthttp
// (bench/internal/fastproxy, for comparison); through patchbay's
// proxy (POST /api/v3.1/tools/execute/proxy); and through tool execution
// (POST /api/v3.1/tools/execute/GITHUB_GET_THE_AUTHENTICATED_USER by
// user_id). `patchbay serve` runs as a process on SQLite with GitHub's base
// URL pointed at the app, seeded through the HTTP API with
// -proxy.accounts other connected accounts. Each way is checked once
// to return the app's body (patchbay's with the token it injected) before
// the load.
//
// One table on stdout: req/s, p50, p99 of each way (medians of the rounds),
// the latency patchbay adds to the direct call, patchbay/nginx throughput,
// the CPU time per request of the load generator, the proxy (nginx's
// workers, patchbay) and the app, which other work on the machine skews
// much less than the rates, patchbay's resident memory under the load, and
// the app's accepted TCP connections per way (keep-alive reuse: about the
// concurrency, not the request count). Targets: added p50 ≤ 1 ms,
// throughput ≥ 0.8× nginx, RSS ≤ 150 MB. It skips without nginx at
// /usr/sbin/nginx (apt-get install -y nginx) and never fails on timing.
// Each invocation does one fixed-length measurement, whatever b.N is: run
// it with -benchtime=1x.
func BenchmarkProxy(b *testing.B) {
	if _, err := os.Stat(nginxBin); err != nil {
		b.Skipf("BenchmarkProxy compares patchbay with nginx, and %s is missing (apt-get install -y nginx): %v", nginxBin, err)
	}
	bins := mustBuildProxy(b, *proxyCPUProfile != "")
	a := mustStartApp(b, bins.upstream)
	mustCheckApp(b, a)
	ngx := mustStartNginx(b, a, *proxyNginxWorkers)
	floors := []*server{
		MustStart(b, "goproxy", bins.goproxy, "--upstream", a.url(""), "--token", a.token),
		MustStart(b, "fastproxy", bins.fastproxy, "--upstream", a.url(""), "--token", a.token),
	}
	s := mustStartPatchbay(b, bins, *proxyCPUProfile, a, *proxyAccounts, *proxyUsers)

	// One load generator per way, so that each keeps its own connections
	// alive across the rounds.
	type way struct {
		proxyTarget
		g        *loadgen
		pid      int  // the proxy's process, 0 for none
		children bool // count the CPU of pid's children too (nginx's workers)
		patchbay bool
		runs     []loadResult
		cpu      [3][]float64  // per measured run, CPU µs per request of the client, the proxy and the app
		sent     int64         // requests sent: the check and its rounds, warm-ups included
		app      upstreamStats // the app's counters over the same
	}
	var ways []*way
	for _, t := range proxyTargets(a, ngx, floors, s) {
		w := &way{proxyTarget: t, g: newLoadgen(*proxyConcurrency)}
		switch {
		case t.metric == "nginx":
			w.pid, w.children = ngx.cmd.Process.Pid, true
		case floorNames[t.metric] != "":
			for _, f := range floors {
				if f.name == t.metric {
					w.pid = f.cmd.Process.Pid
				}
			}
		case strings.HasPrefix(t.name, "patchbay"):
			w.pid, w.patchbay = s.pb.cmd.Process.Pid, true
		}
		defer w.g.close()
		before := a.mustStats(b)
		if err := w.check(w.g.client, a.body); err != nil {
			b.Fatalf("%s: %v", w.name, err)
		}
		// The check opens the way's first connection: it counts with the
		// rounds.
		w.app = a.mustStats(b).minus(before)
		w.sent = 1
		ways = append(ways, w)
	}
	if *proxyCPUProfile != "" {
		s.pb.cmd.Process.Signal(syscall.SIGUSR1) // start profiling
	}

	var (
		peakRSS  int64 // the largest VmRSS sampled during patchbay's runs
		sampleMu sync.Mutex
	)
	sample := func(ctx context.Context) {
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			if m, err := s.pb.memory(); err == nil {
				sampleMu.Lock()
				peakRSS = max(peakRSS, m.RSS)
				sampleMu.Unlock()
			}
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
		}
	}
	// cpu reads the CPU time used so far by this process (the load
	// generator), w's proxy and the app.
	cpu := func(w *way) (c [3]time.Duration) {
		c[0] = selfCPU()
		if w.pid != 0 {
			c[1] = mustProcCPU(b, w.pid, w.children)
		}
		c[2] = mustProcCPU(b, a.cmd.Process.Pid, false)
		return c
	}
	loadBefore := loadAverage()
	b.ResetTimer()
	for range *proxyRounds {
		for _, w := range ways {
			before := a.mustStats(b)
			warm := w.g.runRequest(w.method, w.url, w.header, w.body, *proxyWarmup)
			ctx, stop := context.WithCancel(context.Background())
			var sampled sync.WaitGroup
			if w.patchbay {
				sampled.Go(func() { sample(ctx) })
			}
			c0 := cpu(w)
			r := w.g.runRequest(w.method, w.url, w.header, w.body, *proxyDuration)
			c1 := cpu(w)
			stop()
			sampled.Wait()
			d := a.mustStats(b).minus(before)
			for _, r := range []loadResult{warm, r} {
				if r.failed > 0 {
					b.Fatalf("%s: %d of %d requests failed, the last with %s\n%s", w.name, r.failed, r.ok+r.failed, r.lastFail, s.pb.logTail())
				}
			}
			if d.Unauthorized > 0 {
				b.Fatalf("%s: the app refused %d of %d requests for a missing or wrong token", w.name, d.Unauthorized, d.Requests)
			}
			w.runs = append(w.runs, r)
			for i := range c1 {
				w.cpu[i] = append(w.cpu[i], micros(c1[i]-c0[i])/float64(max(r.ok, 1)))
			}
			w.sent += int64(warm.ok + r.ok)
			w.app.Accepted += d.Accepted
			w.app.Requests += d.Requests
		}
	}
	// The latency patchbay adds, measured without the queueing of a
	// saturated machine: one connection per way, one request at a time,
	// alternating rounds as above.
	lat := make([][]loadResult, len(ways))
	if *proxyLatency > 0 {
		single := make([]*loadgen, len(ways))
		for i := range ways {
			single[i] = newLoadgen(1)
			defer single[i].close()
		}
		for range *proxyRounds {
			for i, w := range ways {
				single[i].runRequest(w.method, w.url, w.header, w.body, *proxyWarmup/5)
				r := single[i].runRequest(w.method, w.url, w.header, w.body, *proxyLatency)
				if r.failed > 0 {
					b.Fatalf("%s, one at a time: %d of %d requests failed, the last with %s", w.name, r.failed, r.ok+r.failed, r.lastFail)
				}
				lat[i] = append(lat[i], r)
			}
		}
	}
	b.StopTimer()
	loadAfter := loadAverage()
	pbMem, err := s.pb.memory()
	if err != nil {
		b.Fatal(err)
	}
	profileNote := ""
	if *proxyCPUProfile != "" {
		s.pb.stop() // writes the profile
		profileNote = fmt.Sprintf("  patchbay ran as bench/internal/pbprof, CPU-profiled through its rounds: go tool pprof -top %s\n", *proxyCPUProfile)
	}

	sums := make([]readSummary, len(ways))
	for i, w := range ways {
		sums[i] = summarize(w.runs)
	}
	direct, nginxSum := sums[0], sums[1]
	var out strings.Builder
	fmt.Fprintf(&out, "\nBenchmarkProxy: GET /x of a local app (%d-byte JSON, bearer token checked), six ways, on loopback, %d CPUs shared by all\n", len(a.body), runtime.NumCPU())
	fmt.Fprintf(&out, "patchbay on SQLite with %d other connected accounts (%d users; GitHub and four API-key toolkits), seeded through the API in %v; nginx with worker_processes %s (%d workers)\n",
		s.others, s.users, s.seeded.Round(time.Millisecond), *proxyNginxWorkers, len(procChildren(ngx.cmd.Process.Pid)))
	fmt.Fprintf(&out, "concurrency %d (keep-alive connections, one load generator per way), %d rounds of %v (each after %v warm-up) per way, alternating; medians:\n",
		*proxyConcurrency, *proxyRounds, *proxyDuration, *proxyWarmup)
	fmt.Fprintf(&out, "  %-17s %9s %8s %8s │ %-19s │ %-7s │ %-26s │ %s\n", "", "", "", "", "added to direct's", "req/s", "CPU µs per request", "the app's counts")
	fmt.Fprintf(&out, "  %-17s %9s %8s %8s │ %9s %9s │ %7s │ %8s %8s %8s │ %9s %9s\n", "way", "req/s", "p50 µs", "p99 µs",
		"p50 µs", "p99 µs", "/nginx", "client", "proxy", "app", "new conns", "requests")
	for i, w := range ways {
		sm := sums[i]
		added50, added99, ratio, proxyCPU := "—", "—", "—", "—"
		if i > 0 {
			added50, added99 = fmt.Sprintf("%+.0f", sm.p50-direct.p50), fmt.Sprintf("%+.0f", sm.p99-direct.p99)
			proxyCPU = fmt.Sprintf("%.0f", median(w.cpu[1]))
		}
		if i > 1 {
			ratio = fmt.Sprintf("%.3f", sm.rps/nginxSum.rps)
		}
		fmt.Fprintf(&out, "  %-17s %9.0f %8.0f %8.0f │ %9s %9s │ %7s │ %8.0f %8s %8.0f │ %9d %9d\n", w.name, sm.rps, sm.p50, sm.p99,
			added50, added99, ratio, median(w.cpu[0]), proxyCPU, median(w.cpu[2]), w.app.Accepted, w.app.Requests)
	}
	met, total := 0, 0
	target := func(format string, ok bool, args ...any) {
		total++
		if ok {
			met++
		}
		fmt.Fprintf(&out, "  "+format+": %s\n", append(args, verdict(ok))...)
	}
	if *proxyLatency > 0 {
		single := make([]readSummary, len(ways))
		for i := range ways {
			single[i] = summarize(lat[i])
		}
		fmt.Fprintf(&out, "  one connection, one request at a time (%d rounds of %v per way, alternating; medians):\n", *proxyRounds, *proxyLatency)
		fmt.Fprintf(&out, "  %-17s %9s %8s %8s │ %9s %9s\n", "way", "req/s", "p50 µs", "p99 µs", "+p50 µs", "+p99 µs")
		for i, w := range ways {
			added50, added99 := "—", "—"
			if i > 0 {
				added50, added99 = fmt.Sprintf("%+.0f", single[i].p50-single[0].p50), fmt.Sprintf("%+.0f", single[i].p99-single[0].p99)
			}
			fmt.Fprintf(&out, "  %-17s %9.0f %8.0f %8.0f │ %9s %9s\n", w.name, single[i].rps, single[i].p50, single[i].p99, added50, added99)
		}
		for i, w := range ways {
			if !w.patchbay {
				continue
			}
			added := single[i].p50 - single[0].p50
			target("%-16s adds %5.0f µs to the p50 of a call (%+.0f µs to the p99), one request at a time; target ≤ %.0f µs", added <= proxyAddedP50Target, w.name, added, single[i].p99-single[0].p99, proxyAddedP50Target)
			b.ReportMetric(added, w.metric+"_added_p50_µs")
			b.ReportMetric(single[i].p99-single[0].p99, w.metric+"_added_p99_µs")
		}
	}
	for i, w := range ways {
		if !w.patchbay {
			continue
		}
		// Under the load, latency is mostly queueing for the two cores:
		// reported, not a target.
		fmt.Fprintf(&out, "  %-16s adds %5.0f µs to the p50 (%+.0f µs to the p99) at concurrency %d, the machine saturated (the net/http floor: %+.0f µs)\n",
			w.name, sums[i].p50-direct.p50, sums[i].p99-direct.p99, *proxyConcurrency, sums[2].p50-direct.p50)
		b.ReportMetric(sums[i].p50-direct.p50, w.metric+"_loaded_added_p50_µs")
	}
	for i, w := range ways {
		if !w.patchbay {
			continue
		}
		ratio := sums[i].rps / nginxSum.rps
		target("%-16s throughput %.3f× nginx's (net/http floor %.3f×, fasthttp floor %.3f×); target ≥ %.1f×", ratio >= proxyRatioTarget, w.name, ratio,
			sums[2].rps/nginxSum.rps, sums[3].rps/nginxSum.rps, proxyRatioTarget)
		b.ReportMetric(ratio, w.metric+"/nginx")
	}
	peak := max(pbMem.HWM, peakRSS)
	target("patchbay RSS under the load: VmRSS %.1f MB at the end (%s), at most %.1f MB sampled during its runs, VmHWM %.1f MB (the peak, seeding included); target ≤ %.0f MB (the larger of the last two)",
		mb(peak) <= proxyRSSTarget, mb(pbMem.RSS), rssParts(s.pb.cmd.Process.Pid), mb(peakRSS), mb(pbMem.HWM), proxyRSSTarget)
	// Keep-alive: each way's client keeps its connections across rounds,
	// so the app should accept about the concurrency for each, once.
	var pbAccepted, pbRequests int64
	for _, w := range ways {
		if w.patchbay {
			pbAccepted += w.app.Accepted
			pbRequests += w.app.Requests
		}
		if w.app.Requests != w.sent {
			fmt.Fprintf(&out, "  note: %s sent %d requests, the app answered %d\n", w.name, w.sent, w.app.Requests)
		}
	}
	fmt.Fprintf(&out, "  keep-alive to the app: for patchbay's calls (the checks, then its rounds with warm-ups) the app accepted %d TCP connections for %d requests, at concurrency %d (proxy and execute share patchbay's pool)\n",
		pbAccepted, pbRequests, *proxyConcurrency)
	summary := fmt.Sprintf("BenchmarkProxy: targets met: %d of %d; patchbay proxy %.0f req/s (%.3f× nginx), +%.0f µs p50 over direct",
		met, total, sums[2+len(floors)].rps, sums[2+len(floors)].rps/nginxSum.rps, sums[2+len(floors)].p50-direct.p50)
	fmt.Fprintf(&out, "  %s\n", summary)
	out.WriteString(profileNote)
	// Other work on the machine skews every way's figures; the 1-minute
	// load average says whether there was any.
	fmt.Fprintf(&out, "  machine load average before → after: %s → %s\n", loadBefore, loadAfter)
	fmt.Fprint(os.Stdout, out.String())
	b.Log(summary)

	b.ReportMetric(0, "ns/op") // one fixed measurement per call: ns/op means nothing
	for i, w := range ways {
		b.ReportMetric(sums[i].rps, w.metric+"_req/s")
		b.ReportMetric(sums[i].p50, w.metric+"_p50_µs")
		b.ReportMetric(sums[i].p99, w.metric+"_p99_µs")
		if w.pid != 0 {
			b.ReportMetric(median(w.cpu[1]), w.metric+"_cpu_µs/req")
		}
	}
	b.ReportMetric(mb(pbMem.HWM), "patchbay_VmHWM_MB")
	b.ReportMetric(mb(peakRSS), "patchbay_VmRSS_load_MB")
	b.ReportMetric(float64(pbAccepted), "patchbay_app_conns")
}

// rssParts says how a process's resident set divides: anonymous memory
// (the Go heap, stacks, SQLite's own allocations) and file pages (the
// binary, the mapped database), from /proc/PID/status.
func rssParts(pid int) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return "?"
	}
	var parts []string
	for _, line := range strings.Split(string(b), "\n") {
		name, value, _ := strings.Cut(line, ":")
		if name != "RssAnon" && name != "RssFile" {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err == nil {
			parts = append(parts, fmt.Sprintf("%s %.1f MB", strings.TrimPrefix(name, "Rss"), mb(kb<<10)))
		}
	}
	return strings.Join(parts, ", ")
}

// selfCPU is the CPU time (user and system) this process has used.
func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// mustProcCPU is the CPU time (user and system) process pid has used,
// with children that of its running children too.
func mustProcCPU(tb testing.TB, pid int, children bool) time.Duration {
	tb.Helper()
	_, t, err := procStat(strconv.Itoa(pid))
	if err != nil {
		tb.Fatal(err)
	}
	if children {
		for _, c := range procChildren(pid) {
			if _, ct, err := procStat(strconv.Itoa(c)); err == nil {
				t += ct
			}
		}
	}
	return t
}

// procChildren lists the running processes whose parent is pid.
func procChildren(pid int) []int {
	ents, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range ents {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if ppid, _, err := procStat(e.Name()); err == nil && ppid == pid {
			out = append(out, c)
		}
	}
	return out
}

// procStat reads a process's parent and CPU time from /proc/PID/stat,
// whose times are in USER_HZ ticks, 100 a second on Linux.
func procStat(pid string) (ppid int, cpu time.Duration, err error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, 0, err
	}
	// "PID (COMM) STATE PPID … UTIME STIME …": COMM may hold spaces and
	// parentheses, so the fields are counted after the last ')'.
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0, 0, fmt.Errorf("/proc/%s/stat: no command name", pid)
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0, 0, fmt.Errorf("/proc/%s/stat: %d fields", pid, len(f))
	}
	ppid, err = strconv.Atoi(f[1])
	if err != nil {
		return 0, 0, err
	}
	var ticks int64
	for _, v := range f[11:13] { // utime, stime: fields 14 and 15
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return 0, 0, err
		}
		ticks += n
	}
	return ppid, time.Duration(ticks) * (time.Second / 100), nil
}
