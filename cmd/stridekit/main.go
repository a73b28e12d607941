package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"sync"
	"syscall"
	"time"
	"unicode/utf8"

	"golang.org/x/term"
)

func main() {
	os.Exit(newCLI(signalContext(), os.Stdout, os.Stderr).run(os.Args[1:]))
}

// signalContext returns a context that the first SIGINT (Ctrl-C) or
// SIGTERM cancels, with an interrupt naming the signal as its cause, so
// that a conversion stops cleanly and removes its temporary file, and the
// command exits 128 plus the signal's number, as a shell reports a process
// the signal ended. Once it has, the signals get their default action
// back: a second one ends the process at once, whatever step it is in (one
// that does not check the context, or a system call that blocks).
func signalContext() context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	c := make(chan os.Signal, 1)
	signal.Notify(c, os.Interrupt, syscall.SIGTERM)
	go func() {
		s := <-c
		signal.Stop(c) // default handling first, so no later signal is lost
		cancel(interrupt{s})
	}()
	return ctx
}

// interrupt is the cause of a context that a signal cancelled.
type interrupt struct{ sig os.Signal }

func (i interrupt) Error() string { return "interrupted by " + i.sig.String() }

// interruptedCode is the exit status of a run that ctx stopped: 128 plus the
// number of the signal that cancelled it, as shells expect (130 for SIGINT,
// Ctrl-C; 143 for SIGTERM), and 130 for a cancellation without a signal.
func interruptedCode(ctx context.Context) int {
	var i interrupt
	if errors.As(context.Cause(ctx), &i) {
		if s, ok := i.sig.(syscall.Signal); ok {
			return 128 + int(s)
		}
	}
	return 130
}

// progressMin is the output size above which a terminal shows a progress
// bar: smaller conversions finish in well under a second.
const progressMin = 256 << 20

// cli is one run of the command, with everything a test replaces.
type cli struct {
	ctx            context.Context
	stdout, stderr io.Writer
	// terminal says stderr is a terminal, so a progress bar may be drawn.
	terminal bool
	// progressMin is the total bytes above which a progress bar shows.
	progressMin int64
	// wrapOutput, if set, wraps the writer of the output's temporary file:
	// the seam through which tests inject a failure part-way through.
	wrapOutput func(io.Writer) io.Writer
	// benchBudget, if set, replaces the time bench spends on each
	// implementation of a case, so tests run it quickly.
	benchBudget time.Duration
	// afterInput, if set, runs after each input of a gathering reshape is
	// appended: the seam through which a test kills a run part-way.
	afterInput func(k int)
	// sess is the state the command shares with run while it runs (nil
	// when a test calls a command's method directly).
	sess *session
}

// session is what run and the goroutine of a command share: whether the
// command has begun writing an output, and whether run has given up on it.
type session struct {
	mu        sync.Mutex
	writing   bool // an interruption waits for the command, which cleans up
	abandoned bool // run has returned: the command's output is dropped
}

// beginWrite marks the start of the one step that must finish its cleanup
// when interrupted: writing an output, whose temporary file it removes. It
// returns errInterrupted if the run has been given up already; until it is
// called, an interruption ends the run at once, whatever step the command
// is in (parsing a huge header, listing a million tensors).
func (c *cli) beginWrite() error {
	if c.sess == nil {
		return nil
	}
	c.sess.mu.Lock()
	defer c.sess.mu.Unlock()
	if c.sess.abandoned {
		return errInterrupted
	}
	c.sess.writing = true
	return nil
}

// gated is a command's stdout or stderr: it drops what an abandoned command
// goes on writing.
type gated struct {
	s *session
	w io.Writer
}

func (g *gated) Write(b []byte) (int, error) {
	g.s.mu.Lock()
	defer g.s.mu.Unlock()
	if g.s.abandoned {
		return len(b), nil
	}
	return g.w.Write(b)
}

// runCommand runs cmd on its own goroutine, with its output gated, and
// returns its error. Interrupted (c.ctx done) while the command has not
// begun writing an output, it returns errInterrupted at once and leaves the
// command behind: nothing of it is on disk, and the process is about to
// exit. While it writes, it waits for it to stop and clean up.
func (c *cli) runCommand(cmd command, args []string) error {
	if c.ctx.Err() != nil {
		return errInterrupted
	}
	s := &session{}
	cc := *c
	cc.sess = s
	cc.stdout, cc.stderr = &gated{s, c.stdout}, &gated{s, c.stderr}
	done := make(chan error, 1)
	go func() { done <- cmd.run(&cc, args) }()
	select {
	case err := <-done:
		return err
	case <-c.ctx.Done():
	}
	s.mu.Lock()
	writing := s.writing
	if !writing {
		s.abandoned = true
	}
	s.mu.Unlock()
	if writing {
		return <-done
	}
	return errInterrupted
}

