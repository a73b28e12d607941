package tensorfile

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/stridekit/stridekit/reshape"

	"github.com/stridekit/stridekit/internal/shapefmt"
)

// MatrixOptions are the settings of a MatrixWriter; the zero value writes
// one file with the tensor named DefaultMatrixName.
type MatrixOptions struct {
	// Name is the tensor's name in a .safetensors file (DefaultMatrixName
	// when empty). The tensor of shard k is Name + "." + k in five digits
	// ("activations.00001"), so that names sort in row order and every
	// name of an index is unique.
	Name string
	// Metadata is the __metadata__ of every .safetensors file written.
	Metadata map[string]string
	// ShardSize, when above 0, splits a .safetensors output into shards of
	// at most ShardSize bytes each, header included (ShardNames), each
	// holding whole rows, and writes an index of them in the Hugging Face
	// sharded layout (WriteIndex) at IndexName(path). It must hold at
	// least one row. A .npy output is one file: ShardSize is ErrInvalid
	// there.
	ShardSize int64
	// OnWrite, when not nil, is told the bytes of rows written after every
	// piece of at most 4 MiB (for a progress bar); an error it returns
	// stops the writer, as a failure of the write.
	OnWrite func(n int) error
	// Context, when not nil, stops the writer once done: every file is
	// written with WriteFileContext, so a file not yet renamed into place
	// never is, and the write in progress fails with the context's cause.
	Context context.Context
}

// DefaultMatrixName is the tensor name a MatrixWriter gives its rows in a
// .safetensors file when MatrixOptions.Name is empty.
const DefaultMatrixName = "activations"

// MatrixWriter streams the rows of one [rows, cols] matrix into a file, or
// a set of shards, without holding the result in memory: each Append
// writes its rows at once, and Close completes the output. The row count,
// which a header states first, is known only at Close, so the writer
// reserves the header and writes it last: a .npy header padded as NumPy
// pads one for an array that may grow (room for a 21-digit row count), a
// safetensors header padded with spaces, as the format allows.
//
// Writes are atomic, through WriteFileContext: no file appears at its final name
// before it is complete and synced. A shard appears once it is full, the
// index (or the one file) at Close, so the index, or the file, being there
// means the output is complete. After an error, or Abort, the file being
// written is removed; shards completed before stay (an index never names
// an incomplete set, because it is not written).
//
// A MatrixWriter is not safe for concurrent use.
type MatrixWriter struct {
	path     string
	format   Format
	dt       DType
	cols     int
	rowBytes int64
	opt      MatrixOptions

	rows      int64 // rows appended, in all files
	shardCap  int64 // bytes of data a shard holds, 0 without shards
	cur       *stream
	curBytes  int64 // bytes of data in the current file
	headerLen int   // bytes reserved for the current file's header
	shards    []string
	err       error // sticky: the first failure
	closed    bool
}

// NewMatrixWriter returns a writer of a matrix of cols columns of dtype dt
// to path, in the format its extension names (FormatOf). opt may be nil.
// Nothing is created until the first Append, or Close. dt must have a .npy
// dtype for a .npy file (ErrDType: BFloat16 has none); cols must be
// positive (ErrInvalid).
func NewMatrixWriter(path string, dt DType, cols int, opt *MatrixOptions) (*MatrixWriter, error) {
	format, err := FormatOf(path)
	if err != nil {
		return nil, err
	}
	w := &MatrixWriter{path: path, format: format, dt: dt, cols: cols}
	if opt != nil {
		w.opt = *opt
	}
	if w.opt.Context == nil {
		w.opt.Context = context.Background()
	}
	if w.opt.Name == "" {
		w.opt.Name = DefaultMatrixName
	}
	switch {
	case dt == Invalid || dt >= numDTypes:
		return nil, errorf(ErrDType, "%s: dtype %v cannot be written", path, dt)
	case cols <= 0:
		return nil, errorf(ErrInvalid, "%s: %d columns (want 1 or more)", path, cols)
	case w.opt.ShardSize < 0:
		return nil, errorf(ErrInvalid, "%s: shard size %d is negative", path, w.opt.ShardSize)
	case w.opt.Name == stMetadataKey:
		return nil, errorf(ErrInvalid, "%s: a tensor may not be named %s", path, stMetadataKey)
	}
	row, ok := mulOK(cols, dt.Size())
	if !ok {
		return nil, errorf(ErrInvalid, "%s: a row of %d %v is larger than an int counts", path, cols, dt)
	}
	w.rowBytes = int64(row)
	if format == NPY {
		if _, ok := dt.NPY(); !ok {
			return nil, errorf(ErrDType, "%s: %v has no .npy dtype (NumPy has no bfloat16); write .safetensors instead", path, dt)
		}
		if w.opt.ShardSize > 0 {
			return nil, errorf(ErrInvalid, "%s: a .npy output is one file; shards are .safetensors", path)
		}
	}
	if w.opt.ShardSize > 0 {
		room := w.opt.ShardSize - 8 - int64(len(w.stRoom(w.shardName(0))))
		rows := room / w.rowBytes
		if rows < 1 {
			return nil, errorf(ErrInvalid, "%s: a shard of %d bytes holds no row of %d bytes with its header", path, w.opt.ShardSize, w.rowBytes)
		}
		w.shardCap = rows * w.rowBytes
	}
	return w, nil
}

