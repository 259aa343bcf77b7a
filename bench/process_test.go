package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// MustBuild compiles the patchbay command and the bare baseline into a
// temporary directory and returns the paths of the two binaries.
func MustBuild(tb testing.TB) (patchbay, bare string) {
	tb.Helper()
	dir := tb.TempDir()
	cmd := exec.Command("go", "build", "-o", dir+string(filepath.Separator),
		"github.com/patchbay-dev/patchbay/cmd/patchbay",
		"github.com/patchbay-dev/patchbay/bench/internal/bare")
	if out, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("go build: %v\n%s", err, out)
	}
	return filepath.Join(dir, "patchbay"), filepath.Join(dir, "bare")
}

// childEnv is the benchmark's environment without PATCHBAY_ variables, so
// a developer's settings (a database URL, a root key) cannot redirect the
// benchmarked server.
func childEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PATCHBAY_") {
			env = append(env, kv)
		}
	}
	return env
}

// MustCreateKey runs `patchbay keys create` on dataDir, with extra flags
// (such as --database-url) after it, and returns the key it prints.
func MustCreateKey(tb testing.TB, bin, dataDir string, extra ...string) string {
	tb.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, append([]string{"keys", "create", "--name", "bench", "--data-dir", dataDir}, extra...)...)
	cmd.Env, cmd.Stdout, cmd.Stderr = childEnv(), &stdout, &stderr
	if err := cmd.Run(); err != nil {
		tb.Fatalf("patchbay keys create: %v\n%s", err, &stderr)
	}
	return strings.TrimSpace(stdout.String())
}

// freeAddr returns a loopback address with a port that was free a moment
// ago. The servers cannot report the port they bound, so one is chosen for
// them; another process could take it in between, which is unlikely enough
// for a benchmark.
func freeAddr(tb testing.TB) string {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

// server is a started server process.
type server struct {
	name   string
	addr   string
	cmd    *exec.Cmd
	log    string // file holding the process's stdout and stderr
	exited chan struct{}
}

// MustStart starts bin with args followed by --addr ADDR, waits until GET
// /healthz answers 200, and stops the process when tb ends.
func MustStart(tb testing.TB, name, bin string, args ...string) *server {
	tb.Helper()
	s := &server{name: name, addr: freeAddr(tb), log: filepath.Join(tb.TempDir(), name+".log"), exited: make(chan struct{})}
	logf, err := os.Create(s.log)
	if err != nil {
		tb.Fatal(err)
	}
	defer logf.Close()
	s.cmd = exec.Command(bin, append(args, "--addr", s.addr)...)
	s.cmd.Env, s.cmd.Stdout, s.cmd.Stderr = childEnv(), logf, logf
	if err := s.cmd.Start(); err != nil {
		tb.Fatalf("start %s: %v", name, err)
	}
	go func() { s.cmd.Wait(); close(s.exited) }()
	tb.Cleanup(s.stop)
	if err := s.waitHealthy(15 * time.Second); err != nil {
		tb.Fatalf("%s: %v\n%s", name, err, s.logTail())
	}
	return s
}

func (s *server) url(path string) string { return "http://" + s.addr + path }

func (s *server) waitHealthy(timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		select {
		case <-s.exited:
			return errors.New("exited before answering /healthz")
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, s.url("/healthz"), nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		cancel()
		if err == nil && resp.StatusCode == http.StatusOK {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("/healthz did not answer 200 within %v", timeout)
}

// stop interrupts the process (patchbay shuts down gracefully on SIGINT)
// and kills it if it has not exited within ten seconds.
func (s *server) stop() {
	s.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-s.exited
	}
}

func (s *server) logTail() string {
	b, _ := os.ReadFile(s.log)
	if len(b) > 4000 {
		b = b[len(b)-4000:]
	}
	return string(b)
}

// memory is a process's resident set from /proc/PID/status, in bytes.
type memory struct {
	HWM int64 // VmHWM: the peak resident set
	RSS int64 // VmRSS: the resident set now
}

func (s *server) memory() (memory, error) {
	f, err := os.Open("/proc/" + strconv.Itoa(s.cmd.Process.Pid) + "/status")
	if err != nil {
		return memory{}, err
	}
	defer f.Close()
	var m memory
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// Lines look like "VmHWM:	   23456 kB".
		name, value, ok := strings.Cut(sc.Text(), ":")
		if !ok || name != "VmHWM" && name != "VmRSS" {
			continue
		}
		kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(value), " kB"), 10, 64)
		if err != nil {
			return memory{}, fmt.Errorf("%s: %w", name, err)
		}
		if name == "VmHWM" {
			m.HWM = kb << 10
		} else {
			m.RSS = kb << 10
		}
	}
	return m, sc.Err()
}
