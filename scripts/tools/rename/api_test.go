package main

import (
	"go/format"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// Like the module paths of main_test.go, these packages are made up and
// unlike this repository's own API: renaming the repository's API must leave
// these tests as they are.
const (
	oldAPI   = "hello.v1"       // Go package hellov1
	newAPI   = "team.salute.v2" // Go package salutev2: another name
	samePkg  = "team.hello.v1"  // Go package hellov1 again
	otherAPI = "other.hello.v1" // another package, whose name ends like oldAPI
)

func TestNewAPINames(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		pkg  string
		want apiNames
	}{
		{"hello.v1", apiNames{"hello.v1", "hello/v1", "hellov1"}},
		{"acme.weather.v1beta1", apiNames{"acme.weather.v1beta1", "acme/weather/v1beta1", "weatherv1beta1"}},
		{"a.b_c.d.v3", apiNames{"a.b_c.d.v3", "a/b_c/d/v3", "dv3"}},
	} {
		if got := newAPINames(tc.pkg); got != tc.want {
			t.Errorf("newAPINames(%q) = %+v, want %+v", tc.pkg, got, tc.want)
		}
	}
	if got, want := newAPINames("acme.hello.v1").escaped(), `acme\.hello\.v1`; got != want {
		t.Errorf("escaped() = %q, want %q", got, want)
	}
}

