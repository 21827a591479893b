package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// The request headers that Connect and gRPC-Web clients send, which a
// preflight must allow, and the response headers they read, which must be
// exposed to the page. Written from the Connect and gRPC-Web protocol
// specifications.
var (
	corsAllowHeaders = []string{
		"Content-Type", "Content-Encoding", "Accept-Encoding",
		"Connect-Protocol-Version", "Connect-Timeout-Ms",
		"Connect-Content-Encoding", "Connect-Accept-Encoding",
		"Grpc-Timeout", "X-Grpc-Web", "X-User-Agent",
		// A bearer token, for a server with --oidc-issuer.
		"Authorization",
	}
	corsExposeHeaders = []string{
		"Content-Encoding", "Connect-Content-Encoding",
		"Grpc-Status", "Grpc-Message", "Grpc-Status-Details-Bin",
		"Www-Authenticate",
	}
)

// corsMaxAge is how long a browser may cache a preflight answer. Browsers
// cap it (Chromium at 2 hours), so more would not help.
const corsMaxAge = 2 * 60 * 60

// CORS returns h behind a CORS policy that lets pages from origins (each
// "scheme://host[:port]", as a browser sends it in the Origin header) call the
// API with Connect (GET and POST) and gRPC-Web. With no origins it returns h
// as it is: only same-origin pages can read the answers. A request from an
// origin not listed gets no CORS headers, so its browser keeps the answer
// from the page. An origin that is not of that form is an error.
func CORS(origins []string, h http.Handler) (http.Handler, error) {
	if len(origins) == 0 {
		return h, nil
	}
	allowed := make(map[string]bool, len(origins))
	for _, o := range origins {
		if err := CheckOrigin(o); err != nil {
			return nil, err
		}
		allowed[o] = true
	}
	allowHeaders := strings.Join(corsAllowHeaders, ", ")
	exposeHeaders := strings.Join(corsExposeHeaders, ", ")
	maxAge := strconv.Itoa(corsMaxAge)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		origin := r.Header.Get("Origin")
		hdr := w.Header()
		hdr.Add("Vary", "Origin")
		if !allowed[origin] {
			h.ServeHTTP(w, r)
			return
		}
		hdr.Set("Access-Control-Allow-Origin", origin)
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			hdr.Add("Vary", "Access-Control-Request-Method")
			hdr.Add("Vary", "Access-Control-Request-Headers")
			hdr.Set("Access-Control-Allow-Methods", "GET, POST")
			hdr.Set("Access-Control-Allow-Headers", allowHeaders)
			hdr.Set("Access-Control-Max-Age", maxAge)
			w.WriteHeader(http.StatusNoContent)
			return
		}
		hdr.Set("Access-Control-Expose-Headers", exposeHeaders)
		h.ServeHTTP(w, r)
	}), nil
}

// CheckOrigin returns an error unless o is an origin as browsers send it:
// http or https, a host, an optional port, and nothing else.
func CheckOrigin(o string) error {
	u, err := url.Parse(o)
	if err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" &&
		u.User == nil && u.Path == "" && u.RawQuery == "" && u.Fragment == "" && u.Scheme+"://"+u.Host == o {
		return nil
	}
	return fmt.Errorf("CORS origin %q: want scheme://host[:port], such as https://app.example.com, with no path or trailing slash", o)
}
