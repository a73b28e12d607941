package tensorfile

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"

	"github.com/stridekit/stridekit/internal/shapefmt"
)

// The .npy reader is written here rather than taken from
// codeberg.org/sbinet/npyio (v0.14.0), for speed first: npyio reads
// through an io.Reader into new memory, where Open maps the file and the
// array is read in place; a mapped view needs the data offset, which
// npyio's Reader does not expose. BenchmarkReadNPY (npyio_test.go) reads
// a 64 MiB float32 .npy file (4096×4096, in the page cache) and sums its
// elements, so that each implementation touches all the data once:
//
//	go test -run '^$' -bench ReadNPY -count 3 ./tensorfile
//
//	impl=tensorfile         13-15 ms/op  Open, Tensor (a view), sum
//	impl=npyio/into=slice  160-260 ms/op npy.Read into a []float32 through a
//	                                     1 MiB bufio.Reader (one
//	                                     io.ReadFull call per element)
//	impl=npyio/into=Array  87-1070 ms/op npy.Read into an npy.Array
//	                                     (io.ReadAll, then a decode)
//
// (two runs on the 2-core development machine, an AMD EPYC virtual machine;
// the sum is most of tensorfile's time, and the wide spread of into=Array
// is the first touch of its fresh memory.) Besides speed:
//
//   - npyio reads format versions 1.0 and 2.0 only, not 3.0;
//   - its header parser slices by the position of the keys and panics on
//     headers NumPy reads (keys in another order) or that must be an error
//     (no final newline), where this package returns an error for every bad
//     file.
//
// Its writer is not used either: it takes Go values, so a 2-d result must
// be a [][]T (a copy of the flat result) or a float64 mat.Dense, and it
// writes format 2.0 with the data at offsets such as 76, where NumPy
// aligns the data to 64 bytes. TestNPYIOLimits checks these points.

// npyMagic starts every .npy file.
const npyMagic = "\x93NUMPY"

// npyAlign is the alignment NumPy gives the start of the data, and so the
// total length of magic, version, header length and header.
const npyAlign = 64

// npyHeader is what a .npy header says.
type npyHeader struct {
	major, minor byte
	descr        string
	fortran      bool
	shape        []int
	dataOffset   int // where the data starts in the file
}

// parseNPY parses a whole .npy file held in b and returns its one array,
// viewing b, and the header. Every rejection wraps ErrFormat, ErrHeader,
// ErrTruncated, ErrData or ErrDType.
func parseNPY(b []byte, lim Limits) (*Array, npyHeader, error) {
	h, err := parseNPYHeader(b, lim.NPYHeader)
	if err != nil {
		return nil, h, err
	}
	dt, big, err := npyDType(h.descr)
	if err != nil {
		// Listed, with its descr, and refused when read, as a safetensors
		// tensor of an unsupported dtype is: the data is not checked, as
		// its element size is not known here.
		if _, cerr := elements(h.shape); cerr != nil {
			return nil, h, errorf(ErrHeader, "%v", cerr)
		}
		a := &Array{DType: Invalid, Descr: h.descr, Shape: h.shape, Fortran: h.fortran, why: err,
			data: b[h.dataOffset:len(b):len(b)]}
		return a, h, nil
	}
	n, err := elements(h.shape)
	if err != nil {
		return nil, h, errorf(ErrHeader, "%v", err)
	}
	need, ok := mulOK(n, dt.Size())
	if !ok {
		return nil, h, errorf(ErrHeader, "shape %s of %v needs more bytes than an int counts", shapefmt.List(h.shape), dt)
	}
	have := len(b) - h.dataOffset
	switch {
	case have < need:
		return nil, h, errorf(ErrTruncated, "shape %s of %v needs %d bytes of data, the file holds %d after its header", shapefmt.List(h.shape), dt, need, have)
	case have > need:
		return nil, h, errorf(ErrData, "shape %s of %v needs %d bytes of data, the file holds %d after its header", shapefmt.List(h.shape), dt, need, have)
	}
	a := &Array{
		DType:   dt,
		Descr:   h.descr,
		Shape:   h.shape,
		Fortran: h.fortran,
		data:    b[h.dataOffset : h.dataOffset+need : h.dataOffset+need],
		swap:    big != hostBigEndian && dt.Size() > 1,
	}
	return a, h, nil
}

