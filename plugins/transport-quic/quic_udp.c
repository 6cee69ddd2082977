/* quic_udp.c: the endpoint's UDP sockets. Receives in batches (recvmmsg), sends in batches
 * (runs of equal-sized packets to one peer go as one UDP_SEGMENT datagram train, and all of
 * a burst's trains in one sendmmsg), keeps what the kernel refused with EAGAIN for the write
 * event (ngtcp2 already counts those packets as sent), and learns the local address of each
 * datagram from IP_PKTINFO when the socket is bound to a wildcard address. */
#define _GNU_SOURCE /* recvmmsg, sendmmsg, in6_pktinfo */
#include "config.h"
#include "quic_internal.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <linux/errqueue.h>
#include <netinet/udp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103
#endif
/* The kernel's cap on segments in one GSO send, and on its total size. */
#define GSO_MAX_SEGS 64
#define GSO_MAX_BYTES 65000
#define SOCK_BUF (8 * 1024 * 1024)

struct quic_pending {
	struct quic_pending *next;
	struct sockaddr_storage remote;
	socklen_t remote_len;
	struct sockaddr_storage local; /* for wildcard sockets */
	size_t len;
	uint8_t data[];
};

int quic_sockaddr_eq(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	if (a->sa_family == AF_INET6) {
		const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
		return x->sin6_port == y->sin6_port &&
		       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
	}
	return 0;
}

static int is_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr == INADDR_ANY;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return 0;
}

int quic_sock_open(struct quic_endpoint *ep, int fd, struct quic_sock **out)
{
	struct quic_sock *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->ep = ep;
	s->fd = fd;
	s->pending_tail = &s->pending_head;
	s->local_len = sizeof s->local;
	if (getsockname(fd, (struct sockaddr *)&s->local, &s->local_len) < 0)
		goto fail_errno;
	int fl = fcntl(fd, F_GETFL);
	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
		goto fail_errno;
	int one = 1, size = SOCK_BUF;
	/* best effort: a smaller buffer only costs speed */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
	/* ICMP errors (port unreachable from a crashed peer) reach an unconnected socket only
	 * this way: they are read from the error queue (read_errors, quic_conn_unreachable) */
	if (s->local.ss_family == AF_INET)
		(void)setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof one);
	else
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &one, sizeof one);
	s->wildcard = is_wildcard((struct sockaddr *)&s->local);
	if (s->wildcard) {
		if (s->local.ss_family == AF_INET)
			(void)setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one);
		else
			(void)setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &one, sizeof one);
	}
	s->ev_read = event_new(ep->base, fd, EV_READ | EV_PERSIST, quic_sock_on_read, s);
	s->ev_write = event_new(ep->base, fd, EV_WRITE, quic_sock_on_write, s);
	if (!s->ev_read || !s->ev_write || event_add(s->ev_read, NULL) < 0) {
		if (s->ev_read)
			event_free(s->ev_read);
		if (s->ev_write)
			event_free(s->ev_write);
		free(s);
		return -ENOMEM;
	}
	LIST_INSERT_HEAD(&ep->socks, s, link);
	*out = s;
	return 0;
fail_errno:;
	int e = errno;
	free(s);
	return -e;
}

void quic_sock_close(struct quic_sock *s)
{
	struct quic_pending *p, *next;
	for (p = s->pending_head; p; p = next) {
		next = p->next;
		free(p);
	}
	event_free(s->ev_read);
	event_free(s->ev_write);
	close(s->fd);
	LIST_REMOVE(s, link);
	free(s);
}

struct quic_sock *quic_sock_by_local(struct quic_endpoint *ep, const struct sockaddr *sa)
{
	struct quic_sock *s;
	LIST_FOREACH(s, &ep->socks, link)
		if (quic_sockaddr_eq((struct sockaddr *)&s->local, sa))
			return s;
	/* a wildcard socket of the same port serves any local address */
	LIST_FOREACH(s, &ep->socks, link) {
		if (!s->wildcard || s->local.ss_family != sa->sa_family)
			continue;
		in_port_t a = sa->sa_family == AF_INET ? ((const struct sockaddr_in *)(const void *)sa)->sin_port
						       : ((const struct sockaddr_in6 *)(const void *)sa)->sin6_port;
		in_port_t b = s->local.ss_family == AF_INET
				      ? ((struct sockaddr_in *)&s->local)->sin_port
				      : ((struct sockaddr_in6 *)&s->local)->sin6_port;
		if (a == b)
			return s;
	}
	return NULL;
}

