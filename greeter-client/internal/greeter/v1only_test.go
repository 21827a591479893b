package greeter_test

import (
	"context"
	"strings"
	"testing"
	"time"

	greeterv1 "github.com/greeter-go/greeter/greeter-api/greeter/v1"

	"github.com/greeter-go/greeter/greeter-client/internal/exitcode"
	"github.com/greeter-go/greeter/greeter-client/internal/greeter"
)

// TestV1Unary calls a greeter.v1 method through V1Unary, the way a command
// for a method only greeter.v1 has does, and checks that an API without it
// and an unknown API are refused before anything is sent.
func TestV1Unary(t *testing.T) {
	t.Parallel()
	cc, seen := dial(t)
	fullMethod := greeterv1.GreeterService_SayHelloAgain_FullMethodName
	for _, api := range []string{greeter.APIGreeterV1, ""} {
		method, err := greeter.V1Unary[greeterv1.SayHelloAgainResponse](api, "hello-again", fullMethod,
			&greeterv1.SayHelloAgainRequest{Name: "Ada"})
		if err != nil {
			t.Fatalf("V1Unary(%q): %v", api, err)
		}
		if method.Name != fullMethod {
			t.Errorf("Name = %q, want %q", method.Name, fullMethod)
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		resp, err := method.Call(ctx, cc)
		cancel()
		if err != nil {
			t.Fatalf("Call with --api %q: %v", api, err)
		}
		if got, want := resp.GetMessage(), "Hello again, Ada!"; got != want {
			t.Errorf("message %q, want %q", got, want)
		}
		if _, ok := resp.(*greeterv1.SayHelloAgainResponse); !ok {
			t.Errorf("response is a %T, want *greeterv1.SayHelloAgainResponse (--output json prints it)", resp)
		}
		if got := seen.get(); got != fullMethod {
			t.Errorf("the server got %q, want %q", got, fullMethod)
		}
	}

	// trim:helloworld begin
	_, err := greeter.V1Unary[greeterv1.SayHelloAgainResponse](greeter.APIHelloworld, "say-again", fullMethod,
		&greeterv1.SayHelloAgainRequest{Name: "Ada"})
	if exitcode.Code(err) != exitcode.Usage || !strings.Contains(err.Error(), "say-again needs --api greeter.v1") ||
		!strings.Contains(err.Error(), "no SayHelloAgain method") {
		t.Errorf("V1Unary with --api helloworld: %v, want a usage error naming the command and the method", err)
	}
	// trim:helloworld end
	if _, err := greeter.V1Unary[greeterv1.SayHelloAgainResponse]("greeter.v2", "say-again", fullMethod,
		&greeterv1.SayHelloAgainRequest{Name: "Ada"}); err == nil {
		t.Error("V1Unary with an unknown API: no error")
	}
}
