package tensorfile

// Limits bounds what Open accepts from a file's header, so that a broken or
// hostile file costs bounded time and memory to refuse. A field left zero
// (or negative) takes its default; OpenWith takes Limits, Open the
// defaults. A header over a limit fails with ErrHeader, naming the limit.
type Limits struct {
	// NPYHeader is the longest .npy header dictionary, in bytes, as
	// NumPy's max_header_size (numpy.load refuses longer ones unless told
	// otherwise): DefaultNPYHeader. A header that long holds a shape of
	// about 2,000 axes; raise it to read more.
	NPYHeader int
	// SafetensorsHeader is the longest safetensors JSON header, in bytes:
	// DefaultSafetensorsHeader, the reference implementation's limit.
	SafetensorsHeader int
	// Tensors is the most tensors a safetensors file may list:
	// DefaultTensors.
	Tensors int
	// Metadata is the longest __metadata__ of a safetensors file, in bytes
	// of its JSON text: DefaultMetadata.
	Metadata int
}

// The default Limits. Each is far above what real files hold (a model
// checkpoint lists thousands of tensors and a few KiB of metadata), and the
// safetensors header's is the format's own.
const (
	DefaultNPYHeader         = 10_000
	DefaultSafetensorsHeader = 100_000_000
	DefaultTensors           = 1 << 22
	DefaultMetadata          = 10_000_000
)

// orDefaults returns l with every unset field at its default.
func (l Limits) orDefaults() Limits {
	set := func(v *int, def int) {
		if *v <= 0 {
			*v = def
		}
	}
	set(&l.NPYHeader, DefaultNPYHeader)
	set(&l.SafetensorsHeader, DefaultSafetensorsHeader)
	set(&l.Tensors, DefaultTensors)
	set(&l.Metadata, DefaultMetadata)
	return l
}
