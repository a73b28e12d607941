//go:build unix

package main

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestFIFOInput checks that a named pipe given as input fails at once with
// one line, rather than blocking in open until a writer comes.
func TestFIFOInput(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo.npy")
	require.NoError(t, syscall.Mkfifo(fifo, 0o644))
	for _, args := range [][]string{
		{"inspect", fifo},
		{"reshape", "-in", fifo, "-out", filepath.Join(dir, "out.npy")},
	} {
		done := make(chan result, 1)
		go func() { done <- runCmd(args...) }()
		select {
		case r := <-done:
			assert.Equal(t, 1, r.code, "%v", args)
			assert.Equal(t, fmt.Sprintf("stridekit %s: %s: tensorfile: unrecognised file format: a named pipe (FIFO), not a regular file\n", args[0], fifo), r.stderr)
		case <-time.After(5 * time.Second):
			t.Fatalf("%v: still blocked after 5s", args)
		}
	}
	assert.Equal(t, []string{"fifo.npy"}, files(t, dir))
}

// TestSecondSignal runs signalContext in a child process, sends it SIGTERM
// and checks the context is cancelled and the process goes on (the command
// then stops cleanly), then that a further SIGTERM ends the process by the
// signal even though it is in a step that never checks the context.
func TestSecondSignal(t *testing.T) {
	if os.Getenv("STRIDEKIT_SIGNAL_CHILD") == "1" {
		ctx := signalContext()
		fmt.Println("ready")
		<-ctx.Done()
		fmt.Println("cancelled")
		time.Sleep(time.Minute) // a step deaf to ctx: only the signal ends it
		fmt.Println("not ended")
		os.Exit(0)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSecondSignal$")
	cmd.Env = append(os.Environ(), "STRIDEKIT_SIGNAL_CHILD=1")
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	require.NoError(t, cmd.Start())
	lines := bufio.NewScanner(out)
	next := func() string {
		if !lines.Scan() {
			return ""
		}
		return lines.Text()
	}
	require.Equal(t, "ready", next())
	require.NoError(t, cmd.Process.Signal(syscall.SIGTERM))
	require.Equal(t, "cancelled", next())

	// Signal until the child ends: one more must do, but the first may
	// arrive before the handler has been reset.
	exited := make(chan error, 1)
	go func() {
		for lines.Scan() { // drain, so the child never blocks writing
		}
		exited <- cmd.Wait()
	}()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case err := <-exited:
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "the child ended with %v", err)
			ws := ee.Sys().(syscall.WaitStatus)
			assert.True(t, ws.Signaled() && ws.Signal() == syscall.SIGTERM, "the child ended with %v, want killed by SIGTERM", err)
			return
		case <-deadline:
			_ = cmd.Process.Kill()
			t.Fatal("the child ignored SIGTERM after the first: a second signal must end the process")
		case <-time.After(50 * time.Millisecond):
			_ = cmd.Process.Signal(syscall.SIGTERM)
		}
	}
}

// TestSignalExitCode runs the command in a child process, in a step deaf to
// the context, and checks that the first SIGINT ends it with 130 and one
// line, and the first SIGTERM with 143.
func TestSignalExitCode(t *testing.T) {
	if os.Getenv("STRIDEKIT_EXIT_CHILD") == "1" {
		started, _ := hangCommand(t)
		go func() {
			<-started
			fmt.Fprintln(os.Stderr, "ready")
		}()
		os.Exit(newCLI(signalContext(), os.Stdout, os.Stderr).run([]string{"hang"}))
	}
	for _, c := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSignalExitCode$")
		cmd.Env = append(os.Environ(), "STRIDEKIT_EXIT_CHILD=1")
		stderr, err := cmd.StderrPipe()
		require.NoError(t, err)
		require.NoError(t, cmd.Start())
		lines := bufio.NewScanner(stderr)
		require.True(t, lines.Scan())
		require.Equal(t, "ready", lines.Text())
		require.NoError(t, cmd.Process.Signal(c.sig))
		var rest []string
		exited := make(chan error, 1)
		go func() {
			for lines.Scan() {
				rest = append(rest, lines.Text())
			}
			exited <- cmd.Wait()
		}()
		select {
		case err := <-exited:
			var ee *exec.ExitError
			require.True(t, errors.As(err, &ee), "%v: the child ended with %v", c.sig, err)
			assert.Equal(t, c.code, ee.ExitCode(), "%v", c.sig)
			assert.Equal(t, []string{"stridekit hang: interrupted"}, rest)
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			t.Fatalf("%v: the first signal did not end the command", c.sig)
		}
	}
}
