package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/pprof"
	"time"

	"github.com/billingplans/billingplans/store"
)

// runSeed loads deterministic demo data and prints the demo logins. With
// --scale it loads the data of a load test instead (see store.SeedScale):
// --scale large is 500 accounts, 100,000 plans and 5 million consumption lines.
func runSeed(args []string, stdout io.Writer) error {
	fs, dbPath := newFlagSet("seed")
	o := demoFlags(fs)
	scale := fs.String("scale", "", "load the data of a load test instead: small, medium or large (--seed applies; the other sizes do not)")
	window := fs.Int("window", 0, "with --scale: the days of usage applied at a time, each account's in time order (default 7)")
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the seeding to this file (go tool pprof)")
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
	var so store.ScaleOptions
	if *scale != "" {
		var err error
		if so, err = store.ScalePreset(*scale); err != nil {
			return errors.New(store.ErrorMessage(err))
		}
		so.Seed, so.Window = o.Seed, *window
	}
	db, err := openDB(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	if *scale != "" {
		return seedScale(db, so, stdout)
	}
	return seedDemo(db, o, stdout)
}

// seedScale loads the data of a load test around today, telling how far it has
// got, and prints what it made and the demo logins.
func seedScale(db *store.DB, o store.ScaleOptions, stdout io.Writer) error {
	start := time.Now()
	o.Today = store.DateOf(db.Now(), store.LoadLocation(store.DefaultTimeZone))
	rep, err := db.SeedScale(context.Background(), o, func(msg string) { fmt.Fprintln(stdout, "  "+msg) })
	if err != nil {
		return fmt.Errorf("seed: %w", err)
	}
	fmt.Fprintf(stdout, "seeded %d accounts, %d plans (%d in %s); usage: %d events applied in %d batches, %d consumption lines\n",
		rep.Accounts, rep.Plans, o.BigPlans, store.ScaleBigAccount, rep.Usage.Applied, rep.Batches, rep.Lines)
	fmt.Fprintf(stdout, "time: import %s, usage %s (%.0f events/s), total %s\n", rep.ImportTime.Round(time.Millisecond),
		rep.UsageTime.Round(time.Millisecond), float64(rep.Usage.Applied)/rep.UsageTime.Seconds(), time.Since(start).Round(time.Millisecond))
	printDemoLogins(stdout)
	return nil
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
