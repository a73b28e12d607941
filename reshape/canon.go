package reshape

// stackRank bounds the rank of a canonical view, so canonicalisation and
// dispatch never allocate. Only axes of extent 2 or more survive
// canonicalisation, and a non-empty view of k such axes has at least 2^k
// elements; the element count fits in an int, so k ≤ 62.
const stackRank = 64

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
// The result lives in buf (see stackRank).
func canonicalise(buf *canonBuf, shape, strides []int) (cshape, cstrides []int) {
	cshape, cstrides = buf.shape[:0], buf.strides[:0]
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