int quic_sock_blocked(const struct quic_sock *s)
{
	return s->pending_head != NULL;
}

/* The source-address control message a wildcard socket needs so replies leave from the
 * address the peer wrote to. Returns the control length. */
static size_t put_src(struct msghdr *m, char *cbuf, size_t cap, const struct quic_sock *s,
		      const struct sockaddr *local, size_t used)
{
	if (!s->wildcard || !local)
		return used;
	struct cmsghdr *cm = (struct cmsghdr *)(void *)(cbuf + used);
	if (local->sa_family == AF_INET) {
		if (used + CMSG_SPACE(sizeof(struct in_pktinfo)) > cap)
			return used;
		struct in_pktinfo pi = {0};
		pi.ipi_spec_dst = ((const struct sockaddr_in *)(const void *)local)->sin_addr;
		cm->cmsg_level = IPPROTO_IP;
		cm->cmsg_type = IP_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof pi);
		memcpy(CMSG_DATA(cm), &pi, sizeof pi);
		used += CMSG_SPACE(sizeof pi);
	} else {
		if (used + CMSG_SPACE(sizeof(struct in6_pktinfo)) > cap)
			return used;
		struct in6_pktinfo pi = {0};
		pi.ipi6_addr = ((const struct sockaddr_in6 *)(const void *)local)->sin6_addr;
		cm->cmsg_level = IPPROTO_IPV6;
		cm->cmsg_type = IPV6_PKTINFO;
		cm->cmsg_len = CMSG_LEN(sizeof pi);
		memcpy(CMSG_DATA(cm), &pi, sizeof pi);
		used += CMSG_SPACE(sizeof pi);
	}
	m->msg_control = cbuf;
	m->msg_controllen = used;
	return used;
}

static void pending_add(struct quic_sock *s, const struct sockaddr *remote, socklen_t rlen,
			const uint8_t *data, size_t len)
{
	struct quic_pending *p = malloc(sizeof *p + len);
	if (!p)
		return; /* a lost packet: QUIC's loss recovery sends it again */
	p->next = NULL;
	memcpy(&p->remote, remote, rlen);
	p->remote_len = rlen;
	memset(&p->local, 0, sizeof p->local);
	p->len = len;
	memcpy(p->data, data, len);
	*s->pending_tail = p;
	s->pending_tail = &p->next;
	event_add(s->ev_write, NULL);
}

/* One sendmmsg over groups [first, first+n) of one socket; GSO where a group has several
 * packets. Returns how many packets went out (the rest are stashed by the caller). */
struct gso_group {
	size_t first, count, seg, bytes;
};

static size_t send_groups(struct quic_endpoint *ep, struct quic_sock *s, struct gso_group *g,
			  size_t ng)
{
	struct quic_tx_batch *b = ep->tx;
	struct mmsghdr mm[QUIC_BATCH];
	struct iovec iov[QUIC_BATCH];
	char cbuf[QUIC_BATCH][CMSG_SPACE(sizeof(uint16_t)) + CMSG_SPACE(sizeof(struct in6_pktinfo))];
	memset(mm, 0, sizeof mm[0] * ng);
	for (size_t i = 0; i < ng; i++) {
		struct quic_tx_pkt *p = &b->pkts[g[i].first];
		iov[i].iov_base = b->buf + p->off;
		iov[i].iov_len = g[i].bytes;
		struct msghdr *m = &mm[i].msg_hdr;
		m->msg_name = &p->remote;
		m->msg_namelen = p->remote_len;
		m->msg_iov = &iov[i];
		m->msg_iovlen = 1;
		size_t used = 0;
		if (g[i].count > 1) {
			struct cmsghdr *cm = (struct cmsghdr *)(void *)cbuf[i];
			cm->cmsg_level = SOL_UDP;
			cm->cmsg_type = UDP_SEGMENT;
			cm->cmsg_len = CMSG_LEN(sizeof(uint16_t));
			uint16_t seg = (uint16_t)g[i].seg;
			memcpy(CMSG_DATA(cm), &seg, sizeof seg);
			used = CMSG_SPACE(sizeof(uint16_t));
			m->msg_control = cbuf[i];
			m->msg_controllen = used;
		}
		(void)put_src(m, cbuf[i], sizeof cbuf[i], s, (struct sockaddr *)&p->local, used);
	}
	size_t done = 0;
	while (done < ng) {
		int n = sendmmsg(s->fd, mm + done, (unsigned)(ng - done), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if ((errno == EIO || errno == EINVAL) && !ep->gso_off && g[done].count > 1) {
				/* no GSO here (e.g. no checksum offload): from now on one packet per
				 * message */
				ep->gso_off = 1;
				return (size_t)-1;
			}
			break; /* EAGAIN and hard errors: the caller stashes or drops */
		}
		done += (size_t)n;
	}
	size_t pkts = 0;
	for (size_t i = 0; i < done; i++)
		pkts += g[i].count;
	return pkts;
}

