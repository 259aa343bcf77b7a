package patchbay

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// checkFields validates values supplied for one scope of a scheme and
// returns them as strings, with defaults applied. Every problem is named:
// unknown fields (with the expected ones), fields of the other scope,
// wrong types, pattern mismatches and missing required fields.
func checkFields(tk *Toolkit, sc *AuthScheme, scope FieldScope, values map[string]any) (map[string]string, error) {
	out := make(map[string]string, len(values))
	var problems []string
	expected := fieldNames(sc.FieldsFor(scope))
	names := make([]string, 0, len(values))
	for name := range values {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		v := values[name]
		f, ok := sc.Field(name)
		switch {
		case !ok:
			problems = append(problems, fmt.Sprintf("%q is not a field of %s's %s scheme (expected: %s)", name, tk.Slug, sc.Mode, orNone(expected)))
			continue
		case f.Scope != scope:
			where := "when connecting a user"
			if f.Scope == ScopeAuthConfig {
				where = "in the auth config"
			}
			problems = append(problems, fmt.Sprintf("%q is supplied %s, not here", name, where))
			continue
		}
		s, err := fieldValue(f, v)
		if err != nil {
			problems = append(problems, err.Error())
			continue
		}
		if s == "" {
			continue // treated as absent
		}
		if !f.Valid(s) {
			problems = append(problems, fmt.Sprintf("%q does not match the expected format %s", name, f.Pattern))
			continue
		}
		if _, dup := out[f.Name]; dup {
			problems = append(problems, fmt.Sprintf("%q is given twice (as %s and an alias)", f.Name, f.Name))
			continue
		}
		out[f.Name] = s
	}
	var missing []string
	for _, f := range sc.FieldsFor(scope) {
		if _, ok := out[f.Name]; ok || mentioned(&f, values) {
			continue // present, or already reported as malformed
		}
		if f.Default != nil && *f.Default != "" {
			out[f.Name] = *f.Default
			continue
		}
		if f.Required {
			missing = append(missing, fmt.Sprintf("%s (%s)", f.Name, f.DisplayName))
		}
	}
	if len(missing) > 0 {
		problems = append(problems, "missing required field(s): "+strings.Join(missing, ", "))
	}
	if len(problems) > 0 {
		return nil, Errorf(EINVALID, "Invalid %s for %s (%s): %s.", scopeNoun(scope), tk.Slug, sc.Mode, strings.Join(problems, "; "))
	}
	return out, nil
}

// mentioned reports whether values names f (or an alias) with a non-empty
// value.
func mentioned(f *Field, values map[string]any) bool {
	for _, n := range f.Names() {
		if v, ok := values[n]; ok && v != nil && v != "" {
			return true
		}
	}
	return false
}

func scopeNoun(s FieldScope) string {
	if s == ScopeAuthConfig {
		return "auth config credentials"
	}
	return "connection fields"
}

func fieldValue(f *Field, v any) (string, error) {
	switch x := v.(type) {
	case nil:
		return "", nil
	case string:
		return x, nil
	case bool:
		if f.Type == "boolean" {
			return strconv.FormatBool(x), nil
		}
	case float64:
		if f.Type == "number" || f.Type == "integer" {
			return strconv.FormatFloat(x, 'f', -1, 64), nil
		}
	case json.Number:
		if f.Type == "number" || f.Type == "integer" {
			return x.String(), nil
		}
	}
	return "", fmt.Errorf("%q must be a %s", f.Name, orDefault(f.Type, "string"))
}

func fieldNames(fs []Field) []string {
	out := make([]string, len(fs))
	for i, f := range fs {
		out[i] = f.Name
	}
	return out
}

func orNone(names []string) string {
	if len(names) == 0 {
		return "none"
	}
	return strings.Join(names, ", ")
}

func orDefault(s, d string) string {
	if s == "" {
		return d
	}
	return s
}

// sealMap seals a string map as JSON at ref.
func (s *Service) sealMap(ref SecretRef, m map[string]string) (StoredSecret, error) {
	b, err := json.Marshal(m)
	if err != nil {
		return StoredSecret{}, err
	}
	term := s.sealer.ActiveTerm() // before sealing: see createProject
	sealed, err := s.sealer.Seal(ref, NewSecret(string(b)))
	if err != nil {
		return StoredSecret{}, err
	}
	return StoredSecret{Ref: ref, Term: term, Sealed: sealed}, nil
}

// openCredentials opens sealed credentials (none when st is nil) and reads
// them under sc's current field names, so values sealed under a name that
// is now an alias keep working: everything that uses stored credentials
// (masked views, base URLs, injection) goes through here.
func (s *Service) openCredentials(st *StoredSecret, sc *AuthScheme) (map[string]string, error) {
	if st == nil {
		return map[string]string{}, nil
	}
	pt, err := s.sealer.Open(st.Ref, st.Sealed)
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	if err := json.Unmarshal([]byte(pt.Reveal()), &m); err != nil {
		return nil, &Error{Code: EINTERNAL, Message: "decode sealed credentials", Err: err}
	}
	return sc.Canonical(m), nil
}

// MaskValue hides a secret value, keeping at most a quarter of it, and at
// most four characters, so the kind of value stays recognisable.
func MaskValue(v string) string {
	n := min(len(v)/4, 4)
	return v[:n] + "..."
}

// MaskCredentials returns creds with secret fields of the scheme masked;
// unknown fields are masked too.
func MaskCredentials(sc *AuthScheme, creds map[string]string) map[string]string {
	out := make(map[string]string, len(creds))
	for k, v := range creds {
		if f, ok := sc.Field(k); ok && !f.Secret {
			out[k] = v
			continue
		}
		out[k] = MaskValue(v)
	}
	return out
}
