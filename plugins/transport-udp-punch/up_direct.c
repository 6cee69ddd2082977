/* up_direct.c: one direct attempt between two agents, on ONE UDP socket from start to end:
 *
 *   prepare   bind the socket; host candidates (interface addresses with the socket's port)
 *             and server-reflexive ones (STUN Binding requests from this socket to every
 *             configured server: 250 ms, doubling to 500 ms, given up after 1.5 s); then
 *             host->direct_gathered. No STUN answer is no failure; a socket error is.
 *   start     every 50 ms an authenticated punch (punch_msg.h) to every peer candidate; a
 *             valid punch from X is answered with an ack to X, an ack from X for our nonce
 *             proves X both ways. The acceptor (QUIC server) adopts the socket into a server
 *             endpoint at the first valid punch or ack (the initiator's Initial then just
 *             arrives); the initiator (QUIC client) adopts it at the first ack and connects to
 *             X. Punches go on until the connection is ready or punch_timeout.
 *   connected both check the peer certificate's CN against the attempt's peer id, and hand
 *             the connection to the core (host->direct_connected); from then on it is a
 *             native-stream connection of transport-quic's glue (quic_native.c), owning the
 *             endpoint and so the socket.
 * Failures are reported once with a step name: "bind", "punch", "handshake", "identity".
 *
 * Once the engine owns the socket it reads it; what QUIC does not claim (punches, late STUN
 * answers) comes back through the engine's non_quic_datagram callback, so acks still go out.
 * Host calls are made only from loop callbacks (events, engine callbacks), never from inside
 * an op; the core may call direct_cancel from inside them (busy/cancelled). */
#include "config.h"
#include "up_plugin.h"
#include "punch_msg.h"
#include "stun.h"

#include <errno.h>
#include <event2/event.h>
#include <gnutls/crypto.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SESSION_INTERNAL 9
#define SESSION_PROTOCOL 1

enum phase {
	PH_GATHER,   /* STUN under way */
	PH_GATHERED, /* waiting for direct_start */
	PH_PUNCH,    /* punching (and, once adopted, handshaking) */
	PH_FAILED,   /* fail_step/fail_reason wait for the step event */
};

struct stun_query {
	struct sockaddr_storage addr;
	socklen_t len;
	uint8_t txid[STUN_TXID_LEN];
	int sends;
	uint64_t next_ms;
	unsigned rto_ms;
	int done; /* 1: answered, -1: given up or unusable */
	char text[QT_ADDR_TEXT_MAX];
	char result[QT_ADDR_TEXT_MAX + 32];
};

struct up_direct {
	enum qt_kind kind; /* QT_KIND_DIRECT: the engine connection's user while handshaking */
	struct up_plugin *p;
	proxyd_direct *d;
	uint64_t conn_id;
	struct up_direct_cfg cfg;
	enum phase phase;
	int fd;               /* ours until adopted (then the engine's: adopted 1) */
	int adopted;
	struct event *rd_ev;  /* our reads, until adopted */
	struct event *tick;   /* STUN retransmits, then punches */
	struct event *deadline;
	struct event *step;   /* host calls from the loop */
	uint64_t t0_ms, start_ms, proven_ms;
	char local[QT_ADDR_TEXT_MAX];
	struct stun_query q[UP_STUN_MAX];
	size_t nq;
	struct cand_list mine;
	/* the attempt */
	uint64_t attempt_id;
	uint8_t key[PROXYD_DIRECT_KEY_LEN];
	char *peer_id;
	char *peer_text;
	struct cand_list peer;
	int initiator;
	unsigned punch_timeout_ms;
	uint64_t nonce;
	int heard, proven; /* a valid punch came; an ack for our nonce came */
	struct sockaddr_storage proven_addr;
	socklen_t proven_len;
	char proven_text[QT_ADDR_TEXT_MAX];
	uint64_t punches_sent, punches_in, acks_in, bad_mac, bad_attempt, bad_other;
	int deadline_extended;
	/* QUIC */
	struct quic_endpoint *qep;
	struct quic_conn *qc;
	/* reporting */
	char fail_step[16];
	char fail_reason[600];
	int busy, cancelled;
	LIST_ENTRY(up_direct) link;
};

static const struct quic_callbacks direct_callbacks;

/* ---- life ---- */

static void direct_free(struct up_direct *t)
{
	if (t->rd_ev)
		event_free(t->rd_ev);
	if (t->tick)
		event_free(t->tick);
	if (t->deadline)
		event_free(t->deadline);
	if (t->step)
		event_free(t->step);
	if (t->qc)
		quic_conn_set_user(t->qc, NULL);
	if (t->qep)
		/* ends its connection without callbacks, and closes the adopted socket */
		quic_endpoint_free(t->qep);
	else if (!t->adopted && t->fd >= 0)
		close(t->fd);
	up_direct_cfg_clear(&t->cfg);
	free(t->peer_id);
	free(t->peer_text);
	explicit_bzero(t->key, sizeof t->key);
	LIST_REMOVE(t, link);
	free(t);
}

