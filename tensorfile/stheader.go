package tensorfile

import (
	"bytes"
	"fmt"
	"math"
	"slices"
	"strings"
	"unicode/utf8"
	"unsafe"

	"github.com/stridekit/stridekit/internal/shapefmt"
)

// The safetensors header is parsed here in one pass, without
// encoding/json: a header of 100 MB lists over a million tensors, and
// decoding each entry's raw JSON again with a json.Decoder of its own cost
// 72 s and 1 GB for one such file. The pass checks the JSON as it goes and
// builds every Array in a few large allocations: the Arrays in one slice,
// the extents in another, the names in one string.
//
// JSON is read as the reference implementation (serde_json) reads it: the
// header must be valid UTF-8, and a \u escape of half a surrogate pair
// without its other half is an error, where encoding/json would put U+FFFD
// in its place and so make two names one.

// releaseStep is how many bytes of a header parseSTHeader parses between
// two calls of release.
const releaseStep = 8 << 20

// stScan is the state of the pass over a header.
type stScan struct {
	b   []byte
	i   int
	tmp []byte // a string with escapes, unescaped
}

// parseSTHeader parses the JSON header h of a safetensors file whose data
// (the bytes after the header) is data, within the limits lim, and returns
// its tensors in the order written and its metadata.
//
// release, if not nil, is told now and then how many bytes of h have been
// parsed, and will not be read again: Open then drops those pages of its
// map, so that a header of 100 MB is not resident all at once beside what
// is made of it.
func parseSTHeader(h, data []byte, lim Limits, release func(parsed int)) ([]*Array, map[string]string, error) {
	if !utf8.Valid(h) {
		at := 0
		for at < len(h) {
			r, n := utf8.DecodeRune(h[at:])
			if r == utf8.RuneError && n <= 1 {
				break
			}
			at += n
		}
		return nil, nil, errorf(ErrHeader, "safetensors header JSON: invalid UTF-8 at byte %d", at)
	}
	s := &stScan{b: h}
	s.ws()
	if !s.eat('{') {
		return nil, nil, s.syntax("want an object")
	}
	// Every entry has a data_offsets key: their count bounds the entries,
	// so that the slices are made once, not grown by copying.
	guess := min(bytes.Count(h, []byte(`"data_offsets"`)), lim.Tensors) + 1
	var (
		entries = make([]Array, 0, guess)
		shapes  = make([]int, 0, guess) // the extents of every entry, one after the other
		names   = make([]byte, 0, len(h)/4)
		ends    = make([]uint32, 0, 2*guess) // ends[2k], ends[2k+1]: where entry k's name and extents end
		next    = releaseStep
		meta    map[string]string
		hasMeta bool
	)
	s.ws()
	if !s.eat('}') {
		for {
			key, err := s.str()
			if err != nil {
				return nil, nil, err
			}
			s.ws()
			if !s.eat(':') {
				return nil, nil, s.syntax("want ':' after a key")
			}
			s.ws()
			if string(key) == stMetadataKey {
				if hasMeta {
					return nil, nil, errorf(ErrHeader, "key %q appears twice", stMetadataKey)
				}
				hasMeta = true
				if meta, err = s.metadata(lim.Metadata); err != nil {
					return nil, nil, err
				}
			} else {
				if len(entries) == lim.Tensors {
					return nil, nil, errorf(ErrHeader, "more than %d tensors (Limits.Tensors)", lim.Tensors)
				}
				names = append(names, key...)
				entries = append(entries, Array{})
				// The name, for messages, as it lies in names: key may be
				// s.tmp, which the entry's own strings reuse.
				if shapes, err = s.entry(&entries[len(entries)-1], names[len(names)-len(key):], shapes, data); err != nil {
					return nil, nil, err
				}
				if uint64(len(names)) > math.MaxUint32 || uint64(len(shapes)) > math.MaxUint32 {
					return nil, nil, errorf(ErrHeader, "the header's names or extents pass 4 GiB")
				}
				ends = append(ends, uint32(len(names)), uint32(len(shapes)))
				if release != nil && s.i >= next {
					release(s.i)
					next = s.i + releaseStep
				}
			}
			s.ws()
			if s.eat(',') {
				s.ws()
				continue
			}
			if s.eat('}') {
				break
			}
			return nil, nil, s.syntax("want ',' or '}' after a value")
		}
	}
	s.ws()
	if s.i < len(s.b) {
		return nil, nil, errorf(ErrHeader, "safetensors header JSON: more JSON after the object")
	}

	// One string holds every name: names is never written again.
	all := unsafe.String(unsafe.SliceData(names), len(names))
	arrays := make([]*Array, len(entries))
	nameAt, shapeAt := uint32(0), uint32(0)
	for k := range entries {
		a := &entries[k]
		a.Name = all[nameAt:ends[2*k]]
		a.Shape = shapes[shapeAt:ends[2*k+1]:ends[2*k+1]]
		nameAt, shapeAt = ends[2*k], ends[2*k+1]
		arrays[k] = a
	}
	if err := checkSTEntries(arrays); err != nil {
		return nil, nil, err
	}
	// Each name once: sorted by name, a repeat is next to its twin.
	slices.SortFunc(arrays, func(x, y *Array) int { return strings.Compare(x.Name, y.Name) })
	for k := 1; k < len(arrays); k++ {
		if arrays[k].Name == arrays[k-1].Name {
			return nil, nil, errorf(ErrHeader, "key %q appears twice", arrays[k].Name)
		}
	}
	return arrays, meta, nil
}

