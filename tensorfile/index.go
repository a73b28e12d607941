package tensorfile

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
)

// Index is a Hugging Face sharded-checkpoint index
// ("model.safetensors.index.json"): which file holds each tensor, and the
// total size of the tensors' data in bytes.
type Index struct {
	Metadata  IndexMetadata     `json:"metadata"`
	WeightMap map[string]string `json:"weight_map"`
}

// IndexMetadata is the metadata of an Index.
type IndexMetadata struct {
	TotalSize int64 `json:"total_size"`
}

// WriteIndex writes, atomically (WriteFile), the Hugging Face index of the
// .safetensors files at paths to path: every tensor of every file by name,
// mapped to the file's path relative to the index's directory, and the sum
// of their data sizes as metadata.total_size. The files are read (their
// headers, through Open); a tensor name found in two files is ErrInvalid
// naming both, since an index maps each name to one file.
func WriteIndex(path string, paths ...string) error {
	idx := Index{WeightMap: map[string]string{}}
	where := map[string]string{}
	dir := filepath.Dir(path)
	for _, p := range paths {
		if f, err := FormatOf(p); err != nil || f != Safetensors {
			return errorf(ErrInvalid, "%s: an index lists .safetensors files only", p)
		}
		f, err := Open(p)
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			_ = f.Close()
			return errorf(ErrInvalid, "%s: no path from the index's folder %s: %v", p, dir, err)
		}
		for _, a := range f.Arrays {
			if prev, ok := where[a.Name]; ok {
				_ = f.Close()
				return errorf(ErrInvalid, "tensor %q is in both %s and %s; an index maps each name to one file", a.Name, prev, p)
			}
			where[a.Name] = p
			idx.WeightMap[a.Name] = filepath.ToSlash(rel)
			idx.Metadata.TotalSize += int64(a.byteLen())
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	b, err := json.MarshalIndent(idx, "", "  ")
	if err != nil {
		return errorf(ErrInvalid, "index: %v", err)
	}
	return WriteFile(path, func(w io.Writer) error {
		_, err := w.Write(append(b, '\n'))
		return err
	})
}

// ReadIndex reads the index at path (ErrHeader if it is not one).
func ReadIndex(path string) (Index, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Index{}, err
	}
	var idx Index
	if err := json.Unmarshal(b, &idx); err != nil {
		return Index{}, errorf(ErrHeader, "%s: %v", path, err)
	}
	if idx.WeightMap == nil {
		return Index{}, errorf(ErrHeader, "%s: no weight_map", path)
	}
	return idx, nil
}

// Files returns the files an Index names, each once, in the order of the
// names of the tensors in them (the order of the rows, for the shards of a
// MatrixWriter), relative to the index's folder.
func (idx Index) Files() []string {
	names := make([]string, 0, len(idx.WeightMap))
	for n := range idx.WeightMap {
		names = append(names, n)
	}
	slices.Sort(names)
	var files []string
	seen := map[string]bool{}
	for _, n := range names {
		if f := idx.WeightMap[n]; !seen[f] {
			seen[f] = true
			files = append(files, f)
		}
	}
	return files
}
