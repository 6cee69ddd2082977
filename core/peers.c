/* The agent's paths to other agents, direct attempts, incoming peer streams and ping: see
 * peers.h. */
#include "config.h"
#include "peers.h"
#include "admin.h"
#include "agent.h"
#include "ctl_channel.h"
#include "daemon.h"
#include "frame.h"
#include "host_api.h"
#include "json_out.h"
#include "log.h"
#include "loop.h"
#include "peer_acl.h"
#include "peer_conn.h"
#include "peer_refuse.h"
#include "peer_wire.h"
#include "plugins.h"
#include "session.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <time.h>

#define RECORDS_MAX 32          /* attempts remembered per peer for proxyctl */
#define GO_TIMEOUT_MS 10000     /* from REQUEST to GO, and from OFFER to the start */
#define PING_TIMEOUT_MS 4000 /* under proxyctl's 5 s */

/* One direct attempt, as the core knows it (the transport's handle is `state`). */
struct proxyd_direct {
	struct peer_path *pp;
	struct proxyd_plugin *t;
	void *state;
	uint64_t attempt;         /* the server's id, 0 until GO/OFFER gave one */
	int initiator;
	uint8_t key[32];
	char peer_candidates[CTL_CANDIDATES_MAX + 1];
	char candidates[CTL_CANDIDATES_MAX + 1];
	char allowed[CTL_ALLOWED_MAX + 1]; /* our services the peer may reach (the server's rule) */
	int gathered, started;
	uint64_t started_ms;
	proxyd_timer *timer;      /* waiting for the server */
};

struct attempt_record {
	uint64_t id, at_ms, took_ms;
	int initiator, ok;
	char step[33];
	char reason[200];
};

struct peer_path {
	LIST_ENTRY(peer_path) link;
	char id[PEER_AGENT_MAX + 1];
	int wanted;               /* an agent.connect entry wants a direct path to it */
	struct session *ds;       /* the direct path's session, NULL while there is none */
	uint64_t ds_conn_id, ds_since_ms;
	char ds_path[96];
	char ds_allowed[CTL_ALLOWED_MAX + 1]; /* our services the server lets it reach directly */
	struct proxyd_direct *attempt;
	uint64_t next_try_ms;
	proxyd_timer *retry_timer;
	struct attempt_record rec[RECORDS_MAX];
	unsigned n_rec;           /* total; rec[n_rec % RECORDS_MAX] is the next slot */
	uint64_t ok, failed, lost;
	unsigned streak; /* failed attempts in a row: each doubles the wait before the next */
};

static struct {
	struct conf *conf;
	LIST_HEAD(, peer_path) paths;
	uint64_t attempts, attempts_ok, direct_lost, offers_refused;
	uint64_t failed_by_step[8];
	uint64_t pings;
	int running;
} pr;

static const char *const step_names[] = {"server", "bind", "stun", "punch", "handshake",
					 "identity", "timeout", "other"};

static int step_index(const char *step)
{
	for (int i = 0; i < 7; i++)
		if (strcmp(step, step_names[i]) == 0)
			return i;
	return 7;
}

static const char *self_id(void)
{
	return pr.conf->agt.id;
}

long long peers_resume_timeout_ms(void)
{
	return pr.conf ? pr.conf->agt.resume_timeout_ms : 30000;
}

static void retry_fired(void *arg);

static struct peer_path *path_get(const char *id, int create)
{
	struct peer_path *pp;
	LIST_FOREACH(pp, &pr.paths, link)
		if (strcmp(pp->id, id) == 0)
			return pp;
	if (!create)
		return NULL;
	pp = calloc(1, sizeof *pp);
	if (!pp)
		return NULL;
	snprintf(pp->id, sizeof pp->id, "%s", id);
	pp->retry_timer = loop_timer_new(retry_fired, pp);
	LIST_INSERT_HEAD(&pr.paths, pp, link);
	return pp;
}

/* ---- opening legs ---- */

struct stream *peers_open_leg(const char *peer, const char *service, uint8_t kind,
			      int prefer_direct, int direct_only, int *via_direct, const char **why)
{
	struct peer_path *pp = path_get(peer, 0);
	struct open_header oh;
	memset(&oh, 0, sizeof oh);
	oh.kind = kind;
	snprintf(oh.service, sizeof oh.service, "%s", service);
	struct stream *st = NULL;
	const char *named = peer;
	*via_direct = 0;
	if ((prefer_direct || direct_only) && pp && pp->ds && !session_is_closed(pp->ds)) {
		st = session_open_stream(pp->ds, &oh);
		if (st) {
			*via_direct = 1;
			named = self_id();
		}
	}
	if (!st && direct_only) {
		*why = "no direct path";
		return NULL;
	}
	if (!st) {
		uint64_t cid;
		struct session *s = agent_ready_session(&cid);
		if (!s) {
			*why = "not connected to the server";
			return NULL;
		}
		st = session_open_stream(s, &oh);
		if (!st) {
			*why = "the server takes no new streams now";
			return NULL;
		}
	}
	uint8_t pre[PEER_PREAMBLE_MAX];
	int n = peer_preamble_encode(named, pre, sizeof pre);
	if (n > 0)
		stream_write(st, pre, (size_t)n);
	return st;
}

