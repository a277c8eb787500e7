package main

import (
	"context"
	"debug/elf"
	"debug/gosym"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// armNOP is the arm64 NOP instruction: "drop a MOV" patches it over the MOV's
// word, which keeps every other instruction where it is.
const armNOP = 0xd503201f

// armTimeout bounds each qemu run: a mutant that makes a kernel loop forever is
// caught, not waited for.
const armTimeout = 10 * time.Minute

// stage1Tests are the quick tests run against each arm64 mutant first: the fuzz
// targets' seed corpora, the lane accumulator checks, the quick weighted checks
// (the weighted seeds are too short to reach the NEON blocks of the weighted
// kernels; TestWeightedLossOverflow has the float32 overflow ties,
// TestWeightedBoundaryIsLinear the ties at z == beta) and the row kernels' check
// (TestRowKernels), about 10 seconds under qemu when they pass.
// A mutant they catch needs no full run. Only those that the -run pattern selects are run, so that stage 1 fails
// only where the full run would.
var stage1Tests = regexp.MustCompile(`^(Fuzz.*|TestLaneAccumulators|TestLaneAccumulators32|TestWeightedGolden|TestWeightedMask|TestWeightedLanes|TestWeightedBoundary|TestWeightedBoundaryIsLinear|TestWeightedLossOverflow|TestRowKernels)$`)

// patch is where one arm64 mutant's instruction is in the test binary.
type patch struct {
	off      int64  // file offset of the instruction
	from, to uint32 // the original and the mutated instruction
}

// wordValue returns the instruction of a WORD line of the NEON assembly, or of
// NOP, and whether the line is one.
func wordValue(line string) (uint32, bool) {
	if strings.TrimSpace(line) == "NOP" {
		return armNOP, true
	}
	m := neonWord.FindStringSubmatch(line)
	if m == nil {
		return 0, false
	}
	w, err := strconv.ParseUint(m[2], 16, 32)
	check(err)
	return uint32(w), true
}

// buildARM builds the unmutated arm64 test binary of the repository copy dir
// into out.
func buildARM(dir, out string) error {
	build := exec.Command("go", "test", "-c", "-o", out, ".")
	build.Dir = dir
	build.Env = append(os.Environ(), "GOARCH=arm64", "GOOS=linux", "CGO_ENABLED=0")
	if b, err := build.CombinedOutput(); err != nil {
		return fmt.Errorf("%v: %s", err, strings.TrimSpace(string(b)))
	}
	return nil
}

// findPatches locates each WORD mutant's instruction in the arm64 test binary bin
// through its pcln table (the line of generated/kernels_arm64.s -> PC -> file
// offset in .text), and checks that the binary holds the original word there. It
// returns the patches by mutant index; a mutant that is not WORD -> WORD or NOP has
// none (it is rebuilt instead).
func findPatches(bin string, ms []mutant) (map[int]patch, error) {
	f, err := elf.Open(bin)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	text, pcln := f.Section(".text"), f.Section(".gopclntab")
	if text == nil || pcln == nil {
		return nil, errors.New(bin + ": no .text or .gopclntab section")
	}
	data, err := pcln.Data()
	if err != nil {
		return nil, err
	}
	var symtab []byte
	if s := f.Section(".gosymtab"); s != nil {
		if symtab, err = s.Data(); err != nil {
			return nil, err
		}
	}
	tab, err := gosym.NewTable(symtab, gosym.NewLineTable(data, text.Addr))
	if err != nil {
		return nil, err
	}
	// The table names the file as the compiler saw it (the path of the copy
	// it was built from).
	var name string
	for file := range tab.Files {
		if strings.HasSuffix(file, "/"+neonFile) {
			if name != "" {
				return nil, fmt.Errorf("%s: two files end in %s: %s and %s", bin, neonFile, name, file)
			}
			name = file
		}
	}
	if name == "" {
		return nil, fmt.Errorf("%s: the pcln table has no file ending in %s", bin, neonFile)
	}
	exe, err := os.Open(bin)
	if err != nil {
		return nil, err
	}
	defer exe.Close()
	patches := map[int]patch{}
	for i, m := range ms {
		if m.file != neonFile {
			continue
		}
		from, ok1 := wordValue(m.from)
		to, ok2 := wordValue(m.to)
		if !ok1 || !ok2 || strings.TrimSpace(m.from) == "NOP" {
			continue
		}
		pc, _, err := tab.LineToPC(name, m.line)
		if err != nil {
			return nil, fmt.Errorf("%s:%d: %v", m.file, m.line, err)
		}
		if pc < text.Addr || pc+4 > text.Addr+text.Size {
			return nil, fmt.Errorf("%s:%d: pc %#x outside .text", m.file, m.line, pc)
		}
		p := patch{off: int64(pc-text.Addr) + int64(text.Offset), from: from, to: to}
		if err := verifyWord(exe, p.off, from); err != nil {
			return nil, fmt.Errorf("%s:%d (pc %#x): %v", m.file, m.line, pc, err)
		}
		patches[i] = p
	}
	return patches, nil
}

// verifyWord checks that the file holds the instruction w at offset off.
func verifyWord(f *os.File, off int64, w uint32) error {
	var b [4]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		return err
	}
	if got := binary.LittleEndian.Uint32(b[:]); got != w {
		return fmt.Errorf("the binary holds %#08x at offset %#x, not the WORD's %#08x: the line -> offset mapping is wrong", got, off, w)
	}
	return nil
}

