// promlint: the checks of `promtool check metrics` (Prometheus' promlint
// package, from Debian's golang-github-prometheus-client-golang-dev), for
// machines without the prometheus package. Metrics text on stdin; one line
// per problem; exit 1 on any, 2 when the text does not parse.
package main

import (
	"fmt"
	"os"

	"github.com/prometheus/client_golang/prometheus/testutil/promlint"
)

func main() {
	problems, err := promlint.New(os.Stdin).Lint()
	if err != nil {
		fmt.Fprintln(os.Stderr, "promlint:", err)
		os.Exit(2)
	}
	for _, p := range problems {
		fmt.Printf("%s: %s\n", p.Metric, p.Text)
	}
	if len(problems) > 0 {
		os.Exit(1)
	}
}
