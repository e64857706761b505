//go:build !linux

package dnsserver

import "syscall"

const reusePortSupported = false

func setReusePort(string, string, syscall.RawConn) error { return nil }