/* ---- streams other agents open here ---- */

struct incoming {
	struct stream *st;
	struct open_header oh;
	struct peer_path *direct; /* the direct path it came over, or NULL (relay) */
	uint64_t log_id;
	char from[PEER_AGENT_MAX + 1];
	int ponging;
};

static void incoming_drop(struct incoming *in, uint32_t code, const char *reason)
{
	if (reason) {
		log_msg(PROXYD_LOG_INFO, "peer", in->log_id, "refused a stream%s%s: %s",
			in->from[0] ? " from " : "", in->from, reason);
		peer_refuse(in->st, code, reason);
	} else {
		stream_release(in->st);
	}
	free(in);
}

/* Is name in the comma-separated list? NULL name: is the list non-empty? */
static int list_has(const char *list, const char *name)
{
	if (!name)
		return list[0] != '\0';
	size_t n = strlen(name);
	for (const char *p = list; *p;) {
		size_t k = strcspn(p, ",");
		if (k == n && strncmp(p, name, n) == 0)
			return 1;
		p += k;
		if (*p == ',')
			p++;
	}
	return 0;
}

/* PEER_PING: answer every PING with a PONG until the pinger finishes. */
static void pong_frames(struct incoming *in)
{
	struct evbuffer *buf = stream_input(in->st);
	for (;;) {
		size_t len = evbuffer_get_length(buf);
		if (len < PEER_FRAME_HEADER)
			break;
		uint8_t hdr[PEER_FRAME_HEADER];
		evbuffer_copyout(buf, hdr, sizeof hdr);
		if (hdr[0] != PF_PING) {
			incoming_drop(in, RST_PROTOCOL, "a ping stream carries PING frames only");
			return;
		}
		if (len < PEER_FRAME_HEADER + 8)
			break;
		struct peer_frame f;
		const char *err = NULL;
		int rc = peer_frame_decode(evbuffer_pullup(buf, PEER_FRAME_HEADER + 8),
					   PEER_FRAME_HEADER + 8, &f, &err);
		if (rc < 0) {
			incoming_drop(in, RST_PROTOCOL, err ? err : "bad PING frame");
			return;
		}
		evbuffer_drain(buf, (size_t)rc);
		stream_consumed(in->st, (size_t)rc);
		uint8_t out[PEER_FRAME_HEADER + 8];
		size_t n = peer_encode_u64(out, PF_PONG, f.value);
		stream_write(in->st, out, n);
	}
	if (stream_peer_finished(in->st)) {
		stream_shutdown(in->st);
		stream_release(in->st);
		free(in);
	}
}

static void in_data(struct stream *st, void *arg);

static void in_fin(struct stream *st, void *arg)
{
	in_data(st, arg);
}

static void in_reset(struct stream *st, void *arg, uint32_t code, const char *reason)
{
	incoming_drop(arg, 0, NULL);
}

static const struct stream_cbs incoming_cbs = {
	.on_data = in_data,
	.on_fin = in_fin,
	.on_reset = in_reset,
};

