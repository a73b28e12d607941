package reshape

import (
	"sync/atomic"

	"github.com/stridekit/stridekit/generated"
)

// The store policy: a copy whose result fits the cache writes it with
// ordinary stores, and it stays in the cache for whatever reads it next; a
// copy far larger than the cache writes it with non-temporal stores, which
// go to memory without first reading each destination line into the cache
// (a copy with ordinary stores reads the destination once, writes it
// once, and evicts what the cache held). The runtime's copy() makes this
// choice at a fixed 1 MiB on amd64, which sends copies of 1-16 MiB, that
// would have stayed in the cache, to memory.
//
// What has to fit is the copy's footprint: the result and the source it
// reads, which is about as large as the result, or less when the view
// repeats its elements (a broadcast). The crossover rests on these measurements, on the 2-vCPU
// EPYC VM (32 MiB of L3; medians; GB/s counts bytes read plus bytes
// written): a contiguous copy with ordinary stores against non-temporal
// ones moved 4 MiB (an 8 MiB footprint) at 80-95 against 72, 8 MiB at 63-80
// against 65, 16 MiB at 52-60 against 65-69, and 64 MiB at 36-38 against
// 42-48; a copy of rows of 256 bytes ([B,12,128,64] float32 permuted to
// [B,128,12,64]) moved 4.2 MB at 87 against 65 and 12.6 MB (a 25 MB
// footprint) at 54 against 68. A broadcast, whose source stays small,
// moved a 16 MiB result at 118 GB/s with ordinary stores (NumPy's copy)
// against 47-58 with non-temporal ones. Ordinary stores win up to a
// footprint of about 16-24 MiB there, so the default threshold is three
// quarters of the last-level cache.
//
// On the 2-vCPU Intel Xeon VM (reporting a 480 MiB L3, the socket's) the
// same permuted copy, one worker, GB/s of the result alone, ordinary
// against non-temporal stores, with the destination not in the cache: 16
// MiB 14.6-15.3 against 14.2-15.3, 32 MiB 13.5-14.9 against 13.9-14.9, 48
// MiB 11.8-13.2 against 13.8-13.9, 64 MiB 7.2-11.4 against 13.9-14.0, 128
// MiB 3.2-7.7 against 12.8-12.9. With the destination dirty in the cache
// (the previous copy wrote it) non-temporal stores must first evict each
// line: 16 MiB 14.6-15.8 against 10.5-11.1, 64 MiB even. The crossover
// there lies at a footprint of 64-96 MiB, and the threshold of 24 MiB that
// the EPYC's 32 MiB gives cost the suite's 16 MiB row copies 2.5x.

// streamingThreshold is the setting of SetStreamingThreshold, in bytes.
var streamingThreshold atomic.Int64

// defaultStreamingThreshold is DefaultStreamingThreshold, found once.
var defaultStreamingThreshold = cacheBudget(lastLevelCache()) / 4 * 3

func init() { streamingThreshold.Store(int64(defaultStreamingThreshold)) }

// DefaultStreamingThreshold returns the footprint in bytes (see
// SetStreamingThreshold) from which copies write with non-temporal stores
// unless SetStreamingThreshold says otherwise: three quarters of the
// last-level cache that CPUID reports on amd64, taken between 1 MiB and
// 32 MiB on AMD (an EPYC's L3 is 32 MiB per CCD, and virtual machines
// report odd caches: the 2-vCPU EPYC VM reports a 508 MiB L3, the whole
// host's) and between 1 MiB and 96 MiB elsewhere (an Intel server's L3 is
// shared by all its cores; on a Xeon VM that reports 480 MiB ordinary
// stores kept up to a footprint of 64-96 MiB), or three quarters of
// 32 MiB where the cache is not known.
func DefaultStreamingThreshold() int { return defaultStreamingThreshold }

