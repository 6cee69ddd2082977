/* The agent side: one dial is resolve, connect (each address in turn), TLS handshake, then
 * exactly one of host->dial_connected or host->dial_failed. Phases are advanced by a "step"
 * event so that nothing reaches the host from inside dial() or from a resolver callback that
 * may run inside the call that started it. */
#include "config.h"
#include "tcp_link.h"
#include "tcp_plugin.h"
#include "tcp_sock.h"
#include "tcp_tls.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* With several addresses, one that swallows SYNs gets this long before the next is tried;
 * the last one gets whatever is left of the handshake timeout. */
#define TCP_CONNECT_ATTEMPT_MS 3000

enum dial_phase {
	PHASE_START,
	PHASE_RESOLVE,
	PHASE_CONNECT,
	PHASE_TLS,
	PHASE_FAILED, /* fail_err/fail_reason hold the outcome, reported by the next step */
};

struct tcp_dial {
	struct tcp_plugin *p;
	proxyd_dial *d;
	uint64_t conn_id;
	struct tcp_endpoint ep;
	SSL_CTX *ctx; /* a reference; NULL with tls = false */
	enum dial_phase phase;
	struct event *step;
	struct event *deadline;

	struct evdns_getaddrinfo_request *dns_req;
	struct evutil_addrinfo *addrs, *next_addr;

	evutil_socket_t fd;     /* while connecting */
	struct event *connecting;
	char trying[TCP_ADDR_TEXT_MAX];
	int last_err;
	char last_addr[TCP_ADDR_TEXT_MAX];

	struct bufferevent *bev; /* during the TLS handshake */
	struct tcp_link *link;   /* bev's TLS state */
	struct tcp_tls_verify verify;

	int fail_err;
	char fail_reason[512];
};

static void dial_free(struct tcp_dial *t)
{
	if (t->dns_req)
		/* Its callback still runs once, with EVUTIL_EAI_CANCEL, and must not touch t. */
		evdns_getaddrinfo_cancel(t->dns_req);
	if (t->addrs)
		evutil_freeaddrinfo(t->addrs);
	if (t->connecting)
		event_free(t->connecting);
	if (t->fd >= 0)
		evutil_closesocket(t->fd);
	if (t->bev) {
		tcp_tls_client_ssl_detach(tcp_link_ssl(t->link));
		bufferevent_free(t->bev);
	}
	if (t->step)
		event_free(t->step);
	if (t->deadline)
		event_free(t->deadline);
	SSL_CTX_free(t->ctx);
	tcp_endpoint_clear(&t->ep);
	free(t);
}

/* Only from loop callbacks: t is gone when this returns. */
__attribute__((format(printf, 3, 4))) static void finish_failed(struct tcp_dial *t, int err,
								const char *fmt, ...)
{
	char reason[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	const struct proxyd_host *host = t->p->host;
	proxyd_dial *d = t->d;
	TCP_LOG(t->p, PROXYD_LOG_DEBUG, t->conn_id, "dial %s failed: %s",
		t->ep.address ? t->ep.address : "?", reason);
	dial_free(t);
	host->dial_failed(d, err, reason);
}

/* For the places that must not call the host: the next step reports it. */
__attribute__((format(printf, 3, 4))) static void fail_later(struct tcp_dial *t, int err,
							     const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->fail_reason, sizeof t->fail_reason, fmt, ap);
	va_end(ap);
	t->fail_err = err;
	t->phase = PHASE_FAILED;
	event_active(t->step, EV_TIMEOUT, 1);
}

/* ssl is NULL for a plain connection. */
static void finish_connected(struct tcp_dial *t, struct bufferevent *bev, SSL *ssl)
{
	struct tcp_tls_peer peer = {.security = "plain"};
	if (ssl) {
		tcp_tls_client_ssl_detach(ssl);
		tcp_tls_peer_describe(ssl, &peer);
	}
	/* The address we connected to, not getpeername(): a server that refuses our
	 * certificate after the handshake may already have reset the socket. */
	char addr[TCP_ADDR_TEXT_MAX];
	memcpy(addr, t->trying, sizeof addr);
	const char *identity = peer.verified && peer.identity[0] ? peer.identity : NULL;
	struct proxyd_peer_info info = {
		.size = sizeof info,
		.address = addr,
		.identity = identity,
		.security = peer.security,
		.verified = ssl != NULL && peer.verified,
	};
	/* The core owns bev from here. */
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	t->bev = NULL;
	TCP_LOG(t->p, PROXYD_LOG_DEBUG, t->conn_id, "connected to %s (%s): %s%s%s", t->ep.address,
		addr, peer.security, identity ? ", identity " : "", identity ? identity : "");
	const struct proxyd_host *host = t->p->host;
	proxyd_dial *d = t->d;
	dial_free(t);
	host->dial_connected(d, bev, &info);
}

#define RESOLVED_TO_MAX (TCP_ADDR_TEXT_MAX + 3)

