package web

import (
	"encoding/csv"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
)

// planCSVChunk is how many plans the export reads per query: the export
// streams, and holds no more than this in memory whatever the account's size.
const planCSVChunk = 500

// planCSVHeader names the export's columns.
var planCSVHeader = []string{
	"Plan code", "Plan type", "Services", "Start date", "End date", "Days remaining", "Status",
	"Consumed", "Usage percent", "Amount", "Payment status", "Amount due", "Currency",
}

// exportPlansCSV streams, as CSV, every plan of the current account that the
// list's query string selects, in the list's order, all pages (page and
// per_page are ignored, and so is any value of the query string that makes no
// sense, as the list ignores it). Money is written as plain decimals in the
// major unit, with the currency in a column of its own.
//
// Once the first row is sent the status cannot change: a failure after it cuts
// the file short, and is logged by the error handler.
func (s *Server) exportPlansCSV(c echo.Context) error {
	ctx := c.Request().Context()
	account := currentAccount(c)
	services, err := s.DB.FindAccountServices(ctx, account.ID)
	if err != nil {
		return err
	}
	q, _ := ParsePlanQuery(c.QueryParams(), serviceCodes(services))
	today := account.Today(s.DB.Now())
	f := q.selection(today)
	f.Limit = planCSVChunk
	// The first chunk is read before anything is sent, so that a failing
	// database still gets the error page.
	page, err := s.DB.FindPlans(ctx, account.ID, f)
	if err != nil {
		return err
	}
	plans, total := page.Plans, page.Total

	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, mime.FormatMediaType("attachment", map[string]string{
		"filename": fmt.Sprintf("billing-plans-%s-%s.csv", account.Code, today),
	}))
	h.Set("Cache-Control", "no-store")
	c.Response().WriteHeader(http.StatusOK)

	w := csv.NewWriter(c.Response())
	if err := w.Write(planCSVHeader); err != nil {
		return fmt.Errorf("web: export plans: %w", err)
	}
	for {
		for _, p := range plans {
			if err := w.Write(planCSVRecord(p, today)); err != nil {
				return fmt.Errorf("web: export plans: %w", err)
			}
		}
		w.Flush()
		if err := w.Error(); err != nil {
			return fmt.Errorf("web: export plans: %w", err)
		}
		f.Offset += len(plans)
		if len(plans) < planCSVChunk || f.Offset >= total {
			return nil
		}
		// Each chunk is its own read: plans added or removed meanwhile may
		// shift a row between chunks, which an export taken while the ledger
		// runs accepts.
		if page, err = s.DB.FindPlans(ctx, account.ID, f); err != nil {
			return err
		}
		plans = page.Plans
	}
}

// planCSVRecord returns the export's row of plan p on today.
func planCSVRecord(p store.Plan, today store.Date) []string {
	names := make([]string, len(p.Services))
	for i, s := range p.Services {
		names[i] = s.Service.Name
	}
	return []string{
		csvCell(p.Code),
		csvCell(p.Type),
		csvCell(strings.Join(names, "; ")),
		p.StartDate.String(),
		p.EndDate.String(),
		strconv.Itoa(p.DaysRemaining(today)),
		p.Status(today).Label(),
		p.Consumed.Plain(),
		p.UsagePercent().StringFixed(1),
		p.Amount.Plain(),
		p.PaymentStatus().Label(),
		p.AmountDue().Plain(),
		string(p.Amount.Currency),
	}
}

// csvCell returns s safe to open in a spreadsheet: text that starts with a
// character a spreadsheet reads as the start of a formula (= + - @, or a tab
// or carriage return before one) gets a leading apostrophe, so it stays text.
// Figures the export writes itself (dates, amounts, which are never negative)
// need none.
func csvCell(s string) string {
	if s != "" && strings.ContainsRune("=+-@\t\r", rune(s[0])) {
		return "'" + s
	}
	return s
}
