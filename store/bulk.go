package store

import (
	"context"
	"database/sql"
	"fmt"
)

// BulkPlans adds n plans to the account with accountCode, straight in SQL in
// one transaction: a benchmark and seed helper for sizing the database (a
// million rows in seconds), not a way to create real plans. The plans cover
// one to three of the catalog's first four services, start on days spread
// around today so that every status occurs (some ended, some not started,
// one in ten waiting for its payment, a few depleted), and have running
// totals (consumed, paid) written directly, with no payment or consumption
// lines behind them. Their codes are "<account>-BULK-0000001" and on,
// continuing after the plans an earlier call added.
//
// It returns an ENOTFOUND error when there is no such account, and an
// EINVALID error when the catalog has no service or n is negative.
func (db *DB) BulkPlans(ctx context.Context, accountCode string, n int) error {
	if n < 0 {
		return Errorf(EINVALID, "The number of plans cannot be negative.")
	}
	return db.update(ctx, func(tx *Tx) error {
		var (
			accountID int64
			tz        string
		)
		err := tx.QueryRowContext(ctx, `SELECT id, timezone FROM accounts WHERE code = ?`, accountCode).Scan(&accountID, &tz)
		if err == sql.ErrNoRows {
			return Errorf(ENOTFOUND, "There is no account %s.", accountCode)
		} else if err != nil {
			return fmt.Errorf("store: bulk plans: %w", err)
		}
		var services []int64
		rows, err := tx.QueryContext(ctx, `SELECT id FROM services ORDER BY id LIMIT 4`)
		if err != nil {
			return fmt.Errorf("store: bulk plans: %w", err)
		}
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				rows.Close()
				return fmt.Errorf("store: bulk plans: %w", err)
			}
			services = append(services, id)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fmt.Errorf("store: bulk plans: %w", err)
		}
		if len(services) == 0 {
			return Errorf(EINVALID, "The catalog has no service for the plans to cover.")
		}
		var base int
		prefix := accountCode + "-BULK-"
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM plans WHERE code LIKE ? ESCAPE '\'`, escapeLike(prefix)+"%").Scan(&base); err != nil {
			return fmt.Errorf("store: bulk plans: %w", err)
		}

		planSt, err := tx.PrepareContext(ctx, `INSERT INTO plans (account_id, code, type, start_date, end_date,
			first_term_months, first_term_amount, amount, region, payment_option, upfront_amount, payment_method,
			created_at, created_by, activated_at, paid_total, paid_upfront, consumed, depleted_at)
			VALUES (?, ?, ?, ?, ?, 3, ?, ?, 'Hanoi', ?, ?, 'online', ?, 'bulk', ?, ?, ?, ?, ?)`)
		if err != nil {
			return fmt.Errorf("store: bulk plans: %w", err)
		}
		defer planSt.Close()
		svcSt, err := tx.PrepareContext(ctx, `INSERT INTO plan_services (plan_id, service_id, price_per_unit, spent) VALUES (?, ?, '1000', ?)`)
		if err != nil {
			return fmt.Errorf("store: bulk plans: %w", err)
		}
		defer svcSt.Close()

		now := tx.Now()
		today := DateOf(now, LoadLocation(tz))
		created := formatInstant(now)
		types := []string{"GPU Commitment", "Inference Token Pack", "Storage Reserve", "Notebook Hours", "Fine-tuning Pack"}
		for i := base + 1; i <= base+n; i++ {
			// Starts from 400 days ago to 100 days ahead, 90-day terms: about
			// 4 in 5 plans have ended, and some have not started.
			start := today.AddDays(-400 + (i*37)%500)
			end := start.AddMonths(3).AddDays(-1)
			amount := int64(10_000_000 + (i%50)*1_000_000)
			option, upfront, paid := AllUpfront, int64(0), amount
			var activated any = created
			switch {
			case i%10 == 0:
				// Waiting for the upfront payment that activates it.
				option, upfront, paid, activated = PartialUpfront, amount/4, 0, nil
			case i%4 == 0:
				option, paid = Postpaid, amount/2
			}
			consumed := amount / 10 * int64(i%8)
			var depleted any
			if i%23 == 0 && activated != nil {
				consumed, depleted = amount, created
			}
			res, err := planSt.ExecContext(ctx, accountID, fmt.Sprintf("%s%07d", prefix, i), types[i%len(types)],
				start.String(), end.String(), amount, amount, string(option), upfront, created, activated, paid, paid, consumed, depleted)
			if err != nil {
				return fmt.Errorf("store: bulk plans: %w", err)
			}
			id, err := res.LastInsertId()
			if err != nil {
				return fmt.Errorf("store: bulk plans: %w", err)
			}
			covered := 1 + i%3
			for k := range covered {
				svc := services[(i+k)%len(services)]
				spent := int64(0)
				if k == 0 {
					spent = consumed
				}
				if k > 0 && svc == services[i%len(services)] {
					break
				}
				if _, err := svcSt.ExecContext(ctx, id, svc, spent); err != nil {
					return fmt.Errorf("store: bulk plans: %w", err)
				}
			}
		}
		return nil
	})
}
