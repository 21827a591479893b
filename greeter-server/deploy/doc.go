// Package deploy holds greeter-server's deployment files and the test that
// checks them; it has no code of its own.
//
// kubernetes/ is a kustomization (`kubectl apply -k`) of plain manifests.
// manifests_test.go decodes each one strictly into the Kubernetes API types
// of k8s.io/api, as the API server does with strict field validation, so a
// misspelt or misplaced field fails the test, and checks what must hold
// between the files and the server: selectors, ports, probes, the image,
// the security context and the shutdown arithmetic.
//
// kubernetes/components/auth is a kustomize Component that turns on
// greeter-server's bearer-token authentication (the cluster's
// service-account tokens) and authorization policy, with an example client
// beside it; overlays/auth is the base with it. auth_test.go checks those
// files the same way, and against each other: the policy, the variables
// and the server's flags, the mounts, the client's token.
//
// trim:http begin
// proxy/haproxy.cfg is an HAProxy configuration that puts the server's HTTP
// listener behind a proxy that pools its upstream connections; the system
// test TestProxy in greeter-server/test runs it as it is
// (scripts/test-proxy.sh).
//
// trim:http end
// It is a Go module of its own, nested in greeter-server's directory but not
// part of that module, so that k8s.io/api, k8s.io/apimachinery and
// sigs.k8s.io/yaml stay out of greeter-server's go.mod and go.sum: people
// who build or import greeter-server, greeter-client or greeter-api never
// download them. go.work lists it for development, and scripts/test.sh and
// scripts/tidy.sh treat it like the other modules. Nothing imports it.
//
// In the workspace its requirements join everyone's build list, so they must
// not raise a version that greeter-server or greeter-client build with:
// k8s.io/api v0.37 requires github.com/spf13/pflag v1.0.10, one past
// greeter-server's v1.0.9, which would make the workspace build
// greeter-server with a pflag its releases do not use. That is why this
// module stays on k8s.io/api v0.36 (Kubernetes 1.36) until greeter-server
// moves; compare `go -C greeter-server list -m all` with and without this
// module in go.work after changing its requirements.
package deploy
