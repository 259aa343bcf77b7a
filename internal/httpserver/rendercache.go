package httpserver

import (
	"container/list"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// RenderCache keeps rendered read answers, each under the version of the
// data it was rendered from (see patchbay.ReadStamp), so a read whose data
// has not changed is served without reading or encoding it again. It holds
// at most maxBytes of answers and drops the least recently used first.
// Errors are never kept: only what a surface Puts.
type RenderCache struct {
	mu       sync.Mutex
	entries  map[string]*list.Element
	lru      list.List // of *rendered, most recent first
	bytes    int
	maxBytes int

	hits, misses prometheus.Counter
}

type rendered struct {
	key     string
	version int64
	body    []byte
}

// NewRenderCache returns a cache of at most maxBytes of answers, counting
// its hits and misses in reg (nil for none).
func NewRenderCache(maxBytes int, reg prometheus.Registerer) *RenderCache {
	c := &RenderCache{
		entries:  make(map[string]*list.Element),
		maxBytes: maxBytes,
		hits: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "patchbay_render_cache_hits_total",
			Help: "Reads answered from a kept rendering whose data had not changed.",
		}),
		misses: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "patchbay_render_cache_misses_total",
			Help: "Reads rendered afresh: never kept, dropped, or their data changed.",
		}),
	}
	if reg != nil {
		reg.MustRegister(c.hits, c.misses)
	}
	return c
}

// Get returns the answer kept under key if it was rendered at version.
func (c *RenderCache) Get(key string, version int64) ([]byte, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		if r := el.Value.(*rendered); r.version == version {
			c.lru.MoveToFront(el)
			c.hits.Inc()
			return r.body, true
		}
	}
	c.misses.Inc()
	return nil, false
}

// Put keeps body under key, rendered at version, unless a newer rendering
// is kept already or body alone exceeds the budget. body must not be
// changed afterwards.
func (c *RenderCache) Put(key string, version int64, body []byte) {
	if len(body) > c.maxBytes/8 {
		return // one huge listing must not flush everything else
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.entries[key]; ok {
		r := el.Value.(*rendered)
		if r.version > version {
			return
		}
		c.bytes += len(body) - len(r.body)
		r.version, r.body = version, body
		c.lru.MoveToFront(el)
	} else {
		c.entries[key] = c.lru.PushFront(&rendered{key: key, version: version, body: body})
		c.bytes += len(key) + len(body)
	}
	for c.bytes > c.maxBytes {
		el := c.lru.Back()
		r := el.Value.(*rendered)
		c.lru.Remove(el)
		delete(c.entries, r.key)
		c.bytes -= len(r.key) + len(r.body)
	}
}

// Len returns the number of answers kept.
func (c *RenderCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}