void quic_tx_flush(struct quic_endpoint *ep)
{
	struct quic_tx_batch *b = ep->tx;
	size_t i = 0;
	while (i < b->npkts) {
		struct quic_sock *s = b->pkts[i].sock;
		/* packets for one socket, in order, split into GSO groups */
		struct gso_group g[QUIC_BATCH];
		size_t ng = 0, j = i;
		while (j < b->npkts && b->pkts[j].sock == s) {
			struct quic_tx_pkt *p = &b->pkts[j];
			struct gso_group *cur = ng ? &g[ng - 1] : NULL;
			struct quic_tx_pkt *first = cur ? &b->pkts[cur->first] : NULL;
			int joins = cur && !ep->gso_off && !ep->cfg.no_gso &&
				    cur->count < GSO_MAX_SEGS && cur->bytes + p->len <= GSO_MAX_BYTES &&
				    p->len <= cur->seg &&
				    /* only the last segment may be shorter */
				    b->pkts[cur->first + cur->count - 1].len == cur->seg &&
				    p->remote_len == first->remote_len &&
				    (!s->wildcard || quic_sockaddr_eq((struct sockaddr *)&p->local,
								      (struct sockaddr *)&first->local)) &&
				    memcmp(&p->remote, &first->remote, p->remote_len) == 0 &&
				    first->off + cur->bytes == p->off;
			if (joins) {
				cur->count++;
				cur->bytes += p->len;
			} else {
				g[ng++] = (struct gso_group){j, 1, p->len, p->len};
			}
			j++;
		}
		size_t sent = 0;
		if (!quic_sock_blocked(s)) {
			sent = send_groups(ep, s, g, ng);
			if (sent == (size_t)-1)
				continue; /* GSO just turned off: regroup this run */
		}
		for (size_t k = i + sent; k < j; k++) {
			struct quic_tx_pkt *p = &b->pkts[k];
			if (errno == EAGAIN || errno == EWOULDBLOCK || quic_sock_blocked(s))
				pending_add(s, (struct sockaddr *)&p->remote, p->remote_len,
					    b->buf + p->off, p->len);
			/* other errors (unreachable, ...): the packet is lost; loss recovery or the
			 * idle timeout deal with it */
		}
		i = j;
	}
	b->npkts = 0;
	b->used = 0;
}

void quic_sock_on_write(int fd, short what, void *arg)
{
	struct quic_sock *s = arg;
	while (s->pending_head) {
		struct quic_pending *p = s->pending_head;
		ssize_t n = sendto(fd, p->data, p->len, 0, (struct sockaddr *)&p->remote,
				   p->remote_len);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			event_add(s->ev_write, NULL);
			return;
		}
		s->pending_head = p->next;
		free(p);
	}
	s->pending_tail = &s->pending_head;
	/* connections that stopped writing for this socket go on */
	struct quic_endpoint *ep = s->ep;
	while (!LIST_EMPTY(&ep->blocked)) {
		struct quic_conn *c = LIST_FIRST(&ep->blocked);
		LIST_REMOVE(c, blocked_link);
		c->write_blocked = 0;
		quic_conn_schedule(c);
	}
}