// IndexName returns the path of the index of a sharded output path:
// "dir/data.safetensors" has "dir/data.safetensors.index.json".
func IndexName(path string) string { return path + ".index.json" }

// ShardNames returns the paths of the first n shards of a sharded output
// path: "dir/data.safetensors" has "dir/data-00001.safetensors", and so on.
func ShardNames(path string, n int) []string {
	ext := filepath.Ext(path)
	stem := strings.TrimSuffix(path, ext)
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("%s-%05d%s", stem, i+1, ext)
	}
	return out
}

// Rows returns the number of rows appended so far.
func (w *MatrixWriter) Rows() int64 { return w.rows }

// Append writes the rows of a, a C-order [rows, cols] array of the writer's
// dtype, after those written before. An array from ReshapeLazy is streamed
// block by block, never held in memory. A wrong dtype is ErrDType, a wrong
// shape ErrInvalid; neither writes anything, and the writer stays usable.
// Any other failure is sticky: every later call returns it.
func (w *MatrixWriter) Append(a *Array) error {
	if w.err != nil {
		return w.err
	}
	if w.closed {
		return errorf(ErrInvalid, "%s: Append after Close", w.path)
	}
	if err := a.check(); err != nil {
		return err
	}
	switch {
	case a.DType != w.dt:
		return errorf(ErrDType, "tensor %q is %v; the output %s is %v", a.Name, a.DType, w.path, w.dt)
	case len(a.Shape) != 2 || a.Shape[1] != w.cols:
		return errorf(ErrInvalid, "tensor %q has shape %s; the output %s takes [rows, %d]", a.Name, shapefmt.List(a.Shape), w.path, w.cols)
	case a.Fortran && a.Shape[0] > 1:
		return errorf(ErrInvalid, "tensor %q is Fortran-ordered; rows must be C order", a.Name)
	}
	if err := a.writeData(rowWriter{w}); err != nil {
		return w.fail(err)
	}
	w.rows += int64(a.Shape[0])
	return nil
}

// AppendMatrix appends the rows of m to w (see MatrixWriter.Append); T must
// be of w's dtype.
func AppendMatrix[T reshape.Element](w *MatrixWriter, m reshape.Matrix[T]) error {
	a, err := FromMatrix(w.opt.Name, m)
	if err != nil {
		return err
	}
	return w.Append(a)
}

// writePiece is the most bytes rowWriter writes at once, so that OnWrite
// hears of a large array as it goes.
const writePiece = 4 << 20

// rowWriter is the io.Writer through which Append streams rows: it routes
// the bytes into the current file, starting a file where there is none and
// a new shard where one is full.
type rowWriter struct{ w *MatrixWriter }

func (rw rowWriter) Write(p []byte) (int, error) {
	w, done := rw.w, 0
	for done < len(p) {
		if w.cur == nil {
			if err := w.open(); err != nil {
				return done, err
			}
		}
		n := min(len(p)-done, writePiece)
		if w.shardCap > 0 {
			n = int(min(int64(n), w.shardCap-w.curBytes))
		}
		chunk := p[done : done+n]
		if err := w.cur.do(func(f io.Writer) error {
			_, err := f.Write(chunk)
			return err
		}); err != nil {
			return done, err
		}
		done += n
		w.curBytes += int64(n)
		if w.opt.OnWrite != nil {
			if err := w.opt.OnWrite(n); err != nil {
				return done, err
			}
		}
		if w.shardCap > 0 && w.curBytes == w.shardCap {
			if err := w.finish(); err != nil {
				return done, err
			}
		}
	}
	return done, nil
}

