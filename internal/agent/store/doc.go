// Package store keeps the agent's zones: durable on disk (one file per zone,
// written so that an acknowledged change survives kill -9 and power loss)
// and served from an immutable table swapped atomically on every change.
package store
