// Package agentclient talks to a pmgtm agent's admin API. The provider and
// the tests use it.
package agentclient