/* The ICMP errors queued on the socket: each names the destination of the datagram that
 * caused it, i.e. the peer that did not answer. */
static void read_errors(struct quic_sock *s)
{
	for (int i = 0; i < QUIC_BATCH; i++) {
		struct sockaddr_storage dst;
		char data[64];
		char cbuf[512];
		struct iovec iov = {data, sizeof data};
		struct msghdr m = {
			.msg_name = &dst,
			.msg_namelen = sizeof dst,
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = cbuf,
			.msg_controllen = sizeof cbuf,
		};
		if (recvmsg(s->fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&m); cm; cm = CMSG_NXTHDR(&m, cm)) {
			if (!((cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == IPPROTO_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
				continue;
			struct sock_extended_err ee;
			memcpy(&ee, CMSG_DATA(cm), sizeof ee);
			if ((ee.ee_origin == SO_EE_ORIGIN_ICMP || ee.ee_origin == SO_EE_ORIGIN_ICMP6) &&
			    m.msg_namelen > 0)
				quic_conn_unreachable(s, (struct sockaddr *)&dst, (int)ee.ee_errno);
		}
	}
}

void quic_sock_on_read(int fd, short what, void *arg)
{
	struct quic_sock *s = arg;
	struct quic_endpoint *ep = s->ep;
	struct mmsghdr mm[QUIC_BATCH];
	struct iovec iov[QUIC_BATCH];
	struct sockaddr_storage from[QUIC_BATCH];
	char cbuf[QUIC_BATCH][CMSG_SPACE(sizeof(struct in6_pktinfo))];
	/* bounded, so one busy socket cannot starve the loop */
	for (int round = 0; round < 8; round++) {
		for (int i = 0; i < QUIC_BATCH; i++) {
			iov[i].iov_base = ep->rx_buf + (size_t)i * QUIC_RX_SLOT;
			iov[i].iov_len = QUIC_RX_SLOT;
			memset(&mm[i].msg_hdr, 0, sizeof mm[i].msg_hdr);
			mm[i].msg_hdr.msg_name = &from[i];
			mm[i].msg_hdr.msg_namelen = sizeof from[i];
			mm[i].msg_hdr.msg_iov = &iov[i];
			mm[i].msg_hdr.msg_iovlen = 1;
			if (s->wildcard) {
				mm[i].msg_hdr.msg_control = cbuf[i];
				mm[i].msg_hdr.msg_controllen = sizeof cbuf[i];
			}
		}
		int n = recvmmsg(fd, mm, QUIC_BATCH, 0, NULL);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			/* a pending ICMP error (IP_RECVERR) fails the read once; datagrams may
			 * follow it */
			read_errors(s);
			quic_endpoint_after_input(ep);
			continue;
		}
		if (n <= 0)
			break;
		for (int i = 0; i < n; i++) {
			struct sockaddr_storage local;
			memcpy(&local, &s->local, sizeof local);
			if (s->wildcard) {
				struct cmsghdr *cm;
				for (cm = CMSG_FIRSTHDR(&mm[i].msg_hdr); cm;
				     cm = CMSG_NXTHDR(&mm[i].msg_hdr, cm)) {
					if (cm->cmsg_level == IPPROTO_IP && cm->cmsg_type == IP_PKTINFO) {
						struct in_pktinfo pi;
						memcpy(&pi, CMSG_DATA(cm), sizeof pi);
						((struct sockaddr_in *)&local)->sin_addr = pi.ipi_addr;
					} else if (cm->cmsg_level == IPPROTO_IPV6 &&
						   cm->cmsg_type == IPV6_PKTINFO) {
						struct in6_pktinfo pi;
						memcpy(&pi, CMSG_DATA(cm), sizeof pi);
						((struct sockaddr_in6 *)&local)->sin6_addr = pi.ipi6_addr;
					}
				}
			}
			if (mm[i].msg_hdr.msg_flags & MSG_TRUNC)
				continue;
			quic_conn_input(s, (struct sockaddr *)&local, (struct sockaddr *)&from[i],
					mm[i].msg_hdr.msg_namelen, iov[i].iov_base, mm[i].msg_len);
		}
		quic_endpoint_after_input(ep);
		if (n < QUIC_BATCH)
			break;
	}
}
