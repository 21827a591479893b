package auth

import (
	"bytes"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"google.golang.org/grpc/credentials"
)

// A Policy is a gRPC authorization policy (gRFC A43), the JSON format that
// grpc-go's authz package and every other gRPC language read, and that
// translates to Envoy's RBAC:
//
//	{
//	  "name": "greeter",
//	  "deny_rules": [{"name": "no-robots", "request": {"headers": [{"key": "x-jwt-subject", "values": ["robot-*"]}]}}],
//	  "allow_rules": [
//	    {"name": "hello", "source": {"principals": ["spiffe://example.org/*"]}, "request": {"paths": ["/greeter.v1.GreeterService/SayHello"]}},
//	    {"name": "ann", "request": {"headers": [{"key": "x-jwt-subject", "values": ["ann"]}]}}
//	  ]
//	}
//
// A call is refused if any deny rule matches it, else allowed if any allow
// rule matches it, else refused. A rule matches when all it names match:
// one of its source principals (a value is exact, "prefix*", "*suffix", or
// "*" for any non-empty one), one of its paths (the full method name,
// "/package.Service/Method"), and every one of its headers (each against
// one of its values, the header's values joined with ","). A principal is
// the client certificate of a TLS connection: any of its URI SANs if it has
// some, else any of its DNS SANs, else its subject; a plaintext call has
// none and matches no principal.
//
// Policy evaluates the format itself, with grpc-go's semantics, which
// conformance_test.go checks against grpc-go's own authz package call by
// call (built with the tag authzconformance).
// trim:http begin
// grpc-go's authz cannot be used directly: its engine needs the call's
// network connection in the context, which grpc-go puts there only on its
// own transport, so every call on the HTTP listener (grpc.Server.ServeHTTP)
// would fail as INTERNAL. One evaluator on both listeners keeps the rules the
// same on each.
// trim:http end
type Policy struct {
	name  string
	deny  []rule
	allow []rule
}

// Header is a call's request headers, looked up by lowercase name:
// metadata.MD on the gRPC listener.
// http.Header on the HTTP listener. // trim:http
type Header interface {
	Values(key string) []string
}

// MD is grpc-go's metadata map as a Header.
type MD map[string][]string

// Values returns the values of key, which must be lowercase.
func (md MD) Values(key string) []string { return md[key] }

// request is what a policy sees of a call.
type request struct {
	method   string
	header   Header
	authInfo credentials.AuthInfo
}

type rule struct {
	name       string
	principals []pattern
	paths      []pattern
	headers    []headerRule
}

type headerRule struct {
	key    string
	values []pattern
}

// pattern is one value of a policy: exact, prefix*, *suffix, or * (any
// non-empty string).
type pattern struct {
	s              string
	prefix, suffix bool
	any            bool
}

func newPattern(v string) pattern {
	switch {
	case v == "*":
		return pattern{any: true}
	case strings.HasSuffix(v, "*"):
		return pattern{s: strings.TrimSuffix(v, "*"), prefix: true}
	case strings.HasPrefix(v, "*"):
		return pattern{s: strings.TrimPrefix(v, "*"), suffix: true}
	default:
		return pattern{s: v}
	}
}

func (p pattern) match(v string) bool {
	switch {
	case p.any:
		return v != ""
	case p.prefix:
		return strings.HasPrefix(v, p.s)
	case p.suffix:
		return strings.HasSuffix(v, p.s)
	default:
		return v == p.s
	}
}

// unsupportedHeaders may not appear in a policy: they describe the
// connection or the transport, not the call (as in gRFC A43).
var unsupportedHeaders = map[string]bool{
	"host": true, "connection": true, "keep-alive": true, "proxy-authenticate": true,
	"proxy-authorization": true, "te": true, "trailer": true, "transfer-encoding": true, "upgrade": true,
}

// ParsePolicy reads a policy in gRPC's authorization policy format. It
// accepts what grpc-go's authz.NewStatic accepts, but two rules of one kind
// (deny or allow) with one name, which grpc-go takes as the last of them
// alone, and audit logging options: greeter-server logs every refusal
// itself.
func ParsePolicy(data []byte) (*Policy, error) {
	var doc struct {
		Name                string
		DenyRules           []jsonRule      `json:"deny_rules"`
		AllowRules          []jsonRule      `json:"allow_rules"`
		AuditLoggingOptions json.RawMessage `json:"audit_logging_options"`
	}
	d := json.NewDecoder(bytes.NewReader(data))
	d.DisallowUnknownFields()
	if err := d.Decode(&doc); err != nil {
		return nil, fmt.Errorf("not a gRPC authorization policy: %w", err)
	}
	if d.More() {
		return nil, errors.New("not a gRPC authorization policy: more than one JSON value")
	}
	if doc.Name == "" {
		return nil, errors.New(`"name" is not present`)
	}
	if len(doc.AllowRules) == 0 {
		return nil, errors.New(`"allow_rules" is not present`)
	}
	if len(doc.AuditLoggingOptions) > 0 && string(doc.AuditLoggingOptions) != "null" {
		return nil, errors.New(`"audit_logging_options" is not supported: greeter-server logs every refusal and counts it (greeter_server_auth_refusals_total)`)
	}
	p := &Policy{name: doc.Name}
	var err error
	if p.deny, err = parseRules(doc.DenyRules); err != nil {
		return nil, fmt.Errorf(`"deny_rules" %w`, err)
	}
	if p.allow, err = parseRules(doc.AllowRules); err != nil {
		return nil, fmt.Errorf(`"allow_rules" %w`, err)
	}
	return p, nil
}