// open starts the next file: the one output, or the next shard, with its
// header reserved.
func (w *MatrixWriter) open() error {
	path := w.path
	var header []byte
	if w.format == NPY {
		descr, _ := w.dt.NPY()
		header = npyGrowHeader(descr, 0, w.cols)
	} else {
		if w.shardCap > 0 {
			path = w.shardName(len(w.shards))
		}
		header = binary.LittleEndian.AppendUint64(nil, uint64(len(w.stRoom(path))))
		header = append(header, w.stHeader(path, 0, 0)...)
		for len(header)-8 < int(binary.LittleEndian.Uint64(header)) {
			header = append(header, ' ')
		}
	}
	s := openStream(w.opt.Context, path)
	if err := s.do(func(f io.Writer) error {
		_, err := f.Write(header)
		return err
	}); err != nil {
		return err
	}
	w.cur, w.curBytes, w.headerLen = s, 0, len(header)
	return nil
}

// shardName is the path of shard i (from 0).
func (w *MatrixWriter) shardName(i int) string { return ShardNames(w.path, i+1)[i] }

// tensorName is the name of the tensor in the file at path.
func (w *MatrixWriter) tensorName(path string) string {
	if w.opt.ShardSize <= 0 {
		return w.opt.Name
	}
	stem := strings.TrimSuffix(filepath.Base(path), filepath.Ext(path))
	return w.opt.Name + "." + stem[len(stem)-5:]
}

// stRoom is the longest header the file at path can need: its row count
// and offsets at their largest. (Shard names all have the same length.)
func (w *MatrixWriter) stRoom(path string) []byte {
	return w.stHeader(path, math.MaxInt64/w.rowBytes, math.MaxInt64)
}

// stHeader is the JSON header of a safetensors file at path holding rows
// rows and end bytes of data, padded with spaces to a multiple of 8 bytes.
func (w *MatrixWriter) stHeader(path string, rows, end int64) []byte {
	header := map[string]any{
		w.tensorName(path): struct {
			DType       string   `json:"dtype"`
			Shape       [2]int64 `json:"shape"`
			DataOffsets [2]int64 `json:"data_offsets"`
		}{w.dt.Safetensors(), [2]int64{rows, int64(w.cols)}, [2]int64{0, end}},
	}
	if len(w.opt.Metadata) > 0 {
		header[stMetadataKey] = w.opt.Metadata
	}
	h, _ := json.Marshal(header) // strings, ints and a map of strings: cannot fail
	for len(h)%8 != 0 {
		h = append(h, ' ')
	}
	return h
}

// finish writes the current file's true header over the reserved one and
// completes the file.
func (w *MatrixWriter) finish() error {
	rows := w.curBytes / w.rowBytes
	if w.curBytes%w.rowBytes != 0 {
		return errorf(ErrInvalid, "%s: %d bytes of data are not whole rows of %d bytes", w.path, w.curBytes, w.rowBytes)
	}
	var header []byte
	var at int64
	if w.format == NPY {
		descr, _ := w.dt.NPY()
		header = npyGrowHeader(descr, rows, w.cols)
	} else {
		header, at = w.stHeader(w.cur.path, rows, w.curBytes), 8
	}
	if len(header) > w.headerLen-int(at) {
		return errorf(ErrInvalid, "%s: the header of %d rows outgrew its room", w.path, rows) // cannot happen: the room is for the most rows an int64 counts
	}
	for len(header) < w.headerLen-int(at) {
		header = append(header, ' ')
	}
	if w.format == NPY {
		header[len(header)-1] = '\n'
	}
	if err := w.cur.do(func(f io.Writer) error {
		wa, ok := f.(io.WriterAt)
		if !ok {
			return errorf(ErrInvalid, "%s: the temporary file cannot be written at an offset", w.path)
		}
		_, err := wa.WriteAt(header, at)
		return err
	}); err != nil {
		return err
	}
	s := w.cur
	w.cur = nil
	if err := s.commit(); err != nil {
		return err
	}
	if w.shardCap > 0 {
		w.shards = append(w.shards, s.path)
	}
	return nil
}

