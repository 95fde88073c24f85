package web

import (
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/billingplans/billingplans/store"
)

func TestLoadOrCreateKeyFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "billing.db.keys")

	keys, err := LoadOrCreateKeyFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 1 || len(keys[0]) < MinSessionKeyLength {
		t.Fatalf("keys = %q, want one long key", keys)
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if got := info.Mode().Perm(); got != 0o600 {
		t.Errorf("mode = %o, want 600", got)
	}

	t.Run("the next start reads the same key", func(t *testing.T) {
		again, err := LoadOrCreateKeyFile(path)
		if err != nil {
			t.Fatal(err)
		} else if len(again) != 1 || again[0] != keys[0] {
			t.Errorf("keys = %q, want %q", again, keys)
		}
	})
	t.Run("a file others may read is refused", func(t *testing.T) {
		if err := os.Chmod(path, 0o644); err != nil {
			t.Fatal(err)
		}
		defer os.Chmod(path, 0o600)
		if _, err := LoadOrCreateKeyFile(path); err == nil || !strings.Contains(err.Error(), "chmod 600") {
			t.Errorf("err = %v, want a chmod hint", err)
		}
	})
	t.Run("several keys, comments and blank lines", func(t *testing.T) {
		p := filepath.Join(t.TempDir(), "k")
		body := "# rotated\nnew-key-0123456789abcdef0123456789abcdef\n\nold-key-0123456789abcdef0123456789abcdef\n"
		if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := LoadOrCreateKeyFile(p)
		if err != nil {
			t.Fatal(err)
		} else if len(got) != 2 || !strings.HasPrefix(got[0], "new-key") {
			t.Errorf("keys = %q", got)
		}
	})
}

func TestSessionKeys(t *testing.T) {
	db := MustOpenDB(t)
	MustCreateAccount(t, db, "ACME", store.USD)
	MustCreateUser(t, db, "ana@example.com", "correct horse", "ACME", store.RoleAdmin)

	t.Run("a short key is refused", func(t *testing.T) {
		if _, err := New(db, Config{SessionKeys: []string{"short"}}); err == nil {
			t.Error("no error")
		}
	})
	t.Run("the list of keys splits on commas", func(t *testing.T) {
		if got := ParseSessionKeys(" a, ,b,"); len(got) != 2 || got[0] != "a" || got[1] != "b" {
			t.Errorf("keys = %q", got)
		}
	})
	t.Run("a cookie signed with a retired key still works; one of an unknown key does not", func(t *testing.T) {
		oldKey := "old-key-0123456789abcdef0123456789abcdef"
		c := MustSignIn(t, MustNewServerWith(t, db, Config{SessionKeys: []string{oldKey}}), "ana@example.com", "correct horse")
		cookies := c.Cookies()

		rotated := newClient(t, MustNewServerWith(t, db, Config{SessionKeys: []string{"new-key-0123456789abcdef0123456789abcdef", oldKey}}))
		rotated.SetCookies(cookies)
		if rec := rotated.Get("/billing/plans"); rec.Code != http.StatusOK {
			t.Errorf("rotated keys: status %d", rec.Code)
		}
		other := newClient(t, MustNewServerWith(t, db, Config{SessionKeys: []string{"new-key-0123456789abcdef0123456789abcdef"}}))
		other.SetCookies(cookies)
		MustRedirect(t, other.Get("/billing/plans"), "/login?next="+url.QueryEscape("/billing/plans"))
	})
	t.Run("over HTTPS the cookies are Secure and host-only", func(t *testing.T) {
		c := newClient(t, MustNewServerWith(t, db, Config{SecureCookies: true}))
		c.Get("/login")
		rec := c.PostForm("/login", url.Values{"email": {"ana@example.com"}, "password": {"correct horse"}})
		MustRedirect(t, rec, "/billing/plans")
		names := map[string]bool{}
		for _, ck := range rec.Result().Cookies() {
			names[ck.Name] = true
			if !ck.Secure || !ck.HttpOnly || ck.Domain != "" || ck.Path != "/" {
				t.Errorf("cookie = %+v", ck)
			}
		}
		if !names["__Host-billingplans"] || !names["__Host-csrf"] {
			t.Errorf("cookies = %v, want __Host-billingplans and __Host-csrf", names)
		}
	})
}
