//go:build !linux

package tensorfile

import (
	"errors"
	"io/fs"
	"os"
)

// openUnnamed reports false: only Linux has unnamed files (O_TMPFILE), and
// elsewhere WriteFile's temporary file has a name from the start.
func openUnnamed(dir, out string, perm fs.FileMode) (*os.File, bool) { return nil, false }

// linkUnnamed is never called where openUnnamed reports false.
func linkUnnamed(f *os.File, path string) error { return errors.ErrUnsupported }
