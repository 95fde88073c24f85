package store

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"time"
)

// The lifetime of a signed-in session.
const (
	// SessionIdleTimeout ends a session nobody used for this long.
	SessionIdleTimeout = 8 * time.Hour
	// SessionMaxAge ends every session this long after its sign-in, used or not.
	SessionMaxAge = 7 * 24 * time.Hour
	// sessionTouchInterval is how stale last_seen may get before a request
	// writes it again: most requests then only read. A session may therefore end
	// up to this much before a full SessionIdleTimeout of idleness.
	sessionTouchInterval = time.Minute
	// sessionRetention is how long ended sessions are kept before sign-ins
	// delete them; the audit log keeps the history.
	sessionRetention = 30 * 24 * time.Hour
)

// errSessionEnded is the answer to a token of no session, or of an ended one.
var errSessionEnded = Errorf(EUNAUTHORIZED, "Please sign in.")

// ErrSessionExpired is ResumeSession's answer for a session that timed out, so
// that the sign-in page can say why it appears (errors.Is finds it).
var ErrSessionExpired = Errorf(EUNAUTHORIZED, "Your session has expired. Please sign in again.")

// Session is a signed-in session: the user, the accounts they belong to, and
// when it began and was last used. Its token lives only in the client's cookie;
// the database keeps a hash of it.
type Session struct {
	User        User
	Memberships []Membership
	CreatedAt   time.Time
	LastSeen    time.Time
}

// SignIn checks email and password and, when they match, starts a new session
// and returns its token, which the caller hands to the client and nowhere else.
// Success and failure are both written to the audit log with ip. A wrong email
// or password gives an EUNAUTHORIZED error, the same for both.
func (db *DB) SignIn(ctx context.Context, email, password, ip string) (User, string, error) {
	u, err := db.Authenticate(ctx, email, password)
	if ErrorCode(err) == EUNAUTHORIZED {
		entry := AuditEntry{Actor: NormalizeEmail(email), Action: AuditSignInFailed, IP: ip}
		if err := db.Audit(ctx, entry); err != nil {
			return User{}, "", err
		}
		return User{}, "", err
	} else if err != nil {
		return User{}, "", err
	}
	token, id, err := newSessionToken()
	if err != nil {
		return User{}, "", err
	}
	err = db.update(ctx, func(tx *Tx) error {
		now := formatInstant(tx.Now())
		if _, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE created_at < ?`,
			formatInstant(tx.Now().Add(-SessionMaxAge-sessionRetention))); err != nil {
			return fmt.Errorf("store: prune sessions: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sessions (id, user_id, created_at, last_seen) VALUES (?, ?, ?, ?)`,
			id, u.ID, now, now); err != nil {
			return fmt.Errorf("store: create session: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{Actor: u.Email, Action: AuditSignIn, IP: ip})
	})
	if err != nil {
		return User{}, "", err
	}
	return u, token, nil
}

// ResumeSession returns the session of token with its user and memberships,
// and marks it used. A token that names no session, or an ended one, gives an
// EUNAUTHORIZED error; so does a session idle for SessionIdleTimeout or older
// than SessionMaxAge, which it ends.
func (db *DB) ResumeSession(ctx context.Context, token string) (Session, error) {
	id := sessionID(token)
	var s Session
	var ended, touch bool
	err := db.view(ctx, func(tx *Tx) error {
		var created, seen string
		var endedAt sql.NullString
		err := tx.QueryRowContext(ctx, `SELECT user_id, created_at, last_seen, ended_at FROM sessions WHERE id = ?`, id).
			Scan(&s.User.ID, &created, &seen, &endedAt)
		if errors.Is(err, sql.ErrNoRows) {
			return errSessionEnded
		} else if err != nil {
			return fmt.Errorf("store: find session: %w", err)
		} else if endedAt.Valid {
			return errSessionEnded
		}
		if s.CreatedAt, err = parseInstant(created); err != nil {
			return fmt.Errorf("store: session created_at: %w", err)
		}
		if s.LastSeen, err = parseInstant(seen); err != nil {
			return fmt.Errorf("store: session last_seen: %w", err)
		}
		now := tx.Now()
		if now.Sub(s.CreatedAt) >= SessionMaxAge || now.Sub(s.LastSeen) >= SessionIdleTimeout {
			ended = true
			return ErrSessionExpired
		}
		touch = now.Sub(s.LastSeen) >= sessionTouchInterval
		if s.User, err = findUserByID(ctx, tx, s.User.ID); err != nil {
			return err
		}
		s.Memberships, err = findMemberships(ctx, tx, s.User.ID)
		return err
	})
	if ended {
		if err := db.endSession(ctx, id); err != nil {
			return Session{}, err
		}
	}
	if err != nil {
		return Session{}, err
	}
	if touch {
		err = db.update(ctx, func(tx *Tx) error {
			// ended_at IS NULL: a sign-out between the read and this write wins.
			_, err := tx.ExecContext(ctx, `UPDATE sessions SET last_seen = ? WHERE id = ? AND ended_at IS NULL`,
				formatInstant(tx.Now()), id)
			return err
		})
		if err != nil {
			return Session{}, fmt.Errorf("store: touch session: %w", err)
		}
	}
	return s, nil
}

// SignOut ends the session of token, so that its cookie is refused from now on,
// and writes the sign-out to the audit log with ip. Ending a session that has
// ended already, or never existed, does nothing and is no error.
func (db *DB) SignOut(ctx context.Context, token, ip string) error {
	id := sessionID(token)
	return db.update(ctx, func(tx *Tx) error {
		var email string
		err := tx.QueryRowContext(ctx, `
			SELECT u.email FROM sessions s JOIN users u ON u.id = s.user_id
			WHERE s.id = ? AND s.ended_at IS NULL`, id).Scan(&email)
		if errors.Is(err, sql.ErrNoRows) {
			return nil
		} else if err != nil {
			return fmt.Errorf("store: sign out: %w", err)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE id = ?`, formatInstant(tx.Now()), id); err != nil {
			return fmt.Errorf("store: sign out: %w", err)
		}
		return Audit(ctx, tx, AuditEntry{Actor: email, Action: AuditSignOut, IP: ip})
	})
}

// EndSession ends the session of token without auditing a sign-out: a new
// sign-in in the same browser replaces it. Ending an ended or unknown session
// does nothing and is no error.
func (db *DB) EndSession(ctx context.Context, token string) error {
	return db.endSession(ctx, sessionID(token))
}

func (db *DB) endSession(ctx context.Context, id string) error {
	return db.update(ctx, func(tx *Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE sessions SET ended_at = ? WHERE id = ? AND ended_at IS NULL`,
			formatInstant(tx.Now()), id); err != nil {
			return fmt.Errorf("store: end session: %w", err)
		}
		return nil
	})
}

// newSessionToken returns a random token for a client and the id the database
// knows it by.
func newSessionToken() (token, id string, err error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", "", fmt.Errorf("store: session token: %w", err)
	}
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, sessionID(token), nil
}

// sessionID is the SHA-256 of token: a copy of the database does not hold
// tokens that would sign anyone in.
func sessionID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}
