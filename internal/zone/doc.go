// Package zone is the model of one node's zone for a GTM hostname: what the
// agent's API accepts, stores and serves. It has no I/O and no framework
// types, so the agent and the provider share it and test it directly.
package zone
