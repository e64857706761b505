// Package connlimit keeps held connections from crowding out real clients:
// a cap on all connections and one per source prefix, and when a cap is
// reached the oldest idle connection (no request in progress) makes room,
// so an attacker who opens connections and sends nothing cannot keep a
// client that has something to ask from being served. The DNS/TCP server
// and the admin API share it.
package connlimit
