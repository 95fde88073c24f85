package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// runAPIKey manages the keys of the usage API:
//
//	billingplans apikey create --account CODE   prints a new key, once
//	billingplans apikey revoke PREFIX           the key stops working
func runAPIKey(args []string, stdout io.Writer) error {
	usage := errors.New("usage: billingplans apikey create --account CODE | billingplans apikey revoke [--db PATH] PREFIX")
	if len(args) == 0 {
		return usage
	}
	ctx := context.Background()
	switch args[0] {
	case "create":
		fs, dbPath := newFlagSet("apikey create")
		account := fs.String("account", "", "the code of the account the key reports usage for")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if *account == "" {
			return errors.New("apikey create: --account is required")
		}
		db, err := openDB(*dbPath)
		if err != nil {
			return err
		}
		defer db.Close()
		key, k, err := db.CreateAPIKey(ctx, *account, "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n\nAPI key %s of account %s. It is shown this once; only its hash is stored.\n", key, k.Prefix, k.AccountCode)
		return nil
	case "revoke":
		fs, dbPath := newFlagSet("apikey revoke")
		if err := fs.Parse(args[1:]); err != nil {
			return err
		}
		if fs.NArg() != 1 {
			return usage
		}
		db, err := openDB(*dbPath)
		if err != nil {
			return err
		}
		defer db.Close()
		k, err := db.RevokeAPIKey(ctx, fs.Arg(0), "cli")
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "API key %s of account %s revoked at %s\n", k.Prefix, k.AccountCode, k.RevokedAt.Format("2006-01-02 15:04:05 MST"))
		return nil
	}
	return usage
}