func TestReplaceAPI(t *testing.T) {
	t.Parallel()
	oldN, newN := newAPINames(oldAPI), newAPINames(newAPI)
	for _, tc := range []struct{ in, want string }{
		// The package.
		{"package hello.v1;", "package team.salute.v2;"},
		{`"/hello.v1.HelloService/SayHello"`, `"/team.salute.v2.HelloService/SayHello"`},
		{"hello.v1.HelloService.SayHello", "team.salute.v2.HelloService.SayHello"},
		{"rpc Chat ( stream .hello.v1.ChatRequest )", "rpc Chat ( stream .team.salute.v2.ChatRequest )"},
		{"--api hello.v1|helloworld", "--api team.salute.v2|helloworld"},
		{"`hello.v1`.", "`team.salute.v2`."},
		{"http://localhost:8080/hello.v1.HelloService/SayHello", "http://localhost:8080/team.salute.v2.HelloService/SayHello"},
		{`regexp.MustCompile(` + "`method=/hello\\.v1\\.HelloService/SayHello`)", `regexp.MustCompile(` + "`method=/team\\.salute\\.v2\\.HelloService/SayHello`)"},
		// Its directory, under a layout root or alone.
		{"proto/hello/v1/hello.proto", "proto/team/salute/v2/hello.proto"},
		{"paths: [proto/hello/v1]", "paths: [proto/team/salute/v2]"},
		{`"example.com/x/greeter-api/hello/v1"`, `"example.com/x/greeter-api/team/salute/v2"`},
		{"greeter-server/internal/benchconnect/hello/v1/hellov1connect", "greeter-server/internal/benchconnect/team/salute/v2/salutev2connect"},
		{"// Source: hello/v1/hello.proto", "// Source: team/salute/v2/hello.proto"},
		{"$tmp/repo/greeter-api/hello/v1/hello.pb.go", "$tmp/repo/greeter-api/team/salute/v2/hello.pb.go"},
		// Its Go package name.
		{`hellov1 "example.com/x/greeter-api/hello/v1"`, `salutev2 "example.com/x/greeter-api/team/salute/v2"`},
		{"hellov1.NewHelloServiceClient(cc)", "salutev2.NewHelloServiceClient(cc)"},
		{"package hellov1_test", "package salutev2_test"},
		{"hellov1connect.NewHelloServiceHandler", "salutev2connect.NewHelloServiceHandler"},
		{"internal/service/hellov1.go", "internal/service/salutev2.go"},
		// Not the package, its directory or its Go package.
		{"other.hello.v1.HelloService", "other.hello.v1.HelloService"},
		{"foo.hello.v1", "foo.hello.v1"},
		{"hello.v1beta1 hello.v10 hello.v1_x hello.v2", "hello.v1beta1 hello.v10 hello.v1_x hello.v2"},
		{"xhello.v1 my-hello.v1 my_hello.v1", "xhello.v1 my-hello.v1 my_hello.v1"},
		{`other\.hello\.v1 hello\.v1beta`, `other\.hello\.v1 hello\.v1beta`},
		{"proto/other/hello/v1 hello/v1beta1 hello/v1-x x.hello/v1", "proto/other/hello/v1 hello/v1beta1 hello/v1-x x.hello/v1"},
		{"example.com/hello/v1/greeter-api", "example.com/hello/v1/greeter-api"},
		{"myhellov1 hellov1x hellov1connectx x.hellov1 File_hello_v1_hello_proto", "myhellov1 hellov1x hellov1connectx x.hellov1 File_hello_v1_hello_proto"},
		// Several, and one right after another that does not match.
		{"xhello.v1 hello.v1 proto/hello/v1 hellov1", "xhello.v1 team.salute.v2 proto/team/salute/v2 salutev2"},
		{"", ""},
	} {
		if got, _ := replaceAPI(tc.in, oldN, newN); got != tc.want {
			t.Errorf("replaceAPI(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	// With the same Go package name, an identifier is not an occurrence.
	if got, n := replaceAPI("hellov1.X", oldN, newAPINames(samePkg)); got != "hellov1.X" || n != 0 {
		t.Errorf("replaceAPI to %s = %q, %d; want it unchanged", samePkg, got, n)
	}
	// The replacement is not matched again: renaming hello.v1 to a package
	// that ends in it gives the same text as renaming it anywhere else.
	if got, _ := replaceAPI("hello.v1 proto/hello/v1", oldN, newAPINames(otherAPI)); got != "other.hello.v1 proto/other/hello/v1" {
		t.Errorf("replaceAPI to %s = %q", otherAPI, got)
	}
}

func TestCheckNewAPI(t *testing.T) {
	t.Parallel()
	old := newAPINames(oldAPI)
	for _, bad := range []string{
		oldAPI,              // the same
		"",                  // empty
		"hello",             // no version
		"acme.hello",        // no version
		"v1",                // a version alone
		"acme.hello.v0",     // buf's PACKAGE_VERSION_SUFFIX has no v0
		"acme.hello.V1",     // not lower case
		"Acme.hello.v1",     // not lower case
		"acme.hello.1",      // not a version
		"acme..hello.v1",    // an empty element
		".acme.hello.v1",    // a leading dot
		"acme.hello.v1.",    // a trailing dot
		"acme-co.hello.v1",  // a hyphen
		"acme/hello/v1",     // a directory
		"acme.1hello.v1",    // an element that starts with a digit
		"google.hello.v1",   // Google's namespace
		"grpc.hello.v1",     // gRPC's
		"hello.v1.inner.v1", // contains the current package
	} {
		if err := checkNewAPI(old, bad); err == nil {
			t.Errorf("checkNewAPI(%q) accepted it", bad)
		}
	}
	for _, good := range []string{newAPI, samePkg, otherAPI, "hello.v2", "acme.hello.v1beta1", "acme.hello.v1alpha", "acme.hello_world.v1", "a.b.c.v10"} {
		if err := checkNewAPI(old, good); err != nil {
			t.Errorf("checkNewAPI(%q) = %v", good, err)
		}
	}
}

// apiTree is a small repository in the shape of this one whose API is the
// proto package n, with n named in every form the rename rewrites.
func apiTree(t *testing.T, n apiNames) map[string]string {
	t.Helper()
	gofmt := func(src string) string {
		b, err := format.Source([]byte(src))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	pkg, dir, goPkg := n.pkg, n.dir, n.goPkg
	return map[string]string{
		"proto/" + dir + "/hello.proto": "syntax = \"proto3\";\n\n// Package " + pkg + " greets.\npackage " + pkg + ";\n\n" +
			"// HelloService greets.\nservice HelloService {\n  rpc Chat(stream ChatRequest) returns (stream ChatResponse);\n}\n",
		"proto/helloworld/helloworld.proto": "syntax = \"proto3\";\n\n// Package helloworld is gRPC's, unlike " + pkg + ".\npackage helloworld;\n\nservice Greeter {}\n",
		"proto/released-api.binpb":          "\x0a\x10" + dir + "/hello.proto\x12\x08" + pkg + "\x18\x00",
		// Hand-written files next to the generated code move with it.
		"greeter-api/" + dir + "/doc.go": "// Package " + goPkg + " is the Go code of " + pkg + ", from proto/" + dir + "/hello.proto.\npackage " + goPkg + "\n",
		"greeter-api/" + dir + "/example_test.go": gofmt("package " + goPkg + "_test\n\nimport (\n\t\"fmt\"\n\n\t" + goPkg + " \"example.com/x/greeter-api/" + dir + "\"\n)\n\n" +
			"func Example() {\n\tfmt.Println(" + goPkg + ".HelloService_ServiceDesc.ServiceName)\n\t// Output: " + pkg + ".HelloService\n}\n"),
		// A Go package name of another length moves the comments and values
		// that gofmt aligns.
		"greeter-server/internal/service/" + goPkg + ".go": gofmt("package service\n\nimport " + goPkg + " \"example.com/x/greeter-api/" + dir + "\"\n\n" +
			"var methods = map[string]string{\n\t" + goPkg + ".HelloService_Chat_FullMethodName: \"chat\", // in " + goPkg + ".go\n" +
			"\t\"/" + pkg + ".HelloService/Other\": \"other\", // by hand\n}\n"),
		"greeter-server/test/log_test.go":                   gofmt("package test\n\nimport \"regexp\"\n\nvar call = regexp.MustCompile(`method=/" + n.escaped() + `\.HelloService/Chat` + "`)\n"),
		"greeter-server/deploy/policy.yaml":                 "paths:\n  - \"/" + pkg + ".HelloService/*\"\n  - \"/helloworld.Greeter/*\"\n",
		"greeter-server/internal/benchconnect/buf.gen.yaml": "inputs:\n  - directory: proto\n    paths: [proto/" + dir + "]\n",
		"README.md": "Call `" + pkg + ".HelloService` (package `" + goPkg + "`, in `greeter-api/" + dir + "`); " +
			"`grpcurl describe " + pkg + ".HelloService` prints `rpc Chat ( stream ." + pkg + ".ChatRequest )`. " +
			"Not " + otherAPI + " nor hello.v1beta1.\n",
		"scripts/check.sh": "#!/bin/sh\ngrep -q '^package " + n.escaped() + ";' proto/" + dir + "/hello.proto\n",
		"unrelated.txt":    "nothing here\n",
	}
}

// generated is what scripts/generate.sh writes for n, to be deleted when n's
// directory moves.
func generated(n apiNames) map[string]string {
	return map[string]string{
		"greeter-api/" + n.dir + "/hello.pb.go": "// Code generated by protoc-gen-go. DO NOT EDIT.\n// source: " + n.dir + "/hello.proto\n" +
			"package " + n.goPkg + "\n\nconst rawDesc = \"\\n\\x0e" + n.dir + "/hello.proto\\x12\\b" + n.pkg + "\"\n",
		"greeter-server/internal/benchconnect/" + n.dir + "/" + n.goPkg + "connect/hello.connect.go": "// Code generated by protoc-gen-connect-go. DO NOT EDIT.\n" +
			"package " + n.goPkg + "connect\n\nconst HelloServiceName = \"" + n.pkg + ".HelloService\"\n",
	}
}

// files lists the regular files under root with their contents.
func files(t *testing.T, root string) map[string]string {
	t.Helper()
	got := map[string]string{}
	if err := walkFiles(root, func(rel string, data []byte, _ os.FileMode) error {
		got[rel] = string(data)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return got
}

// dirs lists the directories under root.
func dirs(t *testing.T, root string) []string {
	t.Helper()
	var got []string
	err := filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
		if err == nil && d.IsDir() && p != root {
			rel, _ := filepath.Rel(root, p)
			got = append(got, filepath.ToSlash(rel))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func mergeFiles(maps ...map[string]string) map[string]string {
	all := map[string]string{}
	for _, m := range maps {
		for k, v := range m {
			all[k] = v
		}
	}
	return all
}

func TestRenameAPI(t *testing.T) {
	t.Parallel()
	for _, newPkg := range []string{newAPI, samePkg} {
		t.Run(newPkg, func(t *testing.T) {
			t.Parallel()
			oldN, newN := newAPINames(oldAPI), newAPINames(newPkg)
			root := writeTree(t, mergeFiles(apiTree(t, oldN), generated(oldN)))
			if cur, err := currentAPI(root); err != nil || cur != oldAPI {
				t.Fatalf("currentAPI = %q, %v; want %q", cur, err, oldAPI)
			}
			r, err := renameAPI(root, oldN, newPkg)
			if err != nil {
				t.Fatal(err)
			}

			// Every file is as it would be in a tree made with the new
			// package, except the baseline of buf breaking (binary: the
			// script builds it again) and the generated code (deleted:
			// scripts/generate.sh writes it again).
			want := apiTree(t, newN)
			want["proto/released-api.binpb"] = apiTree(t, oldN)["proto/released-api.binpb"]
			got := files(t, root)
			for name, content := range want {
				if got[name] != content {
					t.Errorf("%s after the rename:\n%s\nwant:\n%s", name, got[name], content)
				}
			}
			for name := range got {
				if _, ok := want[name]; !ok {
					t.Errorf("after the rename, %s is left over", name)
				}
			}
			if len(r.deleted) != 2 {
				t.Errorf("deleted %v, want the two generated files", r.deleted)
			}
			if info, err := os.Stat(filepath.Join(root, "scripts/check.sh")); err != nil || info.Mode().Perm() != 0o755 {
				t.Errorf("scripts/check.sh lost its mode: %v", err)
			}
			// The old directories are gone, not left empty.
			for _, d := range dirs(t, root) {
				if _, n := replaceAPI(d, oldN, newN); n > 0 {
					t.Errorf("directory %s is left behind", d)
				}
				if entries, _ := os.ReadDir(filepath.Join(root, d)); len(entries) == 0 {
					t.Errorf("directory %s is left empty", d)
				}
			}

			// Once scripts/generate.sh has written the new code, nothing
			// names the old package.
			for name, content := range generated(newN) {
				writeFile(t, root, name, content)
			}
			if left, err := apiLeftovers(root, oldN, newN); err != nil || len(left) != 0 {
				t.Errorf("apiLeftovers after the rename = %q, %v; want none", left, err)
			}
			// A name written by hand after the rename, and stale generated
			// code, are found.
			writeFile(t, root, "proto/stray.txt", "ok\nsee /hello.v1.HelloService/Chat\n")
			stale := generated(oldN)
			// In a raw descriptor a name follows a length byte, here
			// written as an escape that ends in a letter: a stale file
			// that imported the old one names it only so.
			stale["greeter-api/helloworld/helloworld.pb.go"] = "// Code generated by protoc-gen-go. DO NOT EDIT.\n" +
				"const rawDesc = \"\\n\\x10helloworld.proto\\x1a\\x0e" + oldN.dir + "/hello.proto\"\n"
			for name, content := range stale {
				writeFile(t, root, name, content)
			}
			left, err := apiLeftovers(root, oldN, newN)
			if err != nil {
				t.Fatal(err)
			}
			found := map[string]bool{}
			for _, l := range left {
				name, _, _ := strings.Cut(l, ":")
				found[name] = true
				if _, isStale := stale[name]; !isStale && !strings.HasPrefix(l, "proto/stray.txt:2: see /hello.v1.HelloService/Chat") {
					t.Errorf("apiLeftovers lists %q", l)
				}
			}
			for _, name := range append(slices.Collect(maps.Keys(stale)), "proto/stray.txt") {
				if !found[name] {
					t.Errorf("apiLeftovers = %q, does not list %s", left, name)
				}
			}
			for _, name := range append(slices.Collect(maps.Keys(stale)), "proto/stray.txt") {
				if err := os.Remove(filepath.Join(root, filepath.FromSlash(name))); err != nil {
					t.Fatal(err)
				}
			}

			// The renamed tree can be renamed again, back to the start.
			if cur, err := currentAPI(root); err != nil || cur != newPkg {
				t.Fatalf("currentAPI after the rename = %q, %v; want %q", cur, err, newPkg)
			}
			if _, err := renameAPI(root, newN, newPkg); err == nil {
				t.Error("renaming to the current package succeeded")
			}
			if _, err := renameAPI(root, newN, oldAPI); err != nil {
				t.Fatal(err)
			}
			if got, want := files(t, root), apiTree(t, oldN); !equalFiles(got, want) {
				t.Errorf("renamed back, the tree is\n%q\nwant\n%q", got, want)
			}
		})
	}
}

func writeFile(t *testing.T, root, name, content string) {
	t.Helper()
	p := filepath.Join(root, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCurrentAPI(t *testing.T) {
	t.Parallel()
	tree := apiTree(t, newAPINames(oldAPI))
	root := writeTree(t, tree)
	if got, err := currentAPI(root); err != nil || got != oldAPI {
		t.Errorf("currentAPI = %q, %v; want %q", got, err, oldAPI)
	}
	// A second version of the API: which one to rename is not clear, and
	// only a released API gets one.
	writeFile(t, root, "proto/hello/v2/hello.proto", "syntax = \"proto3\";\npackage hello.v2;\n")
	if got, err := currentAPI(root); err == nil || !strings.Contains(err.Error(), "hello.v1, hello.v2") {
		t.Errorf("currentAPI with two versions = %q, %v; want an error naming both", got, err)
	}
	// No versioned package at all.
	root = writeTree(t, map[string]string{"proto/helloworld/helloworld.proto": tree["proto/helloworld/helloworld.proto"]})
	if got, err := currentAPI(root); err == nil {
		t.Errorf("currentAPI with helloworld alone = %q, want an error", got)
	}
}

func TestRenameAPIRefusesExistingDir(t *testing.T) {
	t.Parallel()
	oldN := newAPINames(oldAPI)
	root := writeTree(t, mergeFiles(apiTree(t, oldN), map[string]string{"proto/team/salute/v2/README.md": "taken\n"}))
	before := files(t, root)
	if _, err := renameAPI(root, oldN, newAPI); err == nil || !strings.Contains(err.Error(), "exists already") {
		t.Errorf("renameAPI into an existing directory: %v, want an error saying it exists", err)
	}
	if after := files(t, root); !equalFiles(before, after) {
		t.Error("a refused rename changed the tree")
	}
}

func equalFiles(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || v != w {
			return false
		}
	}
	return true
}

// git runs git in dir, with an identity of its own.
func git(t *testing.T, dir string, args ...string) {
	t.Helper()
	cmd := exec.Command("git", append([]string{"-C", dir, "-c", "user.name=Rename Test", "-c", "user.email=rename-test@example.invalid"}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

func TestRenameAPIRefusesReleased(t *testing.T) {
	t.Parallel()
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git here to make a repository with release tags:", err)
	}
	oldN := newAPINames(oldAPI)
	root := writeTree(t, apiTree(t, oldN))
	git(t, root, "init", "-q")
	git(t, root, "add", "-A")
	git(t, root, "commit", "-q", "-m", "template")
	// Release tags of other modules do not release the API.
	git(t, root, "tag", "greeter-server/v1.0.0")
	if err := checkUnreleased(root, oldN); err != nil {
		t.Errorf("checkUnreleased with a greeter-server tag alone: %v", err)
	}
	git(t, root, "tag", "greeter-api/v0.1.0")
	before := files(t, root)
	_, err := renameAPI(root, oldN, newAPI)
	if err == nil {
		t.Fatal("renameAPI renamed a released API")
	}
	for _, want := range []string{"greeter-api/v0.1.0", "/hello.v1.HelloService/...", "keep hello.v1"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("renameAPI of a released API: %v\nwant it to say %q", err, want)
		}
	}
	if after := files(t, root); !equalFiles(before, after) {
		t.Error("a refused rename changed the tree")
	}
	// Outside a git repository there are no tags to read.
	if tags, err := apiReleaseTags(t.TempDir()); err != nil || len(tags) != 0 {
		t.Errorf("apiReleaseTags outside a repository = %q, %v; want none", tags, err)
	}
}
