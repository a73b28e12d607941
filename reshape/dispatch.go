package reshape

import (
	"unsafe"

	"github.com/stridekit/stridekit/generated"
)

// kindOf picks the innermost loop from the innermost source stride.
func kindOf(innerStride int) generated.Kind {
	switch innerStride {
	case 1:
		return generated.Rows
	case 0:
		return generated.Broadcast
	}
	return generated.Gather
}

// dispatch copies the canonical view (cshape, cstrides) of dtype dt whose
// element [0, 0, ...] is at src into dst, row-major. The caller has validated
// the view, checked that dst holds all of it and does not overlap it.
//
// The kernel for (dt, rank, kind) runs; for a contiguous view, canonical
// rank 1 with stride 1, that is one copy() (the rank-1 Rows kernel). A view
// of rank above generated.MaxRank is an odometer over its leading axes, each
// step running the rank-MaxRank kernel on the trailing axes.
func dispatch(dt generated.DType, dst, src unsafe.Pointer, cshape, cstrides []int) {
	size := dt.Size()
	r := len(cshape)
	kind := kindOf(cstrides[r-1])
	lead := max(r-generated.MaxRank, 0) // axes the kernel does not cover
	var shape, strides [generated.MaxRank]int
	copy(shape[:], cshape[lead:])
	copy(strides[:], cstrides[lead:])
	kernel := generated.Registry[dt][r-lead][kind]
	if lead == 0 {
		kernel(dst, src, shape, strides)
		return
	}

	block := 1 // elements one kernel call writes
	for _, e := range shape {
		block *= e
	}
	var idxBuf [stackRank]int
	idx := idxBuf[:lead]
	d, o := 0, 0 // element offsets of the current block in dst and from src
	for {
		kernel(unsafe.Add(dst, d*size), unsafe.Add(src, o*size), shape, strides)
		d += block
		a := lead - 1
		for ; a >= 0; a-- { // odometer step over the leading axes
			idx[a]++
			o += cstrides[a]
			if idx[a] < cshape[a] {
				break
			}
			o -= cstrides[a] * cshape[a]
			idx[a] = 0
		}
		if a < 0 {
			return
		}
	}
}