/* Only where the engine is not inside t->qep's callbacks (or t->qep was handed to the
 * reaper). t is gone when this returns. */
static void finish_failed(struct up_direct *t, const char *step, const char *reason)
{
	struct up_plugin *p = t->p;
	proxyd_direct *d = t->d;
	UP_LOG(p, PROXYD_LOG_WARN, t->conn_id, "direct attempt %016llx%s%s failed at %s after %llu ms: %s",
	       (unsigned long long)t->attempt_id, t->peer_id ? " to " : "",
	       t->peer_id ? t->peer_id : "", step,
	       (unsigned long long)(up_now_ms() - t->t0_ms), reason);
	char s[16], r[600];
	snprintf(s, sizeof s, "%s", step);
	snprintf(r, sizeof r, "%s", reason);
	direct_free(t);
	p->host->direct_failed(d, s, r);
}

__attribute__((format(printf, 3, 4))) static void fail_later(struct up_direct *t,
							     const char *step, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->fail_reason, sizeof t->fail_reason, fmt, ap);
	va_end(ap);
	snprintf(t->fail_step, sizeof t->fail_step, "%s", step);
	t->phase = PH_FAILED;
	event_active(t->step, EV_TIMEOUT, 1);
}

/* ---- sending ---- */

static void send_to(struct up_direct *t, const void *buf, size_t len, const struct sockaddr *to,
		    socklen_t tolen)
{
	if (sendto(t->fd, buf, len, 0, to, tolen) < 0 && errno != EAGAIN) {
		char a[QT_ADDR_TEXT_MAX];
		qt_sockaddr_format(to, a, sizeof a);
		UP_LOG(t->p, PROXYD_LOG_DEBUG, t->conn_id, "send to %s: %s", a, strerror(errno));
	}
}

static void send_punch(struct up_direct *t, uint8_t type, uint64_t nonce,
		       const struct sockaddr *to, socklen_t tolen)
{
	struct punch_msg m = {.type = type, .attempt_id = t->attempt_id, .nonce = nonce};
	uint8_t buf[PUNCH_MSG_LEN];
	if (punch_msg_encode(buf, &m, t->key, sizeof t->key) < 0)
		return;
	send_to(t, buf, sizeof buf, to, tolen);
}

/* ---- gathering ---- */

static int is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) ==
		       127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return 0;
}

