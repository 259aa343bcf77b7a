package bench

import (
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

var (
	// An authenticated GET answered from the verified key alone, so the
	// comparison measures patchbay's per-request cost (key check, request
	// ID, access log, JSON) rather than a query.
	loadPath        = flag.String("load.path", "/api/v1/client/auth/client_info", "authenticated `PATH` the load benchmark requests from patchbay")
	loadConcurrency = flag.Int("load.concurrency", 32, "concurrent keep-alive connections of the load benchmark")
	loadDuration    = flag.Duration("load.duration", 3*time.Second, "length of each measured load run")
	loadWarmup      = flag.Duration("load.warmup", time.Second, "unmeasured load before each measured run")
	loadRounds      = flag.Int("load.rounds", 5, "measured runs per server, alternating bare and patchbay")
	loadAccessLog   = flag.Bool("load.access-log", false, "run patchbay with its access log (off, the default of patchbay serve)")
)

// BenchmarkLoad measures how much of bare net/http's throughput patchbay
// keeps on an authenticated GET. Both run as their own processes on
// loopback and face the same load generator, in alternating rounds (bare,
// patchbay, bare, …) so drift in the machine affects both; the reported
// figures are the medians of the rounds. It also reports patchbay's resident
// memory after the load. Target: patchbay/bare throughput ≥ 0.9, peak RSS
// ≤ 100 MB.
//
// Each invocation does one fixed-length measurement, whatever b.N is: run it
// with -benchtime=1x.
func BenchmarkLoad(b *testing.B) {
	pbBin, bareBin := MustBuild(b)
	dataDir := filepath.Join(b.TempDir(), "data")
	key := MustCreateKey(b, pbBin, dataDir)
	pb := MustStart(b, "patchbay", pbBin, "serve", "--data-dir", dataDir, fmt.Sprintf("--access-log=%t", *loadAccessLog))

	g := newLoadgen(*loadConcurrency)
	defer g.close()
	authed := http.Header{"X-Api-Key": {key}}
	body := mustGet(b, g.client, pb.url(*loadPath), authed)
	bodyFile := filepath.Join(b.TempDir(), "body.json")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		b.Fatal(err)
	}
	bare := MustStart(b, "bare", bareBin, "--body", bodyFile)

	targets := []struct {
		srv    *server
		url    string
		header http.Header
		runs   []loadResult
	}{
		{srv: bare, url: bare.url(*loadPath)},
		{srv: pb, url: pb.url(*loadPath), header: authed},
	}
	loadBefore := loadAverage()
	b.ResetTimer()
	for range *loadRounds {
		for i := range targets {
			t := &targets[i]
			g.run(t.url, t.header, *loadWarmup)
			r := g.run(t.url, t.header, *loadDuration)
			if r.failed > 0 {
				b.Fatalf("%s: %d of %d requests failed, the last with %s\n%s", t.srv.name, r.failed, r.ok+r.failed, r.lastFail, t.srv.logTail())
			}
			t.runs = append(t.runs, r)
		}
	}
	b.StopTimer()

	type summary struct{ rps, p50, p99 float64 }
	sum := func(runs []loadResult) summary {
		var rps, p50, p99 []float64
		for _, r := range runs {
			rps = append(rps, r.rps())
			p50 = append(p50, micros(percentile(r.latencies, 0.50)))
			p99 = append(p99, micros(percentile(r.latencies, 0.99)))
		}
		return summary{median(rps), median(p50), median(p99)}
	}
	bs, ps := sum(targets[0].runs), sum(targets[1].runs)
	ratio := ps.rps / bs.rps
	pbMem, err := pb.memory()
	if err != nil {
		b.Fatal(err)
	}
	bareMem, err := bare.memory()
	if err != nil {
		b.Fatal(err)
	}

	var out strings.Builder
	fmt.Fprintf(&out, "GET %s, %d bytes, %d connections, %d rounds of %v (after %v warm-up), medians:\n",
		*loadPath, len(body), *loadConcurrency, *loadRounds, *loadDuration, *loadWarmup)
	fmt.Fprintf(&out, "  %-9s %10s %10s %10s %11s %11s\n", "server", "req/s", "p50 µs", "p99 µs", "VmHWM MB", "VmRSS MB")
	for _, row := range []struct {
		name string
		s    summary
		m    memory
	}{{"bare", bs, bareMem}, {"patchbay", ps, pbMem}} {
		fmt.Fprintf(&out, "  %-9s %10.0f %10.0f %10.0f %11.1f %11.1f\n", row.name, row.s.rps, row.s.p50, row.s.p99, mb(row.m.HWM), mb(row.m.RSS))
	}
	fmt.Fprintf(&out, "  patchbay/bare throughput: %.3f (target ≥ 0.9: %s)\n", ratio, verdict(ratio >= 0.9))
	fmt.Fprintf(&out, "  patchbay peak RSS: %.1f MB (target ≤ 100 MB: %s)\n", mb(pbMem.HWM), verdict(mb(pbMem.HWM) <= 100))
	// Other work on the machine skews both servers' figures; the 1-minute
	// load average says whether there was any.
	fmt.Fprintf(&out, "  machine load average before → after: %s → %s", loadBefore, loadAverage())
	b.Log(out.String())

	b.ReportMetric(0, "ns/op") // one fixed measurement per call: ns/op means nothing
	b.ReportMetric(bs.rps, "bare_req/s")
	b.ReportMetric(ps.rps, "patchbay_req/s")
	b.ReportMetric(ratio, "patchbay/bare")
	b.ReportMetric(bs.p50, "bare_p50_µs")
	b.ReportMetric(bs.p99, "bare_p99_µs")
	b.ReportMetric(ps.p50, "patchbay_p50_µs")
	b.ReportMetric(ps.p99, "patchbay_p99_µs")
	b.ReportMetric(mb(pbMem.HWM), "patchbay_VmHWM_MB")
	b.ReportMetric(mb(pbMem.RSS), "patchbay_VmRSS_MB")
}

// mustGet returns the body of a 200 answer to GET url.
func mustGet(tb testing.TB, c *http.Client, url string, header http.Header) []byte {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	req.Header = header
	resp, err := c.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("GET %s: %s: %s", url, resp.Status, body)
	}
	return body
}

// loadAverage is the machine's 1-minute load average, "?" if unknown.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}

func mb(bytes int64) float64 { return float64(bytes) / (1 << 20) }

func verdict(met bool) string {
	if met {
		return "met"
	}
	return "NOT MET"
}
