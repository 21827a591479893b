// Package browser holds greeter-server's browser test: TestBrowserPage loads
// the greeting page of a running greeter-server in headless Chromium,
// driven over the DevTools protocol with chromedp. scripts/test-browser.sh
// builds the real binary (with the race detector), starts it, runs the test
// against its page, and checks that the server then stops cleanly.
//
// It is a Go module of its own, nested in greeter-server's directory but not
// part of that module, so that chromedp and the DevTools protocol's
// generated types stay out of greeter-server's go.mod and go.sum: people who
// build or import greeter-server never download them. Like
// greeter-server/deploy, it needs nothing of greeter-server's code (it
// reaches the server over HTTP, as a browser does), so it requires no
// greeter-server version; go.work lists it for development, and
// scripts/test.sh, scripts/tidy.sh and scripts/lint.sh treat it like the
// other modules. Nothing imports it.
//
// In the workspace its requirements join everyone's build list, so they must
// not raise a version that greeter-server or greeter-client build with;
// compare `go -C greeter-server list -m all` with and without this module in
// go.work after changing its requirements.
package browser
