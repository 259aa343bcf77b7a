//go:build unix

package sqlite

import (
	"fmt"
	"os"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// counter is a 64-bit counter in a small file next to the database, mapped
// shared into every process that uses the database: of revocations (a
// revoker increments it after its transaction commits; a watcher reads it
// with one atomic load per request) and of writes (for kept read
// versions). Memory mapped MAP_SHARED is coherent
// across processes on one machine, so a load after another process's
// increment has returned sees it.
type counter struct {
	f   *os.File
	mem []byte // 8 bytes, page-aligned by mmap
}

func openCounter(path string) (*counter, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("counter %s: %w", path, err)
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() < 8 {
		// Growing to 8 bytes zero-fills; a racing process that grew it
		// first leaves the size at 8 and the count intact.
		err = f.Truncate(8)
	}
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("counter %s: %w", path, err)
	}
	mem, err := syscall.Mmap(int(f.Fd()), 0, 8, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("counter %s: mmap: %w", path, err)
	}
	return &counter{f: f, mem: mem}, nil
}

// shared says whether a load costs no more than a memory read, which is
// what keeping read versions needs.
const shared = true

func (c *counter) word() *uint64 { return (*uint64)(unsafe.Pointer(&c.mem[0])) }

// load returns the count.
func (c *counter) load() (uint64, error) { return atomic.LoadUint64(c.word()), nil }

// add increments the count.
func (c *counter) add() error {
	atomic.AddUint64(c.word(), 1)
	return nil
}

func (c *counter) close() error {
	err := syscall.Munmap(c.mem)
	if cerr := c.f.Close(); err == nil {
		err = cerr
	}
	return err
}
