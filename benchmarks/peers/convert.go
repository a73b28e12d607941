package main

import (
	"errors"
	"fmt"
	"io"
	"runtime"
	"slices"
	"time"
	"unsafe"

	"github.com/x448/float16"

	"github.com/stridekit/stridekit/benchmarks"
	"github.com/stridekit/stridekit/reshape"
)

// runConvert times the conversion cases of the suite beside PyTorch and
// NumPy, every figure a ratio to a copy of as many bytes read and written,
// with as many goroutines as threads.
func runConvert(py *pythons, cfg config, out io.Writer) error {
	fmt.Fprintln(out, "| case | from → to | size | ceiling 1 GB/s | stridekit 1 | NumPy | torch copy_ 1 | torch .float() 1 | ceiling 2 GB/s | stridekit 2 | torch copy_ 2 |")
	fmt.Fprintln(out, "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
	for _, size := range benchmarks.Sizes() {
		if !slices.Contains(list(cfg.sizes), size.Name) {
			continue
		}
		for _, cv := range benchmarks.Conversions() {
			if cs := list(cfg.cases); len(cs) > 0 && !slices.Contains(cs, cv.Case) {
				continue
			}
			run, ok := convertRuns[cv.From+">"+cv.To]
			if !ok {
				return fmt.Errorf("no conversion %s → %s", cv.From, cv.To)
			}
			c, _ := benchmarks.CaseNamed(cv.Case)
			r, err := run(py, c, cv, size, cfg)
			if err != nil {
				return fmt.Errorf("case %s, %s → %s, %s: %w", cv.Case, cv.From, cv.To, size.Name, err)
			}
			cell := func(key string) string {
				if v, ok := r[key]; ok {
					return fmt.Sprintf("%.2f", v)
				}
				return "–"
			}
			fmt.Fprintf(out, "| %s | %s → %s | %s | %.0f | %s | %s | %s | %s | %.0f | %s | %s |\n", cv.Case, cv.From, cv.To, size.Name,
				r["ceiling/1"], cell("stridekit/1"), cell("numpy/1"), cell("torch/1"), cell("torch-float/1"), r["ceiling/2"], cell("stridekit/2"), cell("torch/2"))
		}
	}
	return nil
}

// convertRuns instantiates measureConvert for the pairs of Conversions.
var convertRuns = map[string]func(*pythons, benchmarks.Case, benchmarks.Conversion, benchmarks.Size, config) (map[string]float64, error){
	"bfloat16>float32": measureConvert[float32, reshape.BFloat16],
	"float16>float32":  measureConvert[float32, float16.Float16],
	"float32>bfloat16": measureConvert[reshape.BFloat16, float32],
	"int8>float32":     measureConvert[float32, int8],
}

// measureConvert runs the rounds of one conversion case and returns the
// median ratios to the ceiling ("torch/2") and the ceilings' GB/s
// ("ceiling/1").
func measureConvert[D, S reshape.Element](py *pythons, c benchmarks.Case, cv benchmarks.Conversion, size benchmarks.Size, cfg config) (map[string]float64, error) {
	from, to := int(unsafe.Sizeof(*new(S))), int(unsafe.Sizeof(*new(D)))
	c = c.Sized(size.Bytes, to)
	src, err := benchmarks.Build[S](c)
	if err != nil {
		return nil, err
	}
	dst := make([]D, c.Elements())
	bytes := c.ConvertBytes(from, to)
	in, outBuf := make([]byte, bytes/2), make([]byte, bytes/2)
	defer runtime.GC()
	req := map[string]any{"op": "build", "shape": c.Shape, "perm": c.Permutation, "slice": nil, "expand": c.Expand, "dtype": cv.From, "to": cv.To}
	for _, p := range py[1:] {
		if _, err := p.call(req); err != nil {
			return nil, err
		}
	}
	var crew benchmarks.Crew
	defer crew.Park()
	ratios := map[string][]float64{}
	ceilings := map[int][]float64{}
	for range cfg.rounds {
		ceiling := map[int]time.Duration{}
		for _, threads := range []int{1, 2} {
			crew.Ready(threads)
			viaCopy := timeFor(cfg.budget, func() { benchmarks.CopyParallel(&crew, outBuf, in, threads) })
			cached := timeFor(cfg.budget, func() { benchmarks.CopyCached(&crew, outBuf, in, threads) })
			crew.Park()
			ceiling[threads] = min(viaCopy, cached)
			ceilings[threads] = append(ceilings[threads], float64(bytes)/ceiling[threads].Seconds()/1e9)
		}
		for _, im := range []struct {
			name    string
			threads int
		}{{"stridekit", 1}, {"numpy", 1}, {"torch", 1}, {"torch-float", 1}, {"stridekit", 2}, {"torch", 2}} {
			var d time.Duration
			if im.name == "stridekit" {
				restore := benchmarks.SetWorkers(c, im.threads, 0)
				var runErr error
				d = timeFor(cfg.budget, func() {
					if err := reshape.ContiguousAs(dst, src); err != nil {
						runErr = err
					}
				})
				restore()
				if runErr != nil {
					return nil, runErr
				}
			} else {
				resp, err := py[im.threads].call(map[string]any{"op": "time", "impl": im.name, "budget_ms": cfg.budget.Seconds() * 1e3})
				if errors.Is(err, errNotTimed) {
					continue
				}
				if err != nil {
					return nil, err
				}
				d = time.Duration(resp["ns"].(float64))
			}
			key := fmt.Sprintf("%s/%d", im.name, im.threads)
			ratios[key] = append(ratios[key], ceiling[im.threads].Seconds()/d.Seconds())
		}
	}
	r := map[string]float64{}
	for threads, v := range ceilings {
		r[fmt.Sprintf("ceiling/%d", threads)] = median(v)
	}
	for key, v := range ratios {
		r[key] = median(v)
	}
	return r, nil
}
