package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestPatches builds the arm64 test binary and checks that every arm64 mutant is
// patched, at the offset where the binary holds its original word (findPatches
// checks each), that writeWord refuses a word that is not there, and that a
// patch and its restore give back the pristine binary.
func TestPatches(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the arm64 test binary")
	}
	root := filepath.Join("..", "..")
	bin := filepath.Join(t.TempDir(), "arm64.test")
	if err := buildARM(root, bin); err != nil {
		t.Fatal(err)
	}
	ms := mutants(root, neonFile, armRules, map[string]bool{})
	ps, err := findPatches(bin, ms)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != len(ms) {
		t.Errorf("%d of the %d arm64 mutants are patched, want all", len(ps), len(ms))
	}
	nops := 0
	for i, m := range ms {
		p := ps[i]
		if m.rule == "drop a MOV" {
			nops++
			if p.to != armNOP {
				t.Errorf("%s:%d: %s patches %#08x, want the NOP %#08x", m.file, m.line, m.rule, p.to, armNOP)
			}
		}
		if p.from == p.to {
			t.Errorf("%s:%d: %s patches %#08x over itself", m.file, m.line, m.rule, p.to)
		}
	}
	if nops == 0 {
		t.Error("no drop-a-MOV mutant")
	}

	pristine, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	p := ps[len(ms)/2]
	if err := writeWord(bin, p.off+4, p.from, p.to); err == nil {
		t.Errorf("writeWord at the wrong offset %#x did not notice", p.off+4)
	}
	if err := writeWord(bin, p.off, p.from, p.to); err != nil {
		t.Fatal(err)
	}
	if err := writeWord(bin, p.off, p.from, p.to); err == nil {
		t.Error("writeWord patched over a word that was already patched")
	}
	if err := writeWord(bin, p.off, p.to, p.from); err != nil {
		t.Fatal(err)
	}
	restored, err := os.ReadFile(bin)
	if err != nil {
		t.Fatal(err)
	}
	if string(restored) != string(pristine) {
		t.Error("patch and restore did not give back the pristine binary")
	}

	// A crash is caught and named: an undefined instruction (0) in a kernel
	// that TestWeightedGolden runs.
	if _, err := exec.LookPath("qemu-aarch64"); err != nil {
		t.Skip("no qemu-aarch64 to check that a crash is caught")
	}
	for i, m := range ms {
		if strings.HasSuffix(m.desc, " in weightedSumF64NEONBlocks") {
			p := ps[i]
			if err := writeWord(bin, p.off, p.from, 0); err != nil {
				t.Fatal(err)
			}
			failed, why := runQemu(root, bin, "^TestWeightedGolden$")
			if !failed || !strings.HasPrefix(why, "crash: SIGILL") {
				t.Errorf("an undefined instruction at %s:%d: failed %v (%q), want a crash on SIGILL", m.file, m.line, failed, why)
			}
			break
		}
	}
}
