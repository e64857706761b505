// Package rollout orders the changes to a hostname so that the parent's NS
// set never names a node that does not answer for the hostname (no lame
// delegation): zones are pushed and verified before a node joins the set,
// and a node leaves the set before its zone is removed. It is plain Go: an
// Executor does the work, and tests check the order without Terraform.
package rollout
