// Package bind runs a real BIND 9 (Debian package bind9) on loopback for
// tests: one primary zone that accepts TSIG-signed updates and transfers.
package bind
