package dnsserver

import (
	"errors"
	"net"
	"syscall"
	"unsafe"
)

// enablePacketInfo asks for the destination address of every datagram. A
// socket bound to "::" is dual-stack: IPv4 queries on it carry IP_PKTINFO,
// IPv6 ones IPV6_PKTINFO, so both are enabled where they apply.
func enablePacketInfo(conn *net.UDPConn) error {
	raw, err := conn.SyscallConn()
	if err != nil {
		return err
	}
	var err4, err6 error
	if cerr := raw.Control(func(fd uintptr) {
		err4 = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IP, syscall.IP_PKTINFO, 1)
		err6 = syscall.SetsockoptInt(int(fd), syscall.IPPROTO_IPV6, syscall.IPV6_RECVPKTINFO, 1)
	}); cerr != nil {
		return cerr
	}
	if err4 != nil && err6 != nil {
		return errors.Join(err4, err6)
	}
	return nil
}

// replySource turns the packet info of a query into the control message
// that makes the answer leave from the address the query was sent to.
func replySource(oob []byte) []byte {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return nil
	}
	for _, m := range msgs {
		switch {
		case m.Header.Level == syscall.IPPROTO_IP && m.Header.Type == syscall.IP_PKTINFO &&
			len(m.Data) >= syscall.SizeofInet4Pktinfo:
			var info syscall.Inet4Pktinfo
			// in_pktinfo: ifindex, spec_dst, addr (the query's destination)
			copy(info.Spec_dst[:], m.Data[8:12])
			return cmsg(syscall.IPPROTO_IP, syscall.IP_PKTINFO, unsafe.Pointer(&info), syscall.SizeofInet4Pktinfo)
		case m.Header.Level == syscall.IPPROTO_IPV6 && m.Header.Type == syscall.IPV6_PKTINFO &&
			len(m.Data) >= syscall.SizeofInet6Pktinfo:
			var info syscall.Inet6Pktinfo
			copy(info.Addr[:], m.Data[:16])
			return cmsg(syscall.IPPROTO_IPV6, syscall.IPV6_PKTINFO, unsafe.Pointer(&info), syscall.SizeofInet6Pktinfo)
		}
	}
	return nil
}

func cmsg(level, typ int, data unsafe.Pointer, size int) []byte {
	b := make([]byte, syscall.CmsgSpace(size))
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&b[0]))
	h.Level, h.Type = int32(level), int32(typ)
	h.SetLen(syscall.CmsgLen(size))
	copy(b[syscall.CmsgLen(0):], unsafe.Slice((*byte)(data), size))
	return b
}
