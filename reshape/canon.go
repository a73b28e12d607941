package reshape

// stackRank is the number of axes canonicalisation handles without
// allocating. Views with more axes still work; their canonical form goes on
// the heap.
const stackRank = 16

// canonBuf is caller-owned (stack) room for a canonical shape and strides.
type canonBuf struct {
	shape, strides [stackRank]int
}

// canonicalise returns the canonical form of a valid, non-empty view: the
// same elements in the same row-major order, described with as few axes as
// possible. Size-1 axes are dropped (their stride never matters) and each
// axis is fused into the one before it when the pair walks memory as one
// axis would (outer stride == inner stride * inner extent; this fuses
// broadcast axes too, 0 == 0*e). At least one axis remains: a single element
// is [1] with stride 1. A contiguous view becomes rank 1 with stride 1.
//
// The result lives in buf unless the view has more than stackRank axes.
func canonicalise(buf *canonBuf, shape, strides []int) (cshape, cstrides []int) {
	cshape, cstrides = buf.shape[:0], buf.strides[:0]
	if len(shape) > stackRank {
		cshape, cstrides = make([]int, 0, len(shape)), make([]int, 0, len(shape))
	}
	if strides == nil { // row-major: the whole view is one run
		n := 1
		for _, e := range shape {
			n *= e
		}
		return append(cshape, n), append(cstrides, 1)
	}
	for a, e := range shape {
		if e == 1 {
			continue
		}
		st := strides[a]
		if r := len(cshape); r > 0 && cstrides[r-1] == st*e {
			cshape[r-1] *= e
			cstrides[r-1] = st
			continue
		}
		cshape, cstrides = append(cshape, e), append(cstrides, st)
	}
	if len(cshape) == 0 {
		return append(cshape, 1), append(cstrides, 1)
	}
	return cshape, cstrides
}

// contiguous reports whether a canonical view is one row-major run.
func contiguous(cshape, cstrides []int) bool {
	return len(cshape) == 1 && cstrides[0] == 1
}
