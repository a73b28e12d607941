// Command peers measures stridekit beside NumPy and PyTorch on the cases of
// the benchmark suite (package benchmarks), every figure a ratio to the
// ceiling measured in the same round: the faster of copy() and a cached copy
// of the same bytes, with as many goroutines as the column has threads.
//
// It starts peers.py (in this folder) under Python twice, with PyTorch set
// to one thread and to two (once, at start: see peers.py), and, for every case,
// dtype and size, runs rounds that each time, one after the other: the
// ceiling with one goroutine, stridekit with one worker, NumPy (np.copyto),
// PyTorch with one thread (Tensor.copy_), then the ceiling with two
// goroutines, stridekit with two workers and PyTorch with two threads. The
// table gives the median over the rounds of each ratio. Run from the module
// root:
//
//	apt-get install -y python3-numpy python3-torch   # Debian's, under /usr/bin/python3
//	go run ./benchmarks/peers > peers.md
//	go run ./benchmarks/peers -cases heads,mixed5d -dtypes float32 -sizes 4MiB -rounds 7
//
// Flags:
//
//	-python P    the Python with numpy and torch (default /usr/bin/python3)
//	-script F    peers.py (default benchmarks/peers/peers.py)
//	-cases L     comma-separated case names (default: every case of a size)
//	-dtypes L    uint8, bfloat16, float32, float64 (default: all four)
//	-sizes L     256KiB, 1MiB, 4MiB, 16MiB, 64MiB, 1GiB (default: 256KiB to 64MiB)
//	-rounds N    rounds per case (default 5)
//	-budget D    how long each implementation is timed per round (default 40ms)
//	-json F      also write every figure as JSON
//	-convert     time the conversion cases (benchmarks.Conversions) instead:
//	             stridekit's ContiguousAs, PyTorch's copy_ into a tensor of
//	             the target dtype (1 and 2 threads) and view.float(), NumPy's
//	             copyto where it has both dtypes, against a copy of as many
//	             bytes read and written
//
// stridekit runs with its default thresholds, as users get it: below the
// parallel threshold two workers run as one. The output is a Markdown table
// for benchmarks/README.md, preceded by the machine and the versions.
package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/stridekit/stridekit/benchmarks"
	"github.com/stridekit/stridekit/reshape"
)

func main() {
	python := flag.String("python", "/usr/bin/python3", "the Python with numpy and torch")
	script := flag.String("script", "benchmarks/peers/peers.py", "the Python side")
	cases := flag.String("cases", "", "comma-separated case names (default: every sized case)")
	dtypes := flag.String("dtypes", "uint8,bfloat16,float32,float64", "comma-separated dtypes")
	sizes := flag.String("sizes", "256KiB,1MiB,4MiB,16MiB,64MiB", "comma-separated sizes")
	rounds := flag.Int("rounds", 5, "rounds per case")
	budget := flag.Duration("budget", 40*time.Millisecond, "time per implementation per round")
	jsonPath := flag.String("json", "", "also write the figures as JSON")
	convert := flag.Bool("convert", false, "time the conversion cases")
	flag.Parse()
	if err := run(config{*python, *script, *cases, *dtypes, *sizes, *rounds, *budget, *jsonPath, *convert}, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "peers:", err)
		os.Exit(1)
	}
}

// config is the command line.
type config struct {
	python, script, cases, dtypes, sizes string
	rounds                               int
	budget                               time.Duration
	jsonPath                             string
	convert                              bool
}

// The implementations, in the order of a round and of the table's columns.
// Each is read against the ceiling of its thread count.
var impls = []impl{
	{"stridekit", 1}, {"numpy", 1}, {"torch", 1},
	{"stridekit", 2}, {"torch", 2},
}

// impl is one implementation on a number of threads.
type impl struct {
	name    string // column and JSON key
	threads int
}

// row is one case, dtype and size: per implementation the median ratio to
// the ceiling, and the ceilings' own GB/s.
type row struct {
	Case    string             `json:"case"`
	DType   string             `json:"dtype"`
	Size    string             `json:"size"`
	View    []int              `json:"view_shape"`
	Ceiling map[int]float64    `json:"ceiling_gbps"` // by thread count
	Ratio   map[string]float64 `json:"x_ceiling"`    // "torch/2": median ratio; absent where not timed
}

