package web

// The CSV export of the credit history: every line the filter selects (all
// pages), written row by row as the store reads them, never built in memory.

import (
	"encoding/csv"
	"fmt"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/billingplans/billingplans/store"
	"github.com/billingplans/billingplans/views"
)

// historyCSVHeader names the export's columns. Amounts are plain decimals in
// the major unit with the currency beside them; amount is signed (credit in
// positive, debit out negative); date and time are in the account's zone.
var historyCSVHeader = []string{"date", "time", "service", "source", "description", "code", "status",
	"quantity", "unit", "unit_price", "amount", "currency"}

// historyCSVFlushEvery is how many rows are written between flushes to the client.
const historyCSVFlushEvery = 500

// exportCreditHistoryCSV streams the lines of the current account's credit
// history that the query string selects, newest first, as CSV. Bad filter
// values are ignored as on the page. A failure before the first rows are sent
// is an error page; after, the download stops short and the failure is logged.
func (s *Server) exportCreditHistoryCSV(c echo.Context) error {
	r, err := s.parseHistoryRequest(c)
	if err != nil {
		return err
	}
	res := c.Response()
	h := res.Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, fmt.Sprintf(`attachment; filename="credit-history-%s-%s.csv"`, historyFileName(r.account.Code), r.today))
	h.Set("Cache-Control", "no-store")

	w := csv.NewWriter(res)
	if err := w.Write(historyCSVHeader); err != nil {
		return err
	}
	loc := r.account.Location()
	n := 0
	err = s.DB.EachCreditHistoryLine(c.Request().Context(), r.account, r.filter,
		func(l store.HistoryLine, plans map[int64]store.Plan, vouchers map[int64]store.Voucher) error {
			if err := w.Write(historyCSVRecord(historyRow(l, plans, vouchers, r.today, loc))); err != nil {
				return err
			}
			if n++; n%historyCSVFlushEvery == 0 {
				w.Flush()
				if err := w.Error(); err != nil {
					return err
				}
				res.Flush()
			}
			return nil
		})
	if err != nil {
		if !res.Committed {
			h.Del(echo.HeaderContentDisposition)
			return err
		}
		s.log.Error("credit history export stopped", "account", r.account.Code, "rows", n, "err", err)
		return nil
	}
	w.Flush()
	return w.Error()
}

// historyCSVRecord returns the export's columns of a row. Text that comes from
// data (service names, codes, descriptions) is guarded against formula
// injection; the numbers are written by us and stay numbers.
func historyCSVRecord(r views.HistoryRow) []string {
	quantity, unitPrice := "", ""
	if r.Kind == store.HistoryConsumption {
		quantity, unitPrice = r.Quantity.String(), r.UnitPrice.String()
	}
	return []string{
		r.Day.String(),
		r.At.In(r.Location).Format(time.RFC3339),
		csvCell(r.Service),
		csvCell(r.Source.Label()),
		csvCell(r.Description()),
		csvCell(r.Code),
		csvCell(r.StatusLabel()),
		quantity,
		csvCell(r.Unit),
		unitPrice,
		r.Amount.Plain(),
		string(r.Amount.Currency),
	}
}

// historyFileName keeps the letters, digits, dots, dashes and underscores of s,
// for a file name in a Content-Disposition header.
func historyFileName(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '.', r == '-', r == '_':
			return r
		}
		return '_'
	}, s)
}
