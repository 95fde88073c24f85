package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"

	"github.com/billingplans/billingplans/store"
)

// runImport loads accounts, users, services, plans, vouchers and top-ups from one
// JSON file (spec/import-format.md, docs/import.md) and prints what it added, a
// line per section. A bad file changes nothing: the error names the JSON path of
// the first bad value, and main exits 1.
func runImport(args []string, stdout io.Writer) error {
	fs, dbPath := newFlagSet("import")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: billingplans import [--db PATH] FILE.json")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return errors.New("import: give one FILE.json")
	}
	name := fs.Arg(0)

	// Decode before opening the store, so that a bad file does not even create it.
	file, err := os.Open(name)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	f, err := store.DecodeImport(file)
	file.Close()
	if err != nil {
		return fmt.Errorf("import %s: %w", name, err)
	}

	db, err := openDB(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	// Ctrl-C cancels the transaction: nothing of the file is written.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	rep, err := db.Import(ctx, f)
	if err != nil {
		return fmt.Errorf("import %s: %w", name, err)
	}
	fmt.Fprintf(stdout, "accounts: %d added\n", rep.Accounts)
	fmt.Fprintf(stdout, "users:    %d added, with %d memberships\n", rep.Users, rep.Memberships)
	fmt.Fprintf(stdout, "services: %d added, with %d packages\n", rep.Services, rep.Packages)
	fmt.Fprintf(stdout, "plans:    %d added, with %d payments\n", rep.Plans, rep.Payments)
	fmt.Fprintf(stdout, "vouchers: %d added\n", rep.Vouchers)
	fmt.Fprintf(stdout, "topups:   %d added\n", rep.Topups)
	return nil
}
