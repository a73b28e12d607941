package reshape

import (
	"encoding/binary"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/stridekit/stridekit/generated"
)

// TestCacheBudget checks the clamp behind DefaultStreamingThreshold: AMD's
// reported L3 capped at a CCD's 32 MiB, others' at 96 MiB, both floored at
// 1 MiB, and an unknown cache taken as 32 MiB.
func TestCacheBudget(t *testing.T) {
	for _, c := range []struct {
		llc  int
		amd  bool
		want int
	}{
		{0, false, 32 << 20},
		{0, true, 32 << 20},
		{-1, false, 32 << 20},
		{256 << 10, false, 1 << 20},
		{256 << 10, true, 1 << 20},
		{16 << 20, true, 16 << 20},
		{16 << 20, false, 16 << 20},
		{36 << 20, false, 36 << 20},
		{36 << 20, true, 32 << 20},
		{508 << 20, true, 32 << 20},
		{480 << 20, false, 96 << 20},
	} {
		assert.Equal(t, c.want, cacheBudget(c.llc, c.amd), "llc %d amd %v", c.llc, c.amd)
	}
	llc, amd := lastLevelCache()
	assert.Equal(t, cacheBudget(llc, amd)/4*3, DefaultStreamingThreshold())
	assert.GreaterOrEqual(t, DefaultStreamingThreshold(), 3<<20/4)
}

// TestVendorAMD checks generated.VendorAMD against the vendor string that
// CPUID leaf 0 spells in EBX, EDX and ECX, and that the kernels' tuning
// (generated.AMDTuned) starts out as it says.
func TestVendorAMD(t *testing.T) {
	_, ebx, ecx, edx, ok := generated.CPUID(0, 0)
	var vendor []byte
	for _, r := range []uint32{ebx, edx, ecx} {
		vendor = binary.LittleEndian.AppendUint32(vendor, r)
	}
	amd := ok && (string(vendor) == "AuthenticAMD" || string(vendor) == "HygonGenuine")
	assert.Equal(t, amd, generated.VendorAMD(), "vendor %q", vendor)
	if ok {
		assert.Equal(t, amd, generated.AMDTuned, "vendor %q", vendor)
	}
}
