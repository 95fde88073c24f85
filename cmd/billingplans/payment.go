package main

import (
	"context"
	"errors"
	"fmt"
	"io"
)

// paymentUsage is the usage of the payment command.
const paymentUsage = "usage: billingplans payment confirm|cancel [--db PATH] REFERENCE"

// runPayment lets an operator settle the bank transfers customers announced
// on the pay page:
//
//	billingplans payment confirm REFERENCE   the money arrived: count it as paid
//	billingplans payment cancel REFERENCE    the money will not come: free its amount
//
// Confirming twice is an error that says the transfer is already confirmed, and
// a transfer that would take the plan's paid total past its amount is refused.
func runPayment(args []string, stdout io.Writer) error {
	if len(args) == 0 || (args[0] != "confirm" && args[0] != "cancel") {
		return errors.New(paymentUsage)
	}
	fs, dbPath := newFlagSet("payment " + args[0])
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New(paymentUsage)
	}
	db, err := openDB(*dbPath)
	if err != nil {
		return err
	}
	defer db.Close()

	ctx, ref := context.Background(), fs.Arg(0)
	if args[0] == "cancel" {
		res, err := db.CancelTransfer(ctx, ref, "cli")
		if err != nil {
			return fmt.Errorf("payment cancel: %w", err)
		}
		fmt.Fprintf(stdout, "cancelled bank transfer %s of %s on %s; amount due %s\n",
			res.Payment.Reference, res.Payment.Amount, res.Payment.PlanCode, res.Plan.AmountDue())
		return nil
	}
	res, err := db.ConfirmTransfer(ctx, ref, "cli")
	if err != nil {
		return fmt.Errorf("payment confirm: %w", err)
	}
	fmt.Fprintf(stdout, "confirmed bank transfer %s of %s on %s; payment status %s, amount due %s\n",
		res.Payment.Reference, res.Payment.Amount, res.Payment.PlanCode, res.Plan.PaymentStatus().Label(), res.Plan.AmountDue())
	if res.Activated {
		fmt.Fprintf(stdout, "%s is activated\n", res.Payment.PlanCode)
	}
	return nil
}
