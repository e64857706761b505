// Command pmgtm-provider-bench runs the provider benchmark (make
// bench-provider) and prints Markdown for BENCHMARKS.md.
package main
