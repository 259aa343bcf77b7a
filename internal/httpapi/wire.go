package httpapi

import (
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// wireTime formats times as the Composio API does: UTC, milliseconds, Z.
func wireTime(t time.Time) string { return t.UTC().Format("2006-01-02T15:04:05.000Z") }

func wireTimePtr(t *time.Time) *string {
	if t == nil {
		return nil
	}
	s := wireTime(*t)
	return &s
}

type wireMember struct {
	ID    string `json:"id"`
	Email string `json:"email"`
	Name  string `json:"name"`
	Role  string `json:"role"`
}

func toWireMember(m *patchbay.Member) wireMember {
	return wireMember{ID: m.ID, Email: m.Email, Name: m.Name, Role: string(m.Role)}
}
