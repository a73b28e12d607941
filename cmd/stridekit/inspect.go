package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/stridekit/stridekit/tensorfile"
)

const inspectHelp = `usage: stridekit inspect FILE

Prints the format of a .npy, .npz or .safetensors file and, for each
tensor, its name, dtype, shape, strides (in elements) and order (C or
Fortran), then the __metadata__ of a .safetensors file. A tensor of a dtype
stridekit cannot convert (a string or complex .npy, a 4-bit tensor) is
listed with its dtype as the file spells it and "(unsupported)". For an .npz
archive, STORAGE says how each member is read: "view" (stored, as
numpy.savez writes it: a view of the file, no copy) or "in memory"
(compressed, from numpy.savez_compressed: read into memory when opened). A name or metadata entry that is
empty or holds a character that does not print (a newline, a tab) is shown
quoted, as Go quotes strings.
`

// inspect prints what Open learns about a file.
func (c *cli) inspect(args []string) error {
	fs := flag.NewFlagSet("inspect", flag.ContinueOnError)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return &usageError{msg: fmt.Sprintf("want one FILE, got %d arguments", fs.NArg())}
	}
	path := fs.Arg(0)
	f, err := tensorfile.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()

	format := f.Format.String()
	if f.Version != "" {
		format += " " + f.Version
	}
	fmt.Fprintf(c.stdout, "%s: %s, %d tensor%s, %s\n", path, format, len(f.Arrays), plural(len(f.Arrays)), mib(f.Size))
	head := []string{"NAME", "DTYPE", "SHAPE", "STRIDES", "ORDER"}
	if f.Format == tensorfile.NPZ {
		head = append(head, "STORAGE")
	}
	row := func(a *tensorfile.Array) []string {
		name := display(a.Name)
		if f.Format == tensorfile.NPY {
			name = "-"
		}
		dtype := a.DType.String()
		if a.DType == tensorfile.Invalid {
			dtype = display(a.Descr) + " (unsupported)"
		}
		order := "C"
		if a.Fortran {
			order = "Fortran"
		}
		cells := []string{name, dtype, ints(a.Shape), ints(a.Strides()), order}
		switch {
		case f.Format != tensorfile.NPZ:
		case a.Compressed:
			cells = append(cells, "in memory (compressed)")
		default:
			cells = append(cells, "view")
		}
		return cells
	}
	if err := table(c.stdout, head, len(f.Arrays), func(i int) []string { return row(f.Arrays[i]) }); err != nil {
		return err
	}
	if len(f.Metadata) > 0 {
		fmt.Fprintln(c.stdout, "metadata:")
		for _, k := range slices.Sorted(maps.Keys(f.Metadata)) {
			fmt.Fprintf(c.stdout, "  %s: %s\n", display(k), display(oneLine(f.Metadata[k])))
		}
	}
	return nil
}

// table writes a table of a head and n rows, row(i) giving the cells of
// row i, its columns two spaces apart, as text/tabwriter would lay it out;
// but in two passes over the rows (one for the widths, one to write), so
// that a file of a million tensors is listed without the whole table in
// memory, and through one buffer, not a write per cell.
func table(w io.Writer, head []string, n int, row func(i int) []string) error {
	widths := make([]int, len(head))
	measure := func(cells []string) {
		for j, cell := range cells[:len(cells)-1] {
			widths[j] = max(widths[j], utf8.RuneCountInString(cell))
		}
	}
	measure(head)
	for i := range n {
		measure(row(i))
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	line := func(cells []string) {
		for j, cell := range cells {
			bw.WriteString(cell)
			if j < len(cells)-1 {
				for pad := widths[j] - utf8.RuneCountInString(cell) + 2; pad > 0; pad -= len(spaces) {
					bw.WriteString(spaces[:min(pad, len(spaces))])
				}
			}
		}
		bw.WriteByte('\n')
	}
	line(head)
	for i := range n {
		line(row(i))
	}
	return bw.Flush()
}

// spaces pads the cells of a table.
const spaces = "                                "

// display returns s as it is when it is valid UTF-8 of printable runes
// (spaces included), else quoted as %q does, so that a name holding a
// newline, a tab or a terminal escape cannot break the listing. An empty
// name, and one that starts with a quote, are quoted too, to be seen.
func display(s string) string {
	if s != "" && s[0] != '"' && utf8.ValidString(s) && strings.IndexFunc(s, func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return s
	}
	return strconv.Quote(s)
}

// ints formats a shape or strides as [2 3 4].
func ints(v []int) string {
	s := make([]string, len(v))
	for i, x := range v {
		s[i] = fmt.Sprint(x)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

// mib formats a byte count in MiB, or bytes when small.
func mib(n int64) string {
	if n < 1<<20 {
		return fmt.Sprintf("%d bytes", n)
	}
	return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
}
