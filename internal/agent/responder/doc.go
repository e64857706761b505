// Package responder answers DNS queries for the agent's zones straight from
// wire bytes. Every answer is pre-rendered per zone when the zone is loaded
// (owner names are compression pointers into the question), so the hot path
// parses a header and a name, does one map lookup per label, and copies
// bytes: no allocation and no miekg/dns on the hot path. miekg/dns is the
// reference the tests check it against.
package responder
