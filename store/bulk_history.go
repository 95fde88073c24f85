package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// BulkHistory adds n synthetic consumption lines to the account with
// accountCode, straight in SQL with multi-row inserts in one transaction: a
// benchmark helper for sizing the credit history (a million lines in tens of
// seconds), not a way to apply usage, which is ApplyUsage's job. It is not used
// by the product itself.
//
// The lines are spread evenly over the days days ending on today (in the
// account's time zone), oldest first, one usage event each ("bulk-N"), over the
// catalog's first four services. Eight in ten draw from the account's plans
// valid on their day (round robin, whatever services they cover: the lines
// are for reading, not for checking the engine), one in ten from its vouchers valid on
// their day, and the last one from the top-up balance or uncovered in turn; a
// line with no valid plan or voucher goes uncovered. Amounts are whole minor
// units between 1,000 and 50,999. The daily spend tables and the plans'
// consumed totals are kept in step with the lines; voucher and top-up balances,
// plan services and rounding carries are left as they are.
//
// It returns an ENOTFOUND error when there is no such account, and an EINVALID
// error when the catalog has no service or n or days is not positive.
func (db *DB) BulkHistory(ctx context.Context, accountCode string, n, days int, today Date) error {
	if n <= 0 || days <= 0 {
		return Errorf(EINVALID, "BulkHistory needs a positive number of lines and days.")
	}
	return db.update(ctx, func(tx *Tx) error {
		var a Account
		err := tx.QueryRowContext(ctx, `SELECT id, currency, timezone FROM accounts WHERE code = ?`, accountCode).Scan(&a.ID, &a.Currency, &a.TimeZone)
		if errors.Is(err, sql.ErrNoRows) {
			return Errorf(ENOTFOUND, "There is no account %s.", accountCode)
		} else if err != nil {
			return fmt.Errorf("store: bulk history: %w", err)
		}
		ids := func(q string, args ...any) ([]int64, error) {
			rows, err := tx.QueryContext(ctx, q, args...)
			if err != nil {
				return nil, fmt.Errorf("store: bulk history: %w", err)
			}
			defer rows.Close()
			var out []int64
			for rows.Next() {
				var id int64
				if err := rows.Scan(&id); err != nil {
					return nil, err
				}
				out = append(out, id)
			}
			return out, rows.Err()
		}
		services, err := ids(`SELECT id FROM services ORDER BY id LIMIT 4`)
		if err != nil {
			return err
		}
		if len(services) == 0 {
			return Errorf(EINVALID, "The catalog has no service.")
		}
		// The plans and vouchers with their dates: a line is drawn only from
		// credit valid on its day, as the engine does.
		type credit struct {
			id         int64
			start, end Date
		}
		dated := func(q string) ([]credit, error) {
			rows, err := tx.QueryContext(ctx, q, a.ID)
			if err != nil {
				return nil, fmt.Errorf("store: bulk history: %w", err)
			}
			defer rows.Close()
			var out []credit
			for rows.Next() {
				var c credit
				var start, end string
				if err := rows.Scan(&c.id, &start, &end); err != nil {
					return nil, err
				}
				if c.start, err = ParseDate(start); err != nil {
					return nil, err
				}
				if c.end, err = ParseDate(end); err != nil {
					return nil, err
				}
				out = append(out, c)
			}
			return out, rows.Err()
		}
		plans, err := dated(`SELECT id, start_date, end_date FROM plans WHERE account_id = ? ORDER BY id`)
		if err != nil {
			return err
		}
		vouchers, err := dated(`SELECT id, effective_date, expiry_date FROM vouchers WHERE account_id = ? ORDER BY id`)
		if err != nil {
			return err
		}
		// validOn returns the i-th (round robin) of the credits valid on day, or 0.
		validOn := func(credits []credit, day Date, i int) int64 {
			var valid []int64
			for _, c := range credits {
				if !day.Before(c.start) && !day.After(c.end) {
					valid = append(valid, c.id)
				}
			}
			if len(valid) == 0 {
				return 0
			}
			return valid[i%len(valid)]
		}
		var nextEvent int64
		if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(id), 0) FROM usage_events`).Scan(&nextEvent); err != nil {
			return fmt.Errorf("store: bulk history: %w", err)
		}

		loc := a.Location()
		start := today.AddDays(1 - days).Start(loc)
		step := time.Duration(days) * 24 * time.Hour / time.Duration(n)
		daily := map[dailyKey]int64{}
		planDay := map[planDayKey]int64{}
		consumed := map[int64]int64{}
		const chunk = 4096
		events := make([][]any, 0, chunk)
		lines := make([][]any, 0, chunk)
		flush := func() error {
			if err := insertRows(ctx, tx, `INSERT INTO usage_events (id, account_id, event_id, service_id, quantity, at, result) VALUES `, events); err != nil {
				return fmt.Errorf("store: bulk history events: %w", err)
			}
			if err := insertRows(ctx, tx, `INSERT INTO consumptions (account_id, event_id, service_id, source, plan_id, voucher_id, quantity, unit_price, amount, at, day) VALUES `, lines); err != nil {
				return fmt.Errorf("store: bulk history lines: %w", err)
			}
			events, lines = events[:0], lines[:0]
			return nil
		}
		for i := range n {
			at := start.Add(time.Duration(i) * step)
			date := DateOf(at, loc)
			day := date.String()
			svc := services[i%len(services)]
			amount := int64(1000 + (i*7919)%50000)
			source := SourceUncovered
			var planID, voucherID any
			switch r := i % 10; {
			case r < 8:
				if id := validOn(plans, date, i/10); id != 0 {
					source, planID = SourcePlan, id
					planDay[planDayKey{id, day}] += amount
					consumed[id] += amount
				}
			case r == 8:
				if id := validOn(vouchers, date, i/10); id != 0 {
					source, voucherID = SourceVoucher, id
				}
			case i%20 == 9:
				source = SourceTopup
			}
			daily[dailyKey{a.ID, day, source, svc}] += amount
			nextEvent++
			var d Drawn
			d.add(source, amount)
			instant := formatInstant(at)
			events = append(events, []any{nextEvent, a.ID, fmt.Sprintf("bulk-%d", nextEvent), svc, "1", instant,
				fmt.Sprintf(`{"plan":%d,"voucher":%d,"topup":%d,"uncovered":%d}`, d.Plan, d.Voucher, d.Topup, d.Uncovered)})
			lines = append(lines, []any{a.ID, nextEvent, svc, string(source), planID, voucherID, "1", fmt.Sprint(amount), amount, instant, day})
			if len(lines) == chunk {
				if err := flush(); err != nil {
					return err
				}
			}
		}
		if err := flush(); err != nil {
			return err
		}
		for k, amt := range daily {
			if _, err := tx.ExecContext(ctx, `INSERT INTO account_daily_spend (account_id, day, source, service_id, amount) VALUES (?, ?, ?, ?, ?)
				ON CONFLICT (account_id, day, source, service_id) DO UPDATE SET amount = account_daily_spend.amount + excluded.amount`,
				k.account, k.day, string(k.source), k.service, amt); err != nil {
				return fmt.Errorf("store: bulk history daily spend: %w", err)
			}
		}
		for k, amt := range planDay {
			if _, err := tx.ExecContext(ctx, `INSERT INTO plan_daily_spend (plan_id, day, amount) VALUES (?, ?, ?)
				ON CONFLICT (plan_id, day) DO UPDATE SET amount = plan_daily_spend.amount + excluded.amount`, k.plan, k.day, amt); err != nil {
				return fmt.Errorf("store: bulk history plan spend: %w", err)
			}
		}
		for id, amt := range consumed {
			if _, err := tx.ExecContext(ctx, `UPDATE plans SET consumed = consumed + ? WHERE id = ?`, amt, id); err != nil {
				return fmt.Errorf("store: bulk history plans: %w", err)
			}
		}
		return nil
	})
}
