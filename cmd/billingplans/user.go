package main

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/billingplans/billingplans/store"
)

// runUser manages the users who sign in to the console:
//
//	billingplans user add --email E --password P --name N --account CODE --role admin|viewer
//
// A new email makes a user (password and name required); an existing one only
// gets the membership, or its new role in that account.
func runUser(args []string, stdout io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		return errors.New("usage: billingplans user add --email E --password P --name N --account CODE --role admin|viewer")
	}
	fs, dbPath := newFlagSet("user add")
	email := fs.String("email", "", "the user's email, to sign in with")
	password := fs.String("password", "", "the password of a new user, at least 8 characters")
	name := fs.String("name", "", "the name of a new user, as the console shows it")
	account := fs.String("account", "", "the code of the account the user joins")
	role := fs.String("role", string(store.RoleViewer), "admin (may pay and renew) or viewer")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *email == "" || *account == "" {
		return errors.New("user add: --email and --account are required")
	}
	r, err := store.ParseRole(*role)
	if err != nil {
		return err
	}
	db, err := openDB(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()

	u, m, created, err := db.AddUser(context.Background(), *email, *name, *password, *account, r)
	if err != nil {
		return err
	}
	if created {
		fmt.Fprintf(stdout, "created user %s\n", u.Email)
	} else if *password != "" || *name != "" {
		fmt.Fprintf(stdout, "user %s exists: --password and --name left unchanged\n", u.Email)
	}
	fmt.Fprintf(stdout, "%s is %s of account %s (%s)\n", u.Email, m.Role, m.Account.Code, m.Account.Name)
	return nil
}
