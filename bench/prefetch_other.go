//go:build !amd64 || purego

package main

import "fmt"

func setPrefetch(pf string) error {
	if pf != "" {
		return fmt.Errorf("prefetch=%s: only the amd64 assembly has a prefetch variant", pf)
	}
	return nil
}

func prefetchNote() string { return "" }
