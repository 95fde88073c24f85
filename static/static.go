// Package static holds the console's stylesheet, script and icons, embedded into
// the binary. Each file is served under a name that carries a hash of its content
// (app.css as /static/app.3f2a9c1b7d.css), so browsers may cache it for a year
// and still see a change the moment it is deployed.
package static

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
	"time"
)

//go:embed *.css *.js *.svg
var files embed.FS

// Prefix is the URL path the files are served under.
const Prefix = "/static/"

// asset is one embedded file and the name it is served under.
type asset struct {
	name        string // app.css
	hashed      string // app.3f2a9c1b7d.css
	contentType string
	body        []byte
}

var assets = func() map[string]*asset {
	m := make(map[string]*asset)
	entries, err := fs.ReadDir(files, ".")
	if err != nil {
		panic(err)
	}
	for _, e := range entries {
		body, err := files.ReadFile(e.Name())
		if err != nil {
			panic(err)
		}
		sum := sha256.Sum256(body)
		ext := path.Ext(e.Name())
		ctype := mime.TypeByExtension(ext)
		if ctype == "" {
			ctype = "application/octet-stream"
		}
		m[e.Name()] = &asset{
			name:        e.Name(),
			hashed:      strings.TrimSuffix(e.Name(), ext) + "." + hex.EncodeToString(sum[:5]) + ext,
			contentType: ctype,
			body:        body,
		}
	}
	return m
}()

// byHashed finds an asset by the name it is served under.
var byHashed = func() map[string]*asset {
	m := make(map[string]*asset, len(assets))
	for _, a := range assets {
		m[a.hashed] = a
	}
	return m
}()

// Path returns the URL of the embedded file name, fingerprinted with a hash of
// its content. It panics for a name that is not embedded: that is a typo in a
// template, and every page that has it would fail its tests.
func Path(name string) string {
	a, ok := assets[name]
	if !ok {
		panic("static: no file " + name)
	}
	return Prefix + a.hashed
}

// Serve writes the embedded file served under the fingerprinted name hashed
// (the URL path after Prefix), marked immutable, and reports whether there is
// one. For any other name, including one whose hash is out of date, it writes
// nothing and returns false, so the caller answers with its own not-found page.
func Serve(w http.ResponseWriter, r *http.Request, hashed string) bool {
	a, ok := byHashed[hashed]
	if !ok {
		return false
	}
	h := w.Header()
	h.Set("Content-Type", a.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("ETag", `"`+a.hashed+`"`)
	http.ServeContent(w, r, a.name, time.Time{}, bytes.NewReader(a.body))
	return true
}
