/* The server side of transport udp-punch: a UDP port (server.listen entry) that answers STUN
 * Binding requests with the address it saw them from, so an agent (or any STUN client) learns
 * its public address and port. It hands no connection to the core. Anything that is not a
 * valid Binding request is dropped with a debug line; answers go out at once (one sendto per
 * request, no state kept per client). */
#include "config.h"
#include "up_plugin.h"
#include "stun.h"
#include "stun_answer.h"

#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

struct up_stun_server {
	struct up_plugin *p;
	int fd;
	struct event *ev;
	char where[QT_ADDR_TEXT_MAX];
	uint64_t answered, dropped;
	LIST_ENTRY(up_stun_server) link;
};

static void answer(struct up_stun_server *s, const uint8_t *buf, size_t len,
		   const struct sockaddr *from, socklen_t fromlen)
{
	struct up_plugin *p = s->p;
	char who[QT_ADDR_TEXT_MAX];
	qt_sockaddr_format(from, who, sizeof who);
	const char *why = NULL;
	size_t unknown = 0;
	uint8_t out[STUN_MSG_MAX];
	size_t n = stun_answer(buf, len, from, out, sizeof out, &why, &unknown);
	if (n == 0) {
		s->dropped++;
		UP_LOG(p, PROXYD_LOG_DEBUG, 0, "stun %s: dropped %zu bytes from %s: %s", s->where, len,
		       who, why);
		return;
	}
	if (unknown)
		UP_LOG(p, PROXYD_LOG_DEBUG, 0,
		       "stun %s: Binding request from %s has %zu unknown comprehension-required "
		       "attribute(s): answered anyway",
		       s->where, who, unknown);
	if (sendto(s->fd, out, n, 0, from, fromlen) < 0) {
		UP_LOG(p, PROXYD_LOG_DEBUG, 0, "stun %s: answer to %s: %s", s->where, who,
		       strerror(errno));
		return;
	}
	s->answered++;
	UP_LOG(p, PROXYD_LOG_DEBUG, 0, "stun %s: Binding request from %s answered", s->where, who);
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct up_stun_server *s = arg;
	/* bounded, so a flood cannot starve the loop */
	for (int i = 0; i < 64; i++) {
		uint8_t buf[1500];
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, MSG_TRUNC, (struct sockaddr *)&from,
				     &fromlen);
		if (n < 0)
			return; /* EAGAIN, or an ICMP error for an earlier answer */
		if ((size_t)n > sizeof buf) {
			s->dropped++;
			continue;
		}
		answer(s, buf, (size_t)n, (struct sockaddr *)&from, fromlen);
	}
}

int up_stun_server_start(struct up_plugin *p, const struct up_listen_cfg *c,
			 void **listener_state)
{
	struct up_stun_server *s = calloc(1, sizeof *s);
	if (!s)
		return -ENOMEM;
	s->p = p;
	s->fd = socket(c->addr.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	int rc = 0;
	if (s->fd < 0) {
		rc = -errno;
		goto fail;
	}
	if (c->addr.ss_family == AF_INET6) {
		int on = 1;
		(void)setsockopt(s->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	}
	if (bind(s->fd, (const struct sockaddr *)&c->addr, c->addr_len) < 0) {
		rc = -errno;
		goto fail;
	}
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	if (getsockname(s->fd, (struct sockaddr *)&ss, &len) == 0)
		qt_sockaddr_format((struct sockaddr *)&ss, s->where, sizeof s->where);
	s->ev = event_new(p->base, s->fd, EV_READ | EV_PERSIST, on_read, s);
	if (!s->ev || event_add(s->ev, NULL) < 0) {
		rc = -ENOMEM;
		goto fail;
	}
	LIST_INSERT_HEAD(&p->servers, s, link);
	UP_LOG(p, PROXYD_LOG_INFO, 0, "answering STUN Binding requests on udp %s", s->where);
	*listener_state = s;
	return 0;
fail:
	UP_LOG(p, PROXYD_LOG_ERROR, 0, "cannot listen for STUN on udp %s: %s", c->text,
	       strerror(-rc));
	if (s->ev)
		event_free(s->ev);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
	return rc;
}

void up_stun_server_stop(void *listener_state)
{
	struct up_stun_server *s = listener_state;
	if (!s)
		return;
	UP_LOG(s->p, PROXYD_LOG_INFO, 0, "stopped answering STUN on udp %s (%llu answered, %llu "
					 "dropped)",
	       s->where, (unsigned long long)s->answered, (unsigned long long)s->dropped);
	LIST_REMOVE(s, link);
	event_free(s->ev);
	close(s->fd);
	free(s);
}

int up_stun_server_addr(void *listener_state, struct sockaddr_storage *ss, socklen_t *len)
{
	struct up_stun_server *s = listener_state;
	*len = sizeof *ss;
	return getsockname(s->fd, (struct sockaddr *)ss, len) < 0 ? -errno : 0;
}
