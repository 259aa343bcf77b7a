package httpserver_test

import (
	"fmt"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/httpserver"
)

// stepClock advances by step at every reading, so every request lasts
// exactly step (outer reads it once at the start and once at the end).
func stepClock(step time.Duration) func() time.Time {
	var n atomic.Int64
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { return t0.Add(time.Duration(n.Add(1)) * step) }
}

func TestMetrics(t *testing.T) {
	f := newFixture(t, httpserver.Config{Now: stepClock(5 * time.Millisecond)})
	f.do(t, "GET", "/a/items", "")
	f.do(t, "GET", "/a/items?x=1", "")
	f.do(t, "HEAD", "/a/items", "")
	f.do(t, "GET", "/a/items/1", "") // one series for every id
	f.do(t, "GET", "/a/items/2", "")
	f.do(t, "GET", "/a/items/ak_"+strings.Repeat("Z", 33), "")
	f.do(t, "DELETE", "/a/items/3", "")
	f.do(t, "GET", "/b/items", "")
	f.do(t, "GET", "/b/fail", "")
	f.do(t, "GET", "/a/panic", "")
	f.do(t, "GET", "/a/project", "")
	f.do(t, "PUT", "/a/items", "")    // 405: no route matched
	f.do(t, "GET", "/a/nope", "")     // 404 in a surface
	f.do(t, "GET", "/b/nope/1", "")   // 404 in another
	f.do(t, "GET", "/nowhere/9", "")  // the fallback
	f.do(t, "GET", "/elsewhere", "")  // the fallback
	f.do(t, "POST", "/a/items", "{}") // 200

	want := map[string]float64{
		`code="200",route="DELETE /a/items/{id}"`: 1,
		`code="200",route="GET /a/items"`:         3,
		`code="200",route="GET /b/items"`:         1,
		`code="200",route="POST /a/items"`:        1,
		`code="400",route="GET /b/fail"`:          1,
		`code="401",route="GET /a/project"`:       1,
		`code="404",route="GET /a/items/{id}"`:    3,
		`code="404",route="unmatched"`:            4,
		`code="405",route="unmatched"`:            1,
		`code="500",route="GET /a/panic"`:         1,
	}
	mfs, err := f.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "patchbay_http_requests_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() { // sorted by name
				labels = append(labels, fmt.Sprintf("%s=%q", l.GetName(), l.GetValue()))
			}
			got[strings.Join(labels, ",")] = m.GetCounter().GetValue()
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("patchbay_http_requests_total:\n got %v\nwant %v", got, want)
	}

	// The latency histogram: one observation per request, of exactly 5ms
	// here, under the same route labels.
	counts := map[string]uint64{}
	var total uint64
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != "patchbay_http_request_duration_seconds" {
			continue
		}
		for _, m := range mf.GetMetric() {
			h := m.GetHistogram()
			for _, l := range m.GetLabel() {
				if l.GetName() == "route" {
					counts[l.GetValue()] += h.GetSampleCount()
				}
			}
			total += h.GetSampleCount()
			sum += h.GetSampleSum()
		}
	}
	if total != 17 || counts["GET /a/items"] != 3 || counts["GET /a/items/{id}"] != 3 || counts["unmatched"] != 5 {
		t.Errorf("histogram counts %v (total %d), want 17 requests by route", counts, total)
	}
	if d := sum - 17*0.005; d > 1e-9 || d < -1e-9 {
		t.Errorf("histogram sum %v, want 17 × 5ms", sum)
	}

	// The scrape, as Prometheus reads it.
	rec := httptest.NewRecorder()
	f.metrics.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	text := rec.Body.String()
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("scrape content type %q", ct)
	}
	for _, line := range []string{
		`patchbay_http_requests_total{code="200",route="GET /a/items"} 3`,
		`patchbay_http_requests_total{code="404",route="unmatched"} 4`,
		`patchbay_http_request_duration_seconds_count{route="GET /a/items/{id}"} 3`,
		`patchbay_http_request_duration_seconds_bucket{route="unmatched",le="+Inf"} 5`,
	} {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("scrape lacks %s:\n%s", line, text)
		}
	}
	// Paths never become labels: no ids, no keys.
	for _, leak := range []string{"/a/items/1", "/a/items/2", "ZZZZ", "/nowhere", "/elsewhere", "x=1"} {
		if strings.Contains(text, leak) {
			t.Errorf("the scrape carries %q", leak)
		}
	}
}
