//go:build !amd64

package main

var tests []test

func hasAVX512() bool { return false }
