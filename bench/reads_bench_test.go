package bench

import (
	"flag"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

var (
	readsConcurrency = flag.Int("reads.concurrency", 32, "concurrent keep-alive connections of the reads benchmark")
	readsDuration    = flag.Duration("reads.duration", 2*time.Second, "length of each measured run of the reads benchmark")
	readsWarmup      = flag.Duration("reads.warmup", 500*time.Millisecond, "unmeasured load before each measured run of the reads benchmark")
	readsRounds      = flag.Int("reads.rounds", 3, "measured runs per server and request, alternating bare and patchbay")
	readsAccounts    = flag.Int("reads.accounts", 1_000, "connected accounts seeded for the reads benchmark")
	readsUsers       = flag.Int("reads.users", 100, "distinct user ids the seeded accounts belong to")
	readsRowsFlag    = flag.String("reads.rows", "", "`REGEXP` choosing the requests measured by name (session_info, list_api_keys, list_accounts, get_account, get_auth_config, get_toolkit, client_info); empty for all")
)

// BenchmarkReads measures the read calls the SDKs make, each against bare
// net/http returning the same bytes, on each store: `patchbay serve` runs as
// a process (on a SQLite data dir, then on a fresh PostgreSQL schema when
// PATCHBAY_TEST_POSTGRES_URL is set), is seeded through the HTTP API (API
// keys, auth configs across four toolkits, reads.accounts connected accounts
// across them and reads.users users), and then, request by request, a bare
// server (bench/internal/bare) is started with the body patchbay returned,
// and both face the same keep-alive load generator in alternating rounds
// (bare, patchbay, bare, …). One table per store: req/s, p50, p99 of each
// (medians of the rounds), the throughput ratio and its target: ≥ 0.8 for
// session info and the toolkit, ≥ 0.5 for the others. client_info is a
// reference row, no headline: a cheap route no SDK calls.
//
// It prints and reports figures; it never fails on timing. Each invocation
// does one fixed-length measurement, whatever b.N is: run it with
// -benchtime=1x.
func BenchmarkReads(b *testing.B) {
	var only *regexp.Regexp
	if *readsRowsFlag != "" {
		var err error
		if only, err = regexp.Compile(*readsRowsFlag); err != nil {
			b.Fatalf("-reads.rows: %v", err)
		}
	}
	pbBin, bareBin := MustBuild(b)
	for _, store := range readsStores {
		b.Run(store, func(b *testing.B) { benchReads(b, store, pbBin, bareBin, only) })
	}
}

// readSummary is a server's figures for one request: medians of the rounds.
type readSummary struct{ rps, p50, p99 float64 }

func summarize(runs []loadResult) readSummary {
	var rps, p50, p99 []float64
	for _, r := range runs {
		rps = append(rps, r.rps())
		p50 = append(p50, micros(percentile(r.latencies, 0.50)))
		p99 = append(p99, micros(percentile(r.latencies, 0.99)))
	}
	return readSummary{median(rps), median(p50), median(p99)}
}

// readResult is one row of the table.
type readResult struct {
	row            readRow
	bytes          int
	patchbay, bare readSummary
}

func (r readResult) ratio() float64 { return r.patchbay.rps / r.bare.rps }

func benchReads(b *testing.B, store, pbBin, bareBin string, only *regexp.Regexp) {
	pb, key := mustStartStore(b, store, pbBin)
	g := newLoadgen(*readsConcurrency)
	defer g.close()
	c := &connClient{base: pb.url(""), key: key, http: g.client}
	t0 := time.Now()
	d := seedReads(b, c, readsSize{accounts: *readsAccounts, users: *readsUsers})
	seeded := time.Since(t0)

	authed := http.Header{"X-Api-Key": {key}}
	loadBefore := loadAverage()
	var results []readResult
	b.ResetTimer()
	for _, row := range readRows(d) {
		if only != nil && !only.MatchString(row.metric) {
			continue
		}
		results = append(results, measureRead(b, g, pb, bareBin, authed, row))
	}
	b.StopTimer()
	if len(results) == 0 {
		b.Fatalf("-reads.rows=%q matches no request", *readsRowsFlag)
	}

	var out strings.Builder
	fmt.Fprintf(&out, "\nBenchmarkReads, %s: %d connected accounts (%d auth configs over %d toolkits, %d users), %d API keys, seeded through the API in %v\n",
		store, len(d.accounts), len(d.configs), len(readsToolkits), d.users, d.keys, seeded.Round(time.Millisecond))
	fmt.Fprintf(&out, "%d connections, %d rounds of %v (each after %v warm-up) per server and request, alternating bare and patchbay; medians:\n",
		*readsConcurrency, *readsRounds, *readsDuration, *readsWarmup)
	width := len("request")
	for _, r := range results {
		width = max(width, len(r.row.route))
	}
	fmt.Fprintf(&out, "  %-*s %6s │ %-25s │ %-25s │\n", width, "", "", "patchbay", "bare")
	fmt.Fprintf(&out, "  %-*s %6s │ %9s %7s %7s │ %9s %7s %7s │ %6s %6s  %s\n", width, "request", "bytes", "req/s", "p50 µs", "p99 µs", "req/s", "p50 µs", "p99 µs", "ratio", "target", "verdict")
	met, headline := 0, 0
	var worst *readResult
	for i, r := range results {
		target, v := "ref", "reference, not a headline figure"
		if r.row.target > 0 {
			target, v = fmt.Sprintf("≥ %.1f", r.row.target), verdict(r.ratio() >= r.row.target)
			headline++
			if r.ratio() >= r.row.target {
				met++
			}
			if worst == nil || r.ratio() < worst.ratio() {
				worst = &results[i]
			}
		}
		fmt.Fprintf(&out, "  %-*s %6d │ %9.0f %7.0f %7.0f │ %9.0f %7.0f %7.0f │ %6.3f %6s  %s\n", width, r.row.route, r.bytes,
			r.patchbay.rps, r.patchbay.p50, r.patchbay.p99, r.bare.rps, r.bare.p50, r.bare.p99, r.ratio(), target, v)
		b.ReportMetric(r.ratio(), r.row.metric+"_patchbay/bare")
		b.ReportMetric(r.patchbay.rps, r.row.metric+"_patchbay_req/s")
	}
	summary := "no SDK read measured"
	if worst != nil {
		summary = fmt.Sprintf("%s: SDK reads meeting their target: %d of %d; lowest ratio %.3f (%s)", store, met, headline, worst.ratio(), worst.row.route)
	}
	fmt.Fprintf(&out, "  %s\n", summary)
	// Other work on the machine skews both servers' figures; the 1-minute
	// load average says whether there was any.
	fmt.Fprintf(&out, "  machine load average before → after: %s → %s\n", loadBefore, loadAverage())
	// The testing package keeps only the first 10 lines of a benchmark's
	// log, so the table goes to stdout and the log gets the summary.
	fmt.Fprint(os.Stdout, out.String())
	b.Log(summary)
	b.ReportMetric(0, "ns/op") // one fixed measurement per call: ns/op means nothing
}

// measureRead checks patchbay's answer to row, starts a bare server with
// those bytes, and drives the two alternately.
func measureRead(b *testing.B, g *loadgen, pb *server, bareBin string, authed http.Header, row readRow) readResult {
	body := mustGet(b, g.client, pb.url(row.path), authed)
	if err := row.check(body); err != nil {
		b.Fatalf("%s: %v\n%s", row.route, err, clip(body))
	}
	bodyFile := filepath.Join(b.TempDir(), "body.json")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		b.Fatal(err)
	}
	bare := MustStart(b, "bare-"+row.metric, bareBin, "--body", bodyFile)
	defer func() {
		g.client.CloseIdleConnections()
		bare.stop()
	}()
	targets := []struct {
		srv    *server
		header http.Header
		runs   []loadResult
	}{
		{srv: bare},
		{srv: pb, header: authed},
	}
	for range *readsRounds {
		for i := range targets {
			t := &targets[i]
			url := t.srv.url(row.path)
			g.run(url, t.header, *readsWarmup)
			r := g.run(url, t.header, *readsDuration)
			if r.failed > 0 {
				b.Fatalf("%s on %s: %d of %d requests failed, the last with %s\n%s",
					row.route, t.srv.name, r.failed, r.ok+r.failed, r.lastFail, t.srv.logTail())
			}
			t.runs = append(t.runs, r)
		}
	}
	return readResult{row: row, bytes: len(body), bare: summarize(targets[0].runs), patchbay: summarize(targets[1].runs)}
}
