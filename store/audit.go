package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"
)

// The actions the audit log records. Pay and renew add their own.
const (
	AuditSignIn        = "sign_in"
	AuditSignInFailed  = "sign_in_failed"
	AuditSignOut       = "sign_out"
	AuditSwitchAccount = "switch_account"
	AuditAPIKeyCreate  = "api_key_create"
	AuditAPIKeyRevoke  = "api_key_revoke"
)

// AuditEntry is one line of the audit log: who did what, when, from where, and
// from which values to which.
type AuditEntry struct {
	ID int64
	// At is when it happened; Audit fills in the transaction's time when it is zero.
	At time.Time
	// AccountID and PlanID say what the action was about; 0 when nothing.
	AccountID int64
	PlanID    int64
	// Actor is who acted: a user's email, the email tried in a failed sign-in,
	// or "cli" for the command line.
	Actor  string
	Action string
	Detail string
	Before string
	After  string
	// IP is the client address the request came from; "" outside a request.
	IP string
}

// maxAuditText bounds each text field of an entry, so that whatever a client
// types into a form cannot grow the log without limit.
const maxAuditText = 1000

// Audit writes e to the audit log inside tx, so that the entry is committed with
// the action it records or not at all. It returns an error when the insert fails.
func Audit(ctx context.Context, tx *Tx, e AuditEntry) error {
	if e.At.IsZero() {
		e.At = tx.Now()
	}
	if e.Actor == "" || e.Action == "" {
		return fmt.Errorf("store: audit: actor and action are required")
	}
	_, err := tx.ExecContext(ctx, `
		INSERT INTO audit_log (at, account_id, plan_id, actor, action, detail, before, after, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		formatInstant(e.At), auditID(e.AccountID), auditID(e.PlanID), auditText(e.Actor), e.Action,
		auditText(e.Detail), auditText(e.Before), auditText(e.After), auditText(e.IP))
	if err != nil {
		return fmt.Errorf("store: audit %s: %w", e.Action, err)
	}
	return nil
}

// Audit writes e to the audit log in a transaction of its own, for events that
// change nothing else (a failed sign-in). Actions that change data call the
// package-level Audit with their own transaction instead.
func (db *DB) Audit(ctx context.Context, e AuditEntry) error {
	return db.update(ctx, func(tx *Tx) error { return Audit(ctx, tx, e) })
}

// AuditFilter selects audit log entries; nil fields select everything.
type AuditFilter struct {
	AccountID *int64
	PlanID    *int64
	Actor     *string
	Action    *string
	// Limit is the page size, 100 when 0; Offset skips entries.
	Limit  int
	Offset int
}

// AuditLog returns the entries filter selects, newest first, and how many it
// selects in all. It returns an error when the query fails.
func (db *DB) AuditLog(ctx context.Context, filter AuditFilter) ([]AuditEntry, int, error) {
	var where []string
	var args []any
	if v := filter.AccountID; v != nil {
		where, args = append(where, "account_id = ?"), append(args, *v)
	}
	if v := filter.PlanID; v != nil {
		where, args = append(where, "plan_id = ?"), append(args, *v)
	}
	if v := filter.Actor; v != nil {
		where, args = append(where, "actor = ?"), append(args, *v)
	}
	if v := filter.Action; v != nil {
		where, args = append(where, "action = ?"), append(args, *v)
	}
	cond := ""
	if len(where) > 0 {
		cond = "WHERE " + strings.Join(where, " AND ")
	}
	limit := filter.Limit
	if limit <= 0 {
		limit = 100
	}
	var entries []AuditEntry
	var total int
	err := db.view(ctx, func(tx *Tx) error {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM audit_log `+cond, args...).Scan(&total); err != nil {
			return fmt.Errorf("store: count audit log: %w", err)
		}
		rows, err := tx.QueryContext(ctx, `
			SELECT id, at, account_id, plan_id, actor, action, detail, before, after, ip
			FROM audit_log `+cond+` ORDER BY at DESC, id DESC LIMIT ? OFFSET ?`,
			append(args, limit, filter.Offset)...)
		if err != nil {
			return fmt.Errorf("store: find audit log: %w", err)
		}
		defer rows.Close()
		for rows.Next() {
			var e AuditEntry
			var at string
			var account, plan sql.NullInt64
			if err := rows.Scan(&e.ID, &at, &account, &plan, &e.Actor, &e.Action, &e.Detail, &e.Before, &e.After, &e.IP); err != nil {
				return fmt.Errorf("store: find audit log: %w", err)
			}
			if e.At, err = parseInstant(at); err != nil {
				return fmt.Errorf("store: audit entry %d: %w", e.ID, err)
			}
			e.AccountID, e.PlanID = account.Int64, plan.Int64
			entries = append(entries, e)
		}
		return rows.Err()
	})
	return entries, total, err
}

// auditID returns NULL for the id 0 (no row), the id otherwise.
func auditID(id int64) any {
	if id == 0 {
		return nil
	}
	return id
}

// auditText cuts s to maxAuditText bytes, dropping a character cut in half.
func auditText(s string) string {
	if len(s) <= maxAuditText {
		return s
	}
	return strings.ToValidUTF8(s[:maxAuditText], "")
}
