package app

import (
	"context"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/patchbay-dev/patchbay/internal/dashboard"
	"github.com/patchbay-dev/patchbay/internal/httpapi"
	"github.com/patchbay-dev/patchbay/internal/httpserver"
	"github.com/patchbay-dev/patchbay/internal/mcp"
	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// Handler is patchbay's whole HTTP surface: the Composio wire (legacy and
// v3.1), health, readiness and metrics, inside the shared plumbing.
func (a *App) Handler() http.Handler {
	reg := prometheus.NewRegistry()
	a.registerMetrics(reg)
	metrics := httpserver.NewMetrics(reg)

	plain := httpserver.NewSurface(a.log, httpserver.PlainEnvelope)
	plain.Handle("GET /healthz", func(w http.ResponseWriter, r *http.Request) error {
		httpserver.WriteJSON(w, http.StatusOK, map[string]string{"status": "ok"})
		return nil
	})
	plain.Handle("GET /readyz", func(w http.ResponseWriter, r *http.Request) error {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.Service.Ping(ctx); err != nil {
			a.log.Warn("not ready", "err", err)
			return &patchbay.Error{Code: patchbay.EUNAVAILABLE, Message: "Not ready: the database does not answer.", Err: err}
		}
		httpserver.WriteJSON(w, http.StatusOK, map[string]string{"status": "ready"})
		return nil
	})
	mh := metrics.Handler()
	plain.Handle("GET /metrics", func(w http.ResponseWriter, r *http.Request) error {
		mh.ServeHTTP(w, r)
		return nil
	})

	hs := httpserver.New(httpserver.Config{Log: a.log, Now: time.Now, AccessLog: a.cfg.AccessLog, Metrics: metrics, Fallback: plain})
	renders := httpserver.NewRenderCache(httpapi.DefaultRenderBytes, reg)
	httpapi.New(httpapi.Config{Service: a.Service, Log: a.log, Now: time.Now, LeakReportsPerMinute: a.opts.LeakReportsPerMinute, Renders: renders}).Mount(hs)
	dashboard.New(dashboard.Config{Service: a.Service, Log: a.log, Now: time.Now}).Mount(hs)
	mcp.New(mcp.Config{Service: a.Service, Log: a.log}).Mount(hs)
	return hs
}

// registerMetrics exposes the domain's counters and the database pools.
func (a *App) registerMetrics(reg *prometheus.Registry) {
	auth := a.Service.Authenticator()
	counter := func(name, help string, f func(patchbay.AuthStats) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, func() float64 { return float64(f(auth.Stats())) })
	}
	reg.MustRegister(
		counter("patchbay_auth_failures_total", "API keys the authenticator refused (malformed, unknown or revoked); requests with no key show as 401s in patchbay_http_requests_total.", func(s patchbay.AuthStats) uint64 { return s.Failures }),
		counter("patchbay_auth_cache_hits_total", "Key verifications answered from the cache.", func(s patchbay.AuthStats) uint64 { return s.CacheHits }),
		counter("patchbay_auth_cache_misses_total", "Key verifications that read the database.", func(s patchbay.AuthStats) uint64 { return s.CacheMisses }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "patchbay_auth_cached_keys", Help: "Verified keys in the cache."},
			func() float64 { return float64(auth.Stats().Cached) }),
		prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "patchbay_api_key_revocations_total", Help: "API keys this instance revoked."},
			func() float64 { return float64(a.Service.Stats().Revocations) }),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
	)
	for role, db := range a.store.Pools() {
		reg.MustRegister(collectors.NewDBStatsCollector(db, role))
	}
}