// fail records err as the writer's failure, removes the file being
// written, and returns err.
func (w *MatrixWriter) fail(err error) error {
	if w.err == nil {
		w.err = err
	}
	if w.cur != nil {
		w.cur.abort()
		w.cur = nil
	}
	return w.err
}

// Close completes the output: the header of the last file, then, for
// shards, the index. A writer given no rows writes a matrix of no rows
// (one empty shard, with its index, when sharded). Close after a failure
// returns the failure; a second Close returns nil.
func (w *MatrixWriter) Close() error {
	if w.closed {
		return w.err
	}
	w.closed = true
	if w.err != nil {
		return w.err
	}
	if w.cur == nil && (w.shardCap == 0 || len(w.shards) == 0) {
		if err := w.open(); err != nil {
			return w.fail(err)
		}
	}
	if w.cur != nil {
		if err := w.finish(); err != nil {
			return w.fail(err)
		}
	}
	if w.shardCap > 0 {
		if err := WriteIndex(IndexName(w.path), w.shards...); err != nil {
			return w.fail(err)
		}
	}
	return nil
}

// Abort stops the writer without completing it: the file being written is
// removed, and neither it nor an index appears. Shards completed before
// stay. Abort after Close does nothing.
func (w *MatrixWriter) Abort() {
	if w.closed {
		return
	}
	w.closed = true
	w.fail(errAborted)
}

// errAborted is the failure of a writer stopped by Abort.
var errAborted = errors.New("tensorfile: writer aborted")

// npyGrowHeader is the .npy header NumPy writes for a C-order [rows, cols]
// array: format 1.0, the dict, then room for the row count to grow to 21
// digits (numpy.lib.format's GROWTH_AXIS_MAX_DIGITS), then spaces and a
// newline up to a multiple of 64 bytes. Its length does not depend on rows.
func npyGrowHeader(descr string, rows int64, cols int) []byte {
	const growthDigits = 21
	r := strconv.FormatInt(rows, 10)
	dict := fmt.Sprintf("{'descr': '%s', 'fortran_order': False, 'shape': (%s, %d), }", descr, r, cols)
	dict += strings.Repeat(" ", max(growthDigits-len(r), 0))
	total := (10 + len(dict) + 1 + npyAlign - 1) / npyAlign * npyAlign
	out := make([]byte, 0, total)
	out = append(out, npyMagic...)
	out = append(out, 1, 0)
	out = binary.LittleEndian.AppendUint16(out, uint16(total-10))
	out = append(out, dict...)
	for len(out) < total-1 {
		out = append(out, ' ')
	}
	return append(out, '\n')
}

// stream is a file being written atomically by WriteFile, whose content
// arrives over time: WriteFile runs on its own goroutine, and its write
// function runs each operation do hands it on the temporary file, until
// commit lets it return (and WriteFile sync and rename the file) or abort
// makes it fail (and WriteFile remove the file).
type stream struct {
	path     string
	ops      chan func(io.Writer) error
	results  chan error
	finished chan struct{}
	result   error // WriteFile's, once finished is closed
}

// openStream starts writing path, stopped by ctx.
func openStream(ctx context.Context, path string) *stream {
	s := &stream{path: path, ops: make(chan func(io.Writer) error), results: make(chan error), finished: make(chan struct{})}
	go func() {
		defer close(s.finished)
		s.result = WriteFileContext(ctx, path, func(f io.Writer) error {
			for op := range s.ops {
				if err := ctxErr(ctx); err != nil {
					s.results <- err
					return err
				}
				err := op(f)
				s.results <- err
				if err != nil {
					return err
				}
			}
			return nil
		})
	}()
	return s
}

// do runs op on the temporary file and returns its error, or WriteFile's if
// it has already ended (it could not create the file, or an earlier op
// failed).
func (s *stream) do(op func(io.Writer) error) error {
	select {
	case s.ops <- op:
		return <-s.results
	case <-s.finished:
		if s.result == nil {
			return errorf(ErrInvalid, "%s: written after it was complete", s.path)
		}
		return s.result
	}
}

// commit completes the file and returns WriteFile's result.
func (s *stream) commit() error {
	close(s.ops)
	<-s.finished
	return s.result
}

// abort makes WriteFile fail and remove the temporary file, and waits for
// it.
func (s *stream) abort() {
	select {
	case s.ops <- func(io.Writer) error { return errAborted }:
		<-s.results
	case <-s.finished:
	}
	<-s.finished
}