func run(cfg config, out io.Writer) error {
	var py pythons
	for _, threads := range []int{1, 2} {
		p, err := startPython(cfg.python, cfg.script, threads)
		if err != nil {
			return err
		}
		defer p.close()
		py[threads] = p
	}
	ver, err := py[1].call(map[string]any{"op": "versions"})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "Go %s, %s/%s, GOMAXPROCS %d; Python %v, NumPy %v, PyTorch %v (%v); %d rounds of %v each, medians\n\n",
		runtime.Version(), runtime.GOOS, runtime.GOARCH, runtime.GOMAXPROCS(0), ver["python"], ver["numpy"], ver["torch"], ver["torch_parallel"], cfg.rounds, cfg.budget)
	if cfg.convert {
		return runConvert(&py, cfg, out)
	}
	fmt.Fprintln(out, "| case | dtype | size | ceiling 1 GB/s | stridekit 1 | NumPy | torch 1 | ceiling 2 GB/s | stridekit 2 | torch 2 |")
	fmt.Fprintln(out, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")

	wantCase := list(cfg.cases)
	var rows []row
	for _, size := range benchmarks.Sizes() {
		if !slices.Contains(list(cfg.sizes), size.Name) {
			continue
		}
		for _, c := range benchmarks.Cases() {
			if c.Scale == benchmarks.Fixed || len(wantCase) > 0 && !slices.Contains(wantCase, c.Name) {
				continue
			}
			for _, dt := range list(cfg.dtypes) {
				measureOne, ok := dtypeRuns[dt]
				if !ok {
					return fmt.Errorf("-dtypes: unknown dtype %q", dt)
				}
				r, err := measureOne(&py, c, size, cfg)
				if err != nil {
					return fmt.Errorf("case %s, %s, %s: %w", c.Name, dt, size.Name, err)
				}
				r.DType = dt
				rows = append(rows, r)
				fmt.Fprintln(out, r.markdown())
			}
		}
	}
	if cfg.jsonPath != "" {
		b, err := json.MarshalIndent(rows, "", "  ")
		if err != nil {
			return err
		}
		return os.WriteFile(cfg.jsonPath, append(b, '\n'), 0o644)
	}
	return nil
}

// list splits a comma-separated flag.
func list(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, ",")
}

// dtypeRuns measures a case in each dtype.
var dtypeRuns = map[string]func(*pythons, benchmarks.Case, benchmarks.Size, config) (row, error){
	"uint8":    measure[uint8],
	"bfloat16": measure[reshape.BFloat16],
	"float32":  measure[float32],
	"float64":  measure[float64],
}

// measure runs the rounds of one case, sized to size, in element type T.
func measure[T reshape.Element](py *pythons, c benchmarks.Case, size benchmarks.Size, cfg config) (row, error) {
	elem := int(unsafe.Sizeof(*new(T)))
	c = c.Sized(size.Bytes, elem)
	src, err := benchmarks.Build[T](c)
	if err != nil {
		return row{}, err
	}
	n := c.Elements()
	dst := make([]T, n)
	from := benchmarks.CopySource(src, n)
	defer runtime.GC() // the next case's buffers are as large

	if err := build(py, c, dtypeName[T](), ""); err != nil {
		return row{}, err
	}
	ceilings, ratios, err := measureRounds(py, cfg, c, impls, dst, from, float64(c.Bytes(elem)), func() error {
		_, err := benchmarks.Run(c, dst, src)
		return err
	})
	if err != nil {
		return row{}, err
	}
	return row{Case: c.Name, Size: size.Name, View: c.ViewShape(), Ceiling: ceilings, Ratio: ratios}, nil
}

// build has the Python side of every thread count build c's view in dtype,
// and its destination in dtype to ("" for the same), and checks that the
// view has the shape of Go's.
func build(py *pythons, c benchmarks.Case, dtype, to string) error {
	req := map[string]any{"op": "build", "shape": c.Shape, "perm": c.Permutation, "slice": nil, "expand": c.Expand, "dtype": dtype}
	if to != "" {
		req["to"] = to
	}
	if s := c.Slice; s != nil {
		req["slice"] = []int{s.Axis, s.Start, s.Stop, s.Step}
	}
	for _, p := range py[1:] {
		resp, err := p.call(req)
		if err != nil {
			return err
		}
		if got := fmt.Sprint(resp["view"]); got != fmt.Sprint(c.ViewShape()) {
			return fmt.Errorf("Python built a view of shape %s, Go %v", got, c.ViewShape())
		}
	}
	return nil
}

