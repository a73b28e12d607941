package reshape

import (
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/stridekit/stridekit/generated"
)

// splitSetting runs f with the parallel path forced for every size.
func splitSetting(t *testing.T, workers int, f func()) {
	t.Helper()
	defer SetMaxWorkers(SetMaxWorkers(workers))
	defer SetParallelThreshold(SetParallelThreshold(1))
	f()
}

// TestSplitAllocations checks a split copy allocates nothing once the
// helpers exist, with two and three workers.
func TestSplitAllocations(t *testing.T) {
	data := make([]float32, 64*48*32)
	view, err := New(data, 64, 48, 32)
	require.NoError(t, err)
	view, err = view.Permute(1, 0, 2)
	require.NoError(t, err)
	dst := make([]float32, len(data))
	for _, workers := range []int{2, 3} {
		splitSetting(t, workers, func() {
			require.Zero(t, testing.AllocsPerRun(20, func() { _ = Contiguous(dst, view) }), "%d workers", workers)
		})
	}
}

// TestHelpersPark checks that helpers stop polling once copies stop: a
// program that no longer copies uses no CPU.
func TestHelpersPark(t *testing.T) {
	data := make([]float32, 1<<16)
	view, err := New(data, 256, 256)
	require.NoError(t, err)
	view, err = view.Permute(1, 0)
	require.NoError(t, err)
	dst := make([]float32, len(data))
	splitSetting(t, 3, func() { require.NoError(t, Contiguous(dst, view)) })
	deadline := time.Now().Add(time.Second)
	for {
		crew.busy.Lock()
		parked := len(crew.helpers) >= 2
		for _, h := range crew.helpers {
			parked = parked && h.parked.Load()
		}
		crew.busy.Unlock()
		if parked {
			break
		}
		require.True(t, time.Now().Before(deadline), "helpers still polling a second after the last copy (%v spin)", helperSpin)
		time.Sleep(helperSpin)
	}
	// Parked helpers wake for the next copy.
	want := make([]float32, len(data))
	referenceCopy(want, view.Data, view.Shape, view.Strides, view.Offset)
	splitSetting(t, 3, func() { require.NoError(t, Contiguous(dst, view)) })
	require.Equal(t, want, dst)
}

// TestHelperPanic checks a panic in a part reaches the caller, whether the
// caller or a helper copied it, once every part has finished, and that the
// helpers serve the next copy.
func TestHelperPanic(t *testing.T) {
	dst := make([]byte, 4096)
	src := make([]byte, 4096)
	crew.busy.Lock()
	crew.job = splitJob{op: copyOp{dt: generated.NumDTypes}, dst: unsafe.Pointer(&dst[0]), src: unsafe.Pointer(&src[0]), r: 1, p: 0, unitBytes: 1}
	crew.job.shape[0], crew.job.strides[0] = 4096, 1
	got := func() (v any) {
		defer func() { v = recover() }()
		runSplit([]int{0, 0, 0, 4096}) // the helpers' parts are empty, the caller's is bad
		return nil
	}()
	require.NotNil(t, got, "the caller's own panic was lost")
	require.Nil(t, crew.failure.Load(), "a helper with an empty part failed")
	got = func() (v any) {
		defer func() { v = recover() }()
		runSplit([]int{0, 2048, 4096, 4096}) // a helper's part of a bad dtype, the caller's empty
		return nil
	}()
	crew.busy.Unlock()
	require.NotNil(t, got, "the panic of a helper's part was lost")
	require.Nil(t, crew.failure.Load(), "the panic was not cleared")

	// The next copy runs on the same helpers.
	data := make([]float32, 1<<14)
	for i := range data {
		data[i] = float32(i)
	}
	view, err := New(data, 128, 128)
	require.NoError(t, err)
	view, err = view.Permute(1, 0)
	require.NoError(t, err)
	out := make([]float32, len(data))
	splitSetting(t, 3, func() { require.NoError(t, Contiguous(out, view)) })
	want := make([]float32, len(data))
	referenceCopy(want, view.Data, view.Shape, view.Strides, view.Offset)
	require.Equal(t, want, out)
}
