// Command billingplans is the billing-plans console of a GPU and AI cloud: it
// serves the dashboard and loads accounts, plans and usage into its store.
//
// Usage:
//
//	billingplans serve   [--db PATH] [--addr HOST:PORT] [--seed-if-empty]
//	billingplans import  [--db PATH] FILE.json
//	billingplans ingest  [--db PATH] FILE.jsonl
//	billingplans seed    [--db PATH] [--seed N] [--accounts N] [--plans N] [--days N]
//	billingplans user add [--db PATH] --email E --password P --name N --account CODE --role admin|viewer
//	billingplans apikey create|revoke [--db PATH] ...
//	billingplans payment confirm|cancel [--db PATH] REFERENCE
//	billingplans loadtest [flags]
//
// Every command takes --db (default ./data/billing.db, or $BILLINGPLANS_DB).
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/billingplans/billingplans/store"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "billingplans:", err)
		}
		os.Exit(1)
	}
}

// command is one subcommand: it parses its own flags from args.
type command func(args []string, stdout io.Writer) error

func commands() map[string]command {
	return map[string]command{
		"serve":    runServe,
		"import":   runImport,
		"ingest":   runIngest,
		"seed":     runSeed,
		"user":     runUser,
		"apikey":   runAPIKey,
		"payment":  runPayment,
		"loadtest": runLoadTest,
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprintln(stderr, "usage: billingplans serve|import|ingest|seed|user|apikey|payment|loadtest [flags]")
		return errors.New("no command given")
	}
	cmd, ok := commands()[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q", args[0])
	}
	return cmd(args[1:], stdout)
}

// newFlagSet returns the flag set of a subcommand with its --db flag.
func newFlagSet(name string) (*flag.FlagSet, *string) {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	def := os.Getenv("BILLINGPLANS_DB")
	if def == "" {
		def = "./data/billing.db"
	}
	return fs, fs.String("db", def, "the database file (env BILLINGPLANS_DB)")
}

// openDB opens the store at path, creating and migrating it as needed.
func openDB(path string) (*store.DB, error) {
	return store.Open(path)
}
