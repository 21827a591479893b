// Package web holds what greeter-server gives browsers besides the API: the
// greeting page at / (embedded in the binary, no build step) and the CORS
// policy that lets pages from other origins call the API over Connect and
// gRPC-Web.
package web

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed static
var static embed.FS

// Page serves the greeting page: GET / is index.html, and the files it loads
// are served under their own names (GET /greet.js). The page greets through
// the API with the Connect protocol (JSON over HTTP POST), so it works from
// the same origin with no CORS. /?name=NAME greets NAME as soon as it loads.
func Page() http.Handler {
	files, err := fs.Sub(static, "static")
	if err != nil {
		panic(err) // static is part of the binary; a wrong name is caught by the tests
	}
	fileServer := http.FileServerFS(files)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		// Only this origin's own script and requests: the page needs nothing else.
		h.Set("Content-Security-Policy", "default-src 'none'; script-src 'self'; connect-src 'self'; style-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		fileServer.ServeHTTP(w, r)
	})
}
