package reshape

import (
	"reflect"

	"github.com/x448/float16"

	"github.com/stridekit/stridekit/generated"
)

// dtypeOf returns the registry row of T. The named types of the library are
// told apart by a type switch (no allocation: the operand is a nil pointer);
// a user's own type, such as type Logit float32, goes by its underlying kind.
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
	return kindDTypes[reflect.TypeFor[T]().Kind()]
}

// kindDTypes maps the underlying kind of any Element to a dtype of its size.
var kindDTypes = map[reflect.Kind]generated.DType{
	reflect.Float32: generated.Float32,
	reflect.Float64: generated.Float64,
	reflect.Int8:    generated.Int8,
	reflect.Uint8:   generated.Uint8,
	reflect.Int16:   generated.Int16,
	reflect.Uint16:  generated.Uint16,
	reflect.Int32:   generated.Int32,
	reflect.Uint32:  generated.Uint32,
	reflect.Int64:   generated.Int64,
	reflect.Uint64:  generated.Uint64,
}
