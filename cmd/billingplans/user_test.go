package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/billingplans/billingplans/store"
)

// mustAccountDB returns the path of a new database with the accounts of codes,
// and restores cheap password hashing for the test.
func mustAccountDB(t *testing.T, codes ...string) string {
	t.Helper()
	saved := store.PasswordParams
	store.PasswordParams.Memory, store.PasswordParams.Time, store.PasswordParams.Threads = 64, 1, 1
	t.Cleanup(func() { store.PasswordParams = saved })

	path := filepath.Join(t.TempDir(), "billing.db")
	db, err := store.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	tx, err := db.BeginTx(ctx, true)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	for _, code := range codes {
		if _, err := tx.ExecContext(ctx, `INSERT INTO accounts (code, name, currency, timezone) VALUES (?, ?, 'USD', ?)`,
			code, "Account "+code, store.DefaultTimeZone); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUserAdd(t *testing.T) {
	db := mustAccountDB(t, "ACME", "BETA")
	runOK := func(t *testing.T, args ...string) string {
		t.Helper()
		var out bytes.Buffer
		if err := run(append([]string{"user", "add", "--db", db}, args...), &out, &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out.String()
	}

	t.Run("a new email makes a user and a member", func(t *testing.T) {
		out := runOK(t, "--email", "Ana@Example.com", "--password", "correct horse", "--name", "Ana", "--account", "ACME", "--role", "admin")
		want := "created user ana@example.com\nana@example.com is admin of account ACME (Account ACME)\n"
		if out != want {
			t.Errorf("output = %q, want %q", out, want)
		}
	})
	t.Run("a known email only joins another account", func(t *testing.T) {
		out := runOK(t, "--email", "ana@example.com", "--account", "BETA", "--role", "viewer")
		if want := "ana@example.com is viewer of account BETA (Account BETA)\n"; out != want {
			t.Errorf("output = %q, want %q", out, want)
		}
		s, err := store.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		u, err := s.Authenticate(context.Background(), "ana@example.com", "correct horse")
		if err != nil {
			t.Fatal(err)
		}
		ms, err := s.Memberships(context.Background(), u.ID)
		if err != nil || len(ms) != 2 {
			t.Errorf("memberships = %+v, %v; want 2", ms, err)
		}
	})
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"an unknown account makes no user", []string{"--email", "bo@example.com", "--password", "correct horse", "--name", "Bo", "--account", "NOPE"}, "no account NOPE"},
		{"a short password is refused", []string{"--email", "bo@example.com", "--password", "short", "--name", "Bo", "--account", "ACME"}, "at least 8"},
		{"an unknown role is refused", []string{"--email", "bo@example.com", "--password", "correct horse", "--name", "Bo", "--account", "ACME", "--role", "owner"}, "admin or viewer"},
		{"a new user needs a name", []string{"--email", "bo@example.com", "--password", "correct horse", "--account", "ACME"}, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			err := run(append([]string{"user", "add", "--db", db}, tt.args...), &out, &out)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want it to say %q", err, tt.want)
			}
		})
	}
	t.Run("a failed add leaves no user behind", func(t *testing.T) {
		s, err := store.Open(db)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		if _, err := s.FindUserByEmail(context.Background(), "bo@example.com"); store.ErrorCode(err) != store.ENOTFOUND {
			t.Errorf("err = %v, want not found", err)
		}
	})
}

func TestAPIKeyCommand(t *testing.T) {
	db := mustAccountDB(t, "ACME")

	var out bytes.Buffer
	if err := run([]string{"apikey", "create", "--db", db, "--account", "ACME"}, &out, &out); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^(bp_live_([a-z2-7]+)_[a-z2-7]+)\n`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("output = %q, want the key on the first line", out.String())
	}
	key, prefix := m[1], m[2]

	s, err := store.Open(db)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if a, err := s.AuthenticateAPIKey(context.Background(), key); err != nil || a.Code != "ACME" {
		t.Fatalf("account %q, err %v", a.Code, err)
	}

	out.Reset()
	if err := run([]string{"apikey", "revoke", "--db", db, prefix}, &out, &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "revoked") {
		t.Errorf("output = %q", out.String())
	}
	if _, err := s.AuthenticateAPIKey(context.Background(), key); store.ErrorCode(err) != store.EUNAUTHORIZED {
		t.Errorf("err = %v after revoking, want unauthorized", err)
	}
	if err := run([]string{"apikey", "revoke", "--db", db, "nope"}, &out, &out); err == nil {
		t.Error("revoking an unknown prefix: no error")
	}
}
