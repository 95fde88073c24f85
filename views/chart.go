package views

import (
	"strconv"

	"github.com/billingplans/billingplans/store"
)

// Chart is a chart of amounts per day, drawn as SVG on the server: one bar a
// day, its series stacked from the bottom. Days marked Forecast are drawn
// lighter. The same numbers are also given as a table for screen readers.
type Chart struct {
	// Title names the chart (its caption and the SVG's title).
	Title string
	// TestID is the chart's data-testid.
	TestID string
	// Currency is the currency of every value.
	Currency store.Currency
	// Series are the stacked parts of each bar, bottom first.
	Series []ChartSeries
	// Days are the bars, oldest first.
	Days []ChartDay
}

// ChartSeries is one stacked part of the bars: its name in the legend and table,
// and the CSS class that colours it.
type ChartSeries struct {
	Name  string
	Class string
}

// ChartDay is one bar: the day and its value per series, in minor units.
type ChartDay struct {
	Day      store.Date
	Values   []int64
	Forecast bool
}

// Total returns the sum of the day's values.
func (d ChartDay) Total() int64 {
	var t int64
	for _, v := range d.Values {
		t += v
	}
	return t
}

// The chart's geometry, in SVG user units.
const (
	chartWidth  = 720
	chartHeight = 240
	chartLeft   = 88 // room for the amount axis labels
	chartBottom = 28 // room for the date axis labels
	chartTop    = 8
)

// ChartRect is one rectangle of a bar, ready to draw.
type ChartRect struct {
	X, Y, W, H string
	Class      string
}

// ChartTick is one label of an axis at a position.
type ChartTick struct {
	X, Y  string
	Label string
	// Anchor is the label's text-anchor: the first date starts at its bar and
	// the last ends at its bar, so neither runs off the chart.
	Anchor string
}

// max returns the largest bar total, at least 1 so that empty charts draw.
func (c Chart) max() int64 {
	m := int64(1)
	for _, d := range c.Days {
		m = max(m, d.Total())
	}
	return m
}

func units(n int64) string { return strconv.FormatInt(n, 10) }

// frac returns a/b of a length in hundredths of a unit, in integers: the
// geometry of a chart needs no floating point either.
func frac(length, a, b int64) string {
	h := length * 100 * a / b
	return strconv.FormatInt(h/100, 10) + "." + pad2(h%100)
}

func pad2(n int64) string {
	if n < 10 {
		return "0" + strconv.FormatInt(n, 10)
	}
	return strconv.FormatInt(n, 10)
}

// Rects returns the rectangles of every bar, bottom series first.
func (c Chart) Rects() []ChartRect {
	if len(c.Days) == 0 {
		return nil
	}
	plotW, plotH := int64(chartWidth-chartLeft), int64(chartHeight-chartBottom-chartTop)
	n, top := int64(len(c.Days)), c.max()
	var out []ChartRect
	for i, d := range c.Days {
		var below int64
		for s, v := range d.Values {
			if v <= 0 {
				continue
			}
			class := "chart-bar"
			if s < len(c.Series) {
				class += " " + c.Series[s].Class
			}
			if d.Forecast {
				class += " chart-forecast"
			}
			// Heights are proportional to the value; y grows downwards.
			y0 := plotH * (below + v) / top
			out = append(out, ChartRect{
				X:     frac(plotW, int64(i), n) + "",
				Y:     units(chartTop + plotH - y0),
				W:     frac(plotW, 9, 10*n),
				H:     frac(plotH, v, top),
				Class: class,
			})
			below += v
		}
	}
	for i := range out {
		out[i].X = addUnits(out[i].X, chartLeft)
	}
	return out
}

// addUnits adds a whole number of units to a length written by frac.
func addUnits(x string, n int) string {
	for i := range x {
		if x[i] == '.' {
			whole, _ := strconv.Atoi(x[:i])
			return strconv.Itoa(whole+n) + x[i:]
		}
	}
	whole, _ := strconv.Atoi(x)
	return strconv.Itoa(whole + n)
}

// YTicks returns the labels of the amount axis: zero, half and the top.
func (c Chart) YTicks() []ChartTick {
	plotH, top := int64(chartHeight-chartBottom-chartTop), c.max()
	var out []ChartTick
	for _, part := range []int64{0, 1, 2} {
		out = append(out, ChartTick{X: units(chartLeft - 6), Y: units(chartTop + plotH - plotH*part/2 + 4),
			Label: store.Money{Minor: top * part / 2, Currency: c.Currency}.String(), Anchor: "end"})
	}
	return out
}

// XTicks returns the labels of the date axis: the first, middle and last day.
func (c Chart) XTicks() []ChartTick {
	n := len(c.Days)
	if n == 0 {
		return nil
	}
	plotW := int64(chartWidth - chartLeft)
	idx := []int{0, n / 2, n - 1}
	if n < 3 {
		idx = idx[:1]
		if n == 2 {
			idx = []int{0, 1}
		}
	}
	var out []ChartTick
	for k, i := range idx {
		anchor := "middle"
		if k == 0 {
			anchor = "start"
		} else if k == len(idx)-1 {
			anchor = "end"
		}
		x := frac(plotW, int64(2*i+1), int64(2*n))
		if anchor == "start" {
			x = frac(plotW, int64(i), int64(n))
		} else if anchor == "end" {
			x = frac(plotW, int64(i+1), int64(n))
		}
		out = append(out, ChartTick{X: addUnits(x, chartLeft), Y: units(chartHeight - 8), Label: Date(c.Days[i].Day), Anchor: anchor})
	}
	return out
}

// HasForecast reports whether any day is a forecast.
func (c Chart) HasForecast() bool {
	for _, d := range c.Days {
		if d.Forecast {
			return true
		}
	}
	return false
}

// ViewBox returns the SVG's viewBox.
func (c Chart) ViewBox() string { return "0 0 " + units(chartWidth) + " " + units(chartHeight) }

// AxisY returns the y coordinate of the date axis line.
func (c Chart) AxisY() string { return units(chartHeight - chartBottom) }

// AxisLeft and AxisRight return the x coordinates of the plot's ends.
func (c Chart) AxisLeft() string { return units(chartLeft) }

// AxisRight returns the x coordinate of the plot's right end.
func (c Chart) AxisRight() string { return units(chartWidth) }

// Value returns the value of series s on day d, formatted.
func (c Chart) Value(d ChartDay, s int) string {
	var v int64
	if s < len(d.Values) {
		v = d.Values[s]
	}
	return store.Money{Minor: v, Currency: c.Currency}.String()
}
