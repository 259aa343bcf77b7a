package client_test

import (
	"fmt"
	"os"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/testserver"
)

// The examples run against a real patchbay started here, since an example
// has no *testing.T. They read its address and keys from these variables,
// as an application would read them from its configuration.
var (
	patchbayURL string // the server's base URL
	apiKey      string // a project API key (owner role)
)

func TestMain(m *testing.M) {
	srv, stop, err := testserver.StartMain(testserver.SQLite, testserver.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "start patchbay for the examples:", err)
		os.Exit(1)
	}
	patchbayURL, apiKey = srv.URL, srv.OwnerKey
	code := m.Run()
	stop()
	os.Exit(code)
}