// checkSTEntries checks each entry's extents and size, once its shape is in
// place.
func checkSTEntries(arrays []*Array) error {
	for _, a := range arrays {
		n, err := elements(a.Shape)
		if err != nil {
			return errorf(ErrHeader, "tensor %q: %v", a.Name, err)
		}
		if a.DType == Invalid {
			continue // listed, not readable: Tensor and Reshape refuse it
		}
		if need, ok := mulOK(n, a.DType.Size()); !ok || need != a.end-a.begin {
			return errorf(ErrData, "tensor %q: shape %s of %s needs %s bytes, data_offsets [%d, %d] hold %d",
				a.Name, shapefmt.List(a.Shape), a.Descr, bytesNeeded(need, ok), a.begin, a.end, a.end-a.begin)
		}
	}
	return nil
}

// entry parses the value of a tensor's key into a, appending its extents to
// shapes.
func (s *stScan) entry(a *Array, name []byte, shapes []int, data []byte) ([]int, error) {
	if s.lit("null") {
		return shapes, errorf(ErrHeader, "tensor %q has no dtype", name)
	}
	if !s.eat('{') {
		return shapes, errorf(ErrHeader, "tensor %q: want an object, found %s", name, s.near())
	}
	var seen [3]bool // dtype, shape, data_offsets: given (not null)
	var off [2]uint64
	nOff := 0
	s.ws()
	if !s.eat('}') {
		for {
			key, err := s.str()
			if err != nil {
				return shapes, err
			}
			field := -1
			switch string(key) {
			case "dtype":
				field = 0
			case "shape":
				field = 1
			case "data_offsets":
				field = 2
			default:
				return shapes, errorf(ErrHeader, "tensor %q: unknown field %q", name, key)
			}
			s.ws()
			if !s.eat(':') {
				return shapes, s.syntax("want ':' after a key")
			}
			s.ws()
			if seen[field] {
				return shapes, errorf(ErrHeader, "tensor %q: key %q appears twice", name, key)
			}
			if !s.lit("null") {
				seen[field] = true
				switch field {
				case 0:
					v, err := s.str()
					if err != nil {
						return shapes, errorf(ErrHeader, "tensor %q: dtype: %v", name, err)
					}
					if a.DType = dtypeFromSafetensors(string(v)); a.DType != Invalid {
						a.Descr = a.DType.Safetensors()
					} else {
						a.Descr = string(v)
					}
				case 1:
					if shapes, err = s.uints(shapes, name, "shape", nil); err != nil {
						return shapes, err
					}
				case 2:
					if _, err = s.uints(nil, name, "data_offsets", func(k int, v uint64) {
						if k < 2 {
							off[k] = v
						}
						nOff = k + 1
					}); err != nil {
						return shapes, err
					}
				}
			}
			s.ws()
			if s.eat(',') {
				s.ws()
				continue
			}
			if s.eat('}') {
				break
			}
			return shapes, s.syntax("want ',' or '}' after a value")
		}
	}
	switch {
	case !seen[0]:
		return shapes, errorf(ErrHeader, "tensor %q has no dtype", name)
	case !seen[1]:
		return shapes, errorf(ErrHeader, "tensor %q has no shape", name)
	case !seen[2]:
		return shapes, errorf(ErrHeader, "tensor %q has no data_offsets", name)
	case nOff != 2:
		return shapes, errorf(ErrHeader, "tensor %q: data_offsets of %d values must be [begin, end]", name, nOff)
	}
	begin, end := off[0], off[1]
	if end < begin {
		return shapes, errorf(ErrData, "tensor %q: data_offsets [%d, %d] end before they begin", name, begin, end)
	}
	if end > uint64(len(data)) {
		return shapes, errorf(ErrData, "tensor %q: data_offsets [%d, %d] reach past the %d bytes of data in the file", name, begin, end, len(data))
	}
	a.begin, a.end = int(begin), int(end)
	a.data = data[begin:end:end]
	a.swap = hostBigEndian && a.DType.Size() > 1 // safetensors data is little-endian
	return shapes, nil
}

