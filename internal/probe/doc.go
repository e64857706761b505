// Package probe asks one nameserver about one name over DNS, the way a
// resolver would, and checks that a node answers for a hostname as pmgtm
// requires before the parent may delegate to it.
package probe
