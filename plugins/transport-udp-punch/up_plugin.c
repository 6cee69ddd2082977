/* transport-udp-punch: direct paths between two agents (plugin ABI 1.5). The server side is
 * a STUN responder on server.listen (up_stun_server.c); the agent side is direct attempts
 * (up_direct.c) whose QUIC connections are native-stream connections driven by
 * transport-quic's glue (quic_native.c). This file: the descriptor, init/fini, check, the ops
 * table and the endpoint reaper. See doc/DIRECT-PATHS.md. */
#include "config.h"
#include "up_plugin.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t up_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* ---- endpoints whose use is over ---- */

static void reap_now(struct up_plugin *p)
{
	while (p->reap) {
		struct up_reap *r = p->reap;
		p->reap = r->next;
		quic_endpoint_free(r->ep);
		free(r);
	}
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	reap_now(arg);
}

void up_reap_endpoint(struct up_plugin *p, struct quic_endpoint *ep)
{
	if (!ep)
		return;
	struct up_reap *r = malloc(sizeof *r);
	if (!r) {
		UP_LOG(p, PROXYD_LOG_ERROR, 0, "out of memory: a QUIC endpoint is not freed");
		return;
	}
	r->ep = ep;
	r->next = p->reap;
	p->reap = r;
	event_active(p->reap_ev, EV_TIMEOUT, 0);
}

/* ---- check ---- */

static int up_check(void *state, const proxyd_cfg *entry, int role)
{
	struct up_plugin *p = state;
	if (role == PROXYD_ROLE_AGENT) {
		p->host->cfg_error(entry, "transport %s: udp-punch is for agent.direct and "
					  "server.listen, not agent.servers",
				   UP_NAME);
		return -EINVAL;
	}
	if (role == PROXYD_ROLE_SERVER) {
		struct up_listen_cfg c;
		return up_listen_cfg_read(p->host, entry, &c);
	}
	if (role != PROXYD_ROLE_DIRECT) {
		p->host->cfg_error(entry, "transport %s: unknown endpoint role %d", UP_NAME, role);
		return -EINVAL;
	}
	struct up_direct_cfg c;
	int rc = up_direct_cfg_read(p->host, entry, &c);
	/* The files are checked even when another key is wrong: all problems at once. */
	if (rc != -ENOMEM && up_direct_cfg_check_files(p->host, entry, &c) < 0)
		rc = -EINVAL;
	up_direct_cfg_clear(&c);
	return rc;
}

/* ---- ops ---- */

static int up_listen(void *state, const proxyd_cfg *entry, proxyd_listener *l,
		     void **listener_state)
{
	struct up_plugin *p = state;
	struct up_listen_cfg c;
	if (up_listen_cfg_read(p->host, entry, &c) < 0) {
		UP_LOG(p, PROXYD_LOG_ERROR, 0, "invalid STUN listener configuration (see proxyd -t)");
		return -EINVAL;
	}
	(void)l; /* no connection is ever handed to the core from here */
	return up_stun_server_start(p, &c, listener_state);
}

static void up_unlisten(void *listener_state)
{
	up_stun_server_stop(listener_state);
}

static int up_dial(void *state, const proxyd_cfg *entry, proxyd_dial *d, void **dial_state)
{
	struct up_plugin *p = state;
	UP_LOG(p, PROXYD_LOG_ERROR, 0,
	       "udp-punch is for agent.direct and server.listen, not agent.servers");
	return -ENOTSUP;
}

static void up_dial_cancel(void *dial_state)
{
	(void)dial_state;
}

static int up_prepare(void *state, const proxyd_cfg *cfg, proxyd_direct *d, void **direct_state)
{
	return up_direct_prepare(state, cfg, d, direct_state);
}

/* ---- init / fini ---- */

static int up_init(const struct proxyd_host *host, proxyd_plugin *self, void **state)
{
	struct event_base *base = host->event_base();
	if (!base) {
		host->log(self, PROXYD_LOG_ERROR, 0, "cannot initialise: the host has no event loop");
		return -EINVAL;
	}
	struct up_plugin *p = calloc(1, sizeof *p);
	if (p) {
		p->qt.rbuf = malloc(QT_READ_CHUNK);
		p->reap_ev = event_new(base, -1, 0, on_reap, p);
	}
	if (!p || !p->qt.rbuf || !p->reap_ev) {
		host->log(self, PROXYD_LOG_ERROR, 0, "cannot initialise: out of memory");
		if (p) {
			free(p->qt.rbuf);
			if (p->reap_ev)
				event_free(p->reap_ev);
		}
		free(p);
		return -ENOMEM;
	}
	p->host = p->qt.host = host;
	p->self = p->qt.self = self;
	p->base = p->qt.base = base;
	LIST_INIT(&p->qt.servers);
	LIST_INIT(&p->qt.dials);
	LIST_INIT(&p->qt.conns);
	LIST_INIT(&p->directs);
	LIST_INIT(&p->servers);
	p->qt.native = PROXYD_HOST_HAS(host, stream_arrived) && PROXYD_HOST_HAS(host, stream_data) &&
		       PROXYD_HOST_HAS(host, stream_fin) && PROXYD_HOST_HAS(host, stream_reset_in) &&
		       PROXYD_HOST_HAS(host, stream_writable) && PROXYD_HOST_HAS(host, conn_closed);
	/* without them: STUN listeners and configuration checks only */
	p->direct_ok = p->qt.native && PROXYD_HOST_HAS(host, direct_gathered) &&
		       PROXYD_HOST_HAS(host, direct_connected) &&
		       PROXYD_HOST_HAS(host, direct_failed);
	*state = p;
	return 0;
}

static void up_fini(void *state)
{
	struct up_plugin *p = state;
	up_direct_free_all(p);
	while (!LIST_EMPTY(&p->qt.conns)) {
		struct qt_conn *c = LIST_FIRST(&p->qt.conns);
		struct quic_endpoint *own = c->own_ep;
		qt_conn_free(c);
		quic_endpoint_free(own);
	}
	reap_now(p);
	while (!LIST_EMPTY(&p->servers))
		up_stun_server_stop(LIST_FIRST(&p->servers));
	event_free(p->reap_ev);
	free(p->qt.rbuf);
	free(p);
}

static const struct proxyd_transport_ops up_ops = {
	.check = up_check,
	.listen = up_listen,
	.unlisten = up_unlisten,
	.dial = up_dial,
	.dial_cancel = up_dial_cancel,
	.stream_open = qt_stream_open,
	.stream_write = qt_stream_write,
	.stream_shutdown = qt_stream_shutdown,
	.stream_reset = qt_stream_reset,
	.stream_resume_read = qt_stream_resume_read,
	.stream_release = qt_stream_release,
	.conn_close = qt_conn_close,
	.conn_stats = qt_conn_stats,
	.direct_prepare = up_prepare,
	.direct_start = up_direct_start,
	.direct_cancel = up_direct_cancel,
};

PROXYD_PLUGIN_DECLARE(PROXYD_KIND_TRANSPORT, UP_NAME, PACKAGE_VERSION, up_init, up_fini, &up_ops);
