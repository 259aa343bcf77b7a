package patchbay_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

const plaintext = "hunter2-plaintext-9f8e7d"

// leaks reports whether s shows the plaintext, in clear or hex-encoded.
func leaks(s string) bool {
	return strings.Contains(s, plaintext) ||
		strings.Contains(s, fmt.Sprintf("%x", plaintext)) ||
		strings.Contains(s, fmt.Sprintf("%X", plaintext))
}

type withExported struct {
	Name   string
	Secret patchbay.Secret
}

type withUnexported struct {
	name   string
	secret patchbay.Secret
}

type nested struct {
	Inner  withExported
	inner  withUnexported
	Ptr    *patchbay.Secret
	List   []patchbay.Secret
	ByName map[string]patchbay.Secret
}

func TestSecretFormatting(t *testing.T) {
	s := patchbay.NewSecret(plaintext)
	values := map[string]any{
		"secret":           s,
		"pointer":          &s,
		"exported field":   withExported{Name: "x", Secret: s},
		"unexported field": withUnexported{name: "x", secret: s},
		"pointer to struct": &withUnexported{
			name: "x", secret: s,
		},
		"nested": nested{
			Inner: withExported{Secret: s}, inner: withUnexported{secret: s},
			Ptr: &s, List: []patchbay.Secret{s}, ByName: map[string]patchbay.Secret{"k": s},
		},
		"key token":  patchbay.KeyToken{Kind: patchbay.KeyKindProject, Secret: s},
		"slice":      []patchbay.Secret{s, s},
		"interfaces": []any{s, withUnexported{secret: s}},
	}
	verbs := []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%T %v", "%10.3s"}
	for name, v := range values {
		for _, verb := range verbs {
			if got := fmt.Sprintf(verb, v); leaks(got) {
				t.Errorf("%s: Sprintf(%q) = %s: shows the plaintext", name, verb, got)
			}
		}
		if got := fmt.Sprint(v); leaks(got) {
			t.Errorf("%s: Sprint = %s: shows the plaintext", name, got)
		}
		if got := fmt.Sprintln(v); leaks(got) {
			t.Errorf("%s: Sprintln = %s: shows the plaintext", name, got)
		}
	}
	if got := fmt.Errorf("wrapping: %v", s).Error(); leaks(got) {
		t.Errorf("Errorf = %s", got)
	}
	if got := errors.Join(fmt.Errorf("%s", s)).Error(); leaks(got) {
		t.Errorf("Join = %s", got)
	}
	if got := fmt.Sprintf("%v", s); !strings.Contains(got, "REDACTED") {
		t.Errorf("Sprintf(%%v) = %q, want a redaction marker", got)
	}
}

func TestSecretSlog(t *testing.T) {
	s := patchbay.NewSecret(plaintext)
	handlers := map[string]func(*bytes.Buffer) slog.Handler{
		"text": func(b *bytes.Buffer) slog.Handler { return slog.NewTextHandler(b, nil) },
		"json": func(b *bytes.Buffer) slog.Handler { return slog.NewJSONHandler(b, nil) },
	}
	for name, h := range handlers {
		var buf bytes.Buffer
		log := slog.New(h(&buf))
		log.Info("secret", "key", s)
		log.Info("pointer", "key", &s)
		log.Info("attr", slog.Any("key", s))
		log.Info("exported field", "v", withExported{Name: "x", Secret: s})
		log.Info("unexported field", "v", withUnexported{name: "x", secret: s})
		log.Info("nested", "v", nested{Inner: withExported{Secret: s}, Ptr: &s, List: []patchbay.Secret{s}, ByName: map[string]patchbay.Secret{"k": s}})
		log.Info("group", slog.Group("g", "key", s))
		log.With("key", s).Info("with")
		log.Info("token", "tok", patchbay.KeyToken{Kind: patchbay.KeyKindOrg, Secret: s})
		log.Info("formatted "+fmt.Sprint(s), "err", fmt.Errorf("boom: %v", s))
		if leaks(buf.String()) {
			t.Errorf("%s handler output shows the plaintext:\n%s", name, buf.String())
		}
		if !strings.Contains(buf.String(), "REDACTED") {
			t.Errorf("%s handler output has no redaction marker:\n%s", name, buf.String())
		}
	}
}

func TestSecretJSON(t *testing.T) {
	s := patchbay.NewSecret(plaintext)
	values := map[string]any{
		"secret":         s,
		"exported field": withExported{Name: "x", Secret: s},
		"tagged": struct {
			Key patchbay.Secret `json:"api_key"`
		}{s},
		"omitempty": struct {
			Key patchbay.Secret `json:"api_key,omitempty"`
		}{s},
		"pointer field": struct{ Key *patchbay.Secret }{&s},
		"map value":     map[string]patchbay.Secret{"k": s},
		"map key":       map[patchbay.Secret]string{s: "v"},
		"nested":        nested{Inner: withExported{Secret: s}, Ptr: &s, List: []patchbay.Secret{s}},
		"key token":     patchbay.KeyToken{Kind: patchbay.KeyKindProject, Secret: s},
	}
	for name, v := range values {
		b, err := json.Marshal(v)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if leaks(string(b)) {
			t.Errorf("%s: json.Marshal = %s: shows the plaintext", name, b)
		}
		b, err = json.MarshalIndent(v, "", " ")
		if err != nil || leaks(string(b)) {
			t.Errorf("%s: json.MarshalIndent = %s, %v", name, b, err)
		}
	}
}

func TestSecretReveal(t *testing.T) {
	if got := patchbay.NewSecret(plaintext).Reveal(); got != plaintext {
		t.Errorf("Reveal() = %q, want the plaintext", got)
	}
	for name, s := range map[string]patchbay.Secret{"zero": {}, "empty": patchbay.NewSecret("")} {
		if !s.IsZero() || s.Reveal() != "" {
			t.Errorf("%s: IsZero() = %v, Reveal() = %q; want true, \"\"", name, s.IsZero(), s.Reveal())
		}
	}
	if patchbay.NewSecret("x").IsZero() {
		t.Error("NewSecret(\"x\").IsZero() = true")
	}
}
