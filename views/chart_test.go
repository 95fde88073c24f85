package views

import (
	"context"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/billingplans/billingplans/store"
)

func TestDailyChartDrawsStackedBarsAndATable(t *testing.T) {
	c := Chart{
		Title: "Daily consumption", TestID: "usage-chart", Currency: store.USD,
		Series: []ChartSeries{{"Billing plan", "series-plan"}, {"Voucher", "series-voucher"}},
		Days: []ChartDay{
			{Day: store.NewDate(2026, 11, 1), Values: []int64{100, 100}},
			{Day: store.NewDate(2026, 11, 2), Values: []int64{50, 0}},
			{Day: store.NewDate(2026, 11, 3), Values: []int64{200, 0}, Forecast: true},
		},
	}
	var b strings.Builder
	if err := DailyChart(c).Render(context.Background(), &b); err != nil {
		t.Fatal(err)
	}
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	rects := doc.Find("rect.chart-bar")
	if got := rects.Length(); got != 4 {
		t.Fatalf("bars: got %d rects, want 4 (zero values are not drawn)", got)
	}
	// The plot is 204 units high and the tallest bar (200) fills it: 100 is
	// half, 50 a quarter.
	heights := rects.Map(func(_ int, s *goquery.Selection) string { return s.AttrOr("height", "") })
	if want := []string{"102.00", "102.00", "51.00", "204.00"}; strings.Join(heights, " ") != strings.Join(want, " ") {
		t.Errorf("heights: got %v, want %v", heights, want)
	}
	// The voucher part sits on top of the plan part of the same day.
	if y0, y1 := rects.Eq(0).AttrOr("y", ""), rects.Eq(1).AttrOr("y", ""); y0 != "110" || y1 != "8" {
		t.Errorf("stacking: plan part at y=%s, voucher part at y=%s; want 110 and 8", y0, y1)
	}
	if !rects.Eq(3).HasClass("chart-forecast") || rects.Eq(2).HasClass("chart-forecast") {
		t.Error("only the forecast day is drawn as a forecast")
	}
	cells := doc.Find("table tbody tr").First().Find("td").Map(func(_ int, s *goquery.Selection) string { return s.Text() })
	if strings.Join(cells, " ") != "$1.00 $1.00" {
		t.Errorf("table row: got %v", cells)
	}
	if !strings.Contains(doc.Find("table tbody tr").Last().Text(), "(forecast)") {
		t.Error("the table says which days are forecast")
	}
}
