package sqlstore

import (
	"context"
	"database/sql"
	"time"

	"github.com/patchbay-dev/patchbay/internal/patchbay"
)

const oauthFlowCols = `account_id, project_id, org_id, actor_id, actor_key, link_hash, link_expires_at, state_hash, state_expires_at, callback_url, redirect_uri, used_at, created_at`

func (s *DB) CreateOAuthFlow(ctx context.Context, f *patchbay.OAuthFlow) error {
	var state, stateExp any
	if f.StateHash != "" {
		state, stateExp = f.StateHash, ts(f.StateExpiresAt)
	}
	_, err := s.q.ExecContext(ctx, `INSERT INTO oauth_flows (`+oauthFlowCols+`) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
		f.AccountID, f.ProjectID, f.OrgID, f.ActorID, f.ActorKey, f.LinkHash, ts(f.LinkExpiresAt), state, stateExp,
		f.CallbackURL, f.RedirectURI, tsPtr(f.UsedAt), ts(f.CreatedAt))
	return s.wrap(err, "OAuth flow exists")
}

func (s *DB) oauthFlow(ctx context.Context, col, v string) (*patchbay.OAuthFlow, error) {
	var (
		f        patchbay.OAuthFlow
		state    sql.NullString
		stateExp sql.NullTime
		used     sql.NullTime
	)
	err := s.q.QueryRowContext(ctx, `SELECT `+oauthFlowCols+` FROM oauth_flows WHERE `+col+` = $1`, v).Scan(
		&f.AccountID, &f.ProjectID, &f.OrgID, &f.ActorID, &f.ActorKey, &f.LinkHash, &f.LinkExpiresAt, &state, &stateExp,
		&f.CallbackURL, &f.RedirectURI, &used, &f.CreatedAt)
	if isNoRows(err) {
		return nil, notFound("OAuth flow", "")
	}
	if err != nil {
		return nil, err
	}
	f.LinkExpiresAt, f.CreatedAt, f.StateHash, f.UsedAt = f.LinkExpiresAt.UTC(), f.CreatedAt.UTC(), state.String, fromNull(used)
	if stateExp.Valid {
		f.StateExpiresAt = stateExp.Time.UTC()
	}
	return &f, nil
}

func (s *DB) OAuthFlowByLink(ctx context.Context, linkHash string) (*patchbay.OAuthFlow, error) {
	return s.oauthFlow(ctx, "link_hash", linkHash)
}

func (s *DB) OAuthFlowByState(ctx context.Context, stateHash string) (*patchbay.OAuthFlow, error) {
	return s.oauthFlow(ctx, "state_hash", stateHash)
}

func (s *DB) SetOAuthState(ctx context.Context, accountID, stateHash string, expires time.Time) error {
	res, err := s.q.ExecContext(ctx, `UPDATE oauth_flows SET state_hash = $1, state_expires_at = $2 WHERE account_id = $3 AND used_at IS NULL`,
		stateHash, ts(expires), accountID)
	if err != nil {
		return s.wrap(err, "OAuth state exists")
	}
	if n, err := res.RowsAffected(); err != nil {
		return err
	} else if n == 0 {
		return patchbay.Errorf(patchbay.ECONFLICT, "This connection's authorization was completed already.")
	}
	return nil
}

func (s *DB) UseOAuthState(ctx context.Context, stateHash string, at time.Time) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE oauth_flows SET used_at = $1 WHERE state_hash = $2 AND used_at IS NULL`, ts(at), stateHash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (s *DB) UseConnectLink(ctx context.Context, linkHash string, at time.Time) (bool, error) {
	res, err := s.q.ExecContext(ctx, `UPDATE oauth_flows SET used_at = $1 WHERE link_hash = $2 AND used_at IS NULL`, ts(at), linkHash)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}
