// Package test holds greeter-client's system tests, which run the real
// greeter-client and greeter-server binaries as separate processes.
package test

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
)

// serveDNS answers DNS queries on a loopback UDP port the way a Kubernetes
// headless Service does: the A records of name are every replica's address.
// Anything else gets an empty answer. It returns the server's address, for a
// gRPC target such as dns://ADDR/NAME:PORT.
func serveDNS(t *testing.T, name string, addrs ...netip.Addr) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	fqdn := strings.TrimSuffix(name, ".") + "."
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if err != nil {
				continue
			}
			if reply, err := answer(buf[:n], fqdn, addrs); err == nil {
				_, _ = pc.WriteTo(reply, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

// answer builds the reply to one query.
func answer(query []byte, fqdn string, addrs []netip.Addr) ([]byte, error) {
	var p dnsmessage.Parser
	h, err := p.Start(query)
	if err != nil {
		return nil, err
	}
	q, err := p.Question()
	if err != nil {
		return nil, err
	}
	known := strings.EqualFold(q.Name.String(), fqdn)
	rcode := dnsmessage.RCodeSuccess
	if !known {
		rcode = dnsmessage.RCodeNameError
	}
	b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RCode: rcode})
	if err := b.StartQuestions(); err != nil {
		return nil, err
	}
	if err := b.Question(q); err != nil {
		return nil, err
	}
	if err := b.StartAnswers(); err != nil {
		return nil, err
	}
	if known && q.Type == dnsmessage.TypeA {
		for _, a := range addrs {
			rh := dnsmessage.ResourceHeader{Name: q.Name, Type: dnsmessage.TypeA, Class: dnsmessage.ClassINET, TTL: 1}
			if err := b.AResource(rh, dnsmessage.AResource{A: a.As4()}); err != nil {
				return nil, err
			}
		}
	}
	return b.Finish()
}

func TestServeDNS(t *testing.T) {
	t.Parallel()
	want := []netip.Addr{netip.MustParseAddr("127.0.0.1"), netip.MustParseAddr("127.0.0.2")}
	server := serveDNS(t, "greeter.test", want...)
	r := &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", server)
	}}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, err := r.LookupNetIP(ctx, "ip4", "greeter.test")
	if err != nil || len(got) != len(want) {
		t.Fatalf("LookupNetIP(greeter.test) = %v, %v, want %v", got, err, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("LookupNetIP(greeter.test)[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if _, err := r.LookupNetIP(ctx, "ip4", "other.test"); err == nil {
		t.Error("LookupNetIP(other.test) succeeded, want not found")
	}
}
