// Package api is the agent's admin API: zones in and out, health, metrics.
package api
