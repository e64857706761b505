// Command pmgtm-failover-bench runs the failover benchmark; run it through
// .ci/bench-failover, which creates the network namespace it needs.
package main
