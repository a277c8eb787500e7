module github.com/gokernels/smoothl1/bench

go 1.26.0

require github.com/gokernels/smoothl1 v0.0.0

require golang.org/x/sys v0.50.0 // indirect

replace github.com/gokernels/smoothl1 => ../
