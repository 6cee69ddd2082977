/* The relay: see relay.h. */
#include "config.h"
#include "relay.h"
#include "daemon.h"
#include "frame.h"
#include "log.h"
#include "peer_acl.h"
#include "peer_wire.h"
#include "server.h"
#include "session.h"
#include "stream_join.h"
#include "peer_refuse.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct relay_wait {
	struct stream *st;
	struct open_header oh;
	char from[PEER_AGENT_MAX + 1];
	uint64_t conn_id;
};

static struct relay_stats stats;

void relay_get_stats(struct relay_stats *out)
{
	*out = stats;
}

static void refuse(struct relay_wait *w, uint32_t code, const char *reason)
{
	log_msg(PROXYD_LOG_INFO, "relay", w->conn_id, "%s", reason);
	peer_refuse(w->st, code, reason);
	free(w);
}

/* The preamble is complete: check and join. */
static void forward(struct relay_wait *w, const char *to)
{
	const struct conf *c = daemon_conf();
	char why[300];
	const char *svc = w->oh.kind == OPEN_KIND_PEER ? w->oh.service : NULL;
	if (!peer_acl_allows(c->srv.relay_allow, c->srv.n_relay_allow, w->from, to, svc)) {
		stats.refused_acl++;
		snprintf(why, sizeof why, "agent %s may not reach %s%s%s (server.relay.allow)", w->from,
			 svc ? svc : "any service of ", svc ? " on agent " : "", to);
		refuse(w, RST_REFUSED, why);
		return;
	}
	const char *err = NULL;
	struct stream *out = server_open_peer_stream(to, &w->oh, &err);
	if (!out) {
		stats.refused_offline++;
		snprintf(why, sizeof why, "cannot relay %s to agent %s: %s", w->from, to, err);
		refuse(w, RST_REFUSED, why);
		return;
	}
	uint8_t pre[PEER_PREAMBLE_MAX];
	int n = peer_preamble_encode(w->from, pre, sizeof pre);
	if (n > 0)
		stream_write(out, pre, (size_t)n);
	stats.relayed++;
	log_msg(PROXYD_LOG_DEBUG, "relay", w->conn_id, "%s %s -> %s%s%s", w->oh.kind == OPEN_KIND_PEER ? "stream" : "ping",
		w->from, to, svc ? " service " : "", svc ? svc : "");
	struct stream *st = w->st;
	uint64_t id = w->conn_id;
	free(w);
	stream_join(st, out, id);
}

/* 1 while the preamble is still incomplete (w lives on), 0 once w is gone. */
static int take_preamble(struct relay_wait *w)
{
	struct stream *st = w->st;
	struct evbuffer *in = stream_input(st);
	size_t len = evbuffer_get_length(in);
	if (len > PEER_PREAMBLE_MAX)
		len = PEER_PREAMBLE_MAX;
	const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)len);
	char to[PEER_AGENT_MAX + 1];
	const char *err = NULL;
	int n = peer_preamble_decode(p, len, to, sizeof to, &err);
	if (n == -EAGAIN)
		return 1;
	if (n < 0) {
		refuse(w, RST_PROTOCOL, err);
		return 0;
	}
	evbuffer_drain(in, (size_t)n);
	stream_consumed(st, (size_t)n);
	forward(w, to);
	return 0;
}

static void wait_data(struct stream *st, void *arg)
{
	take_preamble(arg);
}

static void wait_fin(struct stream *st, void *arg)
{
	/* A FIN before the whole preamble: it can never come now. */
	if (take_preamble(arg))
		refuse(arg, RST_PROTOCOL, "peer preamble: stream ended before the agent id");
}

static void wait_reset(struct stream *st, void *arg, uint32_t code, const char *reason)
{
	struct relay_wait *w = arg;
	stream_release(w->st);
	free(w);
}

static const struct stream_cbs wait_cbs = {
	.on_data = wait_data,
	.on_fin = wait_fin,
	.on_reset = wait_reset,
};

void relay_stream(const char *from, uint64_t conn_id, struct stream *st,
		  const struct open_header *oh)
{
	struct relay_wait *w = calloc(1, sizeof *w);
	if (!w) {
		stream_reset(st, RST_INTERNAL, "out of memory");
		stream_release(st);
		return;
	}
	w->st = st;
	w->oh = *oh;
	w->conn_id = conn_id;
	snprintf(w->from, sizeof w->from, "%s", from);
	stream_set_cbs(st, &wait_cbs, w);
	if (evbuffer_get_length(stream_input(st)) && take_preamble(w) && stream_peer_finished(st))
		refuse(w, RST_PROTOCOL, "peer preamble: stream ended before the agent id");
}