// SetStreamingThreshold sets the footprint in bytes from which a copy
// writes its result with non-temporal stores, and returns the previous
// setting; bytes <= 0 restores DefaultStreamingThreshold. A copy's
// footprint is its result plus the source it reads, counted as the smaller
// of the result and the span of the source the view reaches (from its
// lowest to its highest element): a permuted copy of a 4 MiB tensor has an
// 8 MiB footprint, a broadcast of a small source little more than its
// result. Non-temporal stores write the result to memory without reading
// it into the cache first: faster for a copy far larger than the cache,
// slower for one that fits, and the result is then not in the cache for its
// next reader. Set it lower when several goroutines copy at once and share
// the cache, higher when the result is read again at once. The row copies
// and whole contiguous runs have non-temporal forms (on amd64 with AVX2),
// and so do the transposes' tiles where the destination rows are whole
// aligned lines, which there also prefetch each source row's next line.
// The gathers and fills write with ordinary stores at every size. The setting is global and safe to change concurrently with copies;
// a copy reads it once when it starts.
func SetStreamingThreshold(bytes int) (previous int) {
	if bytes <= 0 {
		bytes = defaultStreamingThreshold
	}
	return int(streamingThreshold.Swap(int64(bytes)))
}

// streams reports whether a copy of this footprint writes with non-temporal
// stores.
func streams(footprint int) bool {
	return int64(footprint) >= streamingThreshold.Load()
}

// The bounds of the cache budget: CPUID's last-level cache, taken between
// them. An AMD core reaches no more than its CCD's L3 (32 MiB on an EPYC),
// and a VM may report its host's. An Intel core reaches the whole of its
// socket's shared L3, but in a VM it shares that with every other tenant:
// the cap is where ordinary stores stopped winning on the Xeon VM (see the
// store policy above).
const (
	minCacheBudget     = 1 << 20
	maxCacheBudgetAMD  = 32 << 20
	maxCacheBudget     = 96 << 20
	unknownCacheBudget = maxCacheBudgetAMD
)

// cacheBudget clamps a last-level cache size in bytes (0 for unknown) to the
// bounds above, those of an AMD core when amd is true.
func cacheBudget(llc int, amd bool) int {
	if llc <= 0 {
		return unknownCacheBudget
	}
	most := maxCacheBudget
	if amd {
		most = maxCacheBudgetAMD
	}
	return min(max(llc, minCacheBudget), most)
}

// lastLevelCache returns the size in bytes of the largest data or unified
// cache that CPUID describes, and whether the CPU is AMD's or Hygon's; the
// size is 0 where there is no CPUID or it says
// nothing: the deterministic cache parameters of leaf 4 (Intel) or
// 0x8000001D (AMD and Hygon, with topology extensions), else AMD's leaf
// 0x80000006.
func lastLevelCache() (size int, amd bool) {
	maxLeaf, _, _, _, ok := generated.CPUID(0, 0)
	if !ok {
		return 0, false
	}
	if amd = generated.VendorAMD(); !amd {
		if maxLeaf < 4 {
			return 0, false
		}
		return deterministicCaches(4), false
	}
	maxExt, _, _, _, _ := generated.CPUID(0x80000000, 0)
	if maxExt >= 0x8000001d {
		if _, _, features, _, _ := generated.CPUID(0x80000001, 0); features&(1<<22) != 0 { // TopologyExtensions
			if size := deterministicCaches(0x8000001d); size > 0 {
				return size, true
			}
		}
	}
	if maxExt >= 0x80000006 {
		_, _, l2, l3, _ := generated.CPUID(0x80000006, 0)
		return max(int(l3>>18)*512<<10, int(l2>>16)<<10), true
	}
	return 0, true
}

// deterministicCaches returns the largest data or unified cache listed by
// the subleaves of a deterministic cache parameters leaf (4 or 0x8000001D,
// which share their layout), or 0.
func deterministicCaches(leaf uint32) int {
	largest := 0
	for sub := uint32(0); sub < 16; sub++ {
		eax, ebx, ecx, _, _ := generated.CPUID(leaf, sub)
		switch eax & 0x1f {
		case 0: // no more caches
			return largest
		case 2: // instruction cache
			continue
		}
		ways := int(ebx>>22) + 1
		partitions := int(ebx>>12&0x3ff) + 1
		line := int(ebx&0xfff) + 1
		sets := int(ecx) + 1
		largest = max(largest, ways*partitions*line*sets)
	}
	return largest
}
