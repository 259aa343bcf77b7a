# bench runs the performance benchmarks in bench/ (see bench/*_bench_test.go):
# patchbay against bare net/http under load, the SDKs' read calls each
# against bare net/http, key verification with 1k and 1M keys in the
# database, and patchbay's proxy and tool execution against direct calls
# and nginx in front of a local app (BenchmarkProxy: needs /usr/sbin/nginx,
# apt-get install -y nginx; skipped without), and the revoke call on three
# instances sharing PostgreSQL (BenchmarkRevocationFence, in cmd/patchbay
# beside the test that checks its rules). Each does one fixed-size
# measurement and prints its figures; set PATCHBAY_TEST_POSTGRES_URL for
# the PostgreSQL runs.
.PHONY: bench
bench:
	go test -run='^$$' -bench=. -benchtime=1x -timeout=30m ./bench/
	go test -run='^$$' -bench=BenchmarkRevocationFence -benchtime=1x -timeout=10m ./cmd/patchbay/
