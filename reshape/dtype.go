package reshape

import (
	"unsafe"

	"github.com/x448/float16"

	"github.com/stridekit/stridekit/generated"
)

// dtypeOf returns the registry row of T. The named types of the library are
// told apart by a type switch (no allocation: the operand is a nil pointer);
// a user's own type goes by its size.
func dtypeOf[T Element]() generated.DType {
	switch any((*T)(nil)).(type) {
	case *float32:
		return generated.Float32
	case *float64:
		return generated.Float64
	case *float16.Float16:
		return generated.Float16
	case *BFloat16:
		return generated.BFloat16
	case *int8:
		return generated.Int8
	case *uint8:
		return generated.Uint8
	case *int16:
		return generated.Int16
	case *uint16:
		return generated.Uint16
	case *int32:
		return generated.Int32
	case *uint32:
		return generated.Uint32
	case *int64:
		return generated.Int64
	case *uint64:
		return generated.Uint64
	}
	return bySize[unsafe.Sizeof(*new(T))]
}

// bySize is the registry row of a user's own type, such as type Logit
// float32: the unsigned integer of its size, whose kernels move the same bits.
// Every Element has one of these sizes.
var bySize = [9]generated.DType{1: generated.Uint8, 2: generated.Uint16, 4: generated.Uint32, 8: generated.Uint64}
