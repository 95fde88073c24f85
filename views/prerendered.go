package views

import (
	"bytes"
	"context"
	"io"

	"github.com/a-h/templ"
)

// Prerendered is a component written out once, to be written again as it
// was. Some parts of a page cost most of its time to write (50 rows of the
// plan list, a chart of 730 days) and stay the same until the data behind
// them changes, so handlers keep them written. Only Prerender makes one, from
// a templ component, so it holds nothing that templ did not escape.
type Prerendered struct {
	html []byte
}

// Prerender writes c out. It returns an error when c fails to render.
func Prerender(ctx context.Context, c templ.Component) (Prerendered, error) {
	var buf bytes.Buffer
	if err := c.Render(ctx, &buf); err != nil {
		return Prerendered{}, err
	}
	return Prerendered{html: buf.Bytes()}, nil
}

// IsEmpty reports whether nothing was written.
func (p Prerendered) IsEmpty() bool { return len(p.html) == 0 }

// Render writes the HTML to w; it makes Prerendered a templ component.
func (p Prerendered) Render(_ context.Context, w io.Writer) error {
	_, err := w.Write(p.html)
	return err
}
