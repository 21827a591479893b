package browser_test

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// pageEnv names the variable that holds the URL of the greeting page of a
// running greeter-server, such as http://127.0.0.1:8080/. Set, it runs
// TestBrowserPage, which then fails where no Chromium is found.
// scripts/test-browser.sh installs Chromium, starts the server and sets it;
// a plain go test run (scripts/test.sh's) skips the test, so it runs once.
const pageEnv = "GREETER_TEST_BROWSER_PAGE"

// chromium returns the path of a Chromium or Chrome binary, or "".
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// TestBrowserPage loads the greeting page in headless Chromium: /?name=NAME
// must greet NAME through the API as soon as it loads, and the form must
// greet the name typed into it.
func TestBrowserPage(t *testing.T) {
	t.Parallel()
	page := os.Getenv(pageEnv)
	if page == "" {
		t.Skipf("SKIPPED: the browser test runs with $%s set to a running greeter-server's page; scripts/test-browser.sh (run by scripts/test.sh) installs chromium, starts the server and sets it", pageEnv)
	}
	const name = "Zoë & <Ann>" // escaped in the URL, shown as text, not HTML
	u, err := url.Parse(page)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		t.Fatalf("$%s = %q, want the URL of the page, such as http://127.0.0.1:8080/", pageEnv, page)
	}
	u.RawQuery = url.Values{"name": {name}}.Encode()
	exe := chromium()
	if exe == "" {
		t.Fatalf("$%s is set, but no chromium is on PATH", pageEnv)
	}

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

	if err := chromedp.Do(browser, chromedp.Navigate(u.String())); err != nil {
		t.Fatalf("browser: load %s: %v", u, err)
	}
	wait := func(predicate string) string {
		t.Helper()
		if _, err := chromedp.Run(browser, chromedp.Poll[bool](predicate, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
			shown, _ := chromedp.Run(browser, chromedp.Text(`#greeting`))
			t.Fatalf("browser: waiting for %s: %v; the page shows %q", predicate, err, shown)
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
