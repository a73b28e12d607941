package tensorfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// WriteFile writes the file at path atomically: write writes the content to
// a new temporary file in the same directory, which is then synced, closed
// and renamed onto path, and the directory synced. If write or any step
// fails, the temporary file is removed and path is left as it was: a
// failure, or a process stopped by a signal it handles, never leaves a
// partial or truncated file at path nor touches an existing file there. (A
// process killed outright may leave the hidden temporary file, never a
// partial path.) The new file gets mode 0644.
func WriteFile(path string, write func(w io.Writer) error) (err error) {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close() // may already be closed; the error of interest is err
			_ = os.Remove(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Chmod(0o644); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", tmp.Name(), err)
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
