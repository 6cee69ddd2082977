/* Which TCP ports a Linux /proc/net/tcp or /proc/net/tcp6 text says are listening: what an
 * agent inside a VM reports to the VM-host proxy (agent.report_ports). Pure functions over a
 * buffer with a length, fuzzed (fuzz/fuzz_proc_tcp.c). */
#ifndef PROXYD_CORE_PROC_TCP_H
#define PROXYD_CORE_PROC_TCP_H

#include <stddef.h>
#include <stdint.h>

struct proc_tcp_listener {
	uint16_t port;
	uint8_t addr[16]; /* the local address; IPv4 as ::ffff:a.b.c.d */
	unsigned v6 : 1;  /* from a tcp6 line */
	unsigned loopback : 1, wildcard : 1;
};

/* The sockets in state LISTEN (0A) in text, the contents of /proc/net/tcp or tcp6 (lines of
 * either kind may be mixed; the header line and any line that does not start with "N:" are
 * skipped). Stores up to max listeners in out and returns how many there are; a line that
 * starts like an entry but does not have the kernel's shape (a cut last line, say) is
 * counted in *bad (bad may be NULL) and skipped. The addresses are read as the kernel
 * prints them: each 32-bit word in the host's byte order. */
size_t proc_tcp_parse(const char *text, size_t len, struct proc_tcp_listener *out, size_t max,
		      size_t *bad);

/* The ports other hosts can reach: listeners not bound to a loopback address, each port once,
 * ascending. Returns how many (at most max stored). */
size_t proc_tcp_reachable_ports(const struct proc_tcp_listener *l, size_t n, uint16_t *ports,
				size_t max);

#endif