/* " (192.0.2.1:9090)" when the address tried is not literally the configured one. */
static const char *resolved_to(const struct tcp_dial *t, char buf[RESOLVED_TO_MAX])
{
	buf[0] = '\0';
	if (t->trying[0] && strcmp(t->trying, t->ep.address) != 0)
		snprintf(buf, RESOLVED_TO_MAX, " (%s)", t->trying);
	return buf;
}

static void tls_event(struct bufferevent *bev, short what, void *arg)
{
	int sock_err = EVUTIL_SOCKET_ERROR();
	struct tcp_dial *t = arg;
	if (what & BEV_EVENT_CONNECTED) {
		finish_connected(t, bev, tcp_link_ssl(t->link));
		return;
	}
	char why[300], where[RESOLVED_TO_MAX];
	int err = tcp_tls_failure(tcp_link_ssl(t->link), tcp_link_error(t->link), &t->verify,
				  sock_err, why, sizeof why);
	finish_failed(t, err, "TLS handshake with %s%s: %s", t->ep.address, resolved_to(t, where),
		      why);
}

static void start_session(struct tcp_dial *t)
{
	struct tcp_plugin *p = t->p;
	evutil_socket_t fd = t->fd;
	t->fd = -1;
	if (!t->ctx) {
		struct bufferevent *bev = bufferevent_socket_new(
			p->base, fd, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
		if (!bev) {
			evutil_closesocket(fd);
			finish_failed(t, -ENOMEM, "out of memory");
			return;
		}
		finish_connected(t, bev, NULL);
		return;
	}
	SSL *ssl = tcp_tls_client_ssl_new(t->ctx, &t->ep, &t->verify);
	if (!ssl) {
		evutil_closesocket(fd);
		finish_failed(t, -ENOMEM, "cannot set up TLS for %s", t->ep.server_name);
		return;
	}
	/* On failure ssl is freed and fd closed. */
	t->bev = tcp_link_new(p->base, fd, ssl, 0, &t->link);
	if (!t->bev) {
		finish_failed(t, -ENOMEM, "out of memory");
		return;
	}
	t->phase = PHASE_TLS;
	bufferevent_setcb(t->bev, NULL, NULL, tls_event, t);
}

static void connect_next(struct tcp_dial *t);

static void connect_done(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_dial *t = arg;
	event_free(t->connecting);
	t->connecting = NULL;
	int err = 0;
	socklen_t len = sizeof err;
	if (what & EV_TIMEOUT)
		err = ETIMEDOUT;
	else if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) != 0)
		err = errno;
	if (err == 0) {
		start_session(t);
		return;
	}
	evutil_closesocket(t->fd);
	t->fd = -1;
	t->last_err = err;
	memcpy(t->last_addr, t->trying, sizeof t->last_addr);
	connect_next(t);
}

/* Only from loop callbacks: may finish t. */
static void connect_next(struct tcp_dial *t)
{
	struct tcp_plugin *p = t->p;
	while (t->next_addr) {
		struct evutil_addrinfo *ai = t->next_addr;
		t->next_addr = ai->ai_next;
		tcp_sockaddr_format(ai->ai_addr, (socklen_t)ai->ai_addrlen, t->trying,
				    sizeof t->trying);
		int type = SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC;
		evutil_socket_t fd = socket(ai->ai_family, type, IPPROTO_TCP);
		if (fd < 0) {
			t->last_err = errno;
			memcpy(t->last_addr, t->trying, sizeof t->last_addr);
			continue;
		}
		int rc = tcp_sock_tune(fd, t->ep.keepalive);
		if (rc < 0)
			TCP_LOG(p, PROXYD_LOG_DEBUG, t->conn_id, "socket options for %s: %s",
				t->trying, strerror(-rc));
		t->fd = fd;
		if (connect(fd, ai->ai_addr, (socklen_t)ai->ai_addrlen) == 0) {
			start_session(t);
			return;
		}
		if (errno == EINPROGRESS) {
			t->connecting = event_new(p->base, fd, EV_WRITE, connect_done, t);
			struct timeval tv = {TCP_CONNECT_ATTEMPT_MS / 1000,
					     (TCP_CONNECT_ATTEMPT_MS % 1000) * 1000};
			if (t->connecting &&
			    event_add(t->connecting, t->next_addr ? &tv : NULL) == 0)
				return;
			finish_failed(t, -ENOMEM, "out of memory");
			return;
		}
		t->last_err = errno;
		memcpy(t->last_addr, t->trying, sizeof t->last_addr);
		evutil_closesocket(fd);
		t->fd = -1;
	}
	int err = t->last_err ? t->last_err : EHOSTUNREACH;
	char where[RESOLVED_TO_MAX];
	memcpy(t->trying, t->last_addr, sizeof t->trying);
	finish_failed(t, -err, "connect to %s%s: %s", t->ep.address, resolved_to(t, where),
		      strerror(err));
}

