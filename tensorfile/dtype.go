package tensorfile

import (
	"reflect"

	"github.com/x448/float16"

	"github.com/stridekit/stridekit/reshape"
)

// DType is the element type of an Array, known only when the file is read.
// The zero value, Invalid, marks a dtype the file names but this package
// does not support (Array.Descr then says which).
type DType uint8

// The supported dtypes.
const (
	Invalid  DType = iota // a dtype this package does not support
	Float16               // IEEE 754 half: .npy f2, safetensors F16, Go float16.Float16
	BFloat16              // bfloat16: safetensors BF16, Go reshape.BFloat16; .npy has none
	Float32               // .npy f4, safetensors F32
	Float64               // .npy f8, safetensors F64
	Int8                  // .npy i1, safetensors I8
	Uint8                 // .npy u1, safetensors U8
	Int16                 // .npy i2, safetensors I16
	Uint16                // .npy u2, safetensors U16
	Int32                 // .npy i4, safetensors I32
	Uint32                // .npy u4, safetensors U32
	Int64                 // .npy i8, safetensors I64
	Uint64                // .npy u8, safetensors U64

	// The opaque dtypes: elements of one byte whose bits stridekit never
	// interprets. A reshape moves them as uint8 and the result keeps the
	// dtype; they convert to no other dtype.
	Float8E4M3 // safetensors F8_E4M3 (PyTorch float8_e4m3fn); .npy has none
	Float8E5M2 // safetensors F8_E5M2 (PyTorch float8_e5m2); .npy has none
	Bool       // .npy b1, safetensors BOOL: one byte, 0 or 1
	numDTypes
)

// dtypeInfo is one row of the dtype table: every name a dtype goes by.
type dtypeInfo struct {
	name  string // Go-style name, as String prints it
	size  int    // bytes per element
	npy   string // .npy kind and size without the byte-order character, "" if none
	safet string // safetensors dtype name
}

// dtypes is the table every conversion between names reads; it is indexed by
// DType.
var dtypes = [numDTypes]dtypeInfo{
	Invalid:  {name: "invalid"},
	Float16:  {"float16", 2, "f2", "F16"},
	BFloat16: {"bfloat16", 2, "", "BF16"}, // NumPy has no bfloat16 dtype
	Float32:  {"float32", 4, "f4", "F32"},
	Float64:  {"float64", 8, "f8", "F64"},
	Int8:     {"int8", 1, "i1", "I8"},
	Uint8:    {"uint8", 1, "u1", "U8"},
	Int16:    {"int16", 2, "i2", "I16"},
	Uint16:   {"uint16", 2, "u2", "U16"},
	Int32:    {"int32", 4, "i4", "I32"},
	Uint32:   {"uint32", 4, "u4", "U32"},
	Int64:    {"int64", 8, "i8", "I64"},
	Uint64:   {"uint64", 8, "u8", "U64"},

	Float8E4M3: {"float8_e4m3fn", 1, "", "F8_E4M3"},
	Float8E5M2: {"float8_e5m2", 1, "", "F8_E5M2"},
	Bool:       {"bool", 1, "b1", "BOOL"},
}

// DTypes returns every numeric dtype, those that convert into one another,
// in the order of the constants: Float16 to Uint64. OpaqueDTypes are the
// others.
func DTypes() []DType {
	out := make([]DType, 0, Uint64)
	for d := Float16; d <= Uint64; d++ {
		out = append(out, d)
	}
	return out
}

// OpaqueDTypes returns the dtypes whose one-byte elements move without
// being interpreted: Float8E4M3, Float8E5M2 and Bool.
func OpaqueDTypes() []DType { return []DType{Float8E4M3, Float8E5M2, Bool} }

// Opaque reports whether d is one of OpaqueDTypes.
func (d DType) Opaque() bool { return d >= Float8E4M3 && d < numDTypes }

func (d DType) info() dtypeInfo {
	if d >= numDTypes {
		return dtypes[Invalid]
	}
	return dtypes[d]
}

// String returns the Go-style name: "float32", "bfloat16", "invalid".
func (d DType) String() string { return d.info().name }

// Size returns the bytes per element, 0 for Invalid.
func (d DType) Size() int { return d.info().size }

// NPY returns the .npy descr string of d, "<f4" or "|u1", and false when
// .npy has no such dtype (BFloat16, the 8-bit floats, Invalid).
func (d DType) NPY() (string, bool) {
	i := d.info()
	if i.npy == "" {
		return "", false
	}
	if i.size == 1 {
		return "|" + i.npy, true
	}
	return "<" + i.npy, true
}

// Safetensors returns the safetensors dtype name of d, "F32", or "" for
// Invalid.
func (d DType) Safetensors() string { return d.info().safet }

// dtypeFromSafetensors returns the dtype of a safetensors name, Invalid if
// unsupported.
func dtypeFromSafetensors(name string) DType {
	for d := Float16; d < numDTypes; d++ {
		if dtypes[d].safet == name {
			return d
		}
	}
	return Invalid
}

// DTypeOf returns the dtype of the Go element type T: float16.Float16 is
// Float16, reshape.BFloat16 is BFloat16, and any other type goes by its
// underlying kind (so a type Logit float32 is Float32 and a bare uint16 is
// Uint16).
func DTypeOf[T reshape.Element]() DType {
	switch any((*T)(nil)).(type) {
	case *float16.Float16:
		return Float16
	case *reshape.BFloat16:
		return BFloat16
	}
	switch reflect.TypeFor[T]().Kind() {
	case reflect.Float32:
		return Float32
	case reflect.Float64:
		return Float64
	case reflect.Int8:
		return Int8
	case reflect.Uint8:
		return Uint8
	case reflect.Int16:
		return Int16
	case reflect.Uint16:
		return Uint16
	case reflect.Int32:
		return Int32
	case reflect.Uint32:
		return Uint32
	case reflect.Int64:
		return Int64
	case reflect.Uint64:
		return Uint64
	}
	return Invalid
}