static int is_wildcard(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return ((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr == INADDR_ANY;
	return IN6_IS_ADDR_UNSPECIFIED(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
}

static void set_port(struct sockaddr_storage *ss, uint16_t port_n)
{
	if (ss->ss_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = port_n;
	else
		((struct sockaddr_in6 *)ss)->sin6_port = port_n;
}

/* The addresses this socket can be reached at without a NAT: the bound address itself, or
 * for a wildcard every interface address of its family. Loopback only when the socket or a
 * STUN server is on loopback (a test on one machine); IPv6 link-local never (it needs a
 * scope the peer cannot use). */
static void host_candidates(struct up_direct *t, const struct sockaddr_storage *local)
{
	uint16_t port_n = local->ss_family == AF_INET
				  ? ((const struct sockaddr_in *)local)->sin_port
				  : ((const struct sockaddr_in6 *)local)->sin6_port;
	if (!is_wildcard((const struct sockaddr *)local)) {
		cand_add(&t->mine, CAND_HOST, (const struct sockaddr *)local,
			 local->ss_family == AF_INET ? sizeof(struct sockaddr_in)
						     : sizeof(struct sockaddr_in6));
		return;
	}
	int want_loopback = 0;
	for (size_t i = 0; i < t->cfg.n_stun; i++)
		want_loopback |= is_loopback((const struct sockaddr *)&t->cfg.stun[i]);
	struct ifaddrs *ifs;
	if (getifaddrs(&ifs) < 0) {
		UP_LOG(t->p, PROXYD_LOG_WARN, t->conn_id, "cannot list interface addresses: %s",
		       strerror(errno));
		return;
	}
	for (int pass = 0; pass < 2; pass++) {
		/* non-loopback first: they are the ones worth trying when the list is full */
		for (struct ifaddrs *i = ifs; i; i = i->ifa_next) {
			if (!i->ifa_addr || i->ifa_addr->sa_family != local->ss_family ||
			    !(i->ifa_flags & IFF_UP))
				continue;
			int lo = is_loopback(i->ifa_addr);
			if (lo != pass || (lo && !want_loopback))
				continue;
			struct sockaddr_storage ss;
			socklen_t len = local->ss_family == AF_INET ? sizeof(struct sockaddr_in)
								    : sizeof(struct sockaddr_in6);
			memcpy(&ss, i->ifa_addr, len);
			if (ss.ss_family == AF_INET6 &&
			    IN6_IS_ADDR_LINKLOCAL(&((struct sockaddr_in6 *)&ss)->sin6_addr))
				continue;
			set_port(&ss, port_n);
			if (ss.ss_family == AF_INET6)
				((struct sockaddr_in6 *)&ss)->sin6_scope_id = 0;
			cand_add(&t->mine, CAND_HOST, (struct sockaddr *)&ss, len);
		}
	}
	freeifaddrs(ifs);
}

static void stun_send(struct up_direct *t, struct stun_query *q, uint64_t now)
{
	uint8_t buf[STUN_MSG_MAX];
	size_t n = stun_encode_binding_request(buf, sizeof buf, q->txid, 1);
	send_to(t, buf, n, (struct sockaddr *)&q->addr, q->len);
	q->sends++;
	q->next_ms = now + q->rto_ms;
	q->rto_ms = q->rto_ms * 2 > UP_STUN_RTO_MAX_MS ? UP_STUN_RTO_MAX_MS : q->rto_ms * 2;
	UP_LOG(t->p, PROXYD_LOG_DEBUG, t->conn_id, "stun %s: Binding request #%d", q->text,
	       q->sends);
}

static void arm(struct event *ev, uint64_t ms)
{
	struct timeval tv = {(time_t)(ms / 1000), (suseconds_t)(ms % 1000) * 1000};
	evtimer_add(ev, &tv);
}

/* Everything answered or given up: report. From loop callbacks only. */
static void gather_done(struct up_direct *t)
{
	struct up_plugin *p = t->p;
	char cands[PROXYD_DIRECT_CANDIDATES_MAX], detail[1024];
	size_t used = 0;
	detail[0] = '\0';
	for (size_t i = 0; i < t->nq; i++) {
		int n = snprintf(detail + used, sizeof detail - used, "%sstun %s%s", i ? "; " : "",
				 t->q[i].text, t->q[i].result);
		if (n < 0 || (size_t)n >= sizeof detail - used)
			break;
		used += (size_t)n;
	}
	if (t->nq == 0)
		snprintf(detail, sizeof detail, "no stun servers configured: host candidates only");
	size_t n = cand_format(&t->mine, cands, sizeof cands);
	t->phase = PH_GATHERED;
	event_del(t->tick);
	UP_LOG(p, PROXYD_LOG_INFO, t->conn_id, "direct: gathered %zu candidate(s) on udp %s in %llu ms: %s (%s)",
	       n, t->local, (unsigned long long)(up_now_ms() - t->t0_ms), cands, detail);
	t->busy++;
	p->host->direct_gathered(t->d, cands, detail);
	t->busy--;
	if (t->cancelled)
		direct_free(t);
}

static void stun_answer(struct up_direct *t, const uint8_t *buf, size_t len,
			const struct sockaddr *from)
{
	struct stun_msg m;
	const char *why = NULL;
	if (stun_decode(buf, len, &m, &why) < 0) {
		UP_LOG(t->p, PROXYD_LOG_DEBUG, t->conn_id, "dropped a malformed STUN message: %s", why);
		return;
	}
	struct stun_query *q = NULL;
	for (size_t i = 0; i < t->nq; i++)
		if (memcmp(t->q[i].txid, m.txid, STUN_TXID_LEN) == 0)
			q = &t->q[i];
	if (!q || q->done || t->phase != PH_GATHER)
		return; /* late, duplicate or not ours */
	uint64_t ms = up_now_ms() - t->t0_ms;
	if (m.type != STUN_BINDING_SUCCESS || (!m.has_xor_mapped && !m.has_mapped)) {
		q->done = -1;
		snprintf(q->result, sizeof q->result, ": answer without an address (type 0x%04x)",
			 m.type);
	} else {
		const struct stun_addr *a = m.has_xor_mapped ? &m.xor_mapped : &m.mapped;
		struct sockaddr_storage ss;
		socklen_t sl;
		memset(&ss, 0, sizeof ss);
		if (a->family == 4) {
			struct sockaddr_in *in = (struct sockaddr_in *)&ss;
			in->sin_family = AF_INET;
			memcpy(&in->sin_addr, a->ip, 4);
			in->sin_port = htons(a->port);
			sl = sizeof *in;
		} else {
			struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
			in6->sin6_family = AF_INET6;
			memcpy(&in6->sin6_addr, a->ip, 16);
			in6->sin6_port = htons(a->port);
			sl = sizeof *in6;
		}
		char text[QT_ADDR_TEXT_MAX];
		qt_sockaddr_format((struct sockaddr *)&ss, text, sizeof text);
		q->done = 1;
		snprintf(q->result, sizeof q->result, " -> %s", text);
		int added = cand_add(&t->mine, CAND_SRFLX, (struct sockaddr *)&ss, sl);
		UP_LOG(t->p, PROXYD_LOG_INFO, t->conn_id, "direct: stun %s says we are %s (%llu ms%s)",
		       q->text, text, (unsigned long long)ms,
		       added == 0 ? ", the same as a host candidate: no NAT on the way" : "");
	}
	(void)from;
	for (size_t i = 0; i < t->nq; i++)
		if (!t->q[i].done)
			return;
	gather_done(t);
}

/* ---- punching ---- */

static void adopt(struct up_direct *t);

static void on_punch_msg(struct up_direct *t, const uint8_t *buf, size_t len,
			 const struct sockaddr *from, socklen_t fromlen)
{
	struct punch_msg m;
	char who[QT_ADDR_TEXT_MAX];
	qt_sockaddr_format(from, who, sizeof who);
	if (t->phase != PH_PUNCH)
		return; /* the peer began before us: its punches go on until we do */
	int rc = punch_msg_decode(buf, len, t->key, sizeof t->key, t->attempt_id, &m);
	if (rc != 0) {
		uint64_t *count = rc == PUNCH_BAD_MAC ? &t->bad_mac
				  : rc == PUNCH_BAD_ATTEMPT ? &t->bad_attempt
							    : &t->bad_other;
		if ((*count)++ == 0)
			UP_LOG(t->p, PROXYD_LOG_DEBUG, t->conn_id, "dropped a punch from %s: %s", who,
			       rc == PUNCH_BAD_MAC	 ? "wrong HMAC (another key)"
			       : rc == PUNCH_BAD_ATTEMPT ? "another attempt id"
							 : "bad type or layout");
		return;
	}
	uint64_t ms = up_now_ms() - t->start_ms;
	if (m.type == PUNCH_PUNCH) {
		if (m.nonce == t->nonce)
			return; /* our own punch reflected back to us */
		t->punches_in++;
		send_punch(t, PUNCH_ACK, m.nonce, from, fromlen);
		if (!t->heard) {
			t->heard = 1;
			UP_LOG(t->p, PROXYD_LOG_INFO, t->conn_id,
			       "direct: authenticated punch from %s after %llu ms: ack sent", who,
			       (unsigned long long)ms);
		}
		if (!t->initiator && !t->proven) {
			/* the acceptor needs no more: the initiator's QUIC Initial comes here */
			t->proven = 1;
			t->proven_ms = up_now_ms();
			memcpy(&t->proven_addr, from, fromlen);
			t->proven_len = fromlen;
			snprintf(t->proven_text, sizeof t->proven_text, "%s", who);
			adopt(t);
		}
		return;
	}
	/* an ack */
	if (m.nonce != t->nonce)
		return;
	t->acks_in++;
	if (t->proven)
		return;
	t->proven = 1;
	t->proven_ms = up_now_ms();
	memcpy(&t->proven_addr, from, fromlen);
	t->proven_len = fromlen;
	snprintf(t->proven_text, sizeof t->proven_text, "%s", who);
	UP_LOG(t->p, PROXYD_LOG_INFO, t->conn_id, "direct: ack from %s after %llu ms: path proven both ways",
	       who, (unsigned long long)ms);
	adopt(t);
}

/* One datagram on the attempt's socket, read by us or handed back by the engine. */
static void on_datagram(struct up_direct *t, const uint8_t *buf, size_t len,
			const struct sockaddr *from, socklen_t fromlen)
{
	if (punch_msg_looks_like(buf, len))
		on_punch_msg(t, buf, len, from, fromlen);
	else if (stun_looks_like(buf, len))
		stun_answer(t, buf, len, from);
	/* else: QUIC before we adopted (cannot be: the peer connects after our ack) or noise */
}

static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct up_direct *t = arg;
	for (int i = 0; i < 32 && !t->adopted; i++) {
		uint8_t buf[2048];
		struct sockaddr_storage from;
		socklen_t fromlen = sizeof from;
		ssize_t n = recvfrom(fd, buf, sizeof buf, 0, (struct sockaddr *)&from, &fromlen);
		if (n < 0)
			return;
		t->busy++;
		on_datagram(t, buf, (size_t)n, (struct sockaddr *)&from, fromlen);
		t->busy--;
		if (t->cancelled) {
			direct_free(t);
			return;
		}
		if (t->phase == PH_FAILED)
			return;
	}
}

static struct up_direct *direct_of_ep(struct up_plugin *p, struct quic_endpoint *ep)
{
	struct up_direct *t;
	LIST_FOREACH(t, &p->directs, link)
		if (t->qep == ep)
			return t;
	return NULL;
}

/* The engine's: what QUIC did not claim on an adopted socket. After the hand-over the
 * attempt is gone; a late punch then only needs no answer. */
static void on_non_quic(struct quic_endpoint *ep, int fd, const struct sockaddr *from,
			socklen_t fromlen, const uint8_t *pkt, size_t len, void *arg)
{
	struct up_direct *t = direct_of_ep(arg, ep);
	if (t && !t->cancelled)
		on_datagram(t, pkt, len, from, fromlen);
}

static void quic_cfg(const struct up_direct *t, struct quic_config *qc)
{
	quic_config_default(qc);
	qc->role = t->initiator ? QUIC_CLIENT : QUIC_SERVER;
	qc->cert_file = t->cfg.cert;
	qc->key_file = t->cfg.key;
	qc->ca_file = t->cfg.ca;
	/* the peer is an agent: its certificate names its id, not a host; the chain is checked
	 * here and the CN against the attempt's peer id at conn_ready */
	qc->server_name = NULL;
	qc->no_client_cert = 0;
	qc->idle_timeout_ms = t->cfg.idle_timeout_s * 1000u;
	qc->keepalive_ms = UP_KEEPALIVE_MS < qc->idle_timeout_ms / 2 ? UP_KEEPALIVE_MS
								      : qc->idle_timeout_ms / 2;
	qc->handshake_timeout_ms = UP_HANDSHAKE_TIMEOUT_MS;
}

/* The path is proven (initiator) or the peer heard (acceptor): the socket goes to QUIC. */
static void adopt(struct up_direct *t)
{
	struct up_plugin *p = t->p;
	struct quic_config qc;
	quic_cfg(t, &qc);
	char err[512];
	int rc = quic_endpoint_new(p->base, &qc, &direct_callbacks, p, &t->qep, err, sizeof err);
	if (rc < 0) {
		t->qep = NULL;
		fail_later(t, "handshake", "QUIC endpoint: %s", err);
		return;
	}
	event_free(t->rd_ev);
	t->rd_ev = NULL;
	rc = quic_endpoint_adopt_fd(t->qep, t->fd);
	if (rc < 0) {
		fail_later(t, "handshake", "QUIC cannot use the punched socket: %s", strerror(-rc));
		return;
	}
	t->adopted = 1; /* the endpoint closes the socket from now on */
	if (!t->initiator) {
		UP_LOG(p, PROXYD_LOG_INFO, t->conn_id,
		       "direct: waiting for %s's QUIC handshake from %s (we accept)", t->peer_id,
		       t->proven_text);
		return;
	}
	rc = quic_endpoint_connect(t->qep, (struct sockaddr *)&t->proven_addr, t->proven_len, t,
				   &t->qc);
	if (rc < 0) {
		t->qc = NULL;
		fail_later(t, "handshake", "QUIC connect to %s: %s", t->proven_text, strerror(-rc));
		return;
	}
	UP_LOG(p, PROXYD_LOG_INFO, t->conn_id, "direct: QUIC handshake with %s at %s (we dial)",
	       t->peer_id, t->proven_text);
}

static void on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct up_direct *t = arg;
	uint64_t now = up_now_ms();
	if (t->phase == PH_GATHER) {
		uint64_t next = UINT64_MAX;
		for (size_t i = 0; i < t->nq; i++) {
			struct stun_query *q = &t->q[i];
			if (q->done)
				continue;
			if (now - t->t0_ms >= UP_STUN_GIVE_UP_MS) {
				q->done = -1;
				snprintf(q->result, sizeof q->result, ": no answer (%d requests in %d ms)",
					 q->sends, UP_STUN_GIVE_UP_MS);
				UP_LOG(t->p, PROXYD_LOG_INFO, t->conn_id, "direct: stun %s%s", q->text,
				       q->result);
				continue;
			}
			if (now >= q->next_ms)
				stun_send(t, q, now);
			if (q->next_ms < next)
				next = q->next_ms;
		}
		int open = 0;
		for (size_t i = 0; i < t->nq; i++)
			open |= !t->q[i].done;
		if (!open) {
			gather_done(t);
			return;
		}
		uint64_t give_up = t->t0_ms + UP_STUN_GIVE_UP_MS;
		if (give_up < next)
			next = give_up;
		arm(t->tick, next > now ? next - now : 1);
		return;
	}
	if (t->phase != PH_PUNCH)
		return;
	for (size_t i = 0; i < t->peer.n; i++) {
		const struct cand *c = &t->peer.c[i];
		send_punch(t, PUNCH_PUNCH, t->nonce, (const struct sockaddr *)&c->addr, c->len);
		t->punches_sent++;
	}
	arm(t->tick, UP_PUNCH_INTERVAL_MS);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct up_direct *t = arg;
	if (t->phase != PH_PUNCH)
		return;
	char counts[160] = "";
	if (t->bad_mac || t->bad_attempt || t->bad_other)
		snprintf(counts, sizeof counts,
			 " (dropped: %llu with a wrong HMAC, %llu of another attempt, %llu malformed)",
			 (unsigned long long)t->bad_mac, (unsigned long long)t->bad_attempt,
			 (unsigned long long)t->bad_other);
	if (!t->proven) {
		char reason[600];
		snprintf(reason, sizeof reason, "no authenticated %s from any of %s in %u ms%s",
			 t->initiator && t->heard ? "ack" : "punch", t->peer_text,
			 t->punch_timeout_ms, counts);
		finish_failed(t, "punch", reason);
		return;
	}
	if (!t->deadline_extended) {
		/* punching is over; the handshake gets its own time */
		t->deadline_extended = 1;
		event_del(t->tick);
		arm(t->deadline, UP_HANDSHAKE_TIMEOUT_MS);
		return;
	}
	char reason[300];
	snprintf(reason, sizeof reason, "QUIC handshake with %s at %s not complete %u ms after the "
					"path was proven",
		 t->peer_id, t->proven_text,
		 (unsigned)(up_now_ms() - t->proven_ms));
	finish_failed(t, "handshake", reason);
}

static void on_step(evutil_socket_t fd, short what, void *arg)
{
	struct up_direct *t = arg;
	if (t->phase == PH_FAILED)
		finish_failed(t, t->fail_step, t->fail_reason);
	else if (t->phase == PH_GATHER)
		gather_done(t); /* no STUN server to ask */
}

/* ---- the engine's connection callbacks (arg: the plugin) ---- */

static void cb_conn_new(struct quic_conn *qc, void *arg)
{
	struct up_direct *t = direct_of_ep(arg, quic_conn_endpoint(qc));
	if (!t || t->qc) {
		/* a second client on a punched socket: not the peer we wait for */
		quic_conn_close(qc, SESSION_PROTOCOL, "one connection per direct attempt");
		return;
	}
	t->qc = qc;
	quic_conn_set_user(qc, t);
}

static void cb_conn_ready(struct quic_conn *qc, void *arg)
{
	struct up_direct *t = quic_conn_user(qc);
	if (!t || t->kind != QT_KIND_DIRECT)
		return;
	struct up_plugin *p = t->p;
	const char *id = quic_conn_peer_identity(qc);
	if (!id || strcmp(id, t->peer_id) != 0) {
		char reason[400];
		snprintf(reason, sizeof reason,
			 "the certificate at %s is %s%s%s, not the peer agent %s", t->proven_text,
			 id ? "\"" : "", id ? id : "without a CN", id ? "\"" : "", t->peer_id);
		/* the endpoint goes with the connection's conn_closed (a user-less one), after
		 * the CONNECTION_CLOSE has left */
		quic_conn_close(qc, SESSION_PROTOCOL, "not the agent this direct attempt is for");
		quic_conn_set_user(qc, NULL);
		t->qc = NULL;
		t->qep = NULL;
		finish_failed(t, "identity", reason);
		return;
	}
	struct qt_conn *c = qt_conn_new(&p->qt, qc, t->conn_id, !t->initiator);
	if (!c) {
		quic_conn_close(qc, SESSION_INTERNAL, "out of memory");
		quic_conn_set_user(qc, NULL);
		t->qc = NULL;
		t->qep = NULL;
		finish_failed(t, "handshake", "out of memory");
		return;
	}
	c->direct = 1;
	c->own_ep = t->qep; /* the connection owns the endpoint, and so the socket */
	t->qep = NULL;
	t->qc = NULL;
	uint64_t now = up_now_ms();
	struct proxyd_peer_info info;
	qt_conn_peer_info(c, &info);
	UP_LOG(p, PROXYD_LOG_INFO, c->conn_id,
	       "direct: connected to %s at %s in %llu ms (punching %llu ms, QUIC %llu ms; %s; %llu "
	       "punches sent)",
	       t->peer_id, c->peer, (unsigned long long)(now - t->start_ms),
	       (unsigned long long)(t->proven_ms - t->start_ms),
	       (unsigned long long)(now - t->proven_ms), info.security,
	       (unsigned long long)t->punches_sent);
	proxyd_direct *d = t->d;
	direct_free(t);
	proxyd_conn *core = p->host->direct_connected(d, c, &info);
	if (!core) {
		qt_conn_refuse(c, SESSION_INTERNAL, "the agent did not take the direct connection");
		return;
	}
	c->core = core;
}

static void describe(const struct quic_close_info *in, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s", in->by_peer ? "the peer closed: " : "", in->reason);
}

static void cb_conn_closed(struct quic_conn *qc, const struct quic_close_info *info, void *arg)
{
	struct up_plugin *p = arg;
	struct quic_endpoint *qep = quic_conn_endpoint(qc);
	void *user = quic_conn_user(qc);
	enum qt_kind kind = user ? *(enum qt_kind *)user : 0;
	if (kind == QT_KIND_DIRECT) {
		struct up_direct *t = user;
		char reason[400], why[300];
		describe(info, why, sizeof why);
		snprintf(reason, sizeof reason, "QUIC with %s at %s: %s", t->peer_id,
			 t->proven_text, why);
		t->qc = NULL;
		t->qep = NULL; /* inside its callbacks: freed from the loop */
		up_reap_endpoint(p, qep);
		finish_failed(t, "handshake", reason);
	} else if (kind == QT_KIND_CONN) {
		qt_conn_engine_closed(user, info);
		up_reap_endpoint(p, qep);
	}
	else if (!direct_of_ep(p, qep))
		/* closed by us after the attempt let go of it (identity, refused by the core) */
		up_reap_endpoint(p, qep);
	/* else: a second client refused in cb_conn_new; the endpoint is the attempt's */
}

static const struct quic_callbacks direct_callbacks = {
	.conn_new = cb_conn_new,
	.conn_ready = cb_conn_ready,
	.conn_closed = cb_conn_closed,
	.stream_opened = qt_on_stream_opened,
	.stream_readable = qt_on_stream_readable,
	.stream_writable = qt_on_stream_writable,
	.stream_reset = qt_on_stream_reset,
	.stream_closed = qt_on_stream_closed,
	.path_changed = qt_on_path_changed,
	.non_quic_datagram = on_non_quic,
};

/* ---- the ops ---- */

static int open_socket(struct up_direct *t, char *err, size_t errlen)
{
	const struct sockaddr *b = (const struct sockaddr *)&t->cfg.bind;
	char want[QT_ADDR_TEXT_MAX];
	qt_sockaddr_format(b, want, sizeof want);
	t->fd = socket(b->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		snprintf(err, errlen, "cannot open a UDP socket: %s", strerror(errno));
		return -1;
	}
	if (b->sa_family == AF_INET6) {
		int on = 1;
		(void)setsockopt(t->fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	}
	if (bind(t->fd, b, t->cfg.bind_len) < 0) {
		snprintf(err, errlen, "cannot bind udp %s: %s", want, strerror(errno));
		return -1;
	}
	struct sockaddr_storage local;
	socklen_t len = sizeof local;
	if (getsockname(t->fd, (struct sockaddr *)&local, &len) < 0) {
		snprintf(err, errlen, "getsockname: %s", strerror(errno));
		return -1;
	}
	qt_sockaddr_format((struct sockaddr *)&local, t->local, sizeof t->local);
	host_candidates(t, &local);
	return 0;
}

int up_direct_prepare(struct up_plugin *p, const proxyd_cfg *cfg, proxyd_direct *d,
		      void **direct_state)
{
	if (!p->direct_ok) {
		UP_LOG(p, PROXYD_LOG_ERROR, 0,
		       "cannot make direct paths: this proxyd lacks the plugin ABI 1.3/1.5 host "
		       "functions");
		return -ENOTSUP;
	}
	struct up_direct *t = calloc(1, sizeof *t);
	if (!t)
		return -ENOMEM;
	t->kind = QT_KIND_DIRECT;
	t->p = p;
	t->d = d;
	t->fd = -1;
	t->conn_id = p->host->next_conn_id();
	t->t0_ms = up_now_ms();
	LIST_INSERT_HEAD(&p->directs, t, link);
	t->step = event_new(p->base, -1, 0, on_step, t);
	t->tick = evtimer_new(p->base, on_tick, t);
	t->deadline = evtimer_new(p->base, on_deadline, t);
	int rc = up_direct_cfg_read(p->host, cfg, &t->cfg);
	if (rc == -ENOMEM || !t->step || !t->tick || !t->deadline) {
		direct_free(t);
		return -ENOMEM;
	}
	*direct_state = t;
	char err[300];
	if (rc < 0) {
		/* check() passed this section, so only a reload gets here */
		fail_later(t, "bind", "invalid direct configuration (see proxyd -t)");
		return 0;
	}
	if (open_socket(t, err, sizeof err) < 0) {
		fail_later(t, "bind", "%s", err);
		return 0;
	}
	t->rd_ev = event_new(p->base, t->fd, EV_READ | EV_PERSIST, on_read, t);
	if (!t->rd_ev || event_add(t->rd_ev, NULL) < 0) {
		*direct_state = NULL;
		direct_free(t);
		return -ENOMEM;
	}
	UP_LOG(p, PROXYD_LOG_INFO, t->conn_id, "direct: bound udp %s; asking %zu STUN server(s)",
	       t->local, t->cfg.n_stun);
	uint64_t now = up_now_ms();
	for (size_t i = 0; i < t->cfg.n_stun; i++) {
		struct stun_query *q = &t->q[t->nq];
		memcpy(&q->addr, &t->cfg.stun[i], t->cfg.stun_len[i]);
		q->len = t->cfg.stun_len[i];
		qt_sockaddr_format((struct sockaddr *)&q->addr, q->text, sizeof q->text);
		if (q->addr.ss_family != t->cfg.bind.ss_family) {
			q->done = -1;
			snprintf(q->result, sizeof q->result, ": not asked (other address family "
							      "than bind)");
		} else {
			gnutls_rnd(GNUTLS_RND_NONCE, q->txid, sizeof q->txid);
			q->rto_ms = UP_STUN_RTO_MS;
		}
		t->nq++;
	}
	int open = 0;
	for (size_t i = 0; i < t->nq; i++)
		if (!t->q[i].done) {
			stun_send(t, &t->q[i], now);
			open = 1;
		}
	if (open)
		arm(t->tick, UP_STUN_RTO_MS);
	else
		event_active(t->step, EV_TIMEOUT, 1); /* gathered at once, from the loop */
	return 0;
}

int up_direct_start(void *direct_state, const struct proxyd_direct_attempt *a)
{
	struct up_direct *t = direct_state;
	struct up_plugin *p = t->p;
	if (t->phase != PH_GATHERED)
		return -EINVAL;
	if (!a->key || !a->peer_id || !a->peer_candidates)
		return -EINVAL;
	t->attempt_id = a->id;
	memcpy(t->key, a->key, sizeof t->key);
	t->peer_id = strdup(a->peer_id);
	t->peer_text = strdup(a->peer_candidates);
	if (!t->peer_id || !t->peer_text)
		return -ENOMEM;
	t->initiator = a->initiator;
	t->punch_timeout_ms = a->punch_timeout_ms ? a->punch_timeout_ms : t->cfg.punch_timeout_ms;
	gnutls_rnd(GNUTLS_RND_NONCE, &t->nonce, sizeof t->nonce);
	t->start_ms = up_now_ms();
	t->phase = PH_PUNCH;
	const char *why = NULL;
	struct cand_list all;
	if (cand_parse(a->peer_candidates, &all, &why) < 0) {
		fail_later(t, "punch", "the peer's candidates \"%s\": %s", a->peer_candidates, why);
		return 0;
	}
	/* only those our socket can reach */
	for (size_t i = 0; i < all.n; i++)
		if (all.c[i].addr.ss_family == t->cfg.bind.ss_family)
			cand_add(&t->peer, all.c[i].type, (struct sockaddr *)&all.c[i].addr,
				 all.c[i].len);
	if (t->peer.n == 0) {
		fail_later(t, "punch", "none of the peer's candidates \"%s\" is of our address family",
			   a->peer_candidates);
		return 0;
	}
	UP_LOG(p, PROXYD_LOG_INFO, t->conn_id,
	       "direct: attempt %016llx: punching from udp %s towards %s at %s for %u ms (we %s)",
	       (unsigned long long)t->attempt_id, t->local, t->peer_id, a->peer_candidates,
	       t->punch_timeout_ms, t->initiator ? "dial" : "accept");
	arm(t->deadline, t->punch_timeout_ms);
	/* the first round from the loop: no sends from inside the op are needed, but no harm */
	event_del(t->tick);
	arm(t->tick, 0);
	return 0;
}

void up_direct_cancel(void *direct_state)
{
	struct up_direct *t = direct_state;
	if (!t)
		return;
	UP_LOG(t->p, PROXYD_LOG_DEBUG, t->conn_id, "direct attempt %016llx cancelled",
	       (unsigned long long)t->attempt_id);
	if (t->busy) {
		/* inside our own host call: freed when it returns */
		t->cancelled = 1;
		event_del(t->tick);
		event_del(t->deadline);
		event_del(t->step);
		return;
	}
	direct_free(t);
}

void up_direct_free_all(struct up_plugin *p)
{
	while (!LIST_EMPTY(&p->directs))
		direct_free(LIST_FIRST(&p->directs));
}
