package store

import (
	"context"
	"slices"
	"testing"
	"time"
)

func TestSessions(t *testing.T) {
	ctx := context.Background()
	db, now := MustOpenAuthDB(t)
	MustCreateAuthAccount(t, db, "ACME")
	MustCreateAuthUser(t, db, "ana@example.com", "correct horse", "ACME", RoleAdmin)

	signIn := func(t *testing.T) string {
		t.Helper()
		_, token, err := db.SignIn(ctx, "ana@example.com", "correct horse", "192.0.2.1")
		if err != nil {
			t.Fatal(err)
		}
		return token
	}

	t.Run("a session carries its user and memberships", func(t *testing.T) {
		s, err := db.ResumeSession(ctx, signIn(t))
		if err != nil {
			t.Fatal(err)
		}
		if s.User.Email != "ana@example.com" || len(s.Memberships) != 1 || s.Memberships[0].Account.Code != "ACME" {
			t.Errorf("session = %+v", s)
		}
	})
	t.Run("every sign-in starts a new session", func(t *testing.T) {
		if a, b := signIn(t), signIn(t); a == b {
			t.Error("two sign-ins gave the same token")
		}
	})
	t.Run("the database keeps only a hash of the token", func(t *testing.T) {
		token := signIn(t)
		var n int
		if err := db.read.QueryRow(`SELECT COUNT(*) FROM sessions WHERE id = ?`, token).Scan(&n); err != nil {
			t.Fatal(err)
		} else if n != 0 {
			t.Error("the token is stored as it is")
		}
	})
	t.Run("a wrong password starts no session", func(t *testing.T) {
		_, token, err := db.SignIn(ctx, "ana@example.com", "wrong horse", "192.0.2.1")
		if ErrorCode(err) != EUNAUTHORIZED || token != "" {
			t.Errorf("token %q, err %v, want none and unauthorized", token, err)
		}
	})
	t.Run("signing out ends the session", func(t *testing.T) {
		token := signIn(t)
		if err := db.SignOut(ctx, token, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		if _, err := db.ResumeSession(ctx, token); ErrorCode(err) != EUNAUTHORIZED {
			t.Errorf("err = %v, want unauthorized", err)
		}
		if err := db.SignOut(ctx, token, "192.0.2.1"); err != nil {
			t.Errorf("signing out twice: %v", err)
		}
	})
	t.Run("an unknown token is refused", func(t *testing.T) {
		if _, err := db.ResumeSession(ctx, "no-such-token"); ErrorCode(err) != EUNAUTHORIZED {
			t.Errorf("err = %v, want unauthorized", err)
		}
	})
	t.Run("a session idle for the idle timeout ends", func(t *testing.T) {
		token := signIn(t)
		*now = now.Add(SessionIdleTimeout - time.Minute)
		if _, err := db.ResumeSession(ctx, token); err != nil {
			t.Fatalf("just before the idle timeout: %v", err)
		}
		*now = now.Add(SessionIdleTimeout - time.Minute)
		if _, err := db.ResumeSession(ctx, token); err != nil {
			t.Fatalf("use moves the idle timeout: %v", err)
		}
		*now = now.Add(SessionIdleTimeout)
		_, err := db.ResumeSession(ctx, token)
		if ErrorCode(err) != EUNAUTHORIZED || ErrorMessage(err) != ErrSessionExpired.Message {
			t.Fatalf("err = %v, want expired", err)
		}
		// Ended, not only idle: moving the clock back does not revive it.
		*now = now.Add(-SessionIdleTimeout)
		if _, err := db.ResumeSession(ctx, token); ErrorCode(err) != EUNAUTHORIZED {
			t.Errorf("err = %v, want unauthorized", err)
		}
	})
	t.Run("a session in use ends at its maximum age", func(t *testing.T) {
		token := signIn(t)
		for used := time.Duration(0); used+time.Hour < SessionMaxAge; used += time.Hour {
			*now = now.Add(time.Hour)
			if _, err := db.ResumeSession(ctx, token); err != nil {
				t.Fatalf("after %v: %v", used+time.Hour, err)
			}
		}
		*now = now.Add(time.Hour)
		if _, err := db.ResumeSession(ctx, token); ErrorMessage(err) != ErrSessionExpired.Message {
			t.Errorf("at the maximum age: err = %v, want expired", err)
		}
	})
}

// TestSessionCarriesEveryMembership resumes the sessions of a user of three
// accounts and of a user of none: the memberships in account name order, each
// account with its figures, and the same user as FindUserByID reads.
func TestSessionCarriesEveryMembership(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenAuthDB(t)
	for _, code := range []string{"ZED", "ACME", "MID"} {
		MustCreateAuthAccount(t, db, code)
	}
	MustExec(t, db, `UPDATE accounts SET topup_balance = 1234, uncovered = 56 WHERE code = 'MID'`)
	u := MustCreateAuthUser(t, db, "ana@example.com", "correct horse", "ZED", RoleViewer)
	for _, code := range []string{"ACME", "MID"} {
		if _, err := db.AddMembership(ctx, "ana@example.com", code, RoleAdmin); err != nil {
			t.Fatal(err)
		}
	}
	_, token, err := db.SignIn(ctx, "ana@example.com", "correct horse", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	s, err := db.ResumeSession(ctx, token)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, m := range s.Memberships {
		got = append(got, m.Account.Code+":"+string(m.Role))
	}
	if want := []string{"ACME:admin", "MID:admin", "ZED:viewer"}; !slices.Equal(got, want) {
		t.Errorf("memberships %v, want %v (account name order)", got, want)
	}
	if mid := s.Memberships[1].Account; mid.TopupBalance != (Money{1234, USD}) || mid.Uncovered != (Money{56, USD}) || mid.TimeZone != DefaultTimeZone {
		t.Errorf("MID = %+v", mid)
	}
	if s.User.ID != u.ID || s.User.Email != u.Email || s.User.Name != u.Name || !s.User.CreatedAt.Equal(u.CreatedAt) {
		t.Errorf("user %+v, want %+v", s.User, u)
	}

	MustCreateAuthAccount(t, db, "SOLO")
	MustCreateAuthUser(t, db, "bo@example.com", "correct horse", "SOLO", RoleViewer)
	MustExec(t, db, `DELETE FROM memberships WHERE user_id = (SELECT id FROM users WHERE email = 'bo@example.com')`)
	_, token, err = db.SignIn(ctx, "bo@example.com", "correct horse", "192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	if s, err := db.ResumeSession(ctx, token); err != nil || len(s.Memberships) != 0 || s.User.Email != "bo@example.com" {
		t.Errorf("a user of no account: %+v, %v", s, err)
	}
}
