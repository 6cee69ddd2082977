/* quic_dial.c: the agent side. One dial is: resolve the server's name, make a client endpoint
 * (its own UDP socket, on local_port when given), connect, and once the handshake is
 * confirmed (the server accepted our certificate, or our lack of one) hand the connection to
 * the core with host->native_connected; or host->dial_failed with an errno the core can act
 * on and a sentence the operator can.
 *
 * Phases advance by a "step" event, so that nothing reaches the host from inside dial() or
 * from a resolver callback that may run inside the call that started it. The engine's own
 * callbacks come from the loop. A connection handed over owns its endpoint; when it ends,
 * the endpoint is freed from the loop (qt_reap_endpoint), never from inside its callbacks. */
#include "config.h"
#include "quic_plugin.h"

#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* How long the name may take to resolve; the engine's handshake timeout covers the rest. */
#define QT_RESOLVE_TIMEOUT_MS 10000
#define SESSION_INTERNAL 9

enum dial_phase {
	PHASE_START,
	PHASE_RESOLVE,
	PHASE_CONNECT,
	PHASE_HANDSHAKE,
	PHASE_FAILED, /* fail_err/fail_reason hold the outcome, reported by the next step */
};

struct qt_dial {
	enum qt_kind kind; /* QT_KIND_DIAL: the engine connection's user until it is ready */
	struct qt_plugin *p;
	proxyd_dial *d;
	uint64_t conn_id;
	struct qt_endpoint ep;
	enum dial_phase phase;
	struct event *step;
	struct event *deadline;
	struct evdns_getaddrinfo_request *dns_req;
	struct evutil_addrinfo *addrs;
	struct quic_endpoint *qep;
	char trying[QT_ADDR_TEXT_MAX];
	int fail_err;
	char fail_reason[512];
	LIST_ENTRY(qt_dial) link;
};

static void dial_free(struct qt_dial *t)
{
	if (t->dns_req)
		/* Its callback still runs once, with EVUTIL_EAI_CANCEL, and must not touch t. */
		evdns_getaddrinfo_cancel(t->dns_req);
	if (t->addrs)
		evutil_freeaddrinfo(t->addrs);
	/* ends the connection without callbacks */
	quic_endpoint_free(t->qep);
	if (t->step)
		event_free(t->step);
	if (t->deadline)
		event_free(t->deadline);
	qt_endpoint_clear(&t->ep);
	LIST_REMOVE(t, link);
	free(t);
}

/* Only from loop callbacks, and with t->qep gone or not inside its callbacks: t is gone when
 * this returns. */
