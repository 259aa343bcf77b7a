// Package catalog is patchbay's embedded toolkit catalog: one JSON file per
// toolkit under toolkits/, in the format described by toolkit.schema.json
// (the json tags of patchbay.Toolkit), parsed and validated by Load.
//
// Slugs, auth scheme modes and field names follow Composio's wherever
// Composio has them, so connections made through its SDKs carry the
// fields patchbay expects.
//
// To add a toolkit, write toolkits/<slug>.json and run the package's
// tests: they check every file against the schema and against Validate.
package catalog

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"sync"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

//go:embed toolkits/*.json
var embedded embed.FS

// Catalog is a validated, read-only set of toolkits. The toolkits it hands
// out are shared: callers must not modify them.
type Catalog struct {
	bySlug     map[string]*patchbay.Toolkit // key: lowercase slug
	toolkits   []*patchbay.Toolkit          // ordered by slug
	categories []patchbay.Category          // unique, ordered by slug

	tools          []*patchbay.Tool            // ordered by toolkit, then slug
	toolBySlug     map[string]*patchbay.Tool   // key: the slug, upper case
	toolsByToolkit map[string][]*patchbay.Tool // key: toolkit slug
}

var _ patchbay.Catalog = (*Catalog)(nil)

// Load parses and validates every embedded toolkit and tools file. The
// error lists every problem found, each naming its file, toolkit or tool.
func Load() (*Catalog, error) {
	sub, err := fs.Sub(embedded, "toolkits")
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	c, err := loadFS(sub)
	if err != nil {
		return nil, err
	}
	tools, err := fs.Sub(embeddedTools, "tools")
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	if err := loadTools(tools, c); err != nil {
		return nil, err
	}
	return c, nil
}

var loadDefault = sync.OnceValues(Load)

// Default returns the embedded catalog, loaded once. It panics if the
// catalog is invalid, which the package's tests rule out.
func Default() *Catalog {
	c, err := loadDefault()
	if err != nil {
		panic(err)
	}
	return c
}

// loadFS reads every *.json file at the root of fsys as one toolkit.
func loadFS(fsys fs.FS) (*Catalog, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, fmt.Errorf("catalog: %w", err)
	}
	var (
		errs     []error
		toolkits []*patchbay.Toolkit
	)
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || path.Ext(name) != ".json" {
			errs = append(errs, fmt.Errorf("catalog: %s: not a toolkit file (want <slug>.json)", name))
			continue
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			errs = append(errs, fmt.Errorf("catalog: %w", err))
			continue
		}
		t, err := decode(data)
		if err != nil {
			errs = append(errs, fmt.Errorf("catalog: %s: %w", name, err))
			continue
		}
		if want := t.Slug + ".json"; name != want {
			errs = append(errs, fmt.Errorf("catalog: %s: toolkit %q must be in a file named %s", name, t.Slug, want))
		}
		if err := Validate(t); err != nil {
			errs = append(errs, err)
		}
		toolkits = append(toolkits, t)
	}
	c, err := build(toolkits)
	if err != nil {
		errs = append(errs, err)
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// decode parses one toolkit file strictly: unknown keys and trailing data
// are errors, so a typo cannot silently drop an attribute.
func decode(data []byte) (*patchbay.Toolkit, error) {
	return decodeStrict[patchbay.Toolkit](data, "toolkit")
}

// decodeStrict parses one JSON object (a what) into a T, refusing unknown keys and
// trailing data.
func decodeStrict[T any](data []byte, what string) (*T, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v T
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("decode: %w", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("decode: unexpected data after the %s object", what)
	}
	return &v, nil
}

// build indexes toolkits, rejecting duplicate slugs and a category slug
// given two different names.
func build(toolkits []*patchbay.Toolkit) (*Catalog, error) {
	var errs []error
	c := &Catalog{bySlug: make(map[string]*patchbay.Toolkit, len(toolkits))}
	categoryNames := map[string]string{}
	categoryOwner := map[string]string{}
	for _, t := range toolkits {
		key := strings.ToLower(t.Slug)
		if _, dup := c.bySlug[key]; dup {
			errs = append(errs, fmt.Errorf("catalog: toolkit %q is defined more than once", t.Slug))
			continue
		}
		c.bySlug[key] = t
		c.toolkits = append(c.toolkits, t)
		for _, cat := range t.Categories {
			name, seen := categoryNames[cat.Slug]
			switch {
			case !seen:
				categoryNames[cat.Slug] = cat.Name
				categoryOwner[cat.Slug] = t.Slug
				c.categories = append(c.categories, cat)
			case name != cat.Name:
				errs = append(errs, fmt.Errorf("catalog: toolkit %q: category %q is named %q, but toolkit %q names it %q",
					t.Slug, cat.Slug, cat.Name, categoryOwner[cat.Slug], name))
			}
		}
	}
	sort.Slice(c.toolkits, func(i, j int) bool { return c.toolkits[i].Slug < c.toolkits[j].Slug })
	sort.Slice(c.categories, func(i, j int) bool { return c.categories[i].Slug < c.categories[j].Slug })
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return c, nil
}

// Toolkit finds a toolkit by slug, case-insensitively.
func (c *Catalog) Toolkit(slug string) (*patchbay.Toolkit, bool) {
	t, ok := c.bySlug[strings.ToLower(slug)]
	return t, ok
}

// Toolkits lists every toolkit, ordered by slug.
func (c *Catalog) Toolkits() []*patchbay.Toolkit {
	return append([]*patchbay.Toolkit(nil), c.toolkits...)
}

// Categories lists the categories toolkits belong to, each once, ordered
// by slug.
func (c *Catalog) Categories() []patchbay.Category {
	return append([]patchbay.Category(nil), c.categories...)
}

// Tool finds a tool by slug, case-insensitively.
func (c *Catalog) Tool(slug string) (*patchbay.Tool, bool) {
	t, ok := c.toolBySlug[strings.ToUpper(slug)]
	return t, ok
}

// Tools lists every tool, ordered by toolkit, then slug.
func (c *Catalog) Tools() []*patchbay.Tool {
	return append([]*patchbay.Tool(nil), c.tools...)
}

// ToolsOf lists a toolkit's tools, ordered by slug.
func (c *Catalog) ToolsOf(toolkit string) []*patchbay.Tool {
	return append([]*patchbay.Tool(nil), c.toolsByToolkit[strings.ToLower(toolkit)]...)
}
