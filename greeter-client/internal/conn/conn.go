// Package conn turns greeter-client's global connection flags into a gRPC
// client connection, opened lazily the first time a command needs one.
package conn

import (
	"fmt"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Options are the connection settings shared by every command.
type Options struct {
	// Addr is any gRPC target, such as "localhost:50051" or "dns:///host:port".
	Addr string
	// Timeout is the deadline of every call.
	Timeout time.Duration
}

// Factory opens the client connection on first use and closes it once.
type Factory struct {
	Options Options

	once sync.Once
	conn *grpc.ClientConn
	err  error
}

// Conn returns the shared client connection, creating it on first use.
func (f *Factory) Conn() (*grpc.ClientConn, error) {
	f.once.Do(func() {
		f.conn, f.err = grpc.NewClient(f.Options.Addr, grpc.WithTransportCredentials(insecure.NewCredentials()))
		if f.err != nil {
			f.err = fmt.Errorf("connect to %s: %w", f.Options.Addr, f.err)
		}
	})
	return f.conn, f.err
}

// Close closes the connection if one was opened.
func (f *Factory) Close() error {
	if f.conn == nil {
		return nil
	}
	return f.conn.Close()
}