// parseNPYHeader reads the magic, the version, the header length and the
// header dictionary of the .npy file in b. A dictionary longer than max
// bytes is refused, as numpy.load refuses one over its max_header_size.
func parseNPYHeader(b []byte, max int) (npyHeader, error) {
	var h npyHeader
	if len(b) < len(npyMagic) || string(b[:len(npyMagic)]) != npyMagic {
		if len(b) < len(npyMagic) && string(b) == npyMagic[:len(b)] {
			return h, errorf(ErrTruncated, "the file ends inside the .npy magic (%d bytes)", len(b))
		}
		return h, errorf(ErrFormat, "no .npy magic \\x93NUMPY at the start of the file")
	}
	if len(b) < 8 {
		return h, errorf(ErrTruncated, "the file ends before the .npy version (%d bytes)", len(b))
	}
	h.major, h.minor = b[6], b[7]
	// The length is compared as read, in uint64, before it becomes an
	// int: a 4-byte length past 2^31 would be negative as a 32-bit int.
	var hlen uint64
	var start int
	switch {
	case h.major == 1 && h.minor == 0:
		if len(b) < 10 {
			return h, errorf(ErrTruncated, "the file ends inside the header length (%d bytes)", len(b))
		}
		hlen, start = uint64(binary.LittleEndian.Uint16(b[8:10])), 10
	case (h.major == 2 || h.major == 3) && h.minor == 0:
		if len(b) < 12 {
			return h, errorf(ErrTruncated, "the file ends inside the header length (%d bytes)", len(b))
		}
		hlen, start = uint64(binary.LittleEndian.Uint32(b[8:12])), 12
	default:
		return h, errorf(ErrFormat, ".npy format version %d.%d (this reads 1.0, 2.0 and 3.0)", h.major, h.minor)
	}
	if hlen > uint64(len(b)-start) {
		return h, errorf(ErrTruncated, "the header is %d bytes long, the file ends %d bytes after its start", hlen, len(b)-start)
	}
	if hlen > uint64(max) {
		return h, errorf(ErrHeader, "the header is %d bytes long, over the limit of %d (Limits.NPYHeader; NumPy's max_header_size)", hlen, max)
	}
	h.dataOffset = start + int(hlen)
	text := b[start:h.dataOffset]
	if h.major < 3 {
		// Versions 1 and 2 are latin-1; a dtype we support is ASCII, so
		// any byte past 0x7f can only be in a value we reject anyway.
		for _, c := range text {
			if c >= 0x80 {
				return h, errorf(ErrHeader, "non-ASCII byte %#x in the header", c)
			}
		}
	}
	p := &pyParser{s: string(text)}
	if err := p.header(&h); err != nil {
		return h, err
	}
	return h, nil
}

// pyParser reads the Python literal a .npy header holds:
//
//	{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
//
// followed by spaces and a newline. Keys may come in any order; each of the
// three must appear once and no other may. NumPy reads the header with
// ast.literal_eval, so this accepts what a Python literal allows there:
// either quote, "(3,)" and "()" tuples, optional trailing commas, a Python 2
// "L" suffix on integers.
type pyParser struct {
	s   string
	pos int
}

func (p *pyParser) errorf(format string, args ...any) error {
	return errorf(ErrHeader, "header text at byte %d: "+format, append([]any{p.pos}, args...)...)
}

// space skips whitespace (Python allows spaces, tabs and newlines inside the
// braces of a literal).
func (p *pyParser) space() {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
}

// peek returns the next byte, or 0 at the end.
func (p *pyParser) peek() byte {
	if p.pos < len(p.s) {
		return p.s[p.pos]
	}
	return 0
}

// expect consumes c after optional whitespace.
func (p *pyParser) expect(c byte) error {
	p.space()
	if p.peek() != c {
		return p.errorf("want %q, found %s", c, p.found())
	}
	p.pos++
	return nil
}

// found describes what is at the current position, for error messages.
func (p *pyParser) found() string {
	if p.pos >= len(p.s) {
		return "the end of the header"
	}
	end := min(p.pos+12, len(p.s))
	return strconv.Quote(p.s[p.pos:end])
}

