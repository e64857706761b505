// Package rrl is response rate limiting for the agent's UDP answers, in the
// style of BIND's RRL: answers of one kind (zone and response class) to one
// client prefix are limited to a rate; beyond it most are dropped and every
// Slip-th is sent truncated, so a legitimate client behind a spoofed flood
// retries over TCP (which cannot be spoofed) and still gets its answer. The
// table has a fixed number of slots, so memory stays bounded whatever the
// flood's variety.
package rrl
