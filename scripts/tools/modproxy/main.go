// Command modproxy writes a file-based Go module proxy (a GOPROXY=file://...
// directory) holding modules of this repository at chosen versions, packed
// from a directory with golang.org/x/mod/zip exactly as the go command and
// proxy.golang.org would pack a tagged release.
//
// Usage:
//
//	modproxy -dir OUT MODULE_PATH@VERSION=SOURCE_DIR ...
//
// It lets the go command resolve a module version that is not published yet:
// `go mod tidy` of greeter-server against the greeter-api in this tree, and
// the release tests that play an outside user.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	out := flag.String("dir", "", "directory to write the proxy into (created if missing)")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: modproxy -dir OUT MODULE_PATH@VERSION=SOURCE_DIR ...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	for _, arg := range flag.Args() {
		if err := add(*out, arg); err != nil {
			fmt.Fprintln(os.Stderr, "modproxy:", err)
			os.Exit(1)
		}
	}
}

// add packs one MODULE_PATH@VERSION=SOURCE_DIR argument into the proxy at out.
func add(out, arg string) error {
	spec, src, ok := strings.Cut(arg, "=")
	if !ok {
		return fmt.Errorf("%q: want MODULE_PATH@VERSION=SOURCE_DIR", arg)
	}
	path, version, ok := strings.Cut(spec, "@")
	if !ok {
		return fmt.Errorf("%q: want MODULE_PATH@VERSION=SOURCE_DIR", arg)
	}
	mv := module.Version{Path: path, Version: version}
	if err := module.Check(path, version); err != nil {
		return err
	}
	escaped, err := module.EscapePath(path)
	if err != nil {
		return err
	}
	dir := filepath.Join(out, filepath.FromSlash(escaped), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}

	zf, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		return err
	}
	if err := zip.CreateFromDir(zf, mv, src); err != nil {
		zf.Close()
		return fmt.Errorf("pack %s from %s: %w", spec, src, err)
	}
	if err := zf.Close(); err != nil {
		return err
	}

	gomod, err := os.ReadFile(filepath.Join(src, "go.mod"))
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, version+".mod"), gomod, 0o644); err != nil {
		return err
	}
	info, err := json.Marshal(struct {
		Version string
		Time    time.Time
	}{version, time.Now().UTC()})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(dir, version+".info"), info, 0o644); err != nil {
		return err
	}
	return appendVersion(filepath.Join(dir, "list"), version)
}

// appendVersion adds version to the proxy's list file unless it is there.
func appendVersion(list, version string) error {
	data, err := os.ReadFile(list)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	for _, v := range strings.Fields(string(data)) {
		if v == version {
			return nil
		}
	}
	f, err := os.OpenFile(list, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	if _, err := fmt.Fprintln(f, version); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
