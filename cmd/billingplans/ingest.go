package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"

	"github.com/billingplans/billingplans/store"
)

// runIngest applies a JSON-lines file of usage events through the ledger engine
// and prints what happened to them.
func runIngest(args []string, stdout io.Writer) error {
	fs, dbPath := newFlagSet("ingest")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: billingplans ingest [--db PATH] FILE.jsonl")
	}
	f, err := os.Open(fs.Arg(0))
	if err != nil {
		return err
	}
	defer f.Close()
	db, err := openDB(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()
	rep, err := db.Ingest(context.Background(), f)
	printIngestReport(stdout, rep)
	if err != nil {
		return err
	}
	return nil
}

// printIngestReport prints the rejected lines, then the summary: applied,
// duplicates, rejected, and the amount drawn from each credit source.
func printIngestReport(w io.Writer, rep store.IngestReport) {
	for _, p := range rep.Problems {
		fmt.Fprintf(w, "line %d: rejected %q: %s\n", p.Line, p.ID, p.Reason)
	}
	fmt.Fprintf(w, "applied %d, duplicates %d, rejected %d\n", rep.Applied, rep.Duplicates, rep.Rejected)
	currencies := make([]string, 0, len(rep.Drawn))
	for c := range rep.Drawn {
		currencies = append(currencies, string(c))
	}
	sort.Strings(currencies)
	for _, c := range currencies {
		d := rep.Drawn[store.Currency(c)]
		for _, s := range store.CreditSources {
			m := store.Money{Minor: d.Of(s), Currency: store.Currency(c)}
			fmt.Fprintf(w, "drawn from %s: %s %s\n", s.Label(), m.Plain(), c)
		}
	}
}