__attribute__((format(printf, 3, 4))) static void finish_failed(struct qt_dial *t, int err,
								const char *fmt, ...)
{
	char reason[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	const struct proxyd_host *host = t->p->host;
	proxyd_dial *d = t->d;
	QT_LOG(t->p, PROXYD_LOG_DEBUG, t->conn_id, "dial %s failed: %s",
	       t->ep.address ? t->ep.address : "?", reason);
	dial_free(t);
	host->dial_failed(d, err, reason);
}

/* For the places that must not call the host: the next step reports it. */
__attribute__((format(printf, 3, 4))) static void fail_later(struct qt_dial *t, int err,
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

/* " (192.0.2.1:4433)" when the address tried is not literally the configured one. */
static const char *resolved_to(const struct qt_dial *t, char *buf, size_t len)
{
	buf[0] = '\0';
	if (t->trying[0] && strcmp(t->trying, t->ep.address) != 0)
		snprintf(buf, len, " (%s)", t->trying);
	return buf;
}

/* ---- engine callbacks (arg: the plugin, which outlives every client endpoint) ---- */

static void cl_conn_ready(struct quic_conn *qc, void *arg)
{
	struct qt_dial *t = quic_conn_user(qc);
	if (!t || t->kind != QT_KIND_DIAL)
		return;
	struct qt_plugin *p = t->p;
	struct qt_conn *c = qt_conn_new(p, qc, t->conn_id, 0);
	if (!c) {
		quic_conn_close(qc, SESSION_INTERNAL, "out of memory");
		quic_conn_set_user(qc, NULL);
		t->qep = NULL; /* its conn_closed, still to come, frees it */
		finish_failed(t, -ENOMEM, "out of memory");
		return;
	}
	/* the connection owns the endpoint from now on */
	c->own_ep = t->qep;
	t->qep = NULL;
	struct proxyd_peer_info info;
	qt_conn_peer_info(c, &info);
	char where[QT_ADDR_TEXT_MAX + 4];
	QT_LOG(p, PROXYD_LOG_DEBUG, c->conn_id, "connected to %s%s: %s%s%s", t->ep.address,
	       resolved_to(t, where, sizeof where), info.security,
	       info.identity ? ", identity " : "", info.identity ? info.identity : "");
	proxyd_dial *d = t->d;
	dial_free(t);
	proxyd_conn *core = p->host->native_connected(d, c, &info);
	if (!core) {
		/* its endpoint goes at conn_closed, which sees no user */
		qt_conn_refuse(c, SESSION_INTERNAL, "the agent did not take the connection");
		return;
	}
	c->core = core;
}

/* The errno and sentence for a connection that ended before it was ready. */
static int dial_error(const struct qt_dial *t, const struct quic_close_info *in, char *buf,
		      size_t len)
{
	char where[QT_ADDR_TEXT_MAX + 4];
	resolved_to(t, where, sizeof where);
	switch (in->kind) {
	case QUIC_CLOSE_HANDSHAKE_TIMEOUT:
	case QUIC_CLOSE_IDLE:
		snprintf(buf, len,
			 "QUIC handshake with %s%s: %s (nothing listening on that UDP port, or UDP "
			 "blocked on the way?)",
			 t->ep.address, where, in->reason);
		return -ETIMEDOUT;
	case QUIC_CLOSE_UNREACHABLE:
		/* ICMP: nothing listens on that UDP port (ECONNREFUSED), or no route */
		snprintf(buf, len, "QUIC handshake with %s%s: %s", t->ep.address, where, in->reason);
		return in->code > 0 && in->code < 4096 ? -(int)in->code : -ECONNREFUSED;
	case QUIC_CLOSE_HANDSHAKE:
		snprintf(buf, len, "QUIC handshake with %s%s: %s", t->ep.address, where, in->reason);
		/* a certificate refused either way: trying again will not help */
		return in->cert_refused ? -EACCES : -EPROTO;
	case QUIC_CLOSE_APPLICATION:
		snprintf(buf, len, "%s%s %s the connection: %s", t->ep.address, where,
			 in->by_peer ? "closed" : "we closed", in->reason[0] ? in->reason : "-");
		return in->by_peer ? -ECONNREFUSED : -ECONNABORTED;
	case QUIC_CLOSE_TRANSPORT:
		if (in->by_peer && in->code == 0x0c) {
			/* APPLICATION_ERROR: an application close before the handshake was done,
			 * e.g. a server whose listener is closed */
			snprintf(buf, len, "%s%s refused the connection", t->ep.address, where);
			return -ECONNREFUSED;
		}
		snprintf(buf, len, "QUIC connection to %s%s: %s", t->ep.address, where, in->reason);
		return -EPROTO;
	case QUIC_CLOSE_INTERNAL:
	default:
		snprintf(buf, len, "QUIC connection to %s%s: %s", t->ep.address, where, in->reason);
		return -EPROTO;
	}
}

static void cl_conn_closed(struct quic_conn *qc, const struct quic_close_info *info, void *arg)
{
	struct qt_plugin *p = arg;
	struct quic_endpoint *qep = quic_conn_endpoint(qc);
	void *user = quic_conn_user(qc);
	enum qt_kind kind = user ? *(enum qt_kind *)user : 0;
	if (kind == QT_KIND_DIAL) {
		struct qt_dial *t = user;
		t->qep = NULL; /* inside its callbacks: freed from the loop below */
		char reason[600];
		int err = dial_error(t, info, reason, sizeof reason);
		finish_failed(t, err, "%s", reason);
	} else if (kind == QT_KIND_CONN) {
		qt_conn_engine_closed(user, info);
	}
	qt_reap_endpoint(p, qep);
}

static const struct quic_callbacks client_callbacks = {
	.conn_ready = cl_conn_ready,
	.conn_closed = cl_conn_closed,
	.stream_opened = qt_on_stream_opened,
	.stream_readable = qt_on_stream_readable,
	.stream_writable = qt_on_stream_writable,
	.stream_reset = qt_on_stream_reset,
	.stream_closed = qt_on_stream_closed,
	.path_changed = qt_on_path_changed,
};

/* ---- the steps ---- */

/* Only from loop callbacks: may finish t. */
static void connect_start(struct qt_dial *t)
{
	struct qt_plugin *p = t->p;
	struct evutil_addrinfo *ai = t->addrs;
	qt_sockaddr_format(ai->ai_addr, t->trying, sizeof t->trying);
	if (t->deadline)
		event_del(t->deadline); /* the engine's handshake timeout from here */
	struct quic_config cfg;
	qt_endpoint_engine_config(&t->ep, &cfg);
	char err[512];
	int rc = quic_endpoint_new(p->base, &cfg, &client_callbacks, p, &t->qep, err, sizeof err);
	if (rc < 0) {
		finish_failed(t, rc == -ENOMEM ? -ENOMEM : -EINVAL, "%s: %s", t->ep.address, err);
		return;
	}
	if (t->ep.local_port) {
		struct sockaddr_storage local;
		memset(&local, 0, sizeof local);
		local.ss_family = (sa_family_t)ai->ai_family;
		socklen_t len;
		if (ai->ai_family == AF_INET6) {
			((struct sockaddr_in6 *)&local)->sin6_port = htons(t->ep.local_port);
			len = sizeof(struct sockaddr_in6);
		} else {
			((struct sockaddr_in *)&local)->sin_port = htons(t->ep.local_port);
			len = sizeof(struct sockaddr_in);
		}
		rc = quic_endpoint_bind(t->qep, (struct sockaddr *)&local, len);
		if (rc < 0) {
			finish_failed(t, rc, "cannot use local UDP port %u to reach %s: %s",
				      (unsigned)t->ep.local_port, t->ep.address, strerror(-rc));
			return;
		}
	}
	struct quic_conn *qc;
	rc = quic_endpoint_connect(t->qep, ai->ai_addr, (socklen_t)ai->ai_addrlen, t, &qc);
	if (rc < 0) {
		char where[QT_ADDR_TEXT_MAX + 4];
		finish_failed(t, rc, "QUIC connect to %s%s: %s", t->ep.address,
			      resolved_to(t, where, sizeof where), strerror(-rc));
		return;
	}
	t->phase = PHASE_HANDSHAKE;
}

static void resolved(int result, struct evutil_addrinfo *res, void *arg)
{
	if (result == EVUTIL_EAI_CANCEL)
		return; /* the dial was freed; arg is dangling */
	struct qt_dial *t = arg;
	t->dns_req = NULL;
	if (result != 0) {
		fail_later(t, -EHOSTUNREACH, "cannot resolve %s: %s", t->ep.addr.host,
			   evutil_gai_strerror(result));
		return;
	}
	t->addrs = res;
	t->phase = PHASE_CONNECT;
	event_active(t->step, EV_TIMEOUT, 1);
}

static void start_resolve(struct qt_dial *t)
{
	struct qt_plugin *p = t->p;
	char port[8];
	snprintf(port, sizeof port, "%u", (unsigned)t->ep.addr.port);
	struct evutil_addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_protocol = IPPROTO_UDP,
		.ai_flags = EVUTIL_AI_NUMERICSERV,
	};
	if (t->ep.addr.kind != TCP_HOST_NAME) {
		/* A literal: no resolver, no waiting. */
		hints.ai_flags |= EVUTIL_AI_NUMERICHOST;
		struct evutil_addrinfo *res = NULL;
		int rc = evutil_getaddrinfo(t->ep.addr.host, port, &hints, &res);
		if (rc != 0) {
			finish_failed(t, -EHOSTUNREACH, "bad address %s: %s", t->ep.address,
				      evutil_gai_strerror(rc));
			return;
		}
		t->addrs = res;
		t->phase = PHASE_CONNECT;
		connect_start(t);
		return;
	}
	if (!p->dns) {
		/* Reads resolv.conf and the hosts file once; the lookups never block the loop. */
		p->dns = evdns_base_new(p->base, EVDNS_BASE_INITIALIZE_NAMESERVERS |
							 EVDNS_BASE_DISABLE_WHEN_INACTIVE);
		if (!p->dns) {
			finish_failed(t, -ENOMEM, "cannot set up the DNS resolver");
			return;
		}
	}
	/* Skip address families this host has no address for. QUIC has no cheap failure to
	 * move on from (no RST, no ICMP on an unconnected UDP socket), so only the first
	 * address is tried. */
	hints.ai_flags |= EVUTIL_AI_ADDRCONFIG;
	t->phase = PHASE_RESOLVE;
	struct timeval tv = {QT_RESOLVE_TIMEOUT_MS / 1000, 0};
	evtimer_add(t->deadline, &tv);
	/* resolved() may run before this returns; it only schedules the next step. */
	t->dns_req = evdns_getaddrinfo(p->dns, t->ep.addr.host, port, &hints, resolved, t);
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
	struct qt_dial *t = arg;
	switch (t->phase) {
	case PHASE_START:
		/* an endpoint of an earlier connection may still hold local_port */
		qt_reap_now(t->p);
		start_resolve(t);
		return;
	case PHASE_CONNECT:
		connect_start(t);
		return;
	case PHASE_FAILED:
		finish_failed(t, t->fail_err, "%s", t->fail_reason);
		return;
	case PHASE_RESOLVE:
	case PHASE_HANDSHAKE:
		return;
	}
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct qt_dial *t = arg;
	if (t->phase == PHASE_RESOLVE)
		finish_failed(t, -ETIMEDOUT, "cannot resolve %s: no answer within %d s",
			      t->ep.addr.host, QT_RESOLVE_TIMEOUT_MS / 1000);
}

int qt_dial_start(struct qt_plugin *p, const proxyd_cfg *entry, proxyd_dial *d,
		  void **dial_state)
{
	if (!p->native) {
		QT_LOG(p, PROXYD_LOG_ERROR, 0,
		       "cannot dial with transport quic: this proxyd has no native-stream sessions "
		       "(plugin ABI 1.3 host functions)");
		return -ENOTSUP;
	}
	struct qt_dial *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->kind = QT_KIND_DIAL;
	t->p = p;
	t->d = d;
	t->conn_id = p->host->next_conn_id();
	LIST_INSERT_HEAD(&p->dials, t, link);
	int rc = qt_endpoint_read(p->host, entry, PROXYD_ROLE_AGENT, &t->ep);
	t->step = event_new(p->base, -1, 0, on_step, t);
	t->deadline = evtimer_new(p->base, on_deadline, t);
	if (rc == -ENOMEM || !t->step || !t->deadline) {
		dial_free(t);
		return -ENOMEM;
	}
	if (rc < 0)
		/* check() passed this entry, so only a reload could get here. */
		fail_later(t, -EINVAL, "%s: invalid endpoint configuration (see proxyd -t)",
			   t->ep.address ? t->ep.address : "agent.servers");
	else
		event_active(t->step, EV_TIMEOUT, 1);
	QT_LOG(p, PROXYD_LOG_DEBUG, t->conn_id, "dialing %s (quic)",
	       t->ep.address ? t->ep.address : "?");
	*dial_state = t;
	return 0;
}

void qt_dial_cancel(void *dial_state)
{
	if (dial_state)
		dial_free(dial_state);
}

void qt_dial_free_all(struct qt_plugin *p)
{
	while (!LIST_EMPTY(&p->dials))
		dial_free(LIST_FIRST(&p->dials));
}
