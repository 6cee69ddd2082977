/* /proc/net/tcp{,6} listeners (see proc_tcp.h). A line, as the kernel writes it:
 *    0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000 ...
 * slot, local address:port, remote address:port, state, then fields we do not need. */
#include "config.h"
#include "proc_tcp.h"

#include <string.h>

#define TCP_LISTEN 0x0A

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* n hex digits at p (all of them hex) into *v. */
static int hex_n(const char *p, size_t n, uint32_t *v)
{
	uint32_t x = 0;
	for (size_t i = 0; i < n; i++) {
		int d = hexval(p[i]);
		if (d < 0)
			return -1;
		x = x << 4 | (uint32_t)d;
	}
	*v = x;
	return 0;
}

/* "HHHHHHHH:PPPP" or a 32-digit IPv6 address and ":PPPP" at p[0..n): the length used, 0 when
 * it is not one. The kernel prints each 32-bit word of the address as a number in the host's
 * byte order, so copying the number's bytes gives the address in network order. */
static size_t addr_port(const char *p, size_t n, uint8_t addr[16], uint16_t *port, int *v6)
{
	size_t digits = 0;
	while (digits < n && hexval(p[digits]) >= 0)
		digits++;
	if ((digits != 8 && digits != 32) || digits + 5 > n || p[digits] != ':')
		return 0;
	uint32_t w, pv;
	if (digits == 8) {
		if (hex_n(p, 8, &w) < 0)
			return 0;
		memset(addr, 0, 10);
		addr[10] = addr[11] = 0xff;
		memcpy(addr + 12, &w, 4);
		*v6 = 0;
	} else {
		for (int i = 0; i < 4; i++) {
			if (hex_n(p + 8 * i, 8, &w) < 0)
				return 0;
			memcpy(addr + 4 * i, &w, 4);
		}
		*v6 = 1;
	}
	if (hex_n(p + digits + 1, 4, &pv) < 0 || (digits + 5 < n && hexval(p[digits + 5]) >= 0))
		return 0;
	*port = (uint16_t)pv;
	return digits + 5;
}

static int is_loopback(const uint8_t a[16])
{
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	static const uint8_t one6[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	if (memcmp(a, mapped, 12) == 0)
		return a[12] == 127;
	return memcmp(a, one6, 16) == 0;
}

static int is_wildcard(const uint8_t a[16])
{
	static const uint8_t zero[16];
	static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
	return memcmp(a, zero, 16) == 0 || (memcmp(a, mapped, 12) == 0 && memcmp(a + 12, zero, 4) == 0);
}

/* One line (without its newline): 1 with *l set for a listener, 0 for any other socket or a
 * line that is not an entry, -1 for a malformed entry. */
static int parse_line(const char *p, size_t n, struct proc_tcp_listener *l)
{
	size_t i = 0;
	while (i < n && p[i] == ' ')
		i++;
	size_t d = i;
	while (i < n && p[i] >= '0' && p[i] <= '9')
		i++;
	if (i == d || i >= n || p[i] != ':')
		return 0; /* the header, or anything else that is not an entry */
	i++;
	if (i >= n || p[i] != ' ')
		return -1;
	while (i < n && p[i] == ' ')
		i++;
	int v6, rv6;
	uint8_t raddr[16];
	uint16_t rport;
	size_t used = addr_port(p + i, n - i, l->addr, &l->port, &v6);
	if (!used)
		return -1;
	i += used;
	if (i >= n || p[i] != ' ')
		return -1;
	while (i < n && p[i] == ' ')
		i++;
	used = addr_port(p + i, n - i, raddr, &rport, &rv6);
	if (!used || rv6 != v6)
		return -1;
	i += used;
	if (i >= n || p[i] != ' ')
		return -1;
	while (i < n && p[i] == ' ')
		i++;
	uint32_t st;
	if (i + 2 > n || hex_n(p + i, 2, &st) < 0 || (i + 2 < n && p[i + 2] != ' '))
		return -1;
	if (st != TCP_LISTEN)
		return 0;
	l->v6 = (unsigned)v6;
	l->loopback = (unsigned)is_loopback(l->addr);
	l->wildcard = (unsigned)is_wildcard(l->addr);
	return 1;
}

size_t proc_tcp_parse(const char *text, size_t len, struct proc_tcp_listener *out, size_t max,
		      size_t *bad)
{
	size_t found = 0, nbad = 0, pos = 0;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		struct proc_tcp_listener l;
		memset(&l, 0, sizeof l);
		int r = parse_line(text + pos, end - pos, &l);
		if (r < 0)
			nbad++;
		else if (r > 0) {
			if (found < max)
				out[found] = l;
			found++;
		}
		pos = end + 1;
	}
	if (bad)
		*bad = nbad;
	return found;
}

size_t proc_tcp_reachable_ports(const struct proc_tcp_listener *l, size_t n, uint16_t *ports,
				size_t max)
{
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		if (l[i].loopback || l[i].port == 0)
			continue;
		/* insertion into the sorted set */
		size_t at = 0;
		while (at < k && ports[at] < l[i].port)
			at++;
		if (at < k && ports[at] == l[i].port)
			continue;
		if (k == max) {
			if (at == k)
				continue; /* larger than all kept: dropped */
			k--;          /* the largest makes room */
		}
		memmove(ports + at + 1, ports + at, (k - at) * sizeof *ports);
		ports[at] = l[i].port;
		k++;
	}
	return k;
}
