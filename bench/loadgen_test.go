package bench

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"time"
)

// loadgen sends GET requests over keep-alive connections from a fixed
// number of workers, each sending its next request when the previous
// answer has been read (a closed loop).
type loadgen struct {
	client      *http.Client
	concurrency int
}

func newLoadgen(concurrency int) *loadgen {
	tr := &http.Transport{
		MaxIdleConns:        2 * concurrency,
		MaxIdleConnsPerHost: concurrency, // one connection per worker, kept alive
		MaxConnsPerHost:     concurrency,
		IdleConnTimeout:     time.Minute,
		DisableCompression:  true,
	}
	return &loadgen{client: &http.Client{Transport: tr, Timeout: 10 * time.Second}, concurrency: concurrency}
}

func (g *loadgen) close() { g.client.CloseIdleConnections() }

// loadResult is one measured run.
type loadResult struct {
	ok, failed int             // 200 answers; other statuses and transport errors
	elapsed    time.Duration   // wall time of the run
	latencies  []time.Duration // of the 200 answers, sorted
	lastFail   string
}

func (r loadResult) rps() float64 { return float64(r.ok) / r.elapsed.Seconds() }

// run sends GET url with header for d and returns what it saw.
func (g *loadgen) run(url string, header http.Header, d time.Duration) loadResult {
	return g.runRequest(http.MethodGet, url, header, nil, d)
}

// runRequest is run (loadgen_test.go) for any method and body: it sends
// method url with header and body for d from g's workers, each sending its
// next request when the previous answer has been read, and returns what it
// saw. A 200 counts as ok; anything else as failed.
func (g *loadgen) runRequest(method, url string, header http.Header, body []byte, d time.Duration) loadResult {
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	type worker struct {
		lat      []time.Duration
		failed   int
		lastFail string
	}
	ws := make([]worker, g.concurrency)
	var wg sync.WaitGroup
	start := time.Now()
	for i := range ws {
		w := &ws[i]
		w.lat = make([]time.Duration, 0, 1<<14)
		h := header.Clone()
		wg.Go(func() {
			for ctx.Err() == nil {
				var rb io.Reader
				if body != nil {
					rb = bytes.NewReader(body)
				}
				req, err := http.NewRequest(method, url, rb)
				if err != nil {
					w.failed++
					w.lastFail = err.Error()
					continue
				}
				req.Header = h
				t0 := time.Now()
				resp, err := g.client.Do(req)
				if err != nil {
					w.failed++
					w.lastFail = err.Error()
					continue
				}
				_, err = io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				lat := time.Since(t0)
				if err != nil || resp.StatusCode != http.StatusOK {
					w.failed++
					w.lastFail = resp.Status
					continue
				}
				w.lat = append(w.lat, lat)
			}
		})
	}
	wg.Wait()
	r := loadResult{elapsed: time.Since(start)}
	for _, w := range ws {
		r.latencies = append(r.latencies, w.lat...)
		r.failed += w.failed
		if w.lastFail != "" {
			r.lastFail = w.lastFail
		}
	}
	r.ok = len(r.latencies)
	slices.Sort(r.latencies)
	return r
}

// percentile returns the q-quantile (0 ≤ q ≤ 1) of sorted by the
// nearest-rank method, 0 for no samples.
func percentile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

// median returns the median of xs (the mean of the middle two for an even
// count), 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	n := len(s)
	if n%2 == 1 {
		return s[n/2]
	}
	return (s[n/2-1] + s[n/2]) / 2
}

// micros renders a duration in microseconds, the unit of the reports.
func micros(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
