package store

import (
	"context"
	"testing"
)

func TestAuditOfSignIns(t *testing.T) {
	ctx := context.Background()
	db, now := MustOpenAuthDB(t)
	MustCreateAuthAccount(t, db, "ACME")
	MustCreateAuthUser(t, db, "ana@example.com", "correct horse", "ACME", RoleAdmin)

	if _, _, err := db.SignIn(ctx, "ana@example.com", "wrong horse", "192.0.2.7"); ErrorCode(err) != EUNAUTHORIZED {
		t.Fatal(err)
	}
	_, token, err := db.SignIn(ctx, "Ana@example.com", "correct horse", "192.0.2.8")
	if err != nil {
		t.Fatal(err)
	}
	if err := db.SignOut(ctx, token, "192.0.2.9"); err != nil {
		t.Fatal(err)
	}

	entries, total, err := db.AuditLog(ctx, AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	if total != 3 || len(entries) != 3 {
		t.Fatalf("total %d, entries %d, want 3", total, len(entries))
	}
	// Newest first; all at the same instant, so in the order they were written, reversed.
	want := []struct{ action, ip string }{
		{AuditSignOut, "192.0.2.9"},
		{AuditSignIn, "192.0.2.8"},
		{AuditSignInFailed, "192.0.2.7"},
	}
	for i, w := range want {
		e := entries[i]
		if e.Action != w.action || e.IP != w.ip || e.Actor != "ana@example.com" || !e.At.Equal(*now) {
			t.Errorf("entry %d = %+v, want %s from %s by ana@example.com at %v", i, e, w.action, w.ip, *now)
		}
	}
}

func TestAuditInsideATransaction(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenAuthDB(t)
	a := MustCreateAuthAccount(t, db, "ACME")

	t.Run("an entry rolls back with its action", func(t *testing.T) {
		tx, err := db.BeginTx(ctx, true)
		if err != nil {
			t.Fatal(err)
		}
		if err := Audit(ctx, tx, AuditEntry{AccountID: a.ID, Actor: "ana@example.com", Action: "pay"}); err != nil {
			t.Fatal(err)
		}
		tx.Rollback()
		if _, total, err := db.AuditLog(ctx, AuditFilter{AccountID: &a.ID}); err != nil || total != 0 {
			t.Errorf("total %d, err %v, want 0", total, err)
		}
	})
	t.Run("an entry commits with its action", func(t *testing.T) {
		err := db.update(ctx, func(tx *Tx) error {
			return Audit(ctx, tx, AuditEntry{AccountID: a.ID, Actor: "ana@example.com", Action: "pay", Before: "unpaid", After: "paid"})
		})
		if err != nil {
			t.Fatal(err)
		}
		action := "pay"
		entries, total, err := db.AuditLog(ctx, AuditFilter{AccountID: &a.ID, Action: &action})
		if err != nil || total != 1 {
			t.Fatalf("total %d, err %v, want 1", total, err)
		}
		if e := entries[0]; e.AccountID != a.ID || e.Before != "unpaid" || e.After != "paid" {
			t.Errorf("entry = %+v", e)
		}
	})
	t.Run("an entry needs an actor and an action", func(t *testing.T) {
		if err := db.Audit(ctx, AuditEntry{Action: "pay"}); err == nil {
			t.Error("no error")
		}
	})
}
