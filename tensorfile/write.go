package tensorfile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
)

// WriteFile writes the file at path atomically: write writes the content to
// a new temporary file in the same directory, which is then synced, closed
// and renamed onto path, and the directory synced. If write or any step
// fails, or write panics, the temporary file is removed and path is left as
// it was: a failure, or a process stopped by a signal it handles, never
// leaves a partial or truncated file at path nor touches an existing file
// there. A panic of write is raised again once the temporary file is gone.
//
// On Linux the temporary file is unnamed (O_TMPFILE) until it is complete:
// a process killed outright (kill -9, a crash, a power cut) leaves nothing
// behind in the directory, where a named temporary file would stay, hidden,
// holding the whole of a large output. The complete file is then linked
// under a hidden temporary name and renamed onto path, so that an existing
// file is replaced atomically, as rename alone allows. Elsewhere, and on a
// Linux file system without O_TMPFILE, the temporary file has that hidden
// name (".NAME.tmp-DIGITS") from the start.
//
// A file that replaces another keeps its permission bits (not its owner);
// until it is complete it is readable by its owner only. A new file gets
// mode 0644 less the process's umask (0644 under the usual umask 022). A
// symbolic link at path is replaced by the new file, as rename replaces it
// (its target is left untouched), and the new file gets the mode of a new
// file, not the target's. A directory at path is refused before anything is
// created. Errors name path, the file being written, never the temporary
// file: "create out/x.npy: no such file or directory" for a missing
// directory.
func WriteFile(path string, write func(w io.Writer) error) error {
	return WriteFileContext(context.Background(), path, write)
}

// WriteFileContext is WriteFile stopped by ctx: it checks ctx before it
// creates anything, after write returns and after every later step up to
// the rename (sync, close, link), and once ctx is done it removes the
// temporary file and returns ctx's error (context.Cause), leaving path as
// it was. write should watch ctx itself to stop early; cancellation after
// the rename has begun is too late, and the file is complete.
func WriteFileContext(ctx context.Context, path string, write func(w io.Writer) error) (err error) {
	if err := ctxErr(ctx); err != nil {
		return err
	}
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	perm, replace := fs.FileMode(0o644), false
	if fi, err := os.Lstat(path); err == nil {
		switch {
		case fi.IsDir():
			return &os.PathError{Op: "create", Path: path, Err: syscall.EISDIR}
		case fi.Mode().IsRegular():
			perm, replace = fi.Mode().Perm(), true
		}
	}
	createPerm := perm // the umask applies
	if replace {
		createPerm = 0o600 // private until complete; then exactly perm
	}
	tmp, err := newTemp(dir, base, path, createPerm)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return &os.PathError{Op: "create", Path: path, Err: pe.Err}
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	done := false
	defer func() {
		if done {
			return
		}
		tmp.discard()
		if err != nil {
			// Name the file being written, not its temporary name.
			err = renamePath(err, tmp, path)
		}
	}()
	// done is set only at the end: a panic of write unwinds through the
	// deferred discard, then goes on.
	if err = write(tmp.f); err != nil {
		return err
	}
	if err = ctxErr(ctx); err != nil {
		return err
	}
	if replace {
		if err = tmp.f.Chmod(perm); err != nil {
			return err
		}
	}
	if err = syncFile(tmp.f); err != nil {
		return err
	}
	if err = ctxErr(ctx); err != nil {
		return err
	}
	if err = tmp.name(dir, base); err != nil { // links an unnamed file
		return err
	}
	if err = ctxErr(ctx); err != nil {
		return err
	}
	if err = tmp.f.Close(); err != nil {
		return err
	}
	tmp.closed = true
	if err = ctxErr(ctx); err != nil {
		return err
	}
	if err = os.Rename(tmp.path, path); err != nil {
		return err
	}
	done = true
	syncDir(dir) // best effort: the rename is done, the data is on disk
	return nil
}

// ctxErr returns why ctx is done (its cause), or nil.
func ctxErr(ctx context.Context) error {
	if ctx.Err() == nil {
		return nil
	}
	return context.Cause(ctx)
}

