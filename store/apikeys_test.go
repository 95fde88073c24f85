package store

import (
	"context"
	"regexp"
	"strings"
	"testing"
)

func TestAPIKeys(t *testing.T) {
	ctx := context.Background()
	db, _ := MustOpenAuthDB(t)
	acme := MustCreateAuthAccount(t, db, "ACME")
	MustCreateAuthAccount(t, db, "BETA")

	key, k, err := db.CreateAPIKey(ctx, "ACME", "cli")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^bp_live_[a-z2-7]{8}_[a-z2-7]{52}$`).MatchString(key) {
		t.Errorf("key %q does not look like bp_live_<prefix>_<secret>", key)
	}
	if !strings.HasPrefix(key, "bp_live_"+k.Prefix+"_") || k.AccountID != acme.ID {
		t.Errorf("key %q, stored %+v", key, k)
	}

	t.Run("only a hash of the key is stored", func(t *testing.T) {
		var hash string
		if err := db.read.QueryRow(`SELECT hash FROM api_keys WHERE prefix = ?`, k.Prefix).Scan(&hash); err != nil {
			t.Fatal(err)
		}
		if strings.Contains(key, hash) || strings.Contains(hash, key[len(key)-20:]) || hash != apiKeyHash(key) {
			t.Errorf("stored %q for key %q", hash, key)
		}
	})
	t.Run("the key authenticates its account", func(t *testing.T) {
		a, err := db.AuthenticateAPIKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		} else if a.Code != "ACME" {
			t.Errorf("account = %s, want ACME", a.Code)
		}
	})
	t.Run("wrong keys are refused alike", func(t *testing.T) {
		for _, bad := range []string{"", "bp_live_", "nonsense", key + "x", "bp_live_" + k.Prefix + "_wrong", "bp_live_zzzzzzzz_" + key[17:]} {
			if _, err := db.AuthenticateAPIKey(ctx, bad); ErrorCode(err) != EUNAUTHORIZED || ErrorMessage(err) != errBadAPIKey.Message {
				t.Errorf("key %q: err = %v, want unauthorized", bad, err)
			}
		}
	})
	t.Run("a key of an unknown account cannot be made", func(t *testing.T) {
		if _, _, err := db.CreateAPIKey(ctx, "NOPE", "cli"); ErrorCode(err) != ENOTFOUND {
			t.Errorf("err = %v, want not found", err)
		}
	})
	t.Run("a revoked key is refused", func(t *testing.T) {
		r, err := db.RevokeAPIKey(ctx, k.Prefix, "cli")
		if err != nil {
			t.Fatal(err)
		} else if r.RevokedAt == nil {
			t.Error("revoked_at not set")
		}
		if _, err := db.AuthenticateAPIKey(ctx, key); ErrorCode(err) != EUNAUTHORIZED {
			t.Errorf("err = %v, want unauthorized", err)
		}
		if _, err := db.RevokeAPIKey(ctx, k.Prefix, "cli"); err != nil {
			t.Errorf("revoking twice: %v", err)
		}
		action := AuditAPIKeyRevoke
		if _, n, err := db.AuditLog(ctx, AuditFilter{Action: &action}); err != nil || n != 1 {
			t.Errorf("revocations audited: %d, %v; want 1", n, err)
		}
	})
	t.Run("an unknown prefix cannot be revoked", func(t *testing.T) {
		if _, err := db.RevokeAPIKey(ctx, "nope", "cli"); ErrorCode(err) != ENOTFOUND {
			t.Errorf("err = %v, want not found", err)
		}
	})
}