// header parses the dictionary into h.
func (p *pyParser) header(h *npyHeader) error {
	if err := p.expect('{'); err != nil {
		return err
	}
	seen := map[string]bool{}
	for {
		p.space()
		if p.peek() == '}' {
			p.pos++
			break
		}
		key, err := p.str()
		if err != nil {
			return err
		}
		if seen[key] {
			return p.errorf("key %q appears twice", key)
		}
		seen[key] = true
		if err := p.expect(':'); err != nil {
			return err
		}
		p.space()
		switch key {
		case "descr":
			if c := p.peek(); c == '[' || c == '{' {
				return errorf(ErrDType, "structured dtype %s (this reads plain numeric dtypes only)", p.found())
			}
			if h.descr, err = p.str(); err != nil {
				return err
			}
		case "fortran_order":
			if h.fortran, err = p.boolean(); err != nil {
				return err
			}
		case "shape":
			if h.shape, err = p.tuple(); err != nil {
				return err
			}
		default:
			return p.errorf("unknown key %q (want descr, fortran_order, shape)", key)
		}
		p.space()
		if p.peek() == ',' {
			p.pos++
			continue
		}
		if err := p.expect('}'); err != nil {
			return err
		}
		break
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return p.errorf("key %q is missing", k)
		}
	}
	p.space()
	if p.pos != len(p.s) {
		return p.errorf("%s after the dictionary", p.found())
	}
	return nil
}

// str parses a quoted string without escapes (no dtype name needs one).
func (p *pyParser) str() (string, error) {
	p.space()
	q := p.peek()
	if q != '\'' && q != '"' {
		return "", p.errorf("want a quoted string, found %s", p.found())
	}
	end := strings.IndexByte(p.s[p.pos+1:], q)
	if end < 0 {
		return "", p.errorf("unterminated string")
	}
	s := p.s[p.pos+1 : p.pos+1+end]
	if strings.ContainsAny(s, "\\\n") {
		return "", p.errorf("escape or newline in string %q", s)
	}
	p.pos += end + 2
	return s, nil
}

// boolean parses True or False.
func (p *pyParser) boolean() (bool, error) {
	for _, w := range []struct {
		word string
		v    bool
	}{{"True", true}, {"False", false}} {
		if strings.HasPrefix(p.s[p.pos:], w.word) {
			p.pos += len(w.word)
			return w.v, nil
		}
	}
	return false, p.errorf("fortran_order must be True or False, found %s", p.found())
}

// tuple parses a tuple of integers: (), (3,), (3, 4) or (3, 4,).
func (p *pyParser) tuple() ([]int, error) {
	if err := p.expect('('); err != nil {
		return nil, p.errorf("shape must be a tuple")
	}
	shape := []int{}
	for {
		p.space()
		if p.peek() == ')' {
			p.pos++
			if len(shape) == 1 && !strings.HasSuffix(strings.TrimRight(p.s[:p.pos-1], " \t\r\n"), ",") {
				return nil, p.errorf("shape (%d) is an int, not a tuple (want (%d,))", shape[0], shape[0])
			}
			return shape, nil
		}
		v, err := p.integer()
		if err != nil {
			return nil, err
		}
		shape = append(shape, v)
		p.space()
		switch p.peek() {
		case ',':
			p.pos++
		case ')':
		default:
			return nil, p.errorf("want ',' or ')' in the shape, found %s", p.found())
		}
	}
}

// integer parses a non-negative decimal integer, with an optional L suffix.
func (p *pyParser) integer() (int, error) {
	start := p.pos
	if p.peek() == '-' {
		return 0, p.errorf("negative extent %s in the shape", p.found())
	}
	for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
		p.pos++
	}
	digits := p.s[start:p.pos]
	if digits == "" {
		return 0, p.errorf("want an extent, found %s", p.found())
	}
	if p.peek() == 'L' || p.peek() == 'l' {
		p.pos++
	}
	v, err := strconv.ParseInt(digits, 10, 64)
	if err != nil || v > math.MaxInt {
		return 0, p.errorf("extent %s does not fit an int", digits)
	}
	return int(v), nil
}