static void in_data(struct stream *st, void *arg)
{
	struct incoming *in = arg;
	if (in->ponging) {
		pong_frames(in);
		return;
	}
	struct evbuffer *buf = stream_input(st);
	size_t len = evbuffer_get_length(buf);
	if (len > PEER_PREAMBLE_MAX)
		len = PEER_PREAMBLE_MAX;
	const char *err = NULL;
	int n = peer_preamble_decode(evbuffer_pullup(buf, (ev_ssize_t)len), len, in->from,
				     sizeof in->from, &err);
	if (n == -EAGAIN) {
		if (stream_peer_finished(st))
			incoming_drop(in, RST_PROTOCOL, "the stream ended inside its preamble");
		return;
	}
	if (n < 0) {
		incoming_drop(in, RST_PROTOCOL, err);
		return;
	}
	evbuffer_drain(buf, (size_t)n);
	stream_consumed(st, (size_t)n);
	if (in->direct && strcmp(in->from, in->direct->id) != 0) {
		incoming_drop(in, RST_PROTOCOL, "the preamble names another agent than the direct path's");
		return;
	}
	const struct conf_agent *agt = &pr.conf->agt;
	const char *svc = in->oh.kind == OPEN_KIND_PEER ? in->oh.service : NULL;
	/* Over a direct path the server cannot check its rule per stream: it said, when it
	 * arranged the path, which of our services the other agent may reach. */
	if (in->direct && !list_has(in->direct->ds_allowed, svc)) {
		char why[300];
		snprintf(why, sizeof why, "agent %s may not reach %s on %s (server.relay.allow)",
			 in->from, svc ? svc : "any service", self_id());
		incoming_drop(in, RST_REFUSED, why);
		return;
	}
	if (!peer_acl_allows(agt->allow, agt->n_allow, in->from, NULL, svc)) {
		char why[300];
		snprintf(why, sizeof why, "agent %s may not reach %s on %s (agent.allow)", in->from,
			 svc ? svc : "this agent", self_id());
		incoming_drop(in, RST_REFUSED, why);
		return;
	}
	if (in->oh.kind == OPEN_KIND_PEER) {
		struct stream *s = in->st;
		char from[PEER_AGENT_MAX + 1];
		snprintf(from, sizeof from, "%s", in->from);
		int direct = in->direct != NULL;
		struct open_header oh = in->oh;
		free(in);
		peer_conn_leg_arrived(from, s, &oh, direct);
		return;
	}
	in->ponging = 1;
	pong_frames(in);
}

static void incoming_start(struct stream *st, const struct open_header *oh, struct peer_path *direct)
{
	struct incoming *in = calloc(1, sizeof *in);
	if (!in) {
		stream_reset(st, RST_INTERNAL, "out of memory");
		stream_release(st);
		return;
	}
	in->st = st;
	in->oh = *oh;
	in->direct = direct;
	in->log_id = host_next_conn_id();
	stream_set_cbs(st, &incoming_cbs, in);
	if (evbuffer_get_length(stream_input(st)) || stream_peer_finished(st))
		in_data(st, in);
}

void peers_incoming(struct stream *st, const struct open_header *oh)
{
	incoming_start(st, oh, NULL);
}

/* ---- the direct path's session ---- */

static void record(struct peer_path *pp, const struct proxyd_direct *d, int ok, const char *step,
		   const char *reason)
{
	struct attempt_record *r = &pp->rec[pp->n_rec++ % RECORDS_MAX];
	memset(r, 0, sizeof *r);
	r->id = d->attempt;
	r->at_ms = d->started_ms;
	r->took_ms = loop_now_ms() - d->started_ms;
	r->initiator = d->initiator;
	r->ok = ok;
	snprintf(r->step, sizeof r->step, "%s", step ? step : "");
	snprintf(r->reason, sizeof r->reason, "%s", reason ? reason : "");
}

static void send_result(const struct proxyd_direct *d, int ok, const char *step, const char *reason)
{
	uint64_t cid;
	struct session *s = agent_ready_session(&cid);
	if (!s || !d->attempt)
		return;
	struct ctl_msg m;
	memset(&m, 0, sizeof m);
	m.type = CTL_DIRECT_RESULT;
	m.attempt = d->attempt;
	snprintf(m.peer, sizeof m.peer, "%s", d->pp->id);
	m.code = ok ? 0 : 1;
	snprintf(m.step, sizeof m.step, "%s", ok ? "direct" : step);
	ctl_set_reason(&m, reason);
	m.elapsed_ms = (uint32_t)(loop_now_ms() - d->started_ms);
	ctl_send(s, &m);
}

static void attempt_free(struct proxyd_direct *d)
{
	if (d->pp && d->pp->attempt == d)
		d->pp->attempt = NULL;
	loop_timer_free(d->timer);
	free(d);
}

/* A few attempts, then fewer: after a failure the next waits direct.retry, doubling with each
 * failure in a row up to 16 times that (a NAT that cannot be punched is not asked every 30 s
 * for ever); a direct path that was up and died is tried again after direct.retry. */
static void schedule_retry(struct peer_path *pp)
{
	if (!pp->wanted || !pr.running)
		return;
	unsigned shift = pp->streak > 1 ? pp->streak - 1 : 0;
	uint64_t delay = (uint64_t)pr.conf->agt.direct_retry_ms << (shift > 4 ? 4 : shift);
	pp->next_try_ms = loop_now_ms() + delay;
	loop_timer_start(pp->retry_timer, delay, 0);
}

/* The attempt is over without a direct path. */
static void attempt_failed(struct proxyd_direct *d, const char *step, const char *reason,
			   int cancel_transport)
{
	struct peer_path *pp = d->pp;
	log_msg(PROXYD_LOG_INFO, "direct", 0, "direct path to %s: attempt %016llx failed at %s after %llu ms: %s; staying on the relay",
		pp->id, (unsigned long long)d->attempt, step,
		(unsigned long long)(loop_now_ms() - d->started_ms), reason);
	if (cancel_transport && d->state)
		d->t->ops.transport.direct_cancel(d->state);
	record(pp, d, 0, step, reason);
	pp->failed++;
	pp->streak++;
	pr.failed_by_step[step_index(step)]++;
	send_result(d, 0, step, reason);
	attempt_free(d);
	schedule_retry(pp);
}