// writeWord replaces the instruction from at offset off of the file bin by to,
// after checking that from is there.
func writeWord(bin string, off int64, from, to uint32) error {
	f, err := os.OpenFile(bin, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	if err := verifyWord(f, off, from); err != nil {
		f.Close()
		return err
	}
	var b [4]byte
	binary.LittleEndian.PutUint32(b[:], to)
	if _, err := f.WriteAt(b[:], off); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// crash matches the first line of a crash report: the Go runtime's for a fatal
// signal (e.g. SIGILL: illegal instruction) or a fatal error, or qemu's for a signal
// the program did not handle.
var crash = regexp.MustCompile(`(?m)^(SIG[A-Z]+: .*|fatal error: .*|qemu: uncaught target signal.*)$`)

// runQemu runs the arm64 test binary bin under qemu-aarch64 (automatic dispatch
// must pick neon) with the tests matching pattern, in dir. It reports whether
// they failed (a crash or a hang is a failure) and, for a crash or hang, what.
func runQemu(dir, bin, pattern string) (failed bool, why string) {
	ctx, cancel := context.WithTimeout(context.Background(), armTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, "qemu-aarch64", bin, "-test.count=1", "-test.short", "-test.failfast", "-test.run", pattern)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "SMOOTHL1_IMPL=", "SMOOTHL1_EXPECT=neon")
	cmd.WaitDelay = 10 * time.Second
	out, err := cmd.CombinedOutput()
	switch {
	case err == nil:
		return false, ""
	case ctx.Err() != nil:
		return true, fmt.Sprintf("hang: no result in %v", armTimeout)
	case crash.Match(out):
		return true, "crash: " + strings.TrimSpace(string(crash.Find(out)))
	}
	return true, ""
}

// runARM tests an arm64 mutant in two stages: the quick tests stage1 (if any),
// and, only if they pass, the tests, as the single-stage run does; an
// expected-equivalent mutant that passes stage 1 runs the tests only if full. With p, the
// mutant is the word p patched into the scratch copy's binary bin; without, the
// scratch copy's assembly is mutated and rebuilt.
func runARM(scratch, bin string, m mutant, p *patch, stage1, tests string, full bool) string {
	if p != nil {
		check(writeWord(bin, p.off, p.from, p.to))
		defer func() { check(writeWord(bin, p.off, p.to, p.from)) }()
	} else {
		defer apply(scratch, m)()
		bin = filepath.Join(scratch, "rebuilt-arm64.test")
		if err := buildARM(scratch, bin); err != nil {
			return "CAUGHT (does not build: " + err.Error() + ")"
		}
	}
	if stage1 != "" {
		if failed, why := runQemu(scratch, bin, stage1); failed {
			if why != "" {
				return "CAUGHT (stage 1; " + why + ")"
			}
			return "CAUGHT (stage 1)"
		}
		if m.reason != "" && !full {
			return "survived stage 1 (expected: " + m.reason + ")"
		}
	}
	if failed, why := runQemu(scratch, bin, tests); failed {
		if why != "" {
			return "CAUGHT (" + why + ")"
		}
		return "CAUGHT"
	}
	if m.reason != "" {
		return "survived (expected: " + m.reason + ")"
	}
	return "SURVIVED"
}
