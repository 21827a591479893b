package test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// browserEnv, set to "require", runs TestBrowserPage, which then fails where
// no Chromium is found. scripts/test-browser.sh installs Chromium and sets
// it; the plain go test run of scripts/test.sh skips the test, so it runs
// once.
const browserEnv = "GREETER_TEST_BROWSER"

// chromium returns the path of a Chromium or Chrome binary, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserPage loads the greeting page of the real binary in headless
// Chromium, driven over the DevTools protocol (chromedp): /?name=NAME must
// greet NAME through the API as soon as it loads, and the form must greet
// the name typed into it.
func TestBrowserPage(t *testing.T) {
	t.Parallel()
	if os.Getenv(browserEnv) != "require" {
		t.Skipf("SKIPPED: the browser test runs with $%s=require; scripts/test-browser.sh (run by scripts/test.sh) installs chromium and sets it", browserEnv)
	}
	exe := chromium()
	if exe == "" {
		t.Fatalf("$%s=require, but no chromium is on PATH", browserEnv)
	}
	s := startServer(t)

	opts := append([]chromedp.ExecAllocatorOption{}, chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck,
		chromedp.ExecPath(exe), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()))
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(allocCtx)
	defer cancelBrowser()

	const name = "Zoë & <Ann>" // escaped in the URL, shown as text, not HTML
	if err := chromedp.Do(browser, chromedp.Navigate("http://"+s.HTTPAddr+"/?name="+url.QueryEscape(name))); err != nil {
		t.Fatalf("browser: load the page: %v", err)
	}
	wait := func(predicate string) string {
		t.Helper()
		if _, err := chromedp.Run(browser, chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			shown, _ := chromedp.Run(browser, chromedp.Text(`#greeting`))
			t.Fatalf("browser: waiting for %s: %v; the page shows %q; server log:\n%s", predicate, err, shown, s.Log())
		}
		shown, err := chromedp.Run(browser, chromedp.Text(`#greeting`))
		if err != nil {
			t.Fatalf("browser: read #greeting: %v", err)
		}
		return shown
	}
	onLoad := wait(`document.getElementById("greeting").textContent.startsWith("Hello")`)
	if _, err := chromedp.Run(browser, chromedp.Evaluate[string](`document.getElementById("name").value = ""`)); err != nil {
		t.Fatalf("browser: clear the name field: %v", err)
	}
	if err := chromedp.Do(browser,
		chromedp.SendKeys(`#name`, "Bob"),
		chromedp.Click(`button[type=submit]`),
	); err != nil {
		t.Fatalf("browser: type a name and click Greet: %v", err)
	}
	// The greeting changes twice: to "…" while the call is under way
	// (greet.js), then to the answer; wait for the answer.
	typed := wait(`((t) => t !== "…" && t !== ` + "`" + `Hello, ${new URLSearchParams(location.search).get("name")}!` + "`" + `)(document.getElementById("greeting").textContent)`)
	if want := "Hello, " + name + "!"; onLoad != want {
		t.Errorf("page /?name=%s shows %q, want %q", name, onLoad, want)
	}
	if typed != "Hello, Bob!" {
		t.Errorf("after typing Bob and clicking Greet the page shows %q, want %q", typed, "Hello, Bob!")
	}
}
