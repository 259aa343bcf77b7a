package catalog

import (
	"bytes"
	"encoding/json"
	"io/fs"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

const schemaFile = "toolkit.schema.json"

// MustSchema compiles toolkit.schema.json, checking it against the draft
// 2020-12 metaschema on the way.
func MustSchema(tb testing.TB) *jsonschema.Schema {
	tb.Helper()
	data, err := os.ReadFile(schemaFile)
	if err != nil {
		tb.Fatal(err)
	}
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		tb.Fatalf("%s: %v", schemaFile, err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	if err := c.AddResource(schemaFile, doc); err != nil {
		tb.Fatal(err)
	}
	sch, err := c.Compile(schemaFile)
	if err != nil {
		tb.Fatalf("compile %s: %v", schemaFile, err)
	}
	return sch
}

func validateJSON(sch *jsonschema.Schema, data []byte) error {
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(data))
	if err != nil {
		return err
	}
	return sch.Validate(inst)
}

// TestSchemaAcceptsEveryToolkitFile validates each shipped file as written.
func TestSchemaAcceptsEveryToolkitFile(t *testing.T) {
	sch := MustSchema(t)
	files, err := fs.Glob(embedded, "toolkits/*.json")
	if err != nil || len(files) == 0 {
		t.Fatalf("no toolkit files (%v)", err)
	}
	for _, name := range files {
		data, err := fs.ReadFile(embedded, name)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateJSON(sch, data); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestSchemaMatchesTheGoTypes re-encodes every loaded toolkit: the result
// must still satisfy the schema and decode to the same value, so the
// schema and patchbay.Toolkit's json tags describe one format.
func TestSchemaMatchesTheGoTypes(t *testing.T) {
	sch := MustSchema(t)
	for _, tk := range MustLoad(t).Toolkits() {
		data, err := json.Marshal(tk)
		if err != nil {
			t.Fatal(err)
		}
		if err := validateJSON(sch, data); err != nil {
			t.Errorf("%s re-encoded: %v", tk.Slug, err)
		}
		back, err := decode(data)
		if err != nil {
			t.Errorf("%s re-encoded: %v", tk.Slug, err)
			continue
		}
		if !reflect.DeepEqual(back, tk) {
			t.Errorf("%s does not survive a round trip:\n got %+v\nwant %+v", tk.Slug, back, tk)
		}
	}
}

// TestSchemaRejects breaks a valid file one way at a time.
func TestSchemaRejects(t *testing.T) {
	sch := MustSchema(t)
	base, err := fs.ReadFile(embedded, "toolkits/github.json")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		mutate func(tk map[string]any)
		where  string // instance location the error must name
	}{
		{"unknown toolkit key", func(tk map[string]any) { tk["colour"] = "red" }, ""},
		{"missing slug", func(tk map[string]any) { delete(tk, "slug") }, ""},
		{"slug with dash", func(tk map[string]any) { tk["slug"] = "git-hub" }, "/slug"},
		{"http logo", func(tk map[string]any) { tk["logo"] = "http://logos.example/github" }, "/logo"},
		{"no categories", func(tk map[string]any) { tk["categories"] = []any{} }, "/categories"},
		{"category slug with space", func(tk map[string]any) { category(tk)["slug"] = "dev tools" }, "/categories/0/slug"},
		{"current user endpoint absolute", func(tk map[string]any) { tk["get_current_user_endpoint"] = "https://api.github.com/user" }, "/get_current_user_endpoint"},
		{"no schemes", func(tk map[string]any) { tk["auth_schemes"] = []any{} }, "/auth_schemes"},
		{"unknown mode", func(tk map[string]any) { scheme0(tk)["mode"] = "OAUTH1" }, "/auth_schemes/0/mode"},
		{"unknown scheme key", func(tk map[string]any) { scheme0(tk)["proxy"] = map[string]any{} }, "/auth_schemes/0"},
		{"http base url", func(tk map[string]any) { scheme0(tk)["base_url"] = "http://api.github.com" }, "/auth_schemes/0/base_url"},
		{"base url with query", func(tk map[string]any) { scheme0(tk)["base_url"] = "https://api.github.com?x=1" }, "/auth_schemes/0/base_url"},
		{"oauth2 scheme without oauth2", func(tk map[string]any) { delete(scheme0(tk), "oauth2") }, "/auth_schemes/0"},
		{"oauth2 block on bearer scheme", func(tk map[string]any) { scheme1(tk)["oauth2"] = scheme0(tk)["oauth2"] }, "/auth_schemes/1"},
		{"http token url", func(tk map[string]any) { oauth2(tk)["token_url"] = "http://github.com/login/oauth/access_token" }, "/auth_schemes/0/oauth2/token_url"},
		{"scope separator", func(tk map[string]any) { oauth2(tk)["scope_separator"] = ";" }, "/auth_schemes/0/oauth2/scope_separator"},
		{"unknown field type", func(tk map[string]any) { field0(tk)["type"] = "integer" }, "/auth_schemes/0/fields/0/type"},
		{"unknown field scope", func(tk map[string]any) { field0(tk)["scope"] = "user" }, "/auth_schemes/0/fields/0/scope"},
		{"field without default key", func(tk map[string]any) { delete(field0(tk), "default") }, "/auth_schemes/0/fields/0"},
		{"unknown field key", func(tk map[string]any) { field0(tk)["secret"] = true }, "/auth_schemes/0/fields/0"},
		{"bearer without required connection field", func(tk map[string]any) {
			f := scheme1(tk)["fields"].([]any)[0].(map[string]any)
			f["required"] = false
		}, "/auth_schemes/1"},
		{"unknown inject key", func(tk map[string]any) { scheme1(tk)["inject"].(map[string]any)["cookie"] = "x" }, "/auth_schemes/1/inject"},
		{"bad header name", func(tk map[string]any) {
			scheme1(tk)["inject"].(map[string]any)["headers"].(map[string]any)["X Token"] = "{{token}}"
		}, ""}, // the library misreports the location of propertyNames errors
		{"test request POST", func(tk map[string]any) { scheme1(tk)["test_request"].(map[string]any)["method"] = "POST" }, "/auth_schemes/1/test_request/method"},
		{"no auth with fields", func(tk map[string]any) { scheme1(tk)["mode"] = "NO_AUTH" }, "/auth_schemes/1"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var tk map[string]any
			if err := json.Unmarshal(base, &tk); err != nil {
				t.Fatal(err)
			}
			c.mutate(tk)
			data, err := json.Marshal(tk)
			if err != nil {
				t.Fatal(err)
			}
			err = validateJSON(sch, data)
			if err == nil {
				t.Fatal("schema accepted it")
			}
			if c.where != "" && !strings.Contains(err.Error(), "'"+c.where) {
				t.Errorf("error does not point at %s:\n%v", c.where, err)
			}
		})
	}
}

func scheme0(tk map[string]any) map[string]any {
	return tk["auth_schemes"].([]any)[0].(map[string]any)
}

func scheme1(tk map[string]any) map[string]any {
	return tk["auth_schemes"].([]any)[1].(map[string]any)
}

func oauth2(tk map[string]any) map[string]any { return scheme0(tk)["oauth2"].(map[string]any) }

func field0(tk map[string]any) map[string]any {
	return scheme0(tk)["fields"].([]any)[0].(map[string]any)
}

func category(tk map[string]any) map[string]any {
	return tk["categories"].([]any)[0].(map[string]any)
}
