package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"runtime/pprof"
	"strings"
	"syscall"
	"time"

	"github.com/billingplans/billingplans/web"
)

// runServe starts the console and stops it gracefully on SIGINT or SIGTERM.
func runServe(args []string, stdout io.Writer) error {
	fs, dbPath := newFlagSet("serve")
	defAddr := os.Getenv("BILLINGPLANS_ADDR")
	if defAddr == "" {
		defAddr = "127.0.0.1:8080"
	}
	addr := fs.String("addr", defAddr, "the address to listen on (env BILLINGPLANS_ADDR)")
	secure := fs.String("secure-cookies", os.Getenv("BILLINGPLANS_SECURE_COOKIES"), "true when served over HTTPS (default: true unless the address is loopback)")
	// No default from the environment here: -h prints defaults, and these are secrets.
	keys := fs.String("session-keys", "", "comma-separated secrets of 32+ characters that sign and encrypt session cookies, the first for new ones (env BILLINGPLANS_SESSION_KEYS, preferred; default: generated into <db>.keys)")
	proxies := fs.String("trusted-proxies", os.Getenv("BILLINGPLANS_TRUSTED_PROXIES"), "comma-separated networks (CIDR) of reverse proxies whose X-Forwarded-For names the client (env BILLINGPLANS_TRUSTED_PROXIES)")
	seedIfEmpty := fs.Bool("seed-if-empty", false, "load the demo data when the database has no account yet")
	demo := demoFlags(fs)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the whole run to this file (for `go tool pprof`)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if *keys == "" {
		*keys = os.Getenv("BILLINGPLANS_SESSION_KEYS")
	}
	sessionKeys := web.ParseSessionKeys(*keys)
	db, err := openDB(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if *seedIfEmpty {
		empty, err := db.IsEmpty(context.Background())
		if err != nil {
			return err
		}
		if empty {
			fmt.Fprintln(stdout, "billingplans: the database is empty; loading demo data")
			if err := seedDemo(db, demo, io.Discard); err != nil {
				return err
			}
		}
	}
	if len(sessionKeys) == 0 {
		// Kept beside the database, so sign-ins survive a restart.
		if sessionKeys, err = web.LoadOrCreateKeyFile(*dbPath + ".keys"); err != nil {
			return err
		}
	}

	srv, err := web.New(db, web.Config{
		Addr:           *addr,
		SecureCookies:  secureCookies(*secure, *addr),
		SessionKeys:    sessionKeys,
		TrustedProxies: splitList(*proxies),
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	fmt.Fprintf(stdout, "billingplans: serving on http://%s (database %s)\n", ln.Addr(), *dbPath)
	if *seedIfEmpty {
		printDemoLogins(stdout)
	}

	hs := &http.Server{Handler: srv.Echo, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	fmt.Fprintln(stdout, "billingplans: shutting down")
	shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// splitList returns the comma-separated items of s, trimmed, without blanks.
func splitList(s string) []string {
	var items []string
	for _, item := range strings.Split(s, ",") {
		if item = strings.TrimSpace(item); item != "" {
			items = append(items, item)
		}
	}
	return items
}

// secureCookies decides whether cookies are Secure: as the flag says when it is
// set, otherwise on for every address but loopback.
func secureCookies(flag, addr string) bool {
	switch strings.ToLower(flag) {
	case "true", "1", "yes":
		return true
	case "false", "0", "no":
		return false
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return true
	}
	ip := net.ParseIP(host)
	return !(host == "localhost" || (ip != nil && ip.IsLoopback()))
}
