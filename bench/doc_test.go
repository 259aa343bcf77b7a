// Package bench holds patchbay's performance benchmarks. They print
// figures and compare them with targets; they never fail on timing.
//
//	make bench
//	go test -run='^$' -bench=. -benchtime=1x ./bench/
//	go test -run='^$' -bench=Load -benchtime=1x ./bench/ -args -load.path=/api/v3.1/auth/session/info
//
// BenchmarkLoad builds `patchbay serve` and a bare net/http server
// (bench/internal/bare), runs both as processes on loopback and drives them
// alternately with the same keep-alive load generator: requests/s, p50, p99,
// the patchbay/bare throughput ratio, and patchbay's resident memory.
//
// BenchmarkReads measures the read calls the SDKs make, each against bare
// net/http serving the bytes patchbay returned for it, on SQLite and, when
// PATCHBAY_TEST_POSTGRES_URL is set, on a fresh PostgreSQL schema: session
// info, list API keys, list connected accounts (10 of 1,000), get a
// connected account, an auth config, a toolkit, and client_info as a
// reference row. `patchbay serve` runs as a process, seeded through the HTTP
// API; one table per store (req/s, p50, p99 of each, ratio, target), on
// stdout. TestReads checks, without load, that the seeding works and every
// measured request answers 200 with the expected shape.
//
//	go test -run='^$' -bench='^BenchmarkReads$' -benchtime=1x ./bench/
//	go test -run='^$' -bench='^BenchmarkReads$' -benchtime=1x ./bench/ -args -reads.rows=list_accounts -reads.rounds=5
//
// BenchmarkKeyVerification compares cold key verification with 1,000 and
// with 1,000,000 keys in the database, on SQLite and, when
// PATCHBAY_TEST_POSTGRES_URL is set, on PostgreSQL.
//
// BenchmarkInitiations and BenchmarkConnectionReads measure connected
// accounts through an in-process server (connections_bench_test.go).
//
// Each benchmark does one fixed-size measurement per call, hence
// -benchtime=1x. The -load.*, -reads.* and -keys.* flags (after -args)
// change the sizes. Plain `go test ./bench/` runs only the unit tests: the
// helpers', and TestReads, which builds patchbay and seeds it (a few
// seconds).
package bench
