package greeting_test

import (
	"fmt"

	"github.com/greeter-go/greeter/greeter-server/internal/greeting"
)

func ExampleHello() {
	msg, err := greeting.Hello("Ada")
	fmt.Println(msg, err)
	_, err = greeting.Hello("")
	fmt.Println(err)
	// Output:
	// Hello, Ada! <nil>
	// invalid name: is required and must not be empty
}

func ExampleGroup() {
	var g greeting.Group
	for _, name := range []string{"Ann", "Bob", "Cy"} {
		if err := g.Add(name); err != nil {
			fmt.Println(err)
			return
		}
	}
	msg, n, _ := g.Greeting()
	fmt.Println(msg, n)
	// Output: Hello, Ann, Bob and Cy! 3
}
