// Command dgcompare runs dirgate, OpenLDAP slapd and the null server side
// by side on one generated data set and prints a Markdown comparison; see
// bench/README.md. It is bench/compare.Main, kept as its own command so it
// needs nothing from dgbench but its binary.
package main

import (
	"errors"
	"flag"
	"fmt"
	"os"

	"github.com/dirgate/dirgate/bench/compare"
)

func main() {
	if err := compare.Main(os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "dgcompare:", err)
		os.Exit(1)
	}
}