static void ds_on_stream(struct session *s, void *owner, struct stream *st,
			 const struct open_header *oh)
{
	struct peer_path *pp = owner;
	if (oh->kind == OPEN_KIND_PEER || oh->kind == OPEN_KIND_PEER_PING) {
		incoming_start(st, oh, pp);
		return;
	}
	stream_reset(st, RST_NO_SERVICE, "a direct path carries agent-to-agent streams only");
	stream_release(st);
}

static void ds_on_control(struct session *s, void *owner, struct evbuffer *in)
{
	/* Nothing is said on a direct path's control stream yet: liveness is QUIC's. */
	evbuffer_drain(in, evbuffer_get_length(in));
}

static void ds_on_closed(struct session *s, void *owner, const char *reason)
{
	struct peer_path *pp = owner;
	if (pp->ds == s) {
		log_msg(PROXYD_LOG_INFO, "direct", pp->ds_conn_id,
			"direct path to %s closed after %llu s: %s; traffic goes back to the relay",
			pp->id, (unsigned long long)((loop_now_ms() - pp->ds_since_ms) / 1000), reason);
		pp->ds = NULL;
		pp->lost++;
		pr.direct_lost++;
		schedule_retry(pp);
	}
	session_free(s);
}

static const struct session_cbs ds_cbs = {
	.on_stream = ds_on_stream,
	.on_control = ds_on_control,
	.on_closed = ds_on_closed,
};

/* ---- attempts ---- */

static void attempt_timeout(void *arg)
{
	struct proxyd_direct *d = arg;
	attempt_failed(d, "timeout",
		       d->gathered ? "no answer from the server in time" : "gathering candidates took too long",
		       1);
}

static struct proxyd_direct *attempt_new(struct peer_path *pp, int initiator)
{
	struct proxyd_plugin *t = pr.conf->agt.direct_transport;
	if (!t || !t->ops.transport.direct_prepare)
		return NULL;
	struct proxyd_direct *d = calloc(1, sizeof *d);
	if (!d)
		return NULL;
	d->pp = pp;
	d->t = t;
	d->initiator = initiator;
	d->started_ms = loop_now_ms();
	d->timer = loop_timer_new(attempt_timeout, d);
	if (!d->timer) {
		free(d);
		return NULL;
	}
	pp->attempt = d;
	pr.attempts++;
	loop_timer_start(d->timer, GO_TIMEOUT_MS, 0);
	if (t->ops.transport.direct_prepare(t->state, pr.conf->agt.direct, d, &d->state) != 0) {
		d->state = NULL;
		attempt_failed(d, "bind", "the transport could not start an attempt", 0);
		return NULL;
	}
	return d;
}

/* Try for a direct path to pp now if we want one and none is up or on its way. */
static void maybe_attempt(struct peer_path *pp)
{
	uint64_t cid;
	if (!pr.running || !pp->wanted || pp->ds || pp->attempt || !pr.conf->agt.direct_transport ||
	    !agent_ready_session(&cid))
		return;
	if (pp->next_try_ms && loop_now_ms() < pp->next_try_ms)
		return;
	log_msg(PROXYD_LOG_INFO, "direct", 0, "direct path to %s: gathering candidates", pp->id);
	attempt_new(pp, 1);
}

static void retry_fired(void *arg)
{
	struct peer_path *pp = arg;
	pp->next_try_ms = 0;
	maybe_attempt(pp);
}

static void start_punching(struct proxyd_direct *d)
{
	struct proxyd_direct_attempt a = {
		.size = sizeof a,
		.id = d->attempt,
		.key = d->key,
		.peer_id = d->pp->id,
		.peer_candidates = d->peer_candidates,
		.initiator = d->initiator,
		.punch_timeout_ms = 0, /* the transport's direct.punch_timeout */
	};
	d->started = 1;
	loop_timer_stop(d->timer);
	log_msg(PROXYD_LOG_INFO, "direct", 0, "direct path to %s: attempt %016llx punching towards %s",
		d->pp->id, (unsigned long long)d->attempt, d->peer_candidates);
	if (d->t->ops.transport.direct_start(d->state, &a) != 0)
		attempt_failed(d, "punch", "the transport could not start punching", 1);
}

