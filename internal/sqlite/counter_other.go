//go:build !unix

package sqlite

import (
	"errors"
	"io/fs"
	"os"
)

// counter, where memory-mapped files are not available, is a file that
// grows by a byte per revocation; load is a stat.
type counter struct{ path string }

// shared is false: a load is a stat, and a write counter would grow by a
// byte per write, so read versions are read from the table every time.
const shared = false

func openCounter(path string) (*counter, error) { return &counter{path: path}, nil }

func (c *counter) load() (uint64, error) {
	fi, err := os.Stat(c.path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	return uint64(fi.Size()), nil
}

func (c *counter) add() error {
	f, err := os.OpenFile(c.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return err
	}
	_, err = f.Write([]byte{'r'})
	return errors.Join(err, f.Close())
}

func (c *counter) close() error { return nil }
