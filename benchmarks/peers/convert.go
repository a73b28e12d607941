package main

import (
	"fmt"
	"io"
	"runtime"
	"slices"
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

// convertImpls are the columns of the conversion table: torch-float is
// the allocating view.float() a PyTorch user writes.
var convertImpls = []impl{
	{"stridekit", 1}, {"numpy", 1}, {"torch", 1}, {"torch-float", 1},
	{"stridekit", 2}, {"torch", 2},
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
	if err := build(py, c, cv.From, cv.To); err != nil {
		return nil, err
	}
	ceilings, r, err := measureRounds(py, cfg, c, convertImpls, outBuf, in, float64(bytes), func() error {
		return reshape.ContiguousAs(dst, src)
	})
	if err != nil {
		return nil, err
	}
	for threads, v := range ceilings {
		r[fmt.Sprintf("ceiling/%d", threads)] = v
	}
	return r, nil
}