// measureRounds runs cfg.rounds rounds of case c. Each times the ceiling on one
// and two threads, the faster of copy() and the cached copy of ceilSrc into
// ceilDst (bytes in all), then each implementation of list: stridekit is
// op with c's workers set to its threads, the others are timed by the
// Python side of their thread count. It returns the median ceilings in GB/s
// by threads, and by "name/threads" the median ratio of each implementation
// to the ceiling of its threads; one Python cannot time (NumPy has no
// bfloat16) has none.
func measureRounds[E any](py *pythons, cfg config, c benchmarks.Case, list []impl, ceilDst, ceilSrc []E, bytes float64, op func() error) (map[int]float64, map[string]float64, error) {
	var crew benchmarks.Crew
	defer crew.Stop()
	ratios := map[string][]float64{}
	ceilings := map[int][]float64{}
	for range cfg.rounds {
		ceiling := map[int]time.Duration{}
		for _, threads := range []int{1, 2} {
			crew.Ready(threads)
			viaCopy := timeFor(cfg.budget, func() { benchmarks.CopyParallel(&crew, ceilDst, ceilSrc, threads) })
			cached := timeFor(cfg.budget, func() { benchmarks.CopyCached(&crew, ceilDst, ceilSrc, threads) })
			crew.Park()
			ceiling[threads] = min(viaCopy, cached)
			ceilings[threads] = append(ceilings[threads], bytes/ceiling[threads].Seconds()/1e9)
		}
		for _, im := range list {
			var d time.Duration
			if im.name == "stridekit" {
				restore := benchmarks.SetWorkers(c, im.threads, 0)
				var opErr error
				d = timeFor(cfg.budget, func() {
					if err := op(); err != nil {
						opErr = err
					}
				})
				restore()
				if opErr != nil {
					return nil, nil, opErr
				}
			} else {
				resp, err := py[im.threads].call(map[string]any{"op": "time", "impl": im.name, "budget_ms": cfg.budget.Seconds() * 1e3})
				if errors.Is(err, errNotTimed) {
					continue
				}
				if err != nil {
					return nil, nil, err
				}
				d = time.Duration(resp["ns"].(float64))
			}
			key := fmt.Sprintf("%s/%d", im.name, im.threads)
			ratios[key] = append(ratios[key], ceiling[im.threads].Seconds()/d.Seconds())
		}
	}
	medCeilings, medRatios := map[int]float64{}, map[string]float64{}
	for threads, v := range ceilings {
		medCeilings[threads] = median(v)
	}
	for key, v := range ratios {
		medRatios[key] = median(v)
	}
	return medCeilings, medRatios, nil
}

// markdown is the row of the table.
func (r row) markdown() string {
	cell := func(key string) string {
		v, ok := r.Ratio[key]
		if !ok {
			return "–"
		}
		return fmt.Sprintf("%.2f", v)
	}
	return fmt.Sprintf("| %s | %s | %s | %.0f | %s | %s | %s | %.0f | %s | %s |", r.Case, r.DType, r.Size,
		r.Ceiling[1], cell("stridekit/1"), cell("numpy/1"), cell("torch/1"), r.Ceiling[2], cell("stridekit/2"), cell("torch/2"))
}

// dtypeName is the NumPy and PyTorch name of T.
func dtypeName[T reshape.Element]() string {
	switch any(*new(T)).(type) {
	case uint8:
		return "uint8"
	case reshape.BFloat16:
		return "bfloat16"
	case float32:
		return "float32"
	case float64:
		return "float64"
	}
	panic("peers: no Python name for this dtype")
}

// timeFor returns the mean time of one call of f over at least budget, after
// one untimed call that maps the pages and warms the caches.
func timeFor(budget time.Duration, f func()) time.Duration {
	f()
	calls, start := 0, time.Now()
	for {
		f()
		calls++
		if el := time.Since(start); el >= budget {
			return el / time.Duration(calls)
		}
	}
}

// median returns the median of v, the mean of the middle two for an even
// count.
func median(v []float64) float64 {
	s := slices.Clone(v)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// pythons are the two runs of peers.py, by PyTorch's thread count.
type pythons [3]*pythonSide

// pythonSide is peers.py, running, with a request and a reply per line.
type pythonSide struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Scanner
}

// errNotTimed is a request the Python side cannot answer for this view
// (NumPy and bfloat16).
var errNotTimed = errors.New("not timed")

func startPython(python, script string, threads int) (*pythonSide, error) {
	cmd := exec.Command(python, script, fmt.Sprint(threads))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s %s: %w (apt-get install -y python3-numpy python3-torch)", python, script, err)
	}
	out := bufio.NewScanner(outPipe)
	out.Buffer(nil, 1<<20)
	return &pythonSide{cmd: cmd, in: in, out: out}, nil
}

// call sends one request and returns the reply, or an error for a reply
// that is not ok.
func (p *pythonSide) call(req map[string]any) (map[string]any, error) {
	b, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	if _, err := p.in.Write(append(b, '\n')); err != nil {
		return nil, fmt.Errorf("python: %w", err)
	}
	if !p.out.Scan() {
		return nil, fmt.Errorf("python exited: %v", p.out.Err())
	}
	var resp map[string]any
	if err := json.Unmarshal(p.out.Bytes(), &resp); err != nil {
		return nil, fmt.Errorf("python: %w", err)
	}
	if ok, _ := resp["ok"].(bool); !ok {
		if strings.HasPrefix(fmt.Sprint(resp["why"]), "no ") {
			return nil, errNotTimed
		}
		return nil, fmt.Errorf("python: %v", resp["why"])
	}
	return resp, nil
}

func (p *pythonSide) close() {
	p.in.Close()
	p.cmd.Wait()
}
