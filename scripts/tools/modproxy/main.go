// Command modproxy writes a file-based Go module proxy (a GOPROXY=file://...
// directory) holding modules of this repository at chosen versions, packed
// with golang.org/x/mod/zip the way the go command and proxy.golang.org pack a
// release, so the hashes it produces are the ones a published release has.
//
// Usage:
//
//	modproxy -dir OUT MODULE_PATH@VERSION=SOURCE_DIR ...
//	modproxy -dir OUT -git REPO MODULE_PATH@VERSION=SUBDIR ...
//
// Without -git each module is packed from the files in SOURCE_DIR. With -git
// it is packed from the git tag SUBDIR/VERSION of the repository REPO, exactly
// what a tagged release of a module in a subdirectory holds.
//
// It lets the go command resolve versions that are not on a public proxy:
// `go mod tidy` against the greeter-api in this tree (scripts/tidy.sh), moving
// modules to a freshly tagged greeter-api (scripts/use-api.sh), and the
// release test that plays an outside user (scripts/test-release.sh).
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/mod/module"
	"golang.org/x/mod/zip"
)

func main() {
	out := flag.String("dir", "", "directory to write the proxy into (created if missing)")
	repo := flag.String("git", "", "pack tagged revisions of this git repository instead of directories")
	flag.Usage = func() {
		fmt.Fprintln(flag.CommandLine.Output(), "usage: modproxy -dir OUT [-git REPO] MODULE_PATH@VERSION=SOURCE ...")
		flag.PrintDefaults()
	}
	flag.Parse()
	if *out == "" || flag.NArg() == 0 {
		flag.Usage()
		os.Exit(2)
	}
	for _, arg := range flag.Args() {
		if err := add(*out, *repo, arg); err != nil {
			fmt.Fprintln(os.Stderr, "modproxy:", err)
			os.Exit(1)
		}
	}
}

// add packs one MODULE_PATH@VERSION=SOURCE argument into the proxy at out:
// from the directory SOURCE, or, if repo is set, from the tag SOURCE/VERSION
// of that git repository.
func add(out, repo, arg string) error {
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
	var gomod []byte
	if repo == "" {
		err = zip.CreateFromDir(zf, mv, src)
		if err == nil {
			gomod, err = os.ReadFile(filepath.Join(src, "go.mod"))
		}
	} else {
		tag := src + "/" + version
		err = zip.CreateFromVCS(zf, mv, repo, tag, src)
		if err == nil {
			gomod, err = gitShow(repo, tag+":"+src+"/go.mod")
		}
	}
	if err != nil {
		zf.Close()
		return fmt.Errorf("pack %s from %s: %w", spec, src, err)
	}
	if err := zf.Close(); err != nil {
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

// gitShow returns the contents of object (REV:PATH) in the git repository repo.
func gitShow(repo, object string) ([]byte, error) {
	out, err := exec.Command("git", "-C", repo, "show", object).Output()
	if err != nil {
		return nil, fmt.Errorf("git show %s: %w", object, err)
	}
	return out, nil
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
