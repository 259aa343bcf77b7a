// Package repocheck holds tests over the repository as a whole: the import
// rules of ARCHITECTURE.md, package documentation, and short fuzz runs of
// every fuzz target. It has no non-test code.
package repocheck