static void resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	if (result == EVUTIL_EAI_CANCEL)
		return; /* the dial was freed; arg is dangling */
	struct tcp_dial *t = arg;
	t->dns_req = NULL;
	if (result != 0) {
		fail_later(t, -EHOSTUNREACH, "cannot resolve %s: %s", t->ep.addr.host,
			   evutil_gai_strerror(result));
		return;
	}
	t->addrs = t->next_addr = res;
	t->phase = PHASE_CONNECT;
	event_active(t->step, EV_TIMEOUT, 1);
}

static void start_resolve(struct tcp_dial *t)
{
	struct tcp_plugin *p = t->p;
	char port[8];
	snprintf(port, sizeof port, "%u", (unsigned)t->ep.addr.port);
	struct evutil_addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_protocol = IPPROTO_TCP,
		.ai_flags = EVUTIL_AI_NUMERICSERV,
	};
	if (t->ep.addr.kind != TCP_HOST_NAME) {
		/* A literal: no resolver, no waiting. */
		hints.ai_flags |= EVUTIL_AI_NUMERICHOST;
		struct evutil_addrinfo *res = NULL;
		int rc = evutil_getaddrinfo(t->ep.addr.host, port, &hints, &res);
		if (rc != 0) {
			finish_failed(t, -EINVAL, "bad address %s: %s", t->ep.address,
				      evutil_gai_strerror(rc));
			return;
		}
		t->addrs = t->next_addr = res;
		t->phase = PHASE_CONNECT;
		connect_next(t);
		return;
	}
	if (!p->dns) {
		/* Reads resolv.conf and the hosts file once; the lookups themselves never
		 * block the loop, unlike getaddrinfo(). Idle, its socket does not keep the
		 * loop alive. */
		p->dns = evdns_base_new(p->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
							 EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (!p->dns) {
			finish_failed(t, -ENOMEM, "cannot set up the DNS resolver");
			return;
		}
	}
	/* Skip address families this host has no address for, or every v4-only agent would
	 * first try the server's AAAA and fail. */
	hints.ai_flags |= EVUTIL_AI_ADDRCONFIG;
	t->phase = PHASE_RESOLVE;
	/* resolved() may run before this returns; it only schedules the next step. */
	t->dns_req = evdns_getaddrinfo(p->dns, t->ep.addr.host, port, &hints, resolved, t);
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_dial *t = arg;
	switch (t->phase) {
	case PHASE_START:
		start_resolve(t);
		return;
	case PHASE_CONNECT:
		connect_next(t);
		return;
	case PHASE_FAILED:
		finish_failed(t, t->fail_err, "%s", t->fail_reason);
		return;
	case PHASE_RESOLVE:
	case PHASE_TLS:
		return;
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_dial *t = arg;
	int secs = TCP_HANDSHAKE_TIMEOUT_MS / 1000;
	char where[RESOLVED_TO_MAX];
	switch (t->phase) {
	case PHASE_RESOLVE:
		finish_failed(t, -ETIMEDOUT, "cannot resolve %s: no answer within %d s",
			      t->ep.addr.host, secs);
		return;
	case PHASE_TLS:
		finish_failed(t, -ETIMEDOUT, "TLS handshake with %s%s: no answer within %d s",
			      t->ep.address, resolved_to(t, where), secs);
		return;
	default:
		finish_failed(t, -ETIMEDOUT, "connect to %s%s: timed out after %d s", t->ep.address,
			      resolved_to(t, where), secs);
		return;
	}
}

int tcp_dial_start(struct tcp_plugin *p, const proxyd_cfg *entry, proxyd_dial *d,
		   void **dial_state)
{
	struct tcp_dial *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->p = p;
	t->d = d;
	t->fd = -1;
	t->conn_id = p->host->next_conn_id();
	int rc = tcp_endpoint_read(p->host, entry, PROXYD_ROLE_AGENT, &t->ep);
	t->step = event_new(p->base, -1, 0, on_step, t);
	t->deadline = evtimer_new(p->base, on_deadline, t);
	struct timeval tv = {TCP_HANDSHAKE_TIMEOUT_MS / 1000, 0};
	if (rc == -ENOMEM || !t->step || !t->deadline || evtimer_add(t->deadline, &tv) != 0) {
		dial_free(t);
		return -ENOMEM;
	}
	if (rc < 0) {
		/* check() passed this entry, so only a reload could get here. */
		fail_later(t, -EINVAL, "%s: invalid endpoint configuration (see proxyd -t)",
			   t->ep.address ? t->ep.address : "agent.servers");
	} else if (t->ep.tls) {
		struct tcp_tls_error err;
		t->ctx = tcp_ctx_cache_get(&p->ctx_cache, &t->ep, &err);
		if (!t->ctx)
			fail_later(t, -EINVAL, "%s", err.msg);
	}
	if (t->phase == PHASE_START)
		event_active(t->step, EV_TIMEOUT, 1);
	TCP_LOG(p, PROXYD_LOG_DEBUG, t->conn_id, "dialing %s", t->ep.address ? t->ep.address : "?");
	*dial_state = t;
	return 0;
}

void tcp_dial_cancel(void *dial_state)
{
	if (dial_state)
		dial_free(dial_state);
}