// uints parses a JSON array of non-negative integers that fit an int,
// appending them to out when each is nil, else passing them to each.
func (s *stScan) uints(out []int, name []byte, what string, each func(int, uint64)) ([]int, error) {
	if !s.eat('[') {
		return out, errorf(ErrHeader, "tensor %q: %s: want an array, found %s", name, what, s.near())
	}
	s.ws()
	if s.eat(']') {
		return out, nil
	}
	for k := 0; ; k++ {
		start := s.i
		var v uint64
		digits := 0
		for s.i < len(s.b) && '0' <= s.b[s.i] && s.b[s.i] <= '9' {
			d := uint64(s.b[s.i] - '0')
			if v > (math.MaxUint64-d)/10 {
				return out, errorf(ErrHeader, "tensor %q: %s: %s does not fit an int", name, what, s.number(start))
			}
			v = v*10 + d
			s.i++
			digits++
		}
		if s.i < len(s.b) && strings.IndexByte("-+.eE", s.b[s.i]) >= 0 || digits == 0 || digits > 1 && s.b[start] == '0' {
			return out, errorf(ErrHeader, "tensor %q: %s: want a non-negative integer, found %s", name, what, s.number(start))
		}
		if each != nil {
			each(k, v)
		} else {
			if v > math.MaxInt {
				return out, errorf(ErrHeader, "tensor %q: extent %d does not fit an int", name, v)
			}
			out = append(out, int(v))
		}
		s.ws()
		if s.eat(',') {
			s.ws()
			continue
		}
		if s.eat(']') {
			return out, nil
		}
		return out, s.syntax("want ',' or ']' in an array")
	}
}

// metadata parses the value of __metadata__: null, or an object of
// strings, each key once, of at most limit bytes.
func (s *stScan) metadata(limit int) (map[string]string, error) {
	start := s.i
	if s.lit("null") {
		return nil, nil
	}
	if !s.eat('{') {
		return nil, errorf(ErrHeader, "%s: want an object, found %s", stMetadataKey, s.near())
	}
	meta := map[string]string{}
	s.ws()
	if s.eat('}') {
		return meta, nil
	}
	for {
		key, err := s.str()
		if err != nil {
			return nil, err
		}
		k := string(key)
		if _, dup := meta[k]; dup {
			return nil, errorf(ErrHeader, "%s: key %q appears twice", stMetadataKey, k)
		}
		s.ws()
		if !s.eat(':') {
			return nil, s.syntax("want ':' after a key")
		}
		s.ws()
		if s.i >= len(s.b) || s.b[s.i] != '"' {
			return nil, errorf(ErrHeader, "%s must map names to strings: %q maps to %s", stMetadataKey, k, s.near())
		}
		v, err := s.str()
		if err != nil {
			return nil, err
		}
		meta[k] = string(v)
		if s.i-start > limit {
			return nil, errorf(ErrHeader, "%s is over the limit of %d bytes (Limits.Metadata)", stMetadataKey, limit)
		}
		s.ws()
		if s.eat(',') {
			s.ws()
			continue
		}
		if s.eat('}') {
			return meta, nil
		}
		return nil, s.syntax("want ',' or '}' after a value")
	}
}

