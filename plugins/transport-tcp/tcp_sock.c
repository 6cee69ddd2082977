/* Socket options and address formatting (see tcp_sock.h). */
#include "config.h"
#include "tcp_sock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <string.h>

#define KEEPALIVE_PROBES 3

static int set_int(int fd, int level, int name, int value)
{
	return setsockopt(fd, level, name, &value, sizeof value) == 0 ? 0 : -errno;
}

int tcp_sock_tune(int fd, int keepalive_s)
{
	/* The multiplexer writes small frames (PING, window updates) that must not wait for
	 * an ACK of the previous one. */
	int rc = set_int(fd, IPPROTO_TCP, TCP_NODELAY, 1);
	if (rc < 0 || keepalive_s <= 0)
		return rc;
	/* A peer behind a NAT that forgot the mapping is detected in about two keepalive
	 * periods: keepalive_s of silence, then probes spread over another keepalive_s. */
	int interval = keepalive_s / KEEPALIVE_PROBES > 0 ? keepalive_s / KEEPALIVE_PROBES : 1;
	if ((rc = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, 1)) < 0 ||
	    (rc = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, keepalive_s)) < 0 ||
	    (rc = set_int(fd, IPPROTO_TCP, TCP_KEEPINTVL, interval)) < 0 ||
	    (rc = set_int(fd, IPPROTO_TCP, TCP_KEEPCNT, KEEPALIVE_PROBES)) < 0)
		return rc;
#ifdef TCP_USER_TIMEOUT
	/* Keepalive probes are not sent while data is unacknowledged, so a peer that vanished
	 * mid-write would otherwise hold the connection for the full retransmission time
	 * (~15 minutes). Give unacknowledged data the same budget as an idle link. */
	unsigned budget_ms = (unsigned)(keepalive_s + interval * KEEPALIVE_PROBES) * 1000u;
	if (setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &budget_ms, sizeof budget_ms) != 0)
		return -errno;
#endif
	return 0;
}

void tcp_sockaddr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen)
{
	char ip[INET6_ADDRSTRLEN];
	if (sa->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
		snprintf(buf, buflen, "%s:%u", ip, (unsigned)ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		/* A dual-stack [::] listener sees IPv4 clients as ::ffff:a.b.c.d; logs and
		 * allow-lists want the address the client actually has. */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], ip, sizeof ip);
			snprintf(buf, buflen, "%s:%u", ip, (unsigned)ntohs(in6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
			snprintf(buf, buflen, "[%s]:%u", ip, (unsigned)ntohs(in6->sin6_port));
		}
	} else {
		snprintf(buf, buflen, "?");
	}
}
