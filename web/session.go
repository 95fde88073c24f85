package web

import (
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
)

// The session cookie holds the session's token (the sessions table knows only
// its hash), the code of the current account, and flash messages. gorilla's
// cookie store signs and encrypts it; the server-side row is what signing out
// ends, so a copied cookie dies with its session.
const (
	sessionTokenKey   = "token"
	sessionAccountKey = "account"
	// MinSessionKeyLength is the shortest session key accepted, in bytes.
	MinSessionKeyLength = 32
)

// sessionCookieName returns the name of the session cookie. Over HTTPS the
// __Host- prefix makes browsers refuse the cookie unless it is Secure, for
// this host only and path /, so a neighbouring subdomain cannot plant one.
func sessionCookieName(secure bool) string {
	if secure {
		return "__Host-billingplans"
	}
	return "billingplans"
}

// newCookieStore returns gorilla's cookie store with keys derived from each of
// secrets: the first signs and encrypts new cookies, all of them are tried on
// reading, so keys can be rotated by putting a new one first.
func newCookieStore(secrets []string, secure bool) (*sessions.CookieStore, error) {
	if len(secrets) == 0 {
		return nil, errors.New("web: no session keys")
	}
	var pairs [][]byte
	for i, secret := range secrets {
		if len(secret) < MinSessionKeyLength {
			return nil, fmt.Errorf("web: session key %d has %d bytes, want at least %d", i+1, len(secret), MinSessionKeyLength)
		}
		// Separate keys for signing (HMAC-SHA256) and encryption (AES-256), both
		// derived from the one secret an operator configures.
		hashKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "billingplans session cookie hash", 64)
		if err != nil {
			return nil, fmt.Errorf("web: session key: %w", err)
		}
		blockKey, err := hkdf.Key(sha256.New, []byte(secret), nil, "billingplans session cookie block", 32)
		if err != nil {
			return nil, fmt.Errorf("web: session key: %w", err)
		}
		pairs = append(pairs, hashKey, blockKey)
	}
	cs := sessions.NewCookieStore(pairs...)
	// The cookie lives as long as a session may; the server ends it sooner.
	cs.MaxAge(int(store.SessionMaxAge.Seconds()))
	cs.Options.Path = "/"
	cs.Options.HttpOnly = true
	cs.Options.Secure = secure
	cs.Options.SameSite = http.SameSiteLaxMode
	return cs, nil
}

// ParseSessionKeys splits a comma-separated list of session keys, as
// BILLINGPLANS_SESSION_KEYS and --session-keys hold them, dropping blanks.
func ParseSessionKeys(s string) []string {
	var keys []string
	for _, k := range strings.Split(s, ",") {
		if k = strings.TrimSpace(k); k != "" {
			keys = append(keys, k)
		}
	}
	return keys
}

// LoadOrCreateKeyFile returns the session keys in the file at path, one a line,
// creating the file with one new random key (mode 0600) when it does not exist.
// It returns an error when the file cannot be read or written, holds no key, or
// may be read by other users.
func LoadOrCreateKeyFile(path string) ([]string, error) {
	keys, err := readKeyFile(path)
	if !errors.Is(err, fs.ErrNotExist) {
		return keys, err
	}
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("web: session key: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		// Another process made it first: use theirs.
		return readKeyFile(path)
	} else if err != nil {
		return nil, fmt.Errorf("web: create session key file: %w", err)
	}
	key := hex.EncodeToString(b)
	_, err = fmt.Fprintf(f, "# Session keys of billingplans, one a line; the first signs new cookies.\n%s\n", key)
	if err2 := f.Close(); err == nil {
		err = err2
	}
	if err != nil {
		os.Remove(path)
		return nil, fmt.Errorf("web: write session key file: %w", err)
	}
	return []string{key}, nil
}

func readKeyFile(path string) ([]string, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if info.Mode().Perm()&0o077 != 0 {
		return nil, fmt.Errorf("web: session key file %s may be read by other users: chmod 600 it", path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("web: read session key file: %w", err)
	}
	var keys []string
	for _, line := range strings.Split(string(b), "\n") {
		if line = strings.TrimSpace(line); line != "" && !strings.HasPrefix(line, "#") {
			keys = append(keys, line)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("web: session key file %s holds no key", path)
	}
	return keys, nil
}

// cookieSession returns the request's session cookie, decoded. A cookie that is
// missing, tampered with or signed with an unknown key gives a new, empty session.
func (s *Server) cookieSession(c echo.Context) *sessions.Session {
	sess, err := s.cookies.Get(c.Request(), s.cookieName)
	if err != nil {
		s.log.Debug("session cookie refused", "err", err)
	}
	return sess
}

// saveSession writes the session cookie into the response. Call it once per
// request, after the last change, before the body is written.
func (s *Server) saveSession(c echo.Context, sess *sessions.Session) error {
	if err := sess.Save(c.Request(), c.Response()); err != nil {
		return fmt.Errorf("web: save session: %w", err)
	}
	return nil
}

// setFlash leaves msg in the session for the next page the user sees, and saves
// the session: call it after every other change to the session, before redirecting.
func (s *Server) setFlash(c echo.Context, msg string) error {
	sess := s.cookieSession(c)
	sess.AddFlash(msg)
	return s.saveSession(c, sess)
}

// takeFlash returns the flash messages waiting in the session, joined, and
// removes them; "" when there are none.
func (s *Server) takeFlash(c echo.Context) string {
	sess := s.cookieSession(c)
	flashes := sess.Flashes()
	if len(flashes) == 0 {
		return ""
	}
	if err := s.saveSession(c, sess); err != nil {
		s.log.Error("take flash", "err", err)
	}
	msgs := make([]string, 0, len(flashes))
	for _, f := range flashes {
		if m, ok := f.(string); ok {
			msgs = append(msgs, m)
		}
	}
	return strings.Join(msgs, " ")
}

// loadSession finds the signed-in user of the request from the session cookie,
// with their accounts and the current one, for the getters of context.go. A
// cookie of an ended or expired session is cleared, and the request goes on as
// anonymous; requireSignIn then sends it to the sign-in page.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if isStatic(c.Request().URL.Path) {
			return next(c)
		}
		sess := s.cookieSession(c)
		token, _ := sess.Values[sessionTokenKey].(string)
		if token == "" {
			return next(c)
		}
		ss, err := s.DB.ResumeSession(c.Request().Context(), token)
		if store.ErrorCode(err) == store.EUNAUTHORIZED {
			delete(sess.Values, sessionTokenKey)
			delete(sess.Values, sessionAccountKey)
			if errors.Is(err, store.ErrSessionExpired) {
				sess.AddFlash(store.ErrorMessage(err))
			}
			if err := s.saveSession(c, sess); err != nil {
				return err
			}
			return next(c)
		} else if err != nil {
			return err
		}
		a := &requestAuth{token: token, user: ss.User, memberships: ss.Memberships}
		// The current account is the one the session names, when the user still
		// belongs to it; otherwise the first of theirs.
		code, _ := sess.Values[sessionAccountKey].(string)
		for i, m := range ss.Memberships {
			if i == 0 || m.Account.Code == code {
				a.current = m
			}
			if m.Account.Code == code {
				break
			}
		}
		c.Set(authContextKey, a)
		return next(c)
	}
}