// str parses a JSON string and returns its bytes: a slice of the header
// when it holds no escape, else of s.tmp, valid until the next call.
func (s *stScan) str() ([]byte, error) {
	if !s.eat('"') {
		return nil, s.syntax("want a string")
	}
	start := s.i
	for s.i < len(s.b) {
		switch c := s.b[s.i]; {
		case c == '"':
			s.i++
			return s.b[start : s.i-1], nil
		case c == '\\':
			return s.unescape(start)
		case c < 0x20:
			return nil, s.syntax("control character in a string")
		}
		s.i++
	}
	return nil, s.syntax("the header ends inside a string")
}

// unescape finishes a string that started at start and holds an escape at
// s.i, into s.tmp.
func (s *stScan) unescape(start int) ([]byte, error) {
	out := append(s.tmp[:0], s.b[start:s.i]...)
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			s.i++
			s.tmp = out
			return out, nil
		case c < 0x20:
			return nil, s.syntax("control character in a string")
		case c != '\\':
			out = append(out, c)
			s.i++
			continue
		}
		if s.i+1 >= len(s.b) {
			break
		}
		e := s.b[s.i+1]
		s.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := s.hex4()
			if !ok {
				return nil, s.syntax(`a \u escape needs four hex digits`)
			}
			switch {
			case 0xDC00 <= r && r <= 0xDFFF:
				return nil, s.syntax(fmt.Sprintf(`lone surrogate \u%04x`, r))
			case 0xD800 <= r && r <= 0xDBFF:
				if s.i+1 >= len(s.b) || s.b[s.i] != '\\' || s.b[s.i+1] != 'u' {
					return nil, s.syntax(fmt.Sprintf(`lone surrogate \u%04x`, r))
				}
				s.i += 2
				lo, ok := s.hex4()
				if !ok || lo < 0xDC00 || lo > 0xDFFF {
					return nil, s.syntax(fmt.Sprintf(`lone surrogate \u%04x`, r))
				}
				r = 0x10000 + (r-0xD800)<<10 + (lo - 0xDC00)
			}
			out = utf8.AppendRune(out, r)
		default:
			return nil, s.syntax(fmt.Sprintf("invalid escape \\%c", e))
		}
	}
	return nil, s.syntax("the header ends inside a string")
}

// hex4 reads the four hex digits of a \u escape.
func (s *stScan) hex4() (rune, bool) {
	if s.i+4 > len(s.b) {
		return 0, false
	}
	var r rune
	for _, c := range s.b[s.i : s.i+4] {
		switch {
		case '0' <= c && c <= '9':
			r = r<<4 | rune(c-'0')
		case 'a' <= c && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case 'A' <= c && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	s.i += 4
	return r, true
}

// ws skips JSON white space.
func (s *stScan) ws() {
	for s.i < len(s.b) {
		switch s.b[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// eat consumes c if it comes next.
func (s *stScan) eat(c byte) bool {
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

// lit consumes the literal word if it comes next.
func (s *stScan) lit(word string) bool {
	if len(s.b)-s.i >= len(word) && string(s.b[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// near quotes up to 40 bytes of what comes next, for a message.
func (s *stScan) near() string {
	rest := s.b[s.i:]
	n := len(rest)
	for k, c := range rest {
		if k >= 40 || (k > 0 && (c == ',' || c == '}') && rest[0] != '[' && rest[0] != '{') {
			n = k
			break
		}
	}
	return string(rest[:n])
}

// number returns the text of the number that starts at start, for a
// message.
func (s *stScan) number(start int) string {
	end := start
	for end < len(s.b) && end-start < 40 && strings.IndexByte("+-.eE0123456789", s.b[end]) >= 0 {
		end++
	}
	return string(s.b[start:end])
}

// syntax is a JSON syntax error at the scan's position.
func (s *stScan) syntax(what string) error {
	return errorf(ErrHeader, "safetensors header JSON: %s at byte %d", what, s.i)
}
