//go:build !linux && !darwin

package reshape

// physicalMemory returns 0: the memory of the machine is not looked up on
// this platform, and the allocation cap is what one allocation can hold.
func physicalMemory() uint64 { return 0 }
