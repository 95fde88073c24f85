package store

import (
	"context"
	"path/filepath"
	"testing"
	"time"
)

// Tests of this package hash passwords with cheap parameters; DummyPasswordHash
// keeps the real ones, which CheckPassword reads from the hash.
func init() {
	PasswordParams.Memory, PasswordParams.Time, PasswordParams.Threads = 64, 1, 1
}

// MustOpenAuthDB opens a fresh database in t.TempDir() with a clock that tests
// move through the returned pointer.
func MustOpenAuthDB(t *testing.T) (*DB, *time.Time) {
	t.Helper()
	db, err := Open(filepath.Join(t.TempDir(), "billing.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	now := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	db.Now = func() time.Time { return now }
	return db, &now
}

// MustCreateAuthAccount inserts an account with code, billing in USD.
func MustCreateAuthAccount(t *testing.T, db *DB, code string) Account {
	t.Helper()
	ctx := context.Background()
	err := db.update(ctx, func(tx *Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO accounts (code, name, currency, timezone) VALUES (?, ?, 'USD', ?)`,
			code, "Account "+code, DefaultTimeZone)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	var a Account
	err = db.view(ctx, func(tx *Tx) (err error) {
		a, err = findMemberAccountByCode(ctx, tx, code)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// MustCreateAuthUser creates a user and makes them a member of accountCode in role.
func MustCreateAuthUser(t *testing.T, db *DB, email, password, accountCode string, role Role) User {
	t.Helper()
	u, err := db.CreateUser(context.Background(), email, "User "+email, password)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.AddMembership(context.Background(), email, accountCode, role); err != nil {
		t.Fatal(err)
	}
	return u
}

func TestCreateUser(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenAuthDB(t)

	u, err := db.CreateUser(ctx, "  Ana@Example.COM ", "Ana", "correct horse")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := u.Email, "ana@example.com"; got != want {
		t.Errorf("email = %q, want %q", got, want)
	}
	if !CheckPassword(u.PasswordHash, "correct horse") {
		t.Error("the stored hash does not check the password")
	}
	got, err := db.FindUserByEmail(ctx, "ANA@example.com")
	if err != nil {
		t.Fatal(err)
	} else if got.ID != u.ID {
		t.Errorf("found user %d, want %d", got.ID, u.ID)
	}

	tests := []struct {
		name, email, userName, password, code string
	}{
		{"a taken email is a conflict, in any case", "ANA@example.com", "Ana", "correct horse", ECONFLICT},
		{"a short password is refused", "bo@example.com", "Bo", "short", EINVALID},
		{"a malformed email is refused", "not an email", "Bo", "correct horse", EINVALID},
		{"an email with a display name is refused", "Bo <bo@example.com>", "Bo", "correct horse", EINVALID},
		{"an empty name is refused", "bo@example.com", " ", "correct horse", EINVALID},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := db.CreateUser(ctx, tt.email, tt.userName, tt.password)
			if got := ErrorCode(err); got != tt.code {
				t.Errorf("code = %q, want %q (%v)", got, tt.code, err)
			}
		})
	}
}

func TestAuthenticate(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenAuthDB(t)
	MustCreateAuthAccount(t, db, "ACME")
	want := MustCreateAuthUser(t, db, "ana@example.com", "correct horse", "ACME", RoleAdmin)

	t.Run("the right password signs in, whatever the email's case", func(t *testing.T) {
		u, err := db.Authenticate(ctx, "Ana@Example.com", "correct horse")
		if err != nil {
			t.Fatal(err)
		} else if u.ID != want.ID {
			t.Errorf("user = %d, want %d", u.ID, want.ID)
		}
	})
	t.Run("a wrong password and an unknown email fail alike", func(t *testing.T) {
		_, wrong := db.Authenticate(ctx, "ana@example.com", "wrong horse")
		_, unknown := db.Authenticate(ctx, "bo@example.com", "correct horse")
		if ErrorCode(wrong) != EUNAUTHORIZED || ErrorCode(unknown) != EUNAUTHORIZED {
			t.Fatalf("codes = %q, %q, want %q", ErrorCode(wrong), ErrorCode(unknown), EUNAUTHORIZED)
		}
		if ErrorMessage(wrong) != ErrorMessage(unknown) {
			t.Errorf("messages differ: %q and %q", ErrorMessage(wrong), ErrorMessage(unknown))
		}
	})
}

func TestMemberships(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenAuthDB(t)
	MustCreateAuthAccount(t, db, "ACME")
	MustCreateAuthAccount(t, db, "BETA")
	MustCreateAuthAccount(t, db, "GAMMA")
	u := MustCreateAuthUser(t, db, "ana@example.com", "correct horse", "BETA", RoleViewer)
	if _, err := db.AddMembership(ctx, "ana@example.com", "ACME", RoleAdmin); err != nil {
		t.Fatal(err)
	}

	ms, err := db.Memberships(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Account.Code != "ACME" || ms[1].Account.Code != "BETA" {
		t.Fatalf("memberships = %+v, want ACME then BETA", ms)
	}
	if !ms[0].IsAdmin() || ms[1].IsAdmin() {
		t.Errorf("admin = %v, %v, want true, false", ms[0].IsAdmin(), ms[1].IsAdmin())
	}

	t.Run("a member's account is found", func(t *testing.T) {
		m, err := db.FindMembership(ctx, u.ID, "BETA")
		if err != nil {
			t.Fatal(err)
		} else if m.Role != RoleViewer {
			t.Errorf("role = %q, want viewer", m.Role)
		}
	})
	t.Run("another account answers exactly as a missing one", func(t *testing.T) {
		_, foreign := db.FindMembership(ctx, u.ID, "GAMMA")
		_, missing := db.FindMembership(ctx, u.ID, "NOPE")
		if ErrorCode(foreign) != ENOTFOUND || ErrorCode(missing) != ENOTFOUND {
			t.Fatalf("codes = %q, %q, want not_found", ErrorCode(foreign), ErrorCode(missing))
		}
		if want := "There is no account GAMMA."; ErrorMessage(foreign) != want {
			t.Errorf("message = %q, want %q", ErrorMessage(foreign), want)
		}
	})
	t.Run("adding a member again changes the role", func(t *testing.T) {
		if _, err := db.AddMembership(ctx, "ana@example.com", "BETA", RoleAdmin); err != nil {
			t.Fatal(err)
		}
		m, err := db.FindMembership(ctx, u.ID, "BETA")
		if err != nil {
			t.Fatal(err)
		} else if !m.IsAdmin() {
			t.Errorf("role = %q, want admin", m.Role)
		}
	})
	t.Run("an unknown role is refused", func(t *testing.T) {
		_, err := db.AddMembership(ctx, "ana@example.com", "BETA", Role("owner"))
		if got := ErrorCode(err); got != EINVALID {
			t.Errorf("code = %q, want invalid", got)
		}
	})
}

func TestAddUser(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenAuthDB(t)
	MustCreateAuthAccount(t, db, "ACME")
	MustCreateAuthAccount(t, db, "BETA")

	t.Run("a new email makes the user and the membership", func(t *testing.T) {
		u, m, created, err := db.AddUser(ctx, "Ana@example.com", "Ana", "correct horse", "ACME", RoleAdmin)
		if err != nil {
			t.Fatal(err)
		}
		if !created || u.Email != "ana@example.com" || m.Account.Code != "ACME" || !m.IsAdmin() {
			t.Errorf("created %v, user %+v, membership %+v", created, u, m)
		}
	})
	t.Run("a known email keeps its password and gets the membership", func(t *testing.T) {
		_, m, created, err := db.AddUser(ctx, "ana@example.com", "", "", "BETA", RoleViewer)
		if err != nil {
			t.Fatal(err)
		}
		if created || m.Account.Code != "BETA" || m.IsAdmin() {
			t.Errorf("created %v, membership %+v", created, m)
		}
		if _, err := db.Authenticate(ctx, "ana@example.com", "correct horse"); err != nil {
			t.Errorf("the password changed: %v", err)
		}
	})
	t.Run("an unknown account makes no user", func(t *testing.T) {
		_, _, _, err := db.AddUser(ctx, "bo@example.com", "Bo", "correct horse", "NOPE", RoleViewer)
		if ErrorCode(err) != ENOTFOUND {
			t.Fatalf("err = %v, want not found", err)
		}
		if _, err := db.FindUserByEmail(ctx, "bo@example.com"); ErrorCode(err) != ENOTFOUND {
			t.Errorf("a user was left behind: %v", err)
		}
	})
}
