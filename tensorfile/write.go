package tensorfile

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
)

// WriteFile writes the file at path atomically: write writes the content to
// a new temporary file in the same directory, which is then synced, closed
// and renamed onto path, and the directory synced. If write or any step
// fails, the temporary file is removed and path is left as it was: a
// failure, or a process stopped by a signal it handles, never leaves a
// partial or truncated file at path nor touches an existing file there. (A
// process killed outright may leave the hidden temporary file, never a
// partial path.)
//
// A file that replaces another keeps its permission bits (not its owner);
// until it is complete it is readable by its owner only. A new file gets
// mode 0644 less the process's umask (0644 under the usual umask 022).
// Errors of the temporary file name path, the file being written:
// "create out/x.npy: no such file or directory" for a missing directory.
func WriteFile(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	perm, replace := fs.FileMode(0o644), false
	if fi, err := os.Stat(path); err == nil && fi.Mode().IsRegular() {
		perm, replace = fi.Mode().Perm(), true
	}
	createPerm := perm // the umask applies
	if replace {
		createPerm = 0o600 // private until complete; then exactly perm
	}
	tmp, err := createTemp(dir, base, createPerm)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			return &os.PathError{Op: "create", Path: path, Err: pe.Err}
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	defer func() {
		if err != nil {
			_ = tmp.Close() // may already be closed; the error of interest is err
			_ = os.Remove(tmp.Name())
			// Name the file being written, not its temporary name.
			var pe *os.PathError
			if errors.As(err, &pe) && pe.Path == tmp.Name() {
				pe.Path = path
			}
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if replace {
		if err = tmp.Chmod(perm); err != nil {
			return err
		}
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	syncDir(dir) // best effort: the rename is done, the data is on disk
	return nil
}

// createTemp creates a new file named after base in dir, hidden, with the
// given permission (less the umask), as os.CreateTemp does with 0600.
func createTemp(dir, base string, perm fs.FileMode) (*os.File, error) {
	var err error
	for range 1000 {
		name := filepath.Join(dir, "."+base+".tmp-"+strconv.FormatUint(uint64(rand.Uint32()), 10))
		var f *os.File
		if f, err = os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, perm); !errors.Is(err, fs.ErrExist) {
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
		if err := arrays[0].check(); err != nil { // fail before creating anything
			return err
		}
		return WriteFile(path, func(w io.Writer) error { return WriteNPY(w, arrays[0]) })
	}
	return WriteFile(path, func(w io.Writer) error { return WriteSafetensors(w, metadata, arrays...) })
}
