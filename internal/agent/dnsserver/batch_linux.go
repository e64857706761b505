//go:build linux && (amd64 || arm64)

package dnsserver

import (
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"
)

// batchSize is how many datagrams one recvmmsg/sendmmsg call moves. Under
// load a batch fills and the per-packet system-call cost is divided by it;
// when idle a call returns with whatever arrived.
const batchSize = 32

// Room for a query (real ones are well under 1 KiB; larger ones get a
// truncated answer, see below) and for an answer before truncation (16 NS
// names of 255 octets fit).
const (
	batchReqSize  = 4096
	batchRespSize = 8192
)

// mmsghdr is struct mmsghdr from <sys/socket.h> on 64-bit Linux.
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
	_   [4]byte
}

type batch struct {
	recv     [batchSize]mmsghdr
	recvIov  [batchSize]unix.Iovec
	names    [batchSize]unix.RawSockaddrInet6 // large enough for IPv4 too
	send     [batchSize]mmsghdr
	sendIov  [batchSize]unix.Iovec
	reqs     [batchSize][batchReqSize]byte
	resps    [batchSize][]byte
	received int
}

// clientAddr reads the client's address from a raw socket address.
func clientAddr(raw *unix.RawSockaddrInet6) netip.Addr {
	if raw.Family == unix.AF_INET {
		v4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(raw))
		return netip.AddrFrom4(v4.Addr)
	}
	return netip.AddrFrom16(raw.Addr)
}

// batchSupported reports whether udpBatchLoop can run here.
const batchSupported = true

// udpBatchLoop answers on conn with recvmmsg and sendmmsg until it is
// closed. It serves a socket bound to one address, so answers leave from
// that address without packet info.
func (s *Server) udpBatchLoop(conn *net.UDPConn) {
	rc, err := conn.SyscallConn()
	if err != nil {
		s.udpLoop(conn, false)
		return
	}
	b := new(batch)
	for i := range b.resps {
		b.resps[i] = make([]byte, 0, batchRespSize)
	}
	for {
		if !b.receive(rc) {
			return
		}
		tab := s.Table()
		n := 0
		for i := 0; i < b.received; i++ {
			m := &b.recv[i]
			req := b.reqs[i][:m.len]
			tooLarge := m.hdr.Flags&unix.MSG_TRUNC != 0
			if tooLarge {
				// Larger than the buffer (no real query is, but the other
				// paths answer it): answer its header and question,
				// truncated, so the client asks again over TCP. Buffers of
				// 64 KiB per slot would cost megabytes per socket instead.
				binary.BigEndian.PutUint32(req[4:], 1<<16) // QDCOUNT=1, ANCOUNT=0
				binary.BigEndian.PutUint32(req[8:], 0)     // NSCOUNT=0, ARCOUNT=0
			}
			var client netip.Addr
			if s.Limiter != nil { // only the limiter needs it
				client = clientAddr(&b.names[i])
			}
			resp := s.answer(tab, req, b.resps[i], client, false, tooLarge)
			if resp == nil {
				continue
			}
			b.sendIov[n] = unix.Iovec{Base: &resp[0]}
			b.sendIov[n].SetLen(len(resp))
			b.send[n].hdr = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&b.names[i])), Namelen: m.hdr.Namelen, Iov: &b.sendIov[n]}
			b.send[n].hdr.SetIovlen(1)
			n++
		}
		if !b.transmit(rc, n) {
			return
		}
	}
}

// receive waits for datagrams and reads up to batchSize of them. It returns
// false once the socket is closed.
func (b *batch) receive(rc syscall.RawConn) bool {
	for i := range b.recv {
		b.recvIov[i] = unix.Iovec{Base: &b.reqs[i][0]}
		b.recvIov[i].SetLen(batchReqSize)
		b.recv[i].hdr = unix.Msghdr{Name: (*byte)(unsafe.Pointer(&b.names[i])),
			Namelen: uint32(unsafe.Sizeof(b.names[i])), Iov: &b.recvIov[i]}
		b.recv[i].hdr.SetIovlen(1)
	}
	for {
		var got uintptr
		var errno syscall.Errno
		err := rc.Read(func(fd uintptr) bool {
			got, _, errno = unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.recv[0])),
				batchSize, unix.MSG_DONTWAIT, 0, 0)
			return errno != unix.EAGAIN
		})
		if err != nil {
			return false // closed
		}
		if errno == 0 {
			b.received = int(got)
			return true
		}
		// ECONNREFUSED and the like report an earlier ICMP error: go on.
	}
}

// transmit sends the first n prepared answers. It returns false once the
// socket is closed.
func (b *batch) transmit(rc syscall.RawConn, n int) bool {
	for sent := 0; sent < n; {
		var done uintptr
		var errno syscall.Errno
		err := rc.Write(func(fd uintptr) bool {
			done, _, errno = unix.Syscall6(unix.SYS_SENDMMSG, fd, uintptr(unsafe.Pointer(&b.send[sent])),
				uintptr(n-sent), unix.MSG_DONTWAIT, 0, 0)
			return errno != unix.EAGAIN
		})
		if err != nil {
			return !errors.Is(err, net.ErrClosed)
		}
		if errno != 0 {
			sent++ // this one cannot be sent (e.g. unreachable): skip it
			continue
		}
		sent += int(done)
	}
	return true
}
