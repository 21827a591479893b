package auth

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/greeter-go/greeter/greeter-server/internal/testlog"
)

// badPolicies are policies grpc-go's authz refuses; ParsePolicy must too.
var badPolicies = []string{
	``,
	`{`,
	`[]`,
	`{"allow_rules": [{"name": "a"}]}`,
	`{"name": "p"}`,
	`{"name": "p", "allow_rules": []}`,
	`{"name": "p", "allow_rules": [{"request": {}}]}`,
	`{"name": "p", "allow_rules": [{"name": "a", "request": {"headers": [{"key": ":path", "values": ["x"]}]}}]}`,
	`{"name": "p", "allow_rules": [{"name": "a", "request": {"headers": [{"key": "grpc-timeout", "values": ["x"]}]}}]}`,
	`{"name": "p", "allow_rules": [{"name": "a", "request": {"headers": [{"key": "Host", "values": ["x"]}]}}]}`,
	`{"name": "p", "allow_rules": [{"name": "a", "request": {"headers": [{"key": "x-a"}]}}]}`,
	`{"name": "p", "allow_rules": [{"name": "a", "request": {"headers": [{"values": ["x"]}]}}]}`,
	`{"name": "p", "allow_rules": [{"name": "a"}], "unknown": 1}`,
	`{"name": "p", "allow_rules": [{"name": "a", "source": {"principal": ["x"]}}]}`,
}

// TestParsePolicyRefuses: ParsePolicy refuses what grpc-go's authz refuses
// (badPolicies; TestBadPoliciesGRPCGo checks that grpc-go does), two rules
// with one name, and audit logging options, which it does not support.
func TestParsePolicyRefuses(t *testing.T) {
	t.Parallel()
	for _, doc := range badPolicies {
		if _, err := ParsePolicy([]byte(doc)); err == nil {
			t.Errorf("ParsePolicy accepted %s", doc)
		}
	}
	// Two rules of one kind with one name: grpc-go keeps the last alone.
	dup := `{"name": "p", "allow_rules": [{"name": "a", "request": {"paths": ["/x.S/A"]}}, {"name": "a", "request": {"paths": ["/x.S/B"]}}]}`
	if _, err := ParsePolicy([]byte(dup)); err == nil || !strings.Contains(err.Error(), "earlier rule") {
		t.Errorf("two allow rules named a: err = %v", err)
	}
	audit := `{"name": "p", "allow_rules": [{"name": "a"}], "audit_logging_options": {"audit_condition": "ON_DENY"}}`
	if _, err := ParsePolicy([]byte(audit)); err == nil || !strings.Contains(err.Error(), "audit_logging_options") {
		t.Errorf("audit logging options: err = %v", err)
	}
}

// TestPolicyReload: a changed file comes into force at the next check; a
// broken one keeps the last good policy, with a warning at every check; a
// broken file at the start is an error.
func TestPolicyReload(t *testing.T) {
	interval := PolicyCheckInterval
	PolicyCheckInterval = 10 * time.Millisecond
	t.Cleanup(func() { PolicyCheckInterval = interval })

	dir := t.TempDir()
	file := filepath.Join(dir, "policy.json")
	write := func(doc string) {
		// As Kubernetes updates a ConfigMap: a new file renamed over the old.
		tmp := filepath.Join(dir, "tmp")
		if err := os.WriteFile(tmp, []byte(doc), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, file); err != nil {
			t.Fatal(err)
		}
	}
	allowOnly := func(path string) string {
		return fmt.Sprintf(`{"name": %q, "allow_rules": [{"name": "one", "request": {"paths": [%q]}}]}`, path, path)
	}
	write("{broken")
	if _, err := New(Config{PolicyFile: file}); err == nil {
		t.Fatal("a broken policy file at the start was accepted")
	}
	write(allowOnly("/a.S/One"))
	logs := &testlog.Buffer{}
	g, err := New(Config{PolicyFile: file, Logger: newLogger(logs)})
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	allows := func(method string) bool {
		_, err := g.Check(t.Context(), Call{Method: method, Header: MD{}}, true)
		return err == nil
	}
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		deadline := time.Now().Add(10 * time.Second)
		for !cond() {
			if time.Now().After(deadline) {
				t.Fatalf("timed out waiting for %s; log:\n%s", what, logs.String())
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
	if !allows("/a.S/One") || allows("/a.S/Two") {
		t.Fatal("the first policy is not in force")
	}
	write(allowOnly("/a.S/Two"))
	waitFor("the changed policy", func() bool { return allows("/a.S/Two") && !allows("/a.S/One") })
	write(`{"name": "x"}`)
	waitFor("two warnings about the broken file", func() bool {
		return strings.Count(logs.String(), "authorization policy file is broken") >= 2
	})
	if !allows("/a.S/Two") || allows("/a.S/One") {
		t.Error("a broken file did not keep the last good policy")
	}
	write(allowOnly("/a.S/One"))
	waitFor("the fixed policy", func() bool { return allows("/a.S/One") })
}
