package main

import (
	"context"
	"fmt"
	"io"
	"time"

	"github.com/billingplans/billingplans/store"
)

// runSeed loads deterministic demo data and prints the demo logins.
func runSeed(args []string, stdout io.Writer) error {
	fs, dbPath := newFlagSet("seed")
	o := demoFlags(fs)
	if err := fs.Parse(args); err != nil {
		return err
	}
	db, err := openDB(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	return seedDemo(db, o, stdout)
}

// demoFlags adds the flags that size the demo data to fs.
func demoFlags(fs interface {
	Uint64Var(*uint64, string, uint64, string)
	IntVar(*int, string, int, string)
}) *store.DemoOptions {
	o := &store.DemoOptions{}
	fs.Uint64Var(&o.Seed, "seed", 1, "the random seed: the same seed gives the same data")
	fs.IntVar(&o.Accounts, "accounts", 3, "how many accounts (the first three bill in VND, USD and JPY)")
	fs.IntVar(&o.Plans, "plans", 24, "how many plans per account (at least 12)")
	fs.IntVar(&o.Days, "days", 120, "how many days of usage, ending today")
	return o
}

// seedDemo loads the demo data around today and prints what it made.
func seedDemo(db *store.DB, o *store.DemoOptions, stdout io.Writer) error {
	start := time.Now()
	o.Today = store.DateOf(db.Now(), store.LoadLocation(store.DefaultTimeZone))
	rep, err := db.SeedDemo(context.Background(), *o)
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(stdout, "seeded %d accounts with %d plans each; usage: %d events applied (%s)\n",
		o.Accounts, max(o.Plans, 12), rep.Applied, time.Since(start).Round(time.Millisecond))
	printDemoLogins(stdout)
	return nil
}

// printDemoLogins prints the demo users and their passwords.
func printDemoLogins(stdout io.Writer) {
	fmt.Fprintln(stdout, "demo logins:")
	for _, l := range store.DemoLogins {
		fmt.Fprintf(stdout, "  %-7s %s / %s\n", l.Role, l.Email, l.Password)
	}
}