// syncFile flushes a complete temporary file to disk: the seam through which
// tests act while WriteFile waits on the sync.
var syncFile = (*os.File).Sync

// tryUnnamed is whether WriteFile tries an unnamed temporary file where the
// platform has them: tests clear it to run the named fallback on Linux too.
var tryUnnamed = true

// tempFile is the temporary file of WriteFile: a named one, or an unnamed
// one (O_TMPFILE) until name links it.
type tempFile struct {
	f *os.File
	// path is the temporary name in the directory, "" while the file is
	// unnamed.
	path   string
	closed bool
}

// newTemp creates the temporary file in dir for the file base: unnamed
// where the platform and the file system allow it, else named. out, the
// file being written, names the file in errors of reads and writes.
func newTemp(dir, base, out string, perm fs.FileMode) (*tempFile, error) {
	if f, ok := openUnnamed(dir, out, perm); ok {
		return &tempFile{f: f}, nil
	}
	f, err := createTemp(dir, base, perm)
	if err != nil {
		return nil, err
	}
	return &tempFile{f: f, path: f.Name()}, nil
}

// name gives an unnamed temporary file its hidden temporary name in dir,
// ready to be renamed into place; a named one has it already.
func (t *tempFile) name(dir, base string) error {
	if t.path != "" {
		return nil
	}
	var err error
	for range 1000 {
		p := tempName(dir, base)
		if err = linkUnnamed(t.f, p); err == nil {
			t.path = p
			return nil
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return err
}

// discard closes the temporary file if it is open and removes its name if
// it has one: an unnamed one is gone with its descriptor.
func (t *tempFile) discard() {
	if !t.closed {
		_ = t.f.Close()
		t.closed = true
	}
	if t.path != "" {
		_ = os.Remove(t.path)
	}
}

// renamePath makes an error about the temporary file name out instead.
func renamePath(err error, t *tempFile, out string) error {
	var pe *os.PathError
	if errors.As(err, &pe) && (pe.Path == t.path || pe.Path == t.f.Name()) {
		pe.Path = out
	}
	var le *os.LinkError
	if errors.As(err, &le) {
		return &os.PathError{Op: le.Op, Path: out, Err: le.Err}
	}
	return err
}

// tempName returns a hidden temporary name in dir for the file base.
func tempName(dir, base string) string {
	return filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(uint64(rand.Uint32()), 10))
}

// createTemp creates a new file named after base in dir, hidden, with the
// given permission (less the umask), as os.CreateTemp does with 0600.
func createTemp(dir, base string, perm fs.FileMode) (*os.File, error) {
	var err error
	for range 1000 {
		var f *os.File
		if f, err = os.OpenFile(tempName(dir, base), os.O_RDWR|os.O_CREATE|os.O_EXCL, perm); !errors.Is(err, fs.ErrExist) {
			return f, err
		}
	}
	return nil, err
}

// syncDir makes a rename in dir durable, where the platform allows it.
func syncDir(dir string) {
	d, err := os.Open(dir)
	if err != nil {
		return
	}
	_ = d.Sync()
	_ = d.Close()
}

// Save writes arrays to path atomically (see WriteFile), in the format its
// extension names: .npy takes exactly one array (metadata must be empty),
// .safetensors any number, with metadata as its __metadata__.
func Save(path string, metadata map[string]string, arrays ...*Array) error {
	format, err := FormatOf(path)
	if err != nil {
		return err
	}
	if format == NPY {
		if len(arrays) != 1 {
			return errorf(ErrInvalid, "%s: a .npy file holds one array, not %d", path, len(arrays))
		}
		if len(metadata) > 0 {
			return errorf(ErrInvalid, "%s: a .npy file has no metadata", path)
		}
		if arrays[0] == nil {
			return errorf(ErrInvalid, "%s: a nil array", path)
		}
		if err := arrays[0].check(); err != nil { // fail before creating anything
			return err
		}
		return WriteFile(path, func(w io.Writer) error { return WriteNPY(w, arrays[0]) })
	}
	return WriteFile(path, func(w io.Writer) error { return WriteSafetensors(w, metadata, arrays...) })
}
