package serve

import (
	"net"
	"testing"
)

// trim:http begin

// TestPageURL checks the page's URL in the start line for the ways
// --http-addr can name the listener's host.
func TestPageURL(t *testing.T) {
	t.Parallel()
	tcp := func(ip string, port int) net.Addr { return &net.TCPAddr{IP: net.ParseIP(ip), Port: port} }
	tests := []struct {
		listen string
		addr   net.Addr
		tls    bool
		want   string
	}{
		{listen: "127.0.0.1:0", addr: tcp("127.0.0.1", 41000), want: "http://127.0.0.1:41000/"},
		{listen: "127.0.0.1:8443", addr: tcp("127.0.0.1", 8443), tls: true, want: "https://127.0.0.1:8443/"},
		// A name stays a name, so the URL matches a certificate for it.
		{listen: "localhost:8080", addr: tcp("127.0.0.1", 8080), want: "http://localhost:8080/"},
		{listen: "localhost:0", addr: tcp("127.0.0.1", 41000), tls: true, want: "https://localhost:41000/"},
		{listen: "greeter.example:443", addr: tcp("192.0.2.10", 443), tls: true, want: "https://greeter.example:443/"},
		{listen: "[::1]:0", addr: tcp("::1", 41000), want: "http://[::1]:41000/"},
		// Every interface is reached on this host as localhost.
		{listen: ":8080", addr: tcp("::", 8080), want: "http://localhost:8080/"},
		{listen: "0.0.0.0:0", addr: tcp("0.0.0.0", 41000), tls: true, want: "https://localhost:41000/"},
		{listen: "[::]:8080", addr: tcp("::", 8080), want: "http://localhost:8080/"},
	}
	for _, tt := range tests {
		if got := pageURL(tt.listen, tt.addr, tt.tls); got != tt.want {
			t.Errorf("pageURL(%q, %v, tls %v) = %q, want %q", tt.listen, tt.addr, tt.tls, got, tt.want)
		}
	}
}

// trim:http end
