/* Agent-to-agent connections that survive a change of path: see peer_conn.h.
 *
 * Offsets. Each direction is numbered from 0. The sender keeps every byte from `acked` (what
 * the other agent says it wrote to its local socket) to `read_total` (what it read from its
 * own) in `unacked`; a leg's `snd_off` is the next byte it sends there. The receiver counts
 * `delivered` and skips what it already has, so a byte that arrives twice (once on the old
 * leg, once again on the new one) is written once. A FIN counts as one more unit in ACK and
 * LEG values, like TCP's, so "everything including the end" can be acknowledged.
 *
 * Re-entry. Stream calls can call back (stream_write -> on_writable), and the socket's can
 * too. Every entry point holds `busy`; the outermost leave() frees a finished connection,
 * as splice.c does. */
#include "config.h"
#include "peer_conn.h"
#include "agent.h"
#include "daemon.h"
#include "frame.h"
#include "host_api.h"
#include "log.h"
#include "loop.h"
#include "peer_wire.h"
#include "peer_refuse.h"
#include "peers.h"
#include "session.h"
#include "sock_read.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>
#include <sys/socket.h>

#define PC_SEND_MAX (4u << 20)   /* unacknowledged bytes before the local socket is not read */
#define PC_OUT_HIGH (1u << 20)   /* bytes waiting for the local socket before legs are not read */
#define PC_ACK_EVERY (128 * 1024)
#define PC_ACK_DELAY_MS 20
#define PC_CHUNK (16 * 1024)
#define PC_RETRY_MS 250

enum pc_role { PC_CONSUMER = 1, PC_PROVIDER = 2 };

struct peer_conn;

struct leg {
	struct peer_conn *pc; /* NULL: a provider's leg waiting for its LEG frame, or dropped */
	struct stream *st;
	char from[PEER_AGENT_MAX + 1];
	char service[64];
	uint64_t log_id;
	int via_direct;
	uint64_t rcv_off;  /* the offset of the next DATA byte this leg brings */
	uint64_t snd_off;  /* the next byte we send on it */
	unsigned peer_leg : 1, fin_sent : 1;
};

struct peer_conn {
	LIST_ENTRY(peer_conn) link;
	uint64_t id, log_id;
	enum pc_role role;
	char peer[PEER_AGENT_MAX + 1];
	char service[64];
	struct bufferevent *bev;
	struct sock_reader *reader;
	int connected; /* the local socket is connected (the provider connects first) */
	/* sending */
	struct evbuffer *unacked;
	uint64_t acked, read_total;
	unsigned local_eof : 1, fin_acked : 1, reading_paused : 1;
	/* receiving */
	uint64_t delivered, ack_sent, peer_final;
	unsigned fin_in : 1, local_shut : 1;
	/* legs: the active one, and on the consumer one being set up to replace it */
	struct leg *leg, *next_leg;
	proxyd_timer *ack_timer, *retry_timer;
	uint64_t detached_ms; /* when the last leg was lost; 0 while one is up */
	unsigned moves;
	int had_leg;    /* a leg was active once: the next one is a move */
	int use_direct; /* the consumer may use a direct path */
	int busy, dead;
};

static LIST_HEAD(, peer_conn) conns = LIST_HEAD_INITIALIZER(conns);
static struct peer_conn_stats stats;

static void pc_pump(struct peer_conn *pc);
static void pc_read_leg(struct peer_conn *pc, struct leg *leg);
static void pc_leg_lost(struct peer_conn *pc, struct leg *leg, const char *why);
static void pc_attach_new_leg(struct peer_conn *pc, int direct_only);
static void local_connected(struct peer_conn *pc);

/* ---- lifetime ---- */

static void enter(struct peer_conn *pc)
{
	pc->busy++;
}

static void leg_drop(struct leg *leg, uint32_t code, const char *reason)
{
	if (!leg)
		return;
	leg->pc = NULL;
	if (reason)
		stream_reset(leg->st, code, reason);
	stream_release(leg->st);
	free(leg);
}

static void pc_free(struct peer_conn *pc)
{
	LIST_REMOVE(pc, link);
	stats.active--;
	leg_drop(pc->leg, RST_CANCEL, "connection over");
	leg_drop(pc->next_leg, RST_CANCEL, "connection over");
	loop_timer_free(pc->ack_timer);
	loop_timer_free(pc->retry_timer);
	sock_reader_free(pc->reader);
	if (pc->bev)
		bufferevent_free(pc->bev);
	evbuffer_free(pc->unacked);
	free(pc);
}

static void leave(struct peer_conn *pc)
{
	if (--pc->busy > 0 || !pc->dead)
		return;
	pc_free(pc);
}

