package httpserver

import (
	"strconv"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestRenderCache(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := NewRenderCache(1000, reg)
	get := func(key string, v int64) string {
		t.Helper()
		b, ok := c.Get(key, v)
		if !ok {
			return "<miss>"
		}
		return string(b)
	}
	if got := get("a", 1); got != "<miss>" {
		t.Fatalf("empty cache: Get = %q", got)
	}
	c.Put("a", 1, []byte("a@1"))
	if got := get("a", 1); got != "a@1" {
		t.Errorf("Get(a, 1) = %q, want a@1", got)
	}
	// Another version is a miss: the data changed since.
	if got := get("a", 2); got != "<miss>" {
		t.Errorf("Get(a, 2) = %q, want a miss", got)
	}
	c.Put("a", 3, []byte("a@3"))
	// A slower request rendered at an older version does not replace a newer rendering.
	c.Put("a", 2, []byte("a@2"))
	if got := get("a", 3); got != "a@3" {
		t.Errorf("after a late older Put: Get(a, 3) = %q, want a@3", got)
	}
	// One answer bigger than an eighth of the budget is not kept.
	c.Put("huge", 1, make([]byte, 200))
	if got := get("huge", 1); got != "<miss>" {
		t.Errorf("an oversized answer was kept")
	}
	// The budget holds: the least recently used go first.
	for i := range 20 {
		c.Put("k"+strconv.Itoa(i), 1, make([]byte, 100))
		get("a", 3) // keep a in use
	}
	if c.bytes > 1000 {
		t.Errorf("cache holds %d bytes, budget 1000", c.bytes)
	}
	if got := get("a", 3); got != "a@3" {
		t.Errorf("the most recently used answer was dropped")
	}
	if got := get("k0", 1); got != "<miss>" {
		t.Errorf("the least recently used answer is still kept")
	}
	if got := get("k19", 1); got == "<miss>" {
		t.Errorf("the newest answer was dropped")
	}
	counted := map[string]float64{}
	families, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range families {
		counted[f.GetName()] = f.GetMetric()[0].GetCounter().GetValue()
	}
	hits, misses := counted["patchbay_render_cache_hits_total"], counted["patchbay_render_cache_misses_total"]
	if hits < 20 || misses < 4 {
		t.Errorf("hits %v, misses %v: not counted", hits, misses)
	}
}