void peers_host_direct_gathered(proxyd_direct *d, const char *candidates, const char *detail)
{
	if (!candidates) {
		d->state = NULL; /* the transport forgot it */
		attempt_failed(d, "stun", detail ? detail : "no candidates", 0);
		return;
	}
	d->gathered = 1;
	snprintf(d->candidates, sizeof d->candidates, "%s", candidates);
	log_msg(PROXYD_LOG_INFO, "direct", 0, "direct path to %s: candidates %s (%s)", d->pp->id,
		candidates, detail ? detail : "");
	uint64_t cid;
	struct session *s = agent_ready_session(&cid);
	if (!s) {
		attempt_failed(d, "server", "not connected to the server", 1);
		return;
	}
	struct ctl_msg m;
	memset(&m, 0, sizeof m);
	snprintf(m.candidates, sizeof m.candidates, "%s", candidates);
	if (d->initiator) {
		m.type = CTL_DIRECT_REQUEST;
		snprintf(m.peer, sizeof m.peer, "%s", d->pp->id);
		ctl_send(s, &m);
		return;
	}
	m.type = CTL_DIRECT_ANSWER;
	m.attempt = d->attempt;
	ctl_send(s, &m);
	start_punching(d);
}

proxyd_conn *peers_host_direct_connected(proxyd_direct *d, void *conn_state,
					 const struct proxyd_peer_info *info)
{
	struct peer_path *pp = d->pp;
	struct session_link link = {.nops = &d->t->ops.transport, .nconn = conn_state};
	uint64_t conn_id = host_next_conn_id();
	struct session *s = session_new(&link, d->initiator, conn_id, NULL, &ds_cbs, pp);
	if (!s) {
		d->state = NULL;
		attempt_failed(d, "other", "out of memory", 0);
		return NULL;
	}
	if (pp->ds)
		session_close(pp->ds, "replaced by a newer direct path");
	pp->ds = s;
	pp->ds_conn_id = conn_id;
	pp->ds_since_ms = loop_now_ms();
	snprintf(pp->ds_path, sizeof pp->ds_path, "%s", info && info->address ? info->address : "?");
	snprintf(pp->ds_allowed, sizeof pp->ds_allowed, "%s", d->allowed);
	pp->ok++;
	pp->streak = 0;
	pr.attempts_ok++;
	log_msg(PROXYD_LOG_INFO, "direct", conn_id,
		"direct path to %s is up after %llu ms (attempt %016llx, %s, peer %s)", pp->id,
		(unsigned long long)(loop_now_ms() - d->started_ms), (unsigned long long)d->attempt,
		d->initiator ? "we dialed" : "we accepted", pp->ds_path);
	record(pp, d, 1, "direct", "");
	send_result(d, 1, "direct", "");
	d->state = NULL;
	attempt_free(d);
	peer_conn_path_up(pp->id);
	return (proxyd_conn *)s;
}

void peers_host_direct_failed(proxyd_direct *d, const char *step, const char *reason)
{
	d->state = NULL;
	attempt_failed(d, step ? step : "other", reason ? reason : "failed", 0);
}

void peers_on_control(const struct ctl_msg *m)
{
	if (m->type == CTL_DIRECT_GO) {
		struct peer_path *pp = path_get(m->peer, 0);
		struct proxyd_direct *d = pp ? pp->attempt : NULL;
		if (!d || !d->initiator || d->started)
			return;
		d->attempt = m->attempt;
		if (m->code || !m->has_key || !m->candidates[0]) {
			attempt_failed(d, "server", m->reason[0] ? m->reason : "the server arranged no attempt", 1);
			return;
		}
		memcpy(d->key, m->key, sizeof d->key);
		snprintf(d->peer_candidates, sizeof d->peer_candidates, "%s", m->candidates);
		snprintf(d->allowed, sizeof d->allowed, "%s", m->allowed);
		start_punching(d);
		return;
	}
	if (m->type != CTL_DIRECT_OFFER)
		return;
	uint64_t cid;
	struct session *s = agent_ready_session(&cid);
	struct ctl_msg r;
	memset(&r, 0, sizeof r);
	r.type = CTL_DIRECT_ANSWER;
	r.attempt = m->attempt;
	const struct conf_agent *agt = &pr.conf->agt;
	const char *refuse = NULL;
	struct peer_path *pp = NULL;
	if (!agt->direct_transport)
		refuse = "no direct paths here (agent.direct is not configured)";
	else if (!peer_acl_allows(agt->allow, agt->n_allow, m->peer, NULL, NULL))
		refuse = "agent.allow lets that agent reach nothing here";
	else if (!m->has_key || !m->candidates[0])
		refuse = "the offer has no key or candidates";
	else if (!(pp = path_get(m->peer, 1)))
		refuse = "out of memory";
	else if (pp->attempt && pp->attempt->initiator && strcmp(self_id(), m->peer) < 0)
		refuse = "an attempt of ours towards that agent is under way";
	if (refuse) {
		pr.offers_refused++;
		log_msg(PROXYD_LOG_INFO, "direct", 0, "refused a direct path offer from %s: %s", m->peer, refuse);
		r.code = 1;
		ctl_set_reason(&r, refuse);
		if (s)
			ctl_send(s, &r);
		return;
	}
	/* Both sides asked at once: the one with the smaller id dials; the other's own
	 * request is dropped in favour of this offer. */
	if (pp->attempt) {
		struct proxyd_direct *old = pp->attempt;
		if (old->state)
			old->t->ops.transport.direct_cancel(old->state);
		attempt_free(old);
	}
	struct proxyd_direct *d = attempt_new(pp, 0);
	if (!d)
		return;
	d->attempt = m->attempt;
	memcpy(d->key, m->key, sizeof d->key);
	snprintf(d->peer_candidates, sizeof d->peer_candidates, "%s", m->candidates);
	snprintf(d->allowed, sizeof d->allowed, "%s", m->allowed);
	log_msg(PROXYD_LOG_INFO, "direct", 0, "direct path offer from %s (attempt %016llx): gathering candidates",
		m->peer, (unsigned long long)m->attempt);
}

