package web

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
)

// TestClientGoneAwayIsNoFailure sends a request whose client has gone away
// (its context cancelled): the store refuses to start on it, and the server
// must neither log a failure nor claim one with a 500.
func TestClientGoneAwayIsNoFailure(t *testing.T) {
	_, srv0 := mustPlanListFixture(t)
	var logs bytes.Buffer
	srv := MustNewServerWith(t, srv0.DB, Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	admin := MustSignIn(t, srv, planListAdmin, planListPassword)
	if rec := admin.Get("/billing/plans"); rec.Code != http.StatusOK {
		t.Fatalf("the list page: status %d", rec.Code)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	rec := admin.Do(httptest.NewRequestWithContext(ctx, http.MethodGet, "/billing/plans?status=active", nil))
	if rec.Code == http.StatusInternalServerError || strings.Contains(rec.Body.String(), internalErrorMessage) {
		t.Errorf("status %d, body %.200q: a failure claimed for a client that left", rec.Code, rec.Body)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("logged as a failure:\n%s", logs.String())
	}
}

// brokenPipe is a response whose client closed the connection: every write
// fails as net/http's would.
type brokenPipe struct{ *httptest.ResponseRecorder }

func (b brokenPipe) Write([]byte) (int, error) {
	return 0, &net.OpError{Op: "write", Net: "tcp", Err: os.NewSyscallError("write", syscall.EPIPE)}
}

// TestClientThatClosedTheConnectionIsNoFailure writes a page to a client that
// has closed its connection: the write fails, and that is no failure of ours.
func TestClientThatClosedTheConnectionIsNoFailure(t *testing.T) {
	_, srv0 := mustPlanListFixture(t)
	var logs bytes.Buffer
	srv := MustNewServerWith(t, srv0.DB, Config{Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))})
	admin := MustSignIn(t, srv, planListAdmin, planListPassword)
	req := httptest.NewRequest(http.MethodGet, "/billing/plans", nil)
	for _, c := range admin.cookies {
		req.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	srv.Echo.ServeHTTP(brokenPipe{httptest.NewRecorder()}, req)
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Errorf("logged as a failure:\n%s", logs.String())
	}
}
