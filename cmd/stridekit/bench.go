package main

import "flag"

const benchHelp = `usage: stridekit bench [-size small|medium|large] [-workers N] [-json FILE] [-plot FILE.png]
`

// bench is not built yet: it runs the benchmarks package's case set.
func (c *cli) bench(args []string) error {
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	return &usageError{msg: "bench is not available in this build"}
}