// newCLI returns the cli of a real run: stderr is a terminal if it is a
// character device the terminal package recognises.
func newCLI(ctx context.Context, stdout, stderr io.Writer) *cli {
	c := &cli{ctx: ctx, stdout: stdout, stderr: stderr, progressMin: progressMin}
	if f, ok := stderr.(*os.File); ok {
		c.terminal = term.IsTerminal(int(f.Fd()))
	}
	return c
}

// run runs the command line args (without the program name) and returns
// the exit code: 0 on success, 2 for a usage error (after a short usage on
// stderr), 1 for any other failure (after one line on stderr), 130 (128
// plus the signal's number) when interrupted.
func run(args []string, stdout, stderr io.Writer) int {
	return newCLI(context.Background(), stdout, stderr).run(args)
}

// usageError is a mistake in the command line: it exits 2 with the short
// usage of the command it belongs to.
type usageError struct {
	msg string
}

func (e *usageError) Error() string { return e.msg }

// command is one subcommand.
type command struct {
	name    string
	summary string // one line for the list of commands
	help    string // the full help -h prints; its first line is the short usage
	run     func(c *cli, args []string) error
}

// shortUsage is what a usage error prints after its message: the synopsis
// and where to read more.
func (cmd command) shortUsage() string {
	synopsis, _, _ := strings.Cut(cmd.help, "\n")
	return fmt.Sprintf("%s\nRun 'stridekit %s -h' for help.\n", synopsis, cmd.name)
}

// commands is every subcommand, in the order the usage lists them.
var commands = []command{
	{"reshape", "make a tensor of a .npy or .safetensors file an [items, features] matrix", reshapeHelp, (*cli).reshape},
	{"index", "write one Hugging Face index over .safetensors files written apart", indexHelp, (*cli).index},
	{"inspect", "print the tensors of a .npy or .safetensors file", inspectHelp, (*cli).inspect},
	{"bench", "measure the copy kernels on this machine", benchHelp, (*cli).bench},
}

func topUsage() string {
	var b strings.Builder
	b.WriteString("usage: stridekit <command> [flags]\n\ncommands:\n")
	for _, c := range commands {
		fmt.Fprintf(&b, "  %-8s %s\n", c.name, c.summary)
	}
	b.WriteString("\nRun 'stridekit <command> -h' for the flags of a command.\n")
	return b.String()
}

func (c *cli) run(args []string) int {
	if len(args) == 0 {
		fmt.Fprint(c.stderr, "stridekit: no command\n"+topUsage())
		return 2
	}
	name := args[0]
	if name == "-h" || name == "-help" || name == "--help" || name == "help" {
		fmt.Fprint(c.stdout, topUsage())
		return 0
	}
	for _, cmd := range commands {
		if cmd.name != name {
			continue
		}
		err := c.runCommand(cmd, args[1:])
		var ue *usageError
		switch {
		case err == nil:
			return 0
		case c.ctx.Err() != nil:
			fmt.Fprintf(c.stderr, "stridekit %s: %s\n", name, oneLine(err.Error()))
			return interruptedCode(c.ctx)
		case errors.Is(err, flag.ErrHelp):
			fmt.Fprint(c.stdout, cmd.help)
			return 0
		case errors.As(err, &ue):
			fmt.Fprintf(c.stderr, "stridekit %s: %s\n%s", name, ue.msg, cmd.shortUsage())
			return 2
		default:
			fmt.Fprintf(c.stderr, "stridekit %s: %s\n", name, oneLine(err.Error()))
			return 1
		}
	}
	fmt.Fprintf(c.stderr, "stridekit: unknown command %q\n%s", name, topUsage())
	return 2
}

// oneLine keeps a message on one line, whatever a file put into it, and
// cuts it after maxLine bytes: a message that quotes a file's header
// (millions of axes, a huge name) stays a line a terminal can show.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) <= maxLine {
		return s
	}
	cut := maxLine
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s... (%d more bytes)", s[:cut], len(s)-cut)
}

// maxLine is the length past which oneLine cuts a message.
const maxLine = 2000

// maxAxes is how many extents shapeString lists.
const maxAxes = 16

// shapeString formats a shape as %v does, [2 3 4], cut after maxAxes
// extents: [1 1 1 ... 1] (3000000 axes).
func shapeString(shape []int) string {
	if len(shape) <= maxAxes {
		return fmt.Sprint(shape)
	}
	s := fmt.Sprint(shape[:maxAxes])
	return fmt.Sprintf("%s ...] (%d axes)", s[:len(s)-1], len(shape))
}

// parseFlags parses args with fs, whose output is discarded: errors come
// back as usage errors, -h as flag.ErrHelp.
func parseFlags(fs *flag.FlagSet, args []string) error {
	fs.SetOutput(io.Discard)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return &usageError{msg: err.Error()}
	}
	return nil
}
