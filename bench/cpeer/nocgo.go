//go:build !cgo

package cpeer

// Available reports whether this build has the C loops (it needs cgo).
const Available = false

// Compiler returns "" without cgo.
func Compiler() string { return "" }

// Name returns "" without cgo.
func Name(fast bool) string { return "" }

// Ops lists the operations the C loops cover: none without cgo.
var Ops []string

// Windows is a validated list of windows (see the cgo build).
type Windows struct{}

// NewWindows returns no windows without cgo.
func NewWindows(offs []int64, n, length int) Windows { return Windows{} }

// Kernel returns nil without cgo.
func Kernel[T float32 | float64](op string, fast bool) func(dst, x, y []T, w Windows, beta, g T) float64 {
	return nil
}

// Slice returns no windows without cgo.
func (w Windows) Slice(i, j int) Windows { return w }

// Len returns 0 without cgo.
func (w Windows) Len() int { return 0 }
