/* `proxyd --probe[=N] -c agent.conf`: dial the agent's first server N times through its
 * transport and report how long each connection took to be ready (TCP connect + TLS
 * handshake, or the QUIC handshake until confirmed), then the median. An operator checks
 * with it that the server is reachable and accepts the agent's credentials without starting
 * the agent; bench/ uses it to compare transports' handshake times. Each connection is
 * closed as soon as it is ready: the server sees a peer that goes away before HELLO. */
#include "config.h"
#include "probe.h"
#include "cfg.h"
#include "endpoint.h"
#include "log.h"
#include "loop.h"
#include "plugins.h"
#include "session.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct probe {
	struct proxyd_plugin *transport;
	const proxyd_cfg *endpoint;
	struct proxyd_dial dial;
	int want, done, failed;
	uint64_t started_us;
	uint64_t *took_us;
	proxyd_timer *next;
};

static void dial_once(void *arg);

static void finish_one(struct probe *p)
{
	if (p->done + p->failed >= p->want || p->failed)
		event_base_loopexit(loop_base(), NULL);
	else
		loop_timer_start(p->next, 0, 0); /* the next dial from a fresh loop turn */
}

static void report(struct probe *p, uint64_t us, const char *security, const char *identity)
{
	p->took_us[p->done++] = us;
	printf("connected in %.3f ms (%s, peer %s)\n", us / 1000.0, security, identity);
}

/* TLS 1.3 over TCP: the client's handshake is done before the server has checked the client
 * certificate, so a refusal arrives as an alert after "connected". The server's session
 * sends its preface as soon as it accepted us: wait for that (not timed) before counting
 * the dial as good. */
struct pending {
	struct probe *p;
	uint64_t us;
	char security[128], identity[128];
};

static void server_spoke(struct bufferevent *bev, void *arg)
{
	struct pending *w = arg;
	report(w->p, w->us, w->security, w->identity);
	bufferevent_free(bev);
	struct probe *p = w->p;
	free(w);
	finish_one(p);
}

static void server_refused(struct bufferevent *bev, short what, void *arg)
{
	struct pending *w = arg;
	struct probe *p = w->p;
	p->failed++;
	fprintf(stderr, "proxyd: probe failed: the server %s after the handshake (it refused "
			"the agent's certificate, or is not proxyd); its log says why\n",
		what & BEV_EVENT_TIMEOUT ? "said nothing for 5 s" : "closed the connection");
	bufferevent_free(bev);
	free(w);
	finish_one(p);
}

static struct session *on_connected(void *owner, const struct session_link *link,
				    const struct proxyd_peer_info *info)
{
	struct probe *p = owner;
	uint64_t us = loop_now_us() - p->started_us;
	const char *sec = info->security ? info->security : "?";
	const char *id = info->identity ? info->identity : "-";
	struct pending *w = link->nops ? NULL : calloc(1, sizeof *w);
	if (!w) {
		/* A native transport reports only a confirmed handshake: the server accepted us.
		 * It closes the connection when we return NULL. */
		session_link_discard(link);
		report(p, us, sec, id);
		finish_one(p);
		return NULL;
	}
	w->p = p;
	w->us = us;
	snprintf(w->security, sizeof w->security, "%s", sec);
	snprintf(w->identity, sizeof w->identity, "%s", id);
	struct timeval tmo = {5, 0};
	bufferevent_setcb(link->bev, server_spoke, NULL, server_refused, w);
	bufferevent_set_timeouts(link->bev, &tmo, NULL);
	bufferevent_enable(link->bev, EV_READ);
	if (evbuffer_get_length(bufferevent_get_input(link->bev)))
		server_spoke(link->bev, w);
	return NULL;
}

static void on_failed(void *owner, int err, const char *reason)
{
	struct probe *p = owner;
	(void)err;
	p->failed++;
	fprintf(stderr, "proxyd: probe failed: %s\n", reason);
	finish_one(p);
}

static void dial_once(void *arg)
{
	struct probe *p = arg;
	memset(&p->dial, 0, sizeof p->dial);
	p->dial.transport = p->transport;
	p->dial.on_connected = on_connected;
	p->dial.on_failed = on_failed;
	p->dial.owner = p;
	p->started_us = loop_now_us();
	if (p->transport->ops.transport.dial(p->transport->state, p->endpoint, &p->dial,
					      &p->dial.transport_state) != 0) {
		on_failed(p, -1, "the transport could not start dialing");
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

int probe_run(struct conf *c, int count)
{
	const proxyd_cfg *list = c->agent ? cfg_get_child(c->agent, "servers") : NULL;
	if (!list || cfg_count(list) < 1) {
		fprintf(stderr, "proxyd: --probe needs an agent section with servers\n");
		return 2;
	}
	const proxyd_cfg *e = cfg_elem(list, 0);
	const char *tname = "tcp", *addr = "?";
	cfg_get_string(e, "transport", &tname);
	cfg_get_string(e, "address", &addr);
	struct probe p = {.endpoint = e, .want = count};
	p.transport = plugins_find(PROXYD_KIND_TRANSPORT, tname);
	p.took_us = calloc((size_t)count, sizeof *p.took_us);
	p.next = loop_timer_new(dial_once, &p);
	if (!p.transport || !p.took_us || !p.next) {
		fprintf(stderr, "proxyd: --probe: transport '%s' not loaded\n", tname);
		free(p.took_us);
		loop_timer_free(p.next);
		return 1;
	}
	printf("probing %s over %s, %d time(s)\n", addr, tname, count);
	dial_once(&p);
	event_base_dispatch(loop_base());
	if (p.done) {
		qsort(p.took_us, (size_t)p.done, sizeof *p.took_us, cmp_u64);
		printf("%d of %d connected; median %.3f ms, min %.3f ms, max %.3f ms\n", p.done, count,
		       p.took_us[p.done / 2] / 1000.0, p.took_us[0] / 1000.0,
		       p.took_us[p.done - 1] / 1000.0);
	}
	/* Let the transport send its closes before the plugins go away. */
	struct timeval tv = {0, 200000};
	event_base_loopexit(loop_base(), &tv);
	event_base_dispatch(loop_base());
	loop_timer_free(p.next);
	free(p.took_us);
	return p.failed ? 1 : 0;
}