type jsonRule struct {
	Name   string
	Source struct {
		Principals []string
	}
	Request struct {
		Paths   []string
		Headers []struct {
			Key    string
			Values []string
		}
	}
}

func parseRules(in []jsonRule) ([]rule, error) {
	var out []rule
	names := map[string]bool{}
	for i, r := range in {
		if r.Name == "" {
			return nil, fmt.Errorf(`%d: "name" is not present`, i)
		}
		// grpc-go keeps only the last of two rules with one name, silently;
		// a policy that says two things under one name is refused here.
		if names[r.Name] {
			return nil, fmt.Errorf(`%d: "name" %q is used by an earlier rule`, i, r.Name)
		}
		names[r.Name] = true
		rl := rule{name: r.Name}
		for _, v := range r.Source.Principals {
			rl.principals = append(rl.principals, newPattern(v))
		}
		for _, v := range r.Request.Paths {
			rl.paths = append(rl.paths, newPattern(v))
		}
		for j, h := range r.Request.Headers {
			if h.Key == "" {
				return nil, fmt.Errorf(`%d: "headers" %d: "key" is not present`, i, j)
			}
			key := strings.ToLower(h.Key)
			if key[0] == ':' || strings.HasPrefix(key, "grpc-") || unsupportedHeaders[key] {
				return nil, fmt.Errorf(`%d: "headers" %d: unsupported "key" %s`, i, j, key)
			}
			if len(h.Values) == 0 {
				return nil, fmt.Errorf(`%d: "headers" %d: "values" is not present`, i, j)
			}
			hr := headerRule{key: key}
			for _, v := range h.Values {
				hr.values = append(hr.values, newPattern(v))
			}
			rl.headers = append(rl.headers, hr)
		}
		out = append(out, rl)
	}
	return out, nil
}

// Name is the policy's name.
func (p *Policy) Name() string { return p.name }

// decide reports whether the policy allows r, and the rule that decided:
// the deny rule that matched, or the allow rule that did ("" when none
// did).
func (p *Policy) decide(r request) (allowed bool, rule string) {
	for i := range p.deny {
		if p.deny[i].match(r) {
			return false, p.deny[i].name
		}
	}
	for i := range p.allow {
		if p.allow[i].match(r) {
			return true, p.allow[i].name
		}
	}
	return false, ""
}

func (rl *rule) match(r request) bool {
	if len(rl.principals) > 0 && !matchPrincipal(rl.principals, r.authInfo) {
		return false
	}
	if len(rl.paths) > 0 && !matchAny(rl.paths, r.method) {
		return false
	}
	for _, h := range rl.headers {
		var v string
		switch vs := r.header.Values(h.key); len(vs) {
		case 0:
			return false
		case 1:
			v = vs[0]
		default:
			v = strings.Join(vs, ",")
		}
		if !matchAny(h.values, v) {
			return false
		}
	}
	return true
}

func matchAny(ps []pattern, v string) bool {
	for _, p := range ps {
		if p.match(v) {
			return true
		}
	}
	return false
}

// matchPrincipal matches the client certificate of a TLS connection
// against ps, as grpc-go's RBAC does: the URI SANs if the certificate has
// any, else its DNS SANs, else its subject; a TLS connection without a
// client certificate is the empty principal; plaintext matches nothing.
func matchPrincipal(ps []pattern, info credentials.AuthInfo) bool {
	tlsInfo, ok := info.(credentials.TLSInfo)
	if !ok {
		return false
	}
	if len(tlsInfo.State.PeerCertificates) == 0 {
		return matchAny(ps, "")
	}
	cert := tlsInfo.State.PeerCertificates[0]
	return matchAnyOf(ps, certNames(cert))
}

func certNames(cert *x509.Certificate) []string {
	if len(cert.URIs) > 0 {
		names := make([]string, len(cert.URIs))
		for i, u := range cert.URIs {
			names[i] = u.String()
		}
		return names
	}
	if len(cert.DNSNames) > 0 {
		return cert.DNSNames
	}
	return []string{cert.Subject.String()}
}

func matchAnyOf(ps []pattern, vs []string) bool {
	for _, v := range vs {
		if matchAny(ps, v) {
			return true
		}
	}
	return false
}
