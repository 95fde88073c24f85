package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"database/sql"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// apiKeyPrefix starts every API key, so that a key pasted somewhere it should
// not be is easy to recognise and to scan for.
const apiKeyPrefix = "bp_live_"

// apiKeyEncoding writes key parts in lower-case base32 without padding: no
// underscore, so the parts split cleanly, and nothing a shell or URL mangles.
var apiKeyEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

var errBadAPIKey = Errorf(EUNAUTHORIZED, "The API key is not valid.")

// APIKey is a key of the usage API, as stored: the secret itself is gone, only
// its SHA-256 hash and a public prefix to look it up by remain.
type APIKey struct {
	ID          int64
	AccountID   int64
	AccountCode string
	// Prefix identifies the key in lists and in `billingplans apikey revoke`.
	Prefix    string
	CreatedAt time.Time
	// RevokedAt is when the key was revoked; nil while it works.
	RevokedAt *time.Time
}

// CreateAPIKey makes a new API key for the account with code and returns it in
// full, bp_live_<prefix>_<secret>: this is the only time it is seen, since only
// its hash is stored. The creation is audited with actor. It returns an ENOTFOUND
// error for an unknown account.
func (db *DB) CreateAPIKey(ctx context.Context, accountCode, actor string) (string, APIKey, error) {
	prefix, err := randomKeyPart(5)
	if err != nil {
		return "", APIKey{}, err
	}
	secret, err := randomKeyPart(32)
	if err != nil {
		return "", APIKey{}, err
	}
	key := apiKeyPrefix + prefix + "_" + secret
	var k APIKey
	err = db.update(ctx, func(tx *Tx) error {
		a, err := findMemberAccountByCode(ctx, tx, accountCode)
		if err != nil {
			return err
		}
		k = APIKey{AccountID: a.ID, AccountCode: a.Code, Prefix: prefix, CreatedAt: tx.Now()}
		res, err := tx.ExecContext(ctx, `INSERT INTO api_keys (account_id, prefix, hash, created_at) VALUES (?, ?, ?, ?)`,
			a.ID, prefix, apiKeyHash(key), formatInstant(k.CreatedAt))
		if err != nil {
			return fmt.Errorf("store: create api key: %w", err)
		}
		if k.ID, err = res.LastInsertId(); err != nil {
			return fmt.Errorf("store: create api key: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{AccountID: a.ID, Actor: actor, Action: AuditAPIKeyCreate, Detail: "prefix " + prefix})
	})
	if err != nil {
		return "", APIKey{}, err
	}
	return key, k, nil
}

// AuthenticateAPIKey returns the account key belongs to. A malformed, unknown or
// revoked key gives the same EUNAUTHORIZED error.
func (db *DB) AuthenticateAPIKey(ctx context.Context, key string) (Account, error) {
	rest, ok := strings.CutPrefix(key, apiKeyPrefix)
	prefix, _, ok2 := strings.Cut(rest, "_")
	if !ok || !ok2 || prefix == "" {
		return Account{}, errBadAPIKey
	}
	var a Account
	err := db.view(ctx, func(tx *Tx) error {
		var hash string
		var accountID int64
		var revoked sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT account_id, hash, revoked_at FROM api_keys WHERE prefix = ?`, prefix).
			Scan(&accountID, &hash, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return errBadAPIKey
		} else if err != nil {
			return fmt.Errorf("store: find api key: %w", err)
		}
		if subtle.ConstantTimeCompare([]byte(hash), []byte(apiKeyHash(key))) != 1 || revoked.Valid {
			return errBadAPIKey
		}
		err = tx.QueryRowContext(ctx, `SELECT `+memberAccountColumns+` FROM accounts a WHERE a.id = ?`, accountID).
			Scan(&a.ID, &a.Code, &a.Name, &a.Currency, &a.TimeZone, &a.TopupBalance.Minor, &a.Uncovered.Minor)
		if err != nil {
			return fmt.Errorf("store: api key account: %w", err)
		}
		a.TopupBalance.Currency, a.Uncovered.Currency = a.Currency, a.Currency
		return nil
	})
	return a, err
}

// RevokeAPIKey revokes the key with prefix, so that it authenticates nothing from
// now on, and audits it with actor. Revoking a revoked key changes nothing. It
// returns an ENOTFOUND error for an unknown prefix.
func (db *DB) RevokeAPIKey(ctx context.Context, prefix, actor string) (APIKey, error) {
	var k APIKey
	err := db.update(ctx, func(tx *Tx) error {
		var created string
		var revoked sql.NullString
		err := tx.QueryRowContext(ctx, `
			SELECT k.id, k.account_id, a.code, k.prefix, k.created_at, k.revoked_at
			FROM api_keys k JOIN accounts a ON a.id = k.account_id WHERE k.prefix = ?`, prefix).
			Scan(&k.ID, &k.AccountID, &k.AccountCode, &k.Prefix, &created, &revoked)
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(ENOTFOUND, "There is no API key %s.", prefix)
		} else if err != nil {
			return fmt.Errorf("store: find api key: %w", err)
		}
		if k.CreatedAt, err = parseInstant(created); err != nil {
			return fmt.Errorf("store: api key created_at: %w", err)
		}
		if revoked.Valid {
			t, err := parseInstant(revoked.String)
			if err != nil {
				return fmt.Errorf("store: api key revoked_at: %w", err)
			}
			k.RevokedAt = &t
			return nil
		}
		now := tx.Now()
		if _, err := tx.ExecContext(ctx, `UPDATE api_keys SET revoked_at = ? WHERE id = ?`, formatInstant(now), k.ID); err != nil {
			return fmt.Errorf("store: revoke api key: %w", err)
		}
		k.RevokedAt = &now
		return Audit(ctx, tx, AuditEntry{AccountID: k.AccountID, Actor: actor, Action: AuditAPIKeyRevoke, Detail: "prefix " + prefix})
	})
	return k, err
}

// randomKeyPart returns n random bytes written in apiKeyEncoding.
func randomKeyPart(n int) (string, error) {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("store: api key: %w", err)
	}
	return apiKeyEncoding.EncodeToString(b), nil
}

// apiKeyHash is the SHA-256 of the whole key. The secret has 256 random bits, so
// a fast hash without salt is enough: there is nothing to guess.
func apiKeyHash(key string) string {
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:])
}
