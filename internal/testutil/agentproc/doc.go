// Package agentproc builds the real pmgtm-agent binary and runs it on
// loopback for tests: the tests talk to it only through its sockets.
package agentproc