/* End the connection: the local socket is reset (a user must not take a cut transfer for a
 * whole one) and the other agent told with an RST frame when a leg can carry it. */
static void pc_abort(struct peer_conn *pc, uint32_t code, const char *reason, int tell_peer)
{
	if (pc->dead)
		return;
	log_msg(PROXYD_LOG_INFO, "peer", pc->log_id, "connection %016llx %s %s service %s aborted: %s",
		(unsigned long long)pc->id, pc->role == PC_CONSUMER ? "to" : "from", pc->peer,
		pc->service, reason);
	if (tell_peer && pc->leg && pc->leg->peer_leg) {
		uint8_t f[PEER_FRAME_HEADER + 4 + PEER_REASON_MAX];
		size_t n = peer_encode_rst(f, code, reason);
		stream_write(pc->leg->st, f, n);
		stream_shutdown(pc->leg->st);
		stream_release(pc->leg->st);
		free(pc->leg);
		pc->leg = NULL;
	}
	if (pc->bev) {
		evutil_socket_t fd = bufferevent_getfd(pc->bev);
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
	stats.aborted++;
	pc->dead = 1;
}

/* Both directions ended and were acknowledged: close the leg cleanly. */
static void pc_check_done(struct peer_conn *pc)
{
	if (pc->dead || !pc->local_eof || !pc->fin_acked || !pc->local_shut)
		return;
	if (pc->leg) {
		stream_shutdown(pc->leg->st);
		stream_release(pc->leg->st);
		free(pc->leg);
		pc->leg = NULL;
	}
	log_msg(PROXYD_LOG_DEBUG, "peer", pc->log_id,
		"connection %016llx done: %llu bytes out, %llu in, %u move(s)", (unsigned long long)pc->id,
		(unsigned long long)pc->read_total, (unsigned long long)pc->delivered, pc->moves);
	stats.completed++;
	pc->dead = 1;
}

/* ---- sending ---- */

/* What we acknowledge: the bytes written locally, plus one for a FIN passed on. */
static uint64_t ack_value(const struct peer_conn *pc)
{
	return pc->delivered + (pc->local_shut ? 1 : 0);
}

static void send_ack(struct peer_conn *pc, int force)
{
	struct leg *leg = pc->leg;
	uint64_t v = ack_value(pc);
	if (!leg || !leg->peer_leg || v <= pc->ack_sent)
		return;
	if (!force && v - pc->ack_sent < PC_ACK_EVERY) {
		loop_timer_start(pc->ack_timer, PC_ACK_DELAY_MS, 0);
		return;
	}
	uint8_t f[PEER_FRAME_HEADER + 8];
	size_t n = peer_encode_u64(f, PF_ACK, v);
	pc->ack_sent = v;
	stream_write(leg->st, f, n);
}

static void ack_timer_fired(void *arg)
{
	struct peer_conn *pc = arg;
	enter(pc);
	send_ack(pc, 1);
	leave(pc);
}

static void pc_pump(struct peer_conn *pc)
{
	struct leg *leg = pc->leg;
	if (pc->dead || !leg || !leg->peer_leg)
		return;
	uint8_t buf[PEER_FRAME_HEADER + PC_CHUNK];
	while (!pc->dead && pc->leg == leg && leg->snd_off < pc->read_total) {
		size_t space = stream_send_space(leg->st);
		if (space <= PEER_FRAME_HEADER)
			return;
		uint64_t left = pc->read_total - leg->snd_off;
		size_t n = left < PC_CHUNK ? (size_t)left : PC_CHUNK;
		if (n > space - PEER_FRAME_HEADER)
			n = space - PEER_FRAME_HEADER;
		struct evbuffer_ptr pos;
		evbuffer_ptr_set(pc->unacked, &pos, (size_t)(leg->snd_off - pc->acked), EVBUFFER_PTR_SET);
		ev_ssize_t got = evbuffer_copyout_from(pc->unacked, &pos, buf + PEER_FRAME_HEADER, n);
		if (got <= 0)
			return;
		peer_encode_data_header(buf, (size_t)got);
		leg->snd_off += (uint64_t)got;
		stream_write(leg->st, buf, PEER_FRAME_HEADER + (size_t)got);
	}
	if (pc->dead || pc->leg != leg)
		return;
	if (pc->local_eof && leg->snd_off == pc->read_total && !leg->fin_sent) {
		uint8_t f[PEER_FRAME_HEADER + 8];
		size_t n = peer_encode_u64(f, PF_FIN, pc->read_total);
		leg->fin_sent = 1;
		stream_write(leg->st, f, n);
	}
}

/* ---- the local socket ---- */

static void on_sock_read(void *arg, int status)
{
	struct peer_conn *pc = arg;
	enter(pc);
	struct evbuffer *in = bufferevent_get_input(pc->bev);
	size_t n = evbuffer_get_length(in);
	if (n) {
		evbuffer_add_buffer(pc->unacked, in);
		pc->read_total += n;
	}
	if (status == 1)
		pc->local_eof = 1;
	if (status < 0) {
		pc_abort(pc, RST_CANCEL, "the local connection was reset", 1);
	} else {
		if (!pc->reading_paused && evbuffer_get_length(pc->unacked) >= PC_SEND_MAX) {
			pc->reading_paused = 1;
			sock_reader_enable(pc->reader, 0);
		}
		pc_pump(pc);
	}
	leave(pc);
}

static void maybe_shut_local(struct peer_conn *pc)
{
	if (pc->fin_in && !pc->local_shut && pc->delivered == pc->peer_final &&
	    evbuffer_get_length(bufferevent_get_output(pc->bev)) == 0) {
		shutdown(bufferevent_getfd(pc->bev), SHUT_WR);
		pc->local_shut = 1;
		send_ack(pc, 1);
		pc_check_done(pc);
	}
}

static void on_sock_write(struct bufferevent *bev, void *arg)
{
	struct peer_conn *pc = arg;
	enter(pc);
	if (pc->leg)
		pc_read_leg(pc, pc->leg);
	if (!pc->dead && pc->next_leg)
		pc_read_leg(pc, pc->next_leg);
	if (!pc->dead)
		maybe_shut_local(pc);
	leave(pc);
}

static void on_sock_event(struct bufferevent *bev, short what, void *arg)
{
	struct peer_conn *pc = arg;
	enter(pc);
	if (what & BEV_EVENT_CONNECTED) {
		local_connected(pc);
	} else if (what & (BEV_EVENT_ERROR | BEV_EVENT_EOF)) {
		char why[200];
		int err = EVUTIL_SOCKET_ERROR();
		if (!pc->connected)
			snprintf(why, sizeof why, "connect to service %s: %s", pc->service,
				 err ? evutil_socket_error_to_string(err) : "failed");
		else
			snprintf(why, sizeof why, "local socket: %s",
				 err ? evutil_socket_error_to_string(err) : "error");
		pc_abort(pc, pc->connected ? RST_CANCEL : RST_REFUSED, why, 1);
	}
	leave(pc);
}

static int start_local(struct peer_conn *pc)
{
	evutil_socket_t fd = bufferevent_getfd(pc->bev);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	pc->reader = sock_reader_new(pc->bev, on_sock_read, pc);
	if (!pc->reader)
		return -1;
	bufferevent_setwatermark(pc->bev, EV_WRITE, PC_OUT_HIGH / 4, 0);
	bufferevent_set_max_single_write(pc->bev, 256 * 1024);
	pc->connected = 1;
	return 0;
}

static void local_connected(struct peer_conn *pc)
{
	if (start_local(pc) < 0) {
		pc_abort(pc, RST_INTERNAL, "out of memory", 1);
		return;
	}
	log_msg(PROXYD_LOG_DEBUG, "peer", pc->log_id, "connection %016llx from %s: service %s connected",
		(unsigned long long)pc->id, pc->peer, pc->service);
	if (pc->leg)
		pc_read_leg(pc, pc->leg);
	pc_pump(pc);
}

/* ---- legs ---- */

/* Adopt the other agent's LEG value: it acknowledges, and it is where we send from. */
static int take_peer_leg(struct peer_conn *pc, struct leg *leg, uint64_t v)
{
	uint64_t top = pc->read_total + (pc->local_eof ? 1 : 0);
	if (v > top || v < pc->acked) {
		pc_abort(pc, RST_PROTOCOL, "LEG names bytes that were never sent", 1);
		return -1;
	}
	uint64_t data = v > pc->read_total ? pc->read_total : v;
	evbuffer_drain(pc->unacked, (size_t)(data - pc->acked));
	pc->acked = data;
	if (v == pc->read_total + 1 && pc->local_eof)
		pc->fin_acked = 1;
	leg->snd_off = data;
	leg->fin_sent = 0;
	leg->peer_leg = 1;
	return 0;
}

static void handle_ack(struct peer_conn *pc, uint64_t v)
{
	uint64_t top = pc->read_total + (pc->local_eof ? 1 : 0);
	if (v > top) {
		pc_abort(pc, RST_PROTOCOL, "ACK beyond what was sent", 1);
		return;
	}
	uint64_t data = v > pc->read_total ? pc->read_total : v;
	if (data > pc->acked) {
		evbuffer_drain(pc->unacked, (size_t)(data - pc->acked));
		pc->acked = data;
	}
	if (v == pc->read_total + 1 && pc->local_eof)
		pc->fin_acked = 1;
	if (pc->reading_paused && evbuffer_get_length(pc->unacked) < PC_SEND_MAX / 2) {
		pc->reading_paused = 0;
		sock_reader_enable(pc->reader, 1);
	}
	pc_check_done(pc);
}

static void handle_data(struct peer_conn *pc, struct leg *leg, const uint8_t *p, size_t n)
{
	uint64_t off = leg->rcv_off;
	leg->rcv_off += n;
	if (pc->fin_in && leg->rcv_off > pc->peer_final) {
		pc_abort(pc, RST_PROTOCOL, "DATA after FIN", 1);
		return;
	}
	if (off > pc->delivered) {
		pc_abort(pc, RST_PROTOCOL, "DATA leaves a gap", 1);
		return;
	}
	if (leg->rcv_off <= pc->delivered)
		return; /* already written: it came on the other leg first */
	size_t skip = (size_t)(pc->delivered - off);
	evbuffer_add(bufferevent_get_output(pc->bev), p + skip, n - skip);
	pc->delivered += n - skip;
}

/* Every leg after the first is a move (to another path, or back to the same kind of path
 * after the old leg died): counted, and logged for the operator. */
static void count_move(struct peer_conn *pc, const struct leg *leg)
{
	pc->moves++;
	if (leg->via_direct)
		stats.moved_to_direct++;
	else
		stats.moved_to_relay++;
	if (pc->detached_ms)
		log_msg(PROXYD_LOG_INFO, "peer", pc->log_id,
			"connection %016llx %s %s resumed over the %s after %llu ms, at byte %llu/%llu",
			(unsigned long long)pc->id, pc->role == PC_CONSUMER ? "to" : "from", pc->peer,
			leg->via_direct ? "direct path" : "relay",
			(unsigned long long)(loop_now_ms() - pc->detached_ms),
			(unsigned long long)leg->snd_off, (unsigned long long)pc->delivered);
	else
		log_msg(PROXYD_LOG_INFO, "peer", pc->log_id,
			"connection %016llx %s %s moved to the %s at byte %llu/%llu",
			(unsigned long long)pc->id, pc->role == PC_CONSUMER ? "to" : "from", pc->peer,
			leg->via_direct ? "direct path" : "relay", (unsigned long long)leg->snd_off,
			(unsigned long long)pc->delivered);
}

/* The consumer's new leg is answered: it becomes the active one. */
static void switch_to(struct peer_conn *pc, struct leg *leg)
{
	if (pc->leg && pc->leg != leg)
		leg_drop(pc->leg, RST_CANCEL, "the connection moved to another path");
	if (pc->had_leg)
		count_move(pc, leg);
	pc->had_leg = 1;
	if (pc->next_leg == leg)
		pc->next_leg = NULL;
	pc->leg = leg;
	pc->detached_ms = 0;
	loop_timer_stop(pc->retry_timer);
}

/* Read the frames waiting on leg (while the local socket takes them). */
static void pc_read_leg(struct peer_conn *pc, struct leg *leg)
{
	while (!pc->dead && leg->pc == pc) {
		if (pc->connected &&
		    evbuffer_get_length(bufferevent_get_output(pc->bev)) >= PC_OUT_HIGH)
			break; /* on_sock_write brings us back */
		struct evbuffer *in = stream_input(leg->st);
		size_t len = evbuffer_get_length(in);
		if (len < PEER_FRAME_HEADER)
			break;
		uint8_t hdr[PEER_FRAME_HEADER];
		evbuffer_copyout(in, hdr, sizeof hdr);
		size_t need = peer_frame_size(hdr);
		if (need > PEER_FRAME_MAX) {
			pc_abort(pc, RST_PROTOCOL, "peer frame too long", 1);
			return;
		}
		if (len < need)
			break;
		/* DATA must wait until the provider's service is connected. */
		if (hdr[0] == PF_DATA && !pc->connected)
			break;
		struct peer_frame f;
		const char *err = NULL;
		int rc = peer_frame_decode(evbuffer_pullup(in, (ev_ssize_t)need), need, &f, &err);
		if (rc < 0) {
			pc_abort(pc, RST_PROTOCOL, err ? err : "bad peer frame", 1);
			return;
		}
		switch (f.type) {
		case PF_LEG:
			if (pc->role != PC_CONSUMER || leg->peer_leg) {
				pc_abort(pc, RST_PROTOCOL, "unexpected LEG", 1);
				return;
			}
			if (f.conn_id != pc->id) {
				pc_abort(pc, RST_PROTOCOL, "LEG for another connection", 1);
				return;
			}
			if (take_peer_leg(pc, leg, f.value) < 0)
				return;
			switch_to(pc, leg);
			break;
		case PF_DATA:
			if (!leg->peer_leg) {
				pc_abort(pc, RST_PROTOCOL, "DATA before LEG", 1);
				return;
			}
			handle_data(pc, leg, f.data, f.data_len);
			break;
		case PF_ACK:
			handle_ack(pc, f.value);
			break;
		case PF_FIN:
			if (pc->fin_in && f.value != pc->peer_final) {
				pc_abort(pc, RST_PROTOCOL, "FIN moved", 1);
				return;
			}
			if (f.value < pc->delivered) {
				pc_abort(pc, RST_PROTOCOL, "FIN before bytes already received", 1);
				return;
			}
			pc->fin_in = 1;
			pc->peer_final = f.value;
			break;
		case PF_RST: {
			char reason[PEER_REASON_MAX + 1];
			peer_rst_reason(&f, reason);
			evbuffer_drain(in, need);
			stream_consumed(leg->st, need);
			if (leg == pc->next_leg && pc->leg) {
				/* Only the move was refused: stay on the leg we have. */
				log_msg(PROXYD_LOG_INFO, "peer", pc->log_id,
					"connection %016llx stays on its path: %s",
					(unsigned long long)pc->id, reason);
				pc->next_leg = NULL;
				leg_drop(leg, RST_CANCEL, "refused");
				return;
			}
			if (!leg->peer_leg && pc->detached_ms && f.code == RST_REFUSED &&
			    loop_now_ms() - pc->detached_ms < (uint64_t)peers_resume_timeout_ms()) {
				/* Resuming, and the other agent is not back at the server yet (it
				 * lost the same server): try again until the resume deadline. */
				log_msg(PROXYD_LOG_DEBUG, "peer", pc->log_id,
					"connection %016llx: resuming refused (%s); trying again",
					(unsigned long long)pc->id, reason);
				if (pc->next_leg == leg)
					pc->next_leg = NULL;
				if (pc->leg == leg)
					pc->leg = NULL;
				leg_drop(leg, RST_CANCEL, "refused");
				loop_timer_start(pc->retry_timer, PC_RETRY_MS, 0);
				return;
			}
			char why[PEER_REASON_MAX + 2 * PEER_AGENT_MAX + 64];
			if (leg->peer_leg)
				snprintf(why, sizeof why, "%s aborted it: %s", pc->peer, reason);
			else
				snprintf(why, sizeof why, "refused: %s", reason);
			pc_abort(pc, f.code, why, 0);
			return;
		}
		default:
			break; /* PING/PONG belong to ping legs */
		}
		if (pc->dead)
			return;
		evbuffer_drain(in, need);
		stream_consumed(leg->st, need);
	}
	if (!pc->dead && leg->pc == pc) {
		send_ack(pc, 0);
		maybe_shut_local(pc);
		if (!pc->dead && leg == pc->leg)
			pc_pump(pc);
	}
}

static void leg_on_data(struct stream *st, void *arg)
{
	struct leg *leg = arg;
	struct peer_conn *pc = leg->pc;
	if (!pc)
		return;
	enter(pc);
	pc_read_leg(pc, leg);
	leave(pc);
}

static void leg_on_fin(struct stream *st, void *arg)
{
	struct leg *leg = arg;
	struct peer_conn *pc = leg->pc;
	if (!pc)
		return;
	enter(pc);
	pc_read_leg(pc, leg);
	/* A leg ends cleanly only once the connection is done; otherwise it is a lost path. */
	if (!pc->dead && leg->pc == pc)
		pc_leg_lost(pc, leg, "the other agent closed the leg");
	leave(pc);
}

/* Codes that say the other side refused the connection itself, not that a path failed. */
static int refusal(uint32_t code)
{
	return code == RST_REFUSED || code == RST_NO_SERVICE || code == RST_PROTOCOL;
}

static void leg_on_reset(struct stream *st, void *arg, uint32_t code, const char *reason)
{
	struct leg *leg = arg;
	struct peer_conn *pc = leg->pc;
	if (!pc) {
		stream_release(st);
		free(leg);
		return;
	}
	enter(pc);
	if (refusal(code) && !leg->peer_leg) {
		char why[300];
		snprintf(why, sizeof why, "%s (%s)", reason, frame_rst_name(code));
		if (pc->leg == leg)
			pc->leg = NULL;
		if (pc->next_leg == leg)
			pc->next_leg = NULL;
		stream_release(st);
		free(leg);
		/* A refused move (a direct path the provider does not accept) is not the end. */
		if (pc->leg)
			log_msg(PROXYD_LOG_INFO, "peer", pc->log_id, "moving connection %016llx: %s",
				(unsigned long long)pc->id, why);
		else
			pc_abort(pc, code, why, 0);
	} else {
		char why[300];
		snprintf(why, sizeof why, "%s: %s", frame_rst_name(code), reason);
		pc_leg_lost(pc, leg, why);
	}
	leave(pc);
}

static void leg_on_writable(struct stream *st, void *arg)
{
	struct leg *leg = arg;
	struct peer_conn *pc = leg->pc;
	if (!pc)
		return;
	enter(pc);
	if (leg == pc->leg)
		pc_pump(pc);
	leave(pc);
}

static const struct stream_cbs leg_cbs = {
	.on_data = leg_on_data,
	.on_fin = leg_on_fin,
	.on_reset = leg_on_reset,
	.on_writable = leg_on_writable,
};

static void retry_fired(void *arg)
{
	struct peer_conn *pc = arg;
	enter(pc);
	if (!pc->leg && !pc->next_leg)
		pc_attach_new_leg(pc, 0);
	leave(pc);
}

/* The leg's path failed (its session ended, or the relay lost the other agent). The
 * connection waits for another: the consumer opens one, the provider waits to be found. */
static void pc_leg_lost(struct peer_conn *pc, struct leg *leg, const char *why)
{
	int was_active = pc->leg == leg;
	if (was_active)
		pc->leg = NULL;
	if (pc->next_leg == leg)
		pc->next_leg = NULL;
	int direct = leg->via_direct;
	leg_drop(leg, RST_CANCEL, NULL);
	if (pc->leg || pc->next_leg || pc->dead)
		return;
	if (pc->local_eof && pc->fin_acked && pc->local_shut) {
		pc_check_done(pc);
		return;
	}
	if (!pc->detached_ms)
		pc->detached_ms = loop_now_ms();
	log_msg(PROXYD_LOG_INFO, "peer", pc->log_id,
		"connection %016llx %s %s lost its %s leg (%s); %s", (unsigned long long)pc->id,
		pc->role == PC_CONSUMER ? "to" : "from", pc->peer, direct ? "direct" : "relay", why,
		pc->role == PC_CONSUMER ? "opening another" : "waiting for the other agent to resume it");
	if (pc->role == PC_CONSUMER)
		pc_attach_new_leg(pc, 0);
	else
		loop_timer_start(pc->retry_timer, (uint64_t)peers_resume_timeout_ms(), 0);
}

/* Consumer: open a leg on the best path there is now (direct when it is up). */
static void pc_attach_new_leg(struct peer_conn *pc, int direct_only)
{
	if (pc->role == PC_PROVIDER) {
		/* The provider's retry timer is its resume deadline. */
		if (!pc->leg && !pc->next_leg)
			pc_abort(pc, RST_GOING_AWAY, "no path came back in time", 0);
		return;
	}
	int via_direct = 0;
	const char *why = NULL;
	struct stream *st = peers_open_leg(pc->peer, pc->service, OPEN_KIND_PEER, pc->use_direct,
					   direct_only, &via_direct, &why);
	if (!st && direct_only)
		return; /* stay where it is */
	if (!st) {
		if (pc->detached_ms &&
		    loop_now_ms() - pc->detached_ms >= (uint64_t)peers_resume_timeout_ms()) {
			char reason[200];
			snprintf(reason, sizeof reason, "no path to %s: %s", pc->peer, why);
			pc_abort(pc, RST_GOING_AWAY, reason, 0);
			return;
		}
		if (!pc->detached_ms) {
			/* The very first leg: nothing to resume, the user learns at once. */
			char reason[200];
			snprintf(reason, sizeof reason, "cannot reach %s: %s", pc->peer, why);
			pc_abort(pc, RST_REFUSED, reason, 0);
			return;
		}
		loop_timer_start(pc->retry_timer, PC_RETRY_MS, 0);
		return;
	}
	struct leg *leg = calloc(1, sizeof *leg);
	if (!leg) {
		stream_reset(st, RST_INTERNAL, "out of memory");
		stream_release(st);
		pc_abort(pc, RST_INTERNAL, "out of memory", 0);
		return;
	}
	leg->pc = pc;
	leg->st = st;
	leg->via_direct = via_direct;
	leg->rcv_off = pc->delivered;
	leg->log_id = pc->log_id;
	stream_set_cbs(st, &leg_cbs, leg);
	uint8_t f[PEER_FRAME_HEADER + 24];
	size_t n = peer_encode_leg(f, pc->id, ack_value(pc), pc->had_leg ? PEER_LEG_RESUME : 0);
	pc->ack_sent = ack_value(pc) > pc->ack_sent ? ack_value(pc) : pc->ack_sent;
	if (pc->leg)
		pc->next_leg = leg;
	else
		pc->next_leg = leg; /* active once the provider answers */
	stream_write(st, f, n);
}

/* ---- consumer ---- */

void peer_conn_consumer_new(const char *peer, const char *service, int use_direct,
			    struct bufferevent *bev, const char *client)
{
	struct peer_conn *pc = calloc(1, sizeof *pc);
	if (!pc || !(pc->unacked = evbuffer_new())) {
		free(pc);
		bufferevent_free(bev);
		return;
	}
	pc->role = PC_CONSUMER;
	pc->use_direct = use_direct;
	pc->log_id = host_next_conn_id();
	RAND_bytes((unsigned char *)&pc->id, sizeof pc->id);
	pc->id |= 1; /* never 0 */
	snprintf(pc->peer, sizeof pc->peer, "%s", peer);
	snprintf(pc->service, sizeof pc->service, "%s", service);
	pc->bev = bev;
	pc->ack_timer = loop_timer_new(ack_timer_fired, pc);
	pc->retry_timer = loop_timer_new(retry_fired, pc);
	LIST_INSERT_HEAD(&conns, pc, link);
	stats.opened++;
	stats.active++;
	bufferevent_setcb(bev, NULL, on_sock_write, on_sock_event, pc);
	enter(pc);
	if (!pc->ack_timer || !pc->retry_timer || start_local(pc) < 0) {
		pc_abort(pc, RST_INTERNAL, "out of memory", 0);
	} else {
		log_msg(PROXYD_LOG_DEBUG, "peer", pc->log_id, "connection %016llx from %s to %s service %s",
			(unsigned long long)pc->id, client, peer, service);
		pc_attach_new_leg(pc, 0);
	}
	leave(pc);
}

void peer_conn_path_up(const char *peer)
{
	struct peer_conn *pc, *tmp;
	for (pc = LIST_FIRST(&conns); pc; pc = tmp) {
		tmp = LIST_NEXT(pc, link);
		if (pc->role != PC_CONSUMER || strcmp(pc->peer, peer) != 0 || pc->dead ||
		    !pc->use_direct)
			continue;
		if ((pc->leg && pc->leg->via_direct) || pc->next_leg)
			continue;
		enter(pc);
		pc_attach_new_leg(pc, 1);
		leave(pc);
	}
}

/* ---- provider ---- */

static struct peer_conn *find_conn(const char *from, uint64_t id)
{
	struct peer_conn *pc;
	LIST_FOREACH(pc, &conns, link)
		if (pc->role == PC_PROVIDER && pc->id == id && strcmp(pc->peer, from) == 0 && !pc->dead)
			return pc;
	return NULL;
}

static void provider_new(struct leg *leg, uint64_t id)
{
	const struct conf_service *svc = agent_find_service(leg->service);
	struct sockaddr_storage ss;
	int sslen = sizeof ss;
	if (!svc || evutil_parse_sockaddr_port(svc->address, (struct sockaddr *)&ss, &sslen) != 0) {
		char reason[200];
		snprintf(reason, sizeof reason, "no service '%s' on agent %s", leg->service,
			 daemon_conf()->agt.id);
		struct stream *st = leg->st;
		free(leg);
		peer_refuse(st, RST_NO_SERVICE, reason);
		return;
	}
	struct peer_conn *pc = calloc(1, sizeof *pc);
	if (!pc || !(pc->unacked = evbuffer_new())) {
		free(pc);
		leg_drop(leg, RST_INTERNAL, "out of memory");
		return;
	}
	pc->role = PC_PROVIDER;
	pc->id = id;
	pc->log_id = leg->log_id;
	snprintf(pc->peer, sizeof pc->peer, "%s", leg->from);
	snprintf(pc->service, sizeof pc->service, "%s", svc->name);
	pc->ack_timer = loop_timer_new(ack_timer_fired, pc);
	pc->retry_timer = loop_timer_new(retry_fired, pc);
	pc->bev = bufferevent_socket_new(loop_base(), -1, BEV_OPT_CLOSE_ON_FREE);
	LIST_INSERT_HEAD(&conns, pc, link);
	stats.opened++;
	stats.active++;
	enter(pc);
	leg->pc = pc;
	pc->leg = leg;
	pc->had_leg = 1;
	leg->rcv_off = 0;
	leg->peer_leg = 1;
	uint8_t f[PEER_FRAME_HEADER + 24];
	size_t n = peer_encode_leg(f, pc->id, 0, 0);
	stream_write(leg->st, f, n);
	if (!pc->ack_timer || !pc->retry_timer || !pc->bev) {
		pc_abort(pc, RST_INTERNAL, "out of memory", 1);
	} else {
		bufferevent_setcb(pc->bev, NULL, on_sock_write, on_sock_event, pc);
		log_msg(PROXYD_LOG_DEBUG, "peer", pc->log_id,
			"connection %016llx from %s over the %s to service %s (%s)", (unsigned long long)id,
			pc->peer, leg->via_direct ? "direct path" : "relay", svc->name, svc->address);
		if (bufferevent_socket_connect(pc->bev, (struct sockaddr *)&ss, sslen) < 0)
			on_sock_event(pc->bev, BEV_EVENT_ERROR, pc);
	}
	leave(pc);
}

/* A provider's leg got its first frame, which must be LEG. */
static void provider_leg_first(struct leg *leg)
{
	struct evbuffer *in = stream_input(leg->st);
	size_t need = PEER_FRAME_HEADER + 24;
	if (evbuffer_get_length(in) < need)
		return;
	struct peer_frame f;
	const char *err = NULL;
	int rc = peer_frame_decode(evbuffer_pullup(in, (ev_ssize_t)need), need, &f, &err);
	if (rc < 0 || f.type != PF_LEG) {
		leg_drop(leg, RST_PROTOCOL, rc < 0 ? err : "the first frame of a leg must be LEG");
		return;
	}
	evbuffer_drain(in, need);
	stream_consumed(leg->st, need);
	struct peer_conn *pc = find_conn(leg->from, f.conn_id);
	if (!pc) {
		if (f.value != 0 || (f.flags & PEER_LEG_RESUME)) {
			struct stream *st = leg->st;
			free(leg);
			peer_refuse(st, RST_REFUSED, "no such connection to resume (it ended here)");
			return;
		}
		provider_new(leg, f.conn_id);
		return;
	}
	/* A connection moving here (or coming back after its path died). */
	enter(pc);
	leg->pc = pc;
	leg_drop(pc->leg, RST_CANCEL, pc->leg ? "the connection moved to another path" : NULL);
	pc->leg = leg;
	if (take_peer_leg(pc, leg, f.value) == 0) {
		leg->rcv_off = pc->delivered;
		uint8_t out[PEER_FRAME_HEADER + 24];
		size_t n = peer_encode_leg(out, pc->id, ack_value(pc), PEER_LEG_RESUME);
		pc->ack_sent = ack_value(pc) > pc->ack_sent ? ack_value(pc) : pc->ack_sent;
		stream_write(leg->st, out, n);
		count_move(pc, leg);
		pc->detached_ms = 0;
		loop_timer_stop(pc->retry_timer);
		pc_read_leg(pc, leg);
		pc_pump(pc);
	}
	leave(pc);
}

static void wait_on_data(struct stream *st, void *arg)
{
	struct leg *leg = arg;
	if (leg->pc) {
		leg_on_data(st, arg);
		return;
	}
	stream_set_cbs(st, &leg_cbs, leg);
	provider_leg_first(leg);
	/* leg may be gone, or attached (its callbacks are leg_cbs now) */
}

static void wait_on_fin(struct stream *st, void *arg)
{
	struct leg *leg = arg;
	leg_drop(leg, RST_PROTOCOL, "the leg ended before its LEG frame");
}

static void wait_on_reset(struct stream *st, void *arg, uint32_t code, const char *reason)
{
	struct leg *leg = arg;
	leg_drop(leg, 0, NULL);
}

static const struct stream_cbs wait_cbs = {
	.on_data = wait_on_data,
	.on_fin = wait_on_fin,
	.on_reset = wait_on_reset,
};

void peer_conn_leg_arrived(const char *from, struct stream *st, const struct open_header *oh,
			   int via_direct)
{
	struct leg *leg = calloc(1, sizeof *leg);
	if (!leg) {
		stream_reset(st, RST_INTERNAL, "out of memory");
		stream_release(st);
		return;
	}
	leg->st = st;
	leg->via_direct = via_direct;
	leg->log_id = host_next_conn_id();
	snprintf(leg->from, sizeof leg->from, "%s", from);
	snprintf(leg->service, sizeof leg->service, "%s", oh->service);
	stream_set_cbs(st, &wait_cbs, leg);
	if (evbuffer_get_length(stream_input(st)) >= PEER_FRAME_HEADER + 24) {
		stream_set_cbs(st, &leg_cbs, leg);
		provider_leg_first(leg);
	} else if (stream_peer_finished(st)) {
		leg_drop(leg, RST_PROTOCOL, "the leg ended before its LEG frame");
	}
}

void peer_conn_get_stats(struct peer_conn_stats *out)
{
	*out = stats;
	out->active_direct = out->active_relay = 0;
	struct peer_conn *pc;
	LIST_FOREACH(pc, &conns, link) {
		if (pc->dead || !pc->leg)
			continue;
		if (pc->leg->via_direct)
			out->active_direct++;
		else
			out->active_relay++;
	}
}

void peer_conn_free_all(void)
{
	struct peer_conn *pc;
	while ((pc = LIST_FIRST(&conns)))
		pc_free(pc);
}
