//go:build !(armbe || arm64be || m68k || mips || mips64 || mips64p32 || ppc || ppc64 || s390 || s390x || shbe || sparc || sparc64)

package tensorfile

// hostBigEndian reports that this machine stores the most significant byte
// of a value first: not on this one.
const hostBigEndian = false