// npyDType maps a descr to a supported dtype and whether its data is
// big-endian ('>'), or says why it is not one. As NumPy does, a big-endian
// array is read, swapped into the host's order.
func npyDType(descr string) (DType, bool, error) {
	if len(descr) < 2 {
		return Invalid, false, errorf(ErrDType, "dtype %q is not a numeric .npy dtype", descr)
	}
	order, kind := descr[0], descr[1:]
	for d := Float16; d < numDTypes; d++ {
		i := dtypes[d]
		if i.npy == "" || i.npy != kind {
			continue
		}
		switch {
		case i.size == 1 && strings.IndexByte("<>|=", order) >= 0:
			return d, false, nil
		case order == '<':
			return d, false, nil
		case order == '>':
			return d, true, nil
		default:
			return Invalid, false, errorf(ErrDType, "dtype %q does not state its byte order (want '<' or '>')", descr)
		}
	}
	why := "not one of f2 f4 f8 i1 u1 i2 u2 i4 u4 i8 u8 b1"
	switch {
	case strings.HasPrefix(kind, "c"):
		why = "complex numbers are not supported"
	case strings.HasPrefix(kind, "O"):
		why = "object arrays are not supported"
	case strings.HasPrefix(kind, "U") || strings.HasPrefix(kind, "S"):
		why = "strings are not supported"
	}
	return Invalid, false, errorf(ErrDType, "dtype %q: %s", descr, why)
}

// npyHeaderBytes returns magic, version, header length and header text for
// an array, padded with spaces and a newline so the data starts on a
// multiple of npyAlign, as numpy.lib.format writes it. major forces the
// version; 0 picks 1.0 when the header fits its 16-bit length, else 2.0.
func npyHeaderBytes(descr string, fortran bool, shape []int, major byte) ([]byte, error) {
	var dict bytes.Buffer
	order := "False"
	if fortran {
		order = "True"
	}
	fmt.Fprintf(&dict, "{'descr': '%s', 'fortran_order': %s, 'shape': (", descr, order)
	for i, e := range shape {
		if i > 0 {
			dict.WriteString(", ")
		}
		dict.WriteString(strconv.Itoa(e))
	}
	if len(shape) == 1 {
		dict.WriteString(",")
	}
	dict.WriteString("), }")
	if major == 0 {
		major = 1
		if (10+dict.Len()+1+npyAlign-1)/npyAlign*npyAlign-10 > math.MaxUint16 {
			major = 2
		}
	}
	pre := 12 // magic, version, 4-byte length
	if major == 1 {
		pre = 10
	}
	total := (pre + dict.Len() + 1 + npyAlign - 1) / npyAlign * npyAlign
	out := make([]byte, 0, total)
	out = append(out, npyMagic...)
	out = append(out, major, 0)
	hlen := total - pre
	if major == 1 {
		out = binary.LittleEndian.AppendUint16(out, uint16(hlen))
	} else {
		out = binary.LittleEndian.AppendUint32(out, uint32(hlen))
	}
	out = append(out, dict.Bytes()...)
	for len(out) < total-1 {
		out = append(out, ' ')
	}
	return append(out, '\n'), nil
}

// writeNPY writes a as a .npy file of the given major version (0: the
// smallest that fits).
func writeNPY(w io.Writer, a *Array, major byte) error {
	if err := a.check(); err != nil {
		return err
	}
	descr, ok := a.DType.NPY()
	if !ok {
		return errorf(ErrDType, "%v has no .npy dtype (NumPy has no %v); write it to .safetensors instead", a.DType, a.DType)
	}
	hdr, err := npyHeaderBytes(descr, a.Fortran, a.Shape, major)
	if err != nil {
		return err
	}
	if _, err := w.Write(hdr); err != nil {
		return err
	}
	return a.writeData(w)
}

// WriteNPY writes a as a .npy file to w: format 1.0 (2.0 if the header
// needs more than 64 KiB), the data starting on a 64-byte boundary, and
// fortran_order as a.Fortran says, so a Fortran-order array read with Open
// is written back byte for byte. BFloat16 fails with ErrDType: NumPy has no
// such dtype.
func WriteNPY(w io.Writer, a *Array) error { return writeNPY(w, a, 0) }
