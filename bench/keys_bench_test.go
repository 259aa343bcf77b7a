package bench

import (
	"context"
	"flag"
	"fmt"
	mathrand "math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

var (
	keysSmall  = flag.Int("keys.small", 1_000, "keys in the small database of the key verification benchmark")
	keysLarge  = flag.Int("keys.large", 1_000_000, "keys in the large database of the key verification benchmark")
	keysSample = flag.Int("keys.sample", 1_000, "distinct keys verified per pass")
	keysPasses = flag.Int("keys.passes", 5, "passes over the sample, alternating the small and the large database")
)

// BenchmarkKeyVerification measures that verifying a key costs the same
// with keys.small keys in the database as with keys.large: the p50 latency
// of a cold verification, both as a bare Store.LookupAPIKey by hash and as
// Service.Authenticate (parse, checksum, hash, lookup, and the reads that
// build the key's principal: its project, owner and masked webhook secret)
// on a fresh Service, so that every verification misses its cache. Target:
// the large/small p50 ratio ≤ 1.2.
//
// The PostgreSQL variant runs when PATCHBAY_TEST_POSTGRES_URL is set. Each
// invocation does one fixed measurement, whatever b.N is: run it with
// -benchtime=1x.
func BenchmarkKeyVerification(b *testing.B) {
	b.Run("sqlite", func(b *testing.B) { benchKeyVerification(b, mustSQLiteKeyDB) })
	b.Run("postgres", func(b *testing.B) { benchKeyVerification(b, mustPostgresKeyDB) })
}

func benchKeyVerification(b *testing.B, build func(tb testing.TB, n, sample int) *keyDB) {
	var dbs []*keyDB
	for _, n := range []int{*keysSmall, *keysLarge} {
		start := time.Now()
		dbs = append(dbs, build(b, n, *keysSample))
		b.Logf("built a database of %d keys in %v", n, time.Since(start).Round(10*time.Millisecond))
	}

	ctx := context.Background()
	rng := mathrand.New(mathrand.NewPCG(1, 2))
	sample := min(len(dbs[0].tokens), len(dbs[1].tokens))
	lookup := make([][]time.Duration, len(dbs))
	auth := make([][]time.Duration, len(dbs))
	// The databases take turns every block of keys, so that a slow moment of
	// the machine hits both alike, while each still serves consecutive
	// requests, as it would under load (alternating every request would
	// measure the wake-up of an idle server process, on PostgreSQL).
	const block = 50
	measure := func(samples [][]time.Duration, verify func(i, j int) error) {
		order := rng.Perm(sample)
		for len(order) > 0 {
			keys := order[:min(block, len(order))]
			order = order[len(keys):]
			for i, db := range dbs {
				for _, j := range keys {
					t0 := time.Now()
					err := verify(i, j)
					samples[i] = append(samples[i], time.Since(t0))
					if err != nil {
						b.Fatalf("%d keys: %v", db.n, err)
					}
				}
			}
		}
	}
	b.ResetTimer()
	for range *keysPasses {
		measure(lookup, func(i, j int) error {
			_, _, err := dbs[i].store.LookupAPIKey(ctx, dbs[i].hashes[j])
			return err
		})
		// A fresh Service (so a fresh Authenticator) per pass, and each key
		// once per pass: every verification reads the store (see
		// keyDB.service).
		var as []*patchbay.Service
		for _, db := range dbs {
			as = append(as, db.service(b))
		}
		measure(auth, func(i, j int) error {
			_, err := as[i].Authenticate(ctx, dbs[i].tokens[j])
			return err
		})
	}
	b.StopTimer()

	small, large := keyCount(dbs[0].n), keyCount(dbs[1].n)
	var out strings.Builder
	fmt.Fprintf(&out, "cold verifications of %d distinct keys × %d passes per database:\n", sample, *keysPasses)
	fmt.Fprintf(&out, "  %-28s %10s %10s %10s %10s %8s\n", "", "p50 µs", "p99 µs", "p50 µs", "p99 µs", "p50")
	fmt.Fprintf(&out, "  %-28s %21s %21s %8s\n", "", small+" keys", large+" keys", "ratio")
	b.ReportMetric(0, "ns/op") // one fixed measurement per call: ns/op means nothing
	for _, m := range []struct {
		name, metric string
		samples      [][]time.Duration
	}{
		{"Store.LookupAPIKey", "lookup", lookup},
		{"Service.Authenticate", "auth", auth},
	} {
		var p50, p99 [2]float64
		for i, s := range m.samples {
			slices.Sort(s)
			p50[i], p99[i] = micros(percentile(s, 0.50)), micros(percentile(s, 0.99))
			b.ReportMetric(p50[i], m.metric+"_p50_µs_"+keyCount(dbs[i].n))
			b.ReportMetric(p99[i], m.metric+"_p99_µs_"+keyCount(dbs[i].n))
		}
		ratio := p50[1] / p50[0]
		b.ReportMetric(ratio, m.metric+"_p50_"+large+"/"+small)
		fmt.Fprintf(&out, "  %-28s %10.1f %10.1f %10.1f %10.1f %8.3f (target ≤ 1.2: %s)\n",
			m.name, p50[0], p99[0], p50[1], p99[1], ratio, verdict(ratio <= 1.2))
	}
	b.Log(strings.TrimSuffix(out.String(), "\n"))
}

// keyCount renders a key count compactly: 1k, 1M, 2500.
func keyCount(n int) string {
	switch {
	case n >= 1_000_000 && n%1_000_000 == 0:
		return fmt.Sprintf("%dM", n/1_000_000)
	case n >= 1_000 && n%1_000 == 0:
		return fmt.Sprintf("%dk", n/1_000)
	}
	return fmt.Sprint(n)
}