/* ---- proxyctl ping ---- */

struct pinger {
	struct stream *st;
	struct admin_reply *reply;
	char peer[PEER_AGENT_MAX + 1];
	int via_direct, count, sent, got;
	uint64_t sent_ns;
	double rtt_ms[64];
	proxyd_timer *timer;
	int done;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void ping_finish(struct pinger *p, const char *error)
{
	if (p->done)
		return;
	p->done = 1;
	struct evbuffer *out = evbuffer_new();
	if (out) {
		evbuffer_add_printf(out, "{\"agent\":");
		json_str(out, p->peer);
		evbuffer_add_printf(out, ",\"path\":\"%s\"", p->via_direct ? "direct" : "relay");
		if (error) {
			evbuffer_add_printf(out, ",\"error\":");
			json_str(out, error);
		}
		double mn = 0, mx = 0, sum = 0;
		evbuffer_add_printf(out, ",\"rtt_ms\":[");
		for (int i = 0; i < p->got; i++) {
			evbuffer_add_printf(out, "%s%.3f", i ? "," : "", p->rtt_ms[i]);
			if (i == 0 || p->rtt_ms[i] < mn)
				mn = p->rtt_ms[i];
			if (p->rtt_ms[i] > mx)
				mx = p->rtt_ms[i];
			sum += p->rtt_ms[i];
		}
		evbuffer_add_printf(out, "],\"sent\":%d,\"received\":%d", p->sent, p->got);
		if (p->got)
			evbuffer_add_printf(out, ",\"min_ms\":%.3f,\"avg_ms\":%.3f,\"max_ms\":%.3f", mn,
					    sum / p->got, mx);
		evbuffer_add_printf(out, "}\n");
		admin_reply_send(p->reply, out);
		evbuffer_free(out);
	} else {
		admin_reply_send(p->reply, NULL);
	}
	p->reply = NULL;
	if (p->st) {
		stream_shutdown(p->st);
		stream_release(p->st);
		p->st = NULL;
	}
	loop_timer_free(p->timer);
	free(p);
}

static void ping_send(struct pinger *p)
{
	uint8_t f[PEER_FRAME_HEADER + 8];
	p->sent_ns = now_ns();
	size_t n = peer_encode_u64(f, PF_PING, p->sent_ns);
	p->sent++;
	stream_write(p->st, f, n);
}

/* Read the PONGs that arrived; 0 once the pinger is finished (and freed). */
static int ping_read(struct pinger *p)
{
	struct evbuffer *buf = stream_input(p->st);
	while (evbuffer_get_length(buf) >= PEER_FRAME_HEADER) {
		uint8_t hdr[PEER_FRAME_HEADER];
		evbuffer_copyout(buf, hdr, sizeof hdr);
		size_t need = peer_frame_size(hdr);
		if (need > PEER_FRAME_MAX) {
			ping_finish(p, "bad frame from the other side");
			return 0;
		}
		if (evbuffer_get_length(buf) < need)
			return 1;
		struct peer_frame f;
		int rc = peer_frame_decode(evbuffer_pullup(buf, (ev_ssize_t)need), need, &f, NULL);
		if (rc > 0 && f.type == PF_RST) {
			char reason[PEER_REASON_MAX + 1];
			peer_rst_reason(&f, reason);
			ping_finish(p, reason);
			return 0;
		}
		evbuffer_drain(buf, need);
		stream_consumed(p->st, need);
		if (rc < 0 || f.type != PF_PONG || f.value != p->sent_ns)
			continue;
		if (p->got < (int)(sizeof p->rtt_ms / sizeof p->rtt_ms[0]))
			p->rtt_ms[p->got++] = (double)(now_ns() - p->sent_ns) / 1e6;
		if (p->got >= p->count) {
			ping_finish(p, NULL);
			return 0;
		}
		ping_send(p);
	}
	return 1;
}

static void ping_data(struct stream *st, void *arg)
{
	ping_read(arg);
}

static void ping_fin(struct stream *st, void *arg)
{
	if (ping_read(arg))
		ping_finish(arg, "the other agent closed the ping stream");
}

static void ping_reset(struct stream *st, void *arg, uint32_t code, const char *reason)
{
	struct pinger *p = arg;
	char why[300];
	snprintf(why, sizeof why, "%s (%s)", reason, frame_rst_name(code));
	stream_release(p->st);
	p->st = NULL;
	ping_finish(p, why);
}

static const struct stream_cbs ping_cbs = {
	.on_data = ping_data,
	.on_fin = ping_fin,
	.on_reset = ping_reset,
};

static void ping_timeout(void *arg)
{
	ping_finish(arg, "no answer within 4 s");
}

void peers_ping(const char *peer, int count, const char *via, struct admin_reply *r)
{
	struct pinger *p = calloc(1, sizeof *p);
	if (!p) {
		admin_reply_send(r, NULL);
		return;
	}
	p->reply = r;
	snprintf(p->peer, sizeof p->peer, "%s", peer);
	p->count = count < 1 ? 1 : count > 64 ? 64 : count;
	p->timer = loop_timer_new(ping_timeout, p);
	pr.pings++;
	const char *why = NULL;
	if (!pr.running || !conf_valid_id(peer)) {
		ping_finish(p, !pr.running ? "this process is not an agent" : "not an agent id");
		return;
	}
	int prefer = strcmp(via, "relay") != 0, only = strcmp(via, "direct") == 0;
	p->st = peers_open_leg(peer, "ping", OPEN_KIND_PEER_PING, prefer, only, &p->via_direct, &why);
	if (!p->st) {
		ping_finish(p, why);
		return;
	}
	stream_set_cbs(p->st, &ping_cbs, p);
	loop_timer_start(p->timer, PING_TIMEOUT_MS, 0);
	ping_send(p);
}

/* ---- status and metrics ---- */

void peers_status(struct evbuffer *out, int *first)
{
	struct peer_path *pp;
	LIST_FOREACH(pp, &pr.paths, link) {
		json_sep(out, first);
		evbuffer_add_printf(out, "{\"agent\":");
		json_str(out, pp->id);
		evbuffer_add_printf(out, ",\"path\":\"%s\"", pp->ds ? "direct" : "relay");
		if (pp->ds) {
			struct session_stats st;
			session_stats(pp->ds, &st);
			evbuffer_add_printf(out, ",\"direct\":{\"peer\":");
			json_str(out, pp->ds_path);
			evbuffer_add_printf(out, ",\"age_s\":%llu,\"rtt_ms\":%.3f,\"streams_open\":%u}",
					    (unsigned long long)((loop_now_ms() - pp->ds_since_ms) / 1000),
					    (double)st.rtt_us / 1000.0, st.streams_open);
		}
		evbuffer_add_printf(out, ",\"attempting\":%s,\"ok\":%llu,\"failed\":%llu,\"lost\":%llu",
				    pp->attempt ? "true" : "false", (unsigned long long)pp->ok,
				    (unsigned long long)pp->failed, (unsigned long long)pp->lost);
		evbuffer_add_printf(out, ",\"attempts\":[");
		unsigned n = pp->n_rec < RECORDS_MAX ? pp->n_rec : RECORDS_MAX;
		for (unsigned i = 0; i < n; i++) {
			const struct attempt_record *r = &pp->rec[(pp->n_rec - n + i) % RECORDS_MAX];
			evbuffer_add_printf(out, "%s{\"id\":\"%016llx\",\"role\":\"%s\",\"ok\":%s,\"step\":",
					    i ? "," : "", (unsigned long long)r->id,
					    r->initiator ? "dial" : "accept", r->ok ? "true" : "false");
			json_str(out, r->step);
			evbuffer_add_printf(out, ",\"ms\":%llu,\"ago_s\":%llu,\"reason\":",
					    (unsigned long long)r->took_ms,
					    (unsigned long long)((loop_now_ms() - r->at_ms) / 1000));
			json_str(out, r->reason);
			evbuffer_add_printf(out, "}");
		}
		evbuffer_add_printf(out, "]}");
	}
}

void peers_metrics(struct evbuffer *out)
{
	struct peer_conn_stats cs;
	peer_conn_get_stats(&cs);
	unsigned direct_up = 0;
	struct peer_path *pp;
	LIST_FOREACH(pp, &pr.paths, link)
		direct_up += pp->ds != NULL;
	evbuffer_add_printf(out,
			    "# HELP proxyd_direct_attempts_total Direct-path attempts this agent took part in.\n"
			    "# TYPE proxyd_direct_attempts_total counter\n"
			    "proxyd_direct_attempts_total %llu\n"
			    "# HELP proxyd_direct_success_total Attempts that ended with a direct path.\n"
			    "# TYPE proxyd_direct_success_total counter\n"
			    "proxyd_direct_success_total %llu\n"
			    "# HELP proxyd_direct_failures_total Failed attempts, by the step that failed.\n"
			    "# TYPE proxyd_direct_failures_total counter\n",
			    (unsigned long long)pr.attempts, (unsigned long long)pr.attempts_ok);
	for (int i = 0; i < 8; i++)
		evbuffer_add_printf(out, "proxyd_direct_failures_total{step=\"%s\"} %llu\n", step_names[i],
				    (unsigned long long)pr.failed_by_step[i]);
	evbuffer_add_printf(out,
			    "# TYPE proxyd_direct_lost_total counter\nproxyd_direct_lost_total %llu\n"
			    "# TYPE proxyd_direct_paths gauge\nproxyd_direct_paths %u\n"
			    "# TYPE proxyd_peer_connections_total counter\nproxyd_peer_connections_total %llu\n"
			    "# TYPE proxyd_peer_connections gauge\n"
			    "proxyd_peer_connections{path=\"direct\"} %llu\n"
			    "proxyd_peer_connections{path=\"relay\"} %llu\n"
			    "# TYPE proxyd_peer_connections_aborted_total counter\n"
			    "proxyd_peer_connections_aborted_total %llu\n"
			    "# HELP proxyd_peer_moves_total Connections moved to another path without a break.\n"
			    "# TYPE proxyd_peer_moves_total counter\n"
			    "proxyd_peer_moves_total{to=\"direct\"} %llu\n"
			    "proxyd_peer_moves_total{to=\"relay\"} %llu\n"
			    "# HELP proxyd_direct_offers_refused_total Offers from the server this agent declined.\n"
			    "# TYPE proxyd_direct_offers_refused_total counter\n"
			    "proxyd_direct_offers_refused_total %llu\n"
			    "# TYPE proxyd_peer_pings_total counter\nproxyd_peer_pings_total %llu\n",
			    (unsigned long long)pr.direct_lost, direct_up, (unsigned long long)cs.opened,
			    (unsigned long long)cs.active_direct, (unsigned long long)cs.active_relay,
			    (unsigned long long)cs.aborted, (unsigned long long)cs.moved_to_direct,
			    (unsigned long long)cs.moved_to_relay, (unsigned long long)pr.offers_refused,
			    (unsigned long long)pr.pings);
}

/* ---- life ---- */

static void mark_wanted(struct conf *c)
{
	struct peer_path *pp;
	LIST_FOREACH(pp, &pr.paths, link)
		pp->wanted = 0;
	for (int i = 0; i < c->agt.n_connect; i++)
		if (c->agt.connect[i].direct && c->agt.direct_transport &&
		    (pp = path_get(c->agt.connect[i].agent, 1)))
			pp->wanted = 1;
}

int peers_start(struct conf *c)
{
	pr.conf = c;
	pr.running = 1;
	LIST_INIT(&pr.paths);
	mark_wanted(c);
	return 0;
}

void peers_set_conf(struct conf *c)
{
	pr.conf = c;
	mark_wanted(c);
	peers_server_ready();
}

void peers_server_ready(void)
{
	struct peer_path *pp;
	LIST_FOREACH(pp, &pr.paths, link)
		maybe_attempt(pp);
}

void peers_server_lost(void)
{
	/* Attempts need the server to go on; direct paths that are up stay up. */
	struct peer_path *pp;
	LIST_FOREACH(pp, &pr.paths, link)
		if (pp->attempt && !pp->attempt->started)
			attempt_failed(pp->attempt, "server", "the server session ended", 1);
}

void peers_stop(void)
{
	pr.running = 0;
	peer_conn_free_all();
	struct peer_path *pp;
	while ((pp = LIST_FIRST(&pr.paths))) {
		LIST_REMOVE(pp, link);
		if (pp->attempt) {
			if (pp->attempt->state)
				pp->attempt->t->ops.transport.direct_cancel(pp->attempt->state);
			attempt_free(pp->attempt);
		}
		if (pp->ds)
			session_free(pp->ds);
		loop_timer_free(pp->retry_timer);
		free(pp);
	}
}
