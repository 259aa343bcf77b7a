package keyring

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

// SecretStore is the part of the Store that holds sealed values.
type SecretStore interface {
	SecretsBelowTerm(ctx context.Context, term uint32, limit int) ([]patchbay.StoredSecret, error)
	ReplaceSecret(ctx context.Context, old, new patchbay.StoredSecret) (bool, error)
}

// Reencrypt moves every value sealed under an older term to the active
// term, batch values at a time, and returns how many it moved. Each move is
// a compare-and-swap, so a value rewritten concurrently is left to its
// writer. Safe to run on several instances at once.
func (k *Keyring) Reencrypt(ctx context.Context, store SecretStore, batch int) (int, error) {
	moved := 0
	for {
		active := k.ActiveTerm()
		olds, err := store.SecretsBelowTerm(ctx, active, batch)
		if err != nil {
			return moved, fmt.Errorf("reencrypt: list: %w", err)
		}
		if len(olds) == 0 {
			return moved, nil
		}
		progress := false
		for _, old := range olds {
			pt, err := k.Open(old.Ref, old.Sealed)
			if err != nil {
				return moved, fmt.Errorf("reencrypt %s/%s: %w", old.Ref.Record, old.Ref.Field, err)
			}
			sealed, err := k.Seal(old.Ref, pt)
			if err != nil {
				return moved, err
			}
			ok, err := store.ReplaceSecret(ctx, old, patchbay.StoredSecret{Ref: old.Ref, Term: active, Sealed: sealed})
			if err != nil {
				return moved, fmt.Errorf("reencrypt: replace: %w", err)
			}
			if ok {
				moved++
				progress = true
			}
		}
		if !progress {
			// Every value in the batch was rewritten by someone else
			// meanwhile; stop rather than spin, the next run continues.
			return moved, nil
		}
	}
}

// Run refreshes the keyring and re-encrypts old values every interval until
// ctx ends: how a rotation made by the CLI reaches a running server.
func (k *Keyring) Run(ctx context.Context, store SecretStore, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		before := k.ActiveTerm()
		if err := k.Refresh(ctx); err != nil {
			log.Error("keyring refresh", "err", err)
			continue
		}
		if after := k.ActiveTerm(); after != before {
			log.Info("keyring rotated", "active_term", after)
		}
		n, err := k.Reencrypt(ctx, store, 500)
		if err != nil {
			log.Error("keyring re-encryption", "err", err)
		} else if n > 0 {
			log.Info("keyring re-encrypted values", "moved", n, "term", k.ActiveTerm())
		}
	}
}
