/* quic_engine.c: endpoints and connections (see quic_engine.h): ngtcp2's callbacks, the
 * receive path (route by connection id, accept), the write loop, the timer, closing, and the
 * delivery of events to the owner.
 *
 * Why events are queued: ngtcp2 calls us from inside read_pkt/write, where starting new work
 * (opening streams, resets, closes) is fragile (notes P11). Its callbacks only record what
 * happened on the connection or stream; conn_dispatch() hands that to the owner once ngtcp2
 * has returned. The owner's own calls (write, read, close) never call back either: they ask
 * for a "kick", an event the loop runs next, which dispatches and writes. */
#define _GNU_SOURCE /* recvmmsg, sendmmsg, in6_pktinfo */
#include "config.h"
#include "quic_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <gnutls/crypto.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

uint64_t quic_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NGTCP2_SECONDS + (uint64_t)ts.tv_nsec;
}

void quic_config_default(struct quic_config *cfg)
{
	memset(cfg, 0, sizeof *cfg);
	cfg->keepalive_ms = 15000;
	cfg->idle_timeout_ms = 60000;
	cfg->handshake_timeout_ms = 10000;
	cfg->stream_window = 256 * 1024;
	cfg->max_stream_window = 16 * 1024 * 1024;
	cfg->conn_window = 1024 * 1024;
	cfg->max_conn_window = 32 * 1024 * 1024;
	cfg->max_streams = 1024;
	cfg->stream_send_buffer = 1024 * 1024;
}

static socklen_t sa_len(const struct sockaddr *sa)
{
	return sa->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in);
}

static void rand_bytes(uint8_t *p, size_t n)
{
	if (gnutls_rnd(GNUTLS_RND_NONCE, p, n) != 0)
		abort(); /* no randomness: nothing safe to do */
}

static void conn_write(struct quic_conn *c);
static int conn_dispatch(struct quic_conn *c);
static void conn_fail(struct quic_conn *c, int liberr);
static void conn_arm_timer(struct quic_conn *c);

void quic_conn_schedule(struct quic_conn *c)
{
	if (c->kick)
		event_active(c->kick, EV_TIMEOUT, 0);
}

/* Records why the connection ended; the owner hears of it from the loop. next is QC_CLOSING
 * (we sent CONNECTION_CLOSE and answer with it for a while) or QC_DEAD. */
static void conn_terminate(struct quic_conn *c, enum quic_close_kind kind, int by_peer,
			   uint64_t code, enum quic_conn_state next, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
static void conn_terminate(struct quic_conn *c, enum quic_close_kind kind, int by_peer,
			   uint64_t code, enum quic_conn_state next, const char *fmt, ...)
{
	if (c->state >= QC_CLOSING)
		return;
	c->close.kind = kind;
	c->close.by_peer = by_peer;
	c->close.code = code;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->close.reason, sizeof c->close.reason, fmt, ap);
	va_end(ap);
	c->close_pending = 1;
	c->state = next;
	if (next == QC_CLOSING) {
		c->closing_deadline = quic_now() + 3 * ngtcp2_conn_get_pto(c->conn);
		conn_arm_timer(c);
	}
	quic_conn_schedule(c);
}

/* ---- sending one-off packets (close) ---- */

static void send_now(struct quic_conn *c, const ngtcp2_path *path, const uint8_t *pkt,
		     size_t len)
{
	struct quic_endpoint *ep = c->ep;
	struct quic_tx_batch *b = ep->tx;
	if (b->npkts == QUIC_BATCH)
		quic_tx_flush(ep);
	struct quic_sock *s = quic_sock_by_local(ep, path->local.addr);
	if (!s)
		s = c->sock;
	struct quic_tx_pkt *p = &b->pkts[b->npkts++];
	p->sock = s;
	memcpy(&p->remote, path->remote.addr, path->remote.addrlen);
	p->remote_len = path->remote.addrlen;
	memcpy(&p->local, path->local.addr, path->local.addrlen);
	p->off = b->used;
	p->len = len;
	memcpy(b->buf + b->used, pkt, len);
	b->used += len;
	quic_tx_flush(ep);
	c->bytes_sent += len;
	c->pkts_sent++;
}

/* Sends CONNECTION_CLOSE with ce and keeps it to answer the peer during the closing
 * period. */
static void conn_send_close(struct quic_conn *c, const ngtcp2_connection_close_error *ce)
{
	uint8_t buf[QUIC_MAX_PKT];
	ngtcp2_path_storage ps;
	ngtcp2_path_storage_zero(&ps);
	ngtcp2_pkt_info pi;
	ngtcp2_ssize n = ngtcp2_conn_write_connection_close(c->conn, &ps.path, &pi, buf, sizeof buf,
							    ce, quic_now());
	if (n <= 0)
		return;
	free(c->close_pkt);
	c->close_pkt = malloc((size_t)n);
	if (c->close_pkt) {
		memcpy(c->close_pkt, buf, (size_t)n);
		c->close_pkt_len = (size_t)n;
	}
	send_now(c, &ps.path, buf, (size_t)n);
}

static void conn_fail(struct quic_conn *c, int liberr)
{
	if (c->state >= QC_CLOSING)
		return;
	if (liberr == NGTCP2_ERR_IDLE_CLOSE) {
		conn_terminate(c, QUIC_CLOSE_IDLE, 0, 0, QC_DEAD,
			       "idle timeout: nothing heard from the peer for %u ms",
			       c->ep->cfg.idle_timeout_ms);
		return;
	}
	if (liberr == NGTCP2_ERR_HANDSHAKE_TIMEOUT) {
		conn_terminate(c, QUIC_CLOSE_HANDSHAKE_TIMEOUT, 0, 0, QC_DEAD,
			       "handshake timeout: no completed handshake within %u ms",
			       c->ep->cfg.handshake_timeout_ms);
		return;
	}
	if (liberr == NGTCP2_ERR_DROP_CONN) {
		conn_terminate(c, QUIC_CLOSE_TRANSPORT, 0, 0, QC_DEAD, "connection dropped (%s)",
			       ngtcp2_strerror(liberr));
		return;
	}
	ngtcp2_connection_close_error ce;
	char reason[256];
	enum quic_close_kind kind;
	int cert_refused = 0;
	if (liberr == NGTCP2_ERR_CRYPTO) {
		ngtcp2_connection_close_error_set_transport_error_tls_alert(
			&ce, ngtcp2_conn_get_tls_alert(c->conn), NULL, 0);
		cert_refused = quic_tls_failure_reason(c, reason, sizeof reason);
		kind = QUIC_CLOSE_HANDSHAKE;
	} else {
		ngtcp2_connection_close_error_set_transport_error_liberr(&ce, liberr, NULL, 0);
		snprintf(reason, sizeof reason, "QUIC error: %s", ngtcp2_strerror(liberr));
		kind = c->state == QC_HANDSHAKE ? QUIC_CLOSE_HANDSHAKE : QUIC_CLOSE_TRANSPORT;
	}
	conn_send_close(c, &ce);
	conn_terminate(c, kind, 0, ce.error_code, QC_CLOSING, "%s", reason);
	c->close.cert_refused = cert_refused;
}

/* The peer's CONNECTION_CLOSE arrived (read_pkt said DRAINING). */
static void conn_peer_closed(struct quic_conn *c)
{
	ngtcp2_connection_close_error ce;
	ngtcp2_conn_get_connection_close_error(c->conn, &ce);
	int server = c->ep->cfg.role == QUIC_SERVER;
	int rlen = (int)(ce.reasonlen > 200 ? 200 : ce.reasonlen);
	const char *r = ce.reason ? (const char *)ce.reason : "";
	if (ce.type == NGTCP2_CONNECTION_CLOSE_ERROR_CODE_TYPE_APPLICATION) {
		conn_terminate(c, QUIC_CLOSE_APPLICATION, 1, ce.error_code, QC_DEAD, "%.*s", rlen, r);
	} else if ((ce.error_code & ~(uint64_t)0xff) == NGTCP2_CRYPTO_ERROR) {
		char why[256];
		int cert = quic_tls_alert_reason(server, (uint8_t)(ce.error_code & 0xff), why,
						 sizeof why);
		conn_terminate(c, QUIC_CLOSE_HANDSHAKE, 1, ce.error_code, QC_DEAD, "%s", why);
		c->close.cert_refused = cert;
	} else {
		conn_terminate(c, QUIC_CLOSE_TRANSPORT, 1, ce.error_code, QC_DEAD,
			       "the peer closed with transport error 0x%llx%s%.*s",
			       (unsigned long long)ce.error_code, rlen ? ": " : "", rlen, r);
	}
}

/* ---- the probe after stream data stops (QUIC_PROBE_NS) ----
 * ngtcp2's keep-alive sends one PING once nothing was received for its timeout, and no more
 * until a packet arrives. While stream data flows it is set to QUIC_PROBE_NS, so that a
 * transfer that stops dead is followed by exactly one PING a second later: when our NAT
 * mapping changed, that packet shows the peer our new address (a receiver otherwise says
 * nothing until its next keepalive, and the peer's data goes to the old one meanwhile); when
 * the peer died, its ICMP answer tells us. After that PING it is the configured keepalive
 * again, so an idle connection is not woken every second. */
static void conn_probe_arm(struct quic_conn *c)
{
	if (c->probing || c->ep->cfg.keepalive_ms == UINT32_MAX ||
	    (uint64_t)c->ep->cfg.keepalive_ms * NGTCP2_MILLISECONDS <= QUIC_PROBE_NS)
		return;
	c->probing = 1;
	ngtcp2_conn_set_keep_alive_timeout(c->conn, QUIC_PROBE_NS);
}

/* After a write: the probe's PING went out if nothing came for QUIC_PROBE_NS. */
static void conn_probe_done(struct quic_conn *c, uint64_t now)
{
	if (!c->probing || now < c->last_rx_ns + QUIC_PROBE_NS)
		return;
	c->probing = 0;
	ngtcp2_conn_set_keep_alive_timeout(c->conn, (uint64_t)c->ep->cfg.keepalive_ms *
							    NGTCP2_MILLISECONDS);
}

/* ---- ngtcp2 callbacks: they record, the dispatch acts ---- */

static void cb_rand(uint8_t *dest, size_t len, const ngtcp2_rand_ctx *ctx)
{
	rand_bytes(dest, len);
}

static int cb_get_new_cid(ngtcp2_conn *conn, ngtcp2_cid *cid, uint8_t *token, size_t cidlen,
			  void *ud)
{
	struct quic_conn *c = ud;
	rand_bytes(cid->data, cidlen);
	cid->datalen = cidlen;
	rand_bytes(token, NGTCP2_STATELESS_RESET_TOKENLEN);
	if (quic_cid_add(&c->ep->cids, cid->data, cidlen, c) < 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	return 0;
}

static int cb_remove_cid(ngtcp2_conn *conn, const ngtcp2_cid *cid, void *ud)
{
	struct quic_conn *c = ud;
	quic_cid_remove(&c->ep->cids, cid->data, cid->datalen);
	return 0;
}

static int cb_handshake_completed(ngtcp2_conn *conn, void *ud)
{
	struct quic_conn *c = ud;
	quic_tls_peer_identity(c);
	/* a server's handshake completes once it verified the client's Finished, and with it the
	 * client certificate; a client must wait for the server's verdict (notes P3) */
	if (c->ep->cfg.role == QUIC_SERVER)
		c->ev_ready = 1;
	return 0;
}

static int cb_handshake_confirmed(ngtcp2_conn *conn, void *ud)
{
	struct quic_conn *c = ud;
	if (c->ep->cfg.role == QUIC_CLIENT)
		c->ev_ready = 1;
	return 0;
}

static int cb_stream_open(ngtcp2_conn *conn, int64_t id, void *ud)
{
	struct quic_conn *c = ud;
	if (!ngtcp2_is_bidi_stream(id))
		return 0; /* we allow no unidirectional streams */
	struct quic_stream *s = quic_stream_new(c, id, 0);
	if (!s)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	ngtcp2_conn_set_stream_user_data(conn, id, s);
	quic_stream_post(s, QS_EV_OPENED);
	return 0;
}

static int cb_recv_stream_data(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t offset,
			       const uint8_t *data, size_t len, void *ud, void *sud)
{
	struct quic_stream *s = sud;
	/* The connection's credit goes back as bytes arrive, the stream's only as the owner
	 * reads them (quic_stream_read). A stream whose reader stalls then holds at most its
	 * own window; if it held connection credit too, one stalled stream whose window had
	 * grown would, once its unread bytes filled the connection's window, stop every other
	 * stream of the connection, the owner's control stream with them. */
	ngtcp2_conn_extend_max_offset(conn, len);
	if (len) {
		struct quic_conn *c = ud;
		c->last_stream_ns = quic_now();
		conn_probe_arm(c);
	}
	if (!s || s->rx_reset)
		return 0; /* nobody reads it */
	if (len && evbuffer_add(s->rx, data, len) < 0)
		return NGTCP2_ERR_CALLBACK_FAILURE;
	if (flags & NGTCP2_STREAM_DATA_FLAG_FIN)
		s->rx_fin = 1;
	if (len || s->rx_fin)
		quic_stream_post(s, QS_EV_READABLE);
	return 0;
}

static int cb_acked_stream_data_offset(ngtcp2_conn *conn, int64_t id, uint64_t offset,
				       uint64_t len, void *ud, void *sud)
{
	struct quic_stream *s = sud;
	if (s)
		quic_stream_acked(s, offset, len);
	return 0;
}

static int cb_stream_close(ngtcp2_conn *conn, uint32_t flags, int64_t id, uint64_t code,
			   void *ud, void *sud)
{
	struct quic_conn *c = ud;
	struct quic_stream *s = sud;
	if (!s)
		return 0;
	/* QUIC's stream limit counts every stream ever opened; ngtcp2 raises it only when told.
	 * One more for each of the peer's streams that ends keeps max_streams a limit on how
	 * many are open at once (without it, the peer's 1025th stream is refused for good). */
	if (!ngtcp2_conn_is_local_stream(conn, id) && ngtcp2_is_bidi_stream(id))
		ngtcp2_conn_extend_max_streams_bidi(conn, 1);
	c->lost_closed += ngtcp2_conn_get_stream_loss_count(conn, id);
	if (s->orphan) {
		/* the owner let go at its reset; ngtcp2 has now too */
		s->quic_closed = 1;
		quic_stream_free(s);
		return 0;
	}
	s->quic_closed = 1;
	s->close_code = (flags & NGTCP2_STREAM_CLOSE_FLAG_APP_ERROR_CODE_SET) ? code : 0;
	quic_stream_sendq_remove(s);
	if (evbuffer_get_length(s->rx) == 0)
		quic_stream_post(s, QS_EV_CLOSED);
	return 0;
}

static int cb_stream_reset(ngtcp2_conn *conn, int64_t id, uint64_t final_size, uint64_t code,
			   void *ud, void *sud)
{
	struct quic_stream *s = sud;
	if (!s || s->rx_reset)
		return 0;
	s->rx_reset = 1;
	s->reset_read_code = code;
	/* unread bytes are dropped (their connection credit went back as they arrived) */
	evbuffer_drain(s->rx, evbuffer_get_length(s->rx));
	quic_stream_post(s, QS_EV_RESET_READ);
	return 0;
}

static int cb_stream_stop_sending(ngtcp2_conn *conn, int64_t id, uint64_t code, void *ud,
				  void *sud)
{
	struct quic_stream *s = sud;
	if (!s || s->tx_shut)
		return 0;
	s->tx_shut = 1;
	s->reset_write_code = code;
	quic_stream_sendq_remove(s);
	quic_stream_post(s, QS_EV_RESET_WRITE);
	return 0;
}

static int cb_extend_max_stream_data(ngtcp2_conn *conn, int64_t id, uint64_t max, void *ud,
				     void *sud)
{
	struct quic_stream *s = sud;
	if (s && s->tx_blocked) {
		s->tx_blocked = 0;
		quic_stream_sendq_add(s);
	}
	return 0;
}

static int cb_extend_max_local_streams_bidi(ngtcp2_conn *conn, uint64_t max, void *ud)
{
	struct quic_conn *c = ud;
	if (c->want_streams) {
		c->want_streams = 0;
		c->ev_streams = 1;
		quic_conn_schedule(c);
	}
	return 0;
}

static int cb_path_validation(ngtcp2_conn *conn, uint32_t flags, const ngtcp2_path *path,
			      ngtcp2_path_validation_result res, void *ud)
{
	struct quic_conn *c = ud;
	int ok = res == NGTCP2_PATH_VALIDATION_RESULT_SUCCESS;
	if (c->ep->cfg.role == QUIC_CLIENT) {
		/* only the validation of the path we moved to matters to the owner */
		if (!quic_sockaddr_eq(path->local.addr, (struct sockaddr *)&c->sock->local))
			return 0;
		if (ok) {
			/* the old sockets are no longer needed */
			struct quic_sock *s;
			LIST_FOREACH(s, &c->ep->socks, link)
				if (s != c->sock)
					s->dead = 1;
			event_active(c->ep->reap, EV_TIMEOUT, 0);
		}
	}
	c->ev_path = 1;
	c->ev_path_ok = ok ? 1 : 0;
	return 0;
}

static ngtcp2_conn *cb_get_conn(ngtcp2_crypto_conn_ref *ref)
{
	struct quic_conn *c = ref->user_data;
	return c->conn;
}

static void log_printf(void *ud, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static const ngtcp2_callbacks client_callbacks = {
	.client_initial = ngtcp2_crypto_client_initial_cb,
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.recv_retry = ngtcp2_crypto_recv_retry_cb,
	.update_key = ngtcp2_crypto_update_key_cb,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
	.rand = cb_rand,
	.get_new_connection_id = cb_get_new_cid,
	.remove_connection_id = cb_remove_cid,
	.handshake_completed = cb_handshake_completed,
	.handshake_confirmed = cb_handshake_confirmed,
	.stream_open = cb_stream_open,
	.recv_stream_data = cb_recv_stream_data,
	.acked_stream_data_offset = cb_acked_stream_data_offset,
	.stream_close = cb_stream_close,
	.stream_reset = cb_stream_reset,
	.stream_stop_sending = cb_stream_stop_sending,
	.extend_max_stream_data = cb_extend_max_stream_data,
	.extend_max_local_streams_bidi = cb_extend_max_local_streams_bidi,
	.path_validation = cb_path_validation,
};

static const ngtcp2_callbacks server_callbacks = {
	.recv_client_initial = ngtcp2_crypto_recv_client_initial_cb,
	.recv_crypto_data = ngtcp2_crypto_recv_crypto_data_cb,
	.encrypt = ngtcp2_crypto_encrypt_cb,
	.decrypt = ngtcp2_crypto_decrypt_cb,
	.hp_mask = ngtcp2_crypto_hp_mask_cb,
	.update_key = ngtcp2_crypto_update_key_cb,
	.delete_crypto_aead_ctx = ngtcp2_crypto_delete_crypto_aead_ctx_cb,
	.delete_crypto_cipher_ctx = ngtcp2_crypto_delete_crypto_cipher_ctx_cb,
	.get_path_challenge_data = ngtcp2_crypto_get_path_challenge_data_cb,
	.version_negotiation = ngtcp2_crypto_version_negotiation_cb,
	.rand = cb_rand,
	.get_new_connection_id = cb_get_new_cid,
	.remove_connection_id = cb_remove_cid,
	.handshake_completed = cb_handshake_completed,
	.handshake_confirmed = cb_handshake_confirmed,
	.stream_open = cb_stream_open,
	.recv_stream_data = cb_recv_stream_data,
	.acked_stream_data_offset = cb_acked_stream_data_offset,
	.stream_close = cb_stream_close,
	.stream_reset = cb_stream_reset,
	.stream_stop_sending = cb_stream_stop_sending,
	.extend_max_stream_data = cb_extend_max_stream_data,
	.extend_max_local_streams_bidi = cb_extend_max_local_streams_bidi,
	.path_validation = cb_path_validation,
};

/* ---- connection set-up and tear-down ---- */

static void on_kick(evutil_socket_t fd, short what, void *arg);
static void on_timer(evutil_socket_t fd, short what, void *arg);

static struct quic_conn *conn_alloc(struct quic_endpoint *ep, struct quic_sock *sock,
				    const struct sockaddr *local, const struct sockaddr *remote)
{
	struct quic_conn *c = calloc(1, sizeof *c);
	if (!c)
		return NULL;
	c->ep = ep;
	c->sock = sock;
	c->created_ns = quic_now();
	TAILQ_INIT(&c->sendq);
	TAILQ_INIT(&c->notifyq);
	LIST_INIT(&c->streams);
	ngtcp2_path_storage_init(&c->ps, local, sa_len(local), remote, sa_len(remote), NULL);
	c->kick = event_new(ep->base, -1, 0, on_kick, c);
	c->timer = event_new(ep->base, -1, 0, on_timer, c);
	if (!c->kick || !c->timer) {
		if (c->kick)
			event_free(c->kick);
		if (c->timer)
			event_free(c->timer);
		free(c);
		return NULL;
	}
	c->conn_ref.get_conn = cb_get_conn;
	c->conn_ref.user_data = c;
	LIST_INSERT_HEAD(&ep->conns, c, link);
	return c;
}

static void conn_destroy(struct quic_conn *c)
{
	struct quic_endpoint *ep = c->ep;
	struct quic_stream *s;
	while ((s = LIST_FIRST(&c->streams)))
		quic_stream_free(s);
	if (c->dirty)
		LIST_REMOVE(c, dirty_link);
	if (c->write_blocked)
		LIST_REMOVE(c, blocked_link);
	LIST_REMOVE(c, link);
	quic_cid_remove_conn(&ep->cids, c);
	if (c->conn)
		ngtcp2_conn_del(c->conn);
	if (c->tls)
		gnutls_deinit(c->tls);
	quic_tls_unref(c->tls_cfg); /* after the session that points into it */
	event_free(c->kick);
	event_free(c->timer);
	free(c->close_pkt);
	free(c->peer_identity);
	free(c);
}

static void conn_settings(struct quic_conn *c, ngtcp2_settings *s, ngtcp2_transport_params *p)
{
	const struct quic_config *cfg = &c->ep->cfg;
	ngtcp2_settings_default(s);
	s->initial_ts = quic_now();
	switch (cfg->cc) {
	case QUIC_CC_BBR:
		s->cc_algo = NGTCP2_CC_ALGO_BBR;
		break;
	case QUIC_CC_BBR2:
		s->cc_algo = NGTCP2_CC_ALGO_BBR2;
		break;
	case QUIC_CC_RENO:
		s->cc_algo = NGTCP2_CC_ALGO_RENO;
		break;
	default:
		s->cc_algo = NGTCP2_CC_ALGO_CUBIC;
		break;
	}
	s->max_window = cfg->max_conn_window;
	s->max_stream_window = cfg->max_stream_window;
	s->handshake_timeout = (uint64_t)cfg->handshake_timeout_ms * NGTCP2_MILLISECONDS;
	if (cfg->log_ngtcp2)
		s->log_printf = log_printf;
	ngtcp2_transport_params_default(p);
	p->initial_max_data = cfg->conn_window;
	p->initial_max_stream_data_bidi_local = cfg->stream_window;
	p->initial_max_stream_data_bidi_remote = cfg->stream_window;
	p->initial_max_streams_bidi = cfg->max_streams;
	p->initial_max_streams_uni = 0;
	p->max_idle_timeout = (uint64_t)cfg->idle_timeout_ms * NGTCP2_MILLISECONDS;
	/* spare ids for migration and rebinding */
	p->active_connection_id_limit = 8;
}

static int conn_finish_new(struct quic_conn *c)
{
	if (quic_tls_session_new(c) < 0)
		return -EINVAL;
	ngtcp2_conn_set_tls_native_handle(c->conn, c->tls);
	if (c->ep->cfg.keepalive_ms != UINT32_MAX)
		ngtcp2_conn_set_keep_alive_timeout(c->conn, (uint64_t)c->ep->cfg.keepalive_ms *
								    NGTCP2_MILLISECONDS);
	return 0;
}

static struct quic_conn *conn_accept(struct quic_sock *sock, const struct sockaddr *local,
				     const struct sockaddr *remote, const uint8_t *pkt, size_t len)
{
	struct quic_endpoint *ep = sock->ep;
	ngtcp2_pkt_hd hd;
	/* 0 only for a client Initial we can take (long header, >= 1200 bytes) */
	if (ngtcp2_accept(&hd, pkt, len) != 0)
		return NULL;
	struct quic_conn *c = conn_alloc(ep, sock, local, remote);
	if (!c)
		return NULL;
	ngtcp2_settings s;
	ngtcp2_transport_params p;
	conn_settings(c, &s, &p);
	s.token = hd.token;
	p.original_dcid = hd.dcid; /* 0.12 has no original_dcid_present */
	ngtcp2_cid scid;
	scid.datalen = QUIC_SCID_LEN;
	rand_bytes(scid.data, scid.datalen);
	if (ngtcp2_conn_server_new(&c->conn, &hd.scid, &scid, &c->ps.path, hd.version,
				   &server_callbacks, &s, &p, NULL, c) != 0)
		goto fail;
	if (conn_finish_new(c) < 0)
		goto fail;
	/* the client keeps writing to its original DCID until it sees our SCID */
	if (quic_cid_add(&ep->cids, scid.data, scid.datalen, c) < 0 ||
	    quic_cid_add(&ep->cids, hd.dcid.data, hd.dcid.datalen, c) < 0)
		goto fail;
	return c;
fail:
	conn_destroy(c);
	return NULL;
}

static void send_version_negotiation(struct quic_sock *sock, const struct sockaddr *remote,
				     socklen_t rlen, const ngtcp2_version_cid *vc)
{
	uint8_t buf[256], r;
	uint32_t sv[] = {NGTCP2_PROTO_VER_V1};
	rand_bytes(&r, 1);
	ngtcp2_ssize n = ngtcp2_pkt_write_version_negotiation(buf, sizeof buf, r, vc->scid,
							      vc->scidlen, vc->dcid, vc->dcidlen, sv,
							      1);
	if (n > 0)
		(void)sendto(sock->fd, buf, (size_t)n, 0, remote, rlen);
}

/* A datagram no connection claims: the owner's, if it shares the socket with something else
 * (STUN, hole punching); otherwise dropped. */
static void not_quic(struct quic_sock *sock, const struct sockaddr *remote, socklen_t remote_len,
		     const uint8_t *pkt, size_t len)
{
	struct quic_endpoint *ep = sock->ep;
	if (ep->cb.non_quic_datagram)
		ep->cb.non_quic_datagram(ep, sock->fd, remote, remote_len, pkt, len, ep->arg);
}

void quic_conn_input(struct quic_sock *sock, const struct sockaddr *local,
		     const struct sockaddr *remote, socklen_t remote_len, uint8_t *pkt, size_t len)
{
	struct quic_endpoint *ep = sock->ep;
	ngtcp2_version_cid vc;
	int rv = ngtcp2_pkt_decode_version_cid(&vc, pkt, len, QUIC_SCID_LEN);
	if (rv == NGTCP2_ERR_VERSION_NEGOTIATION) {
		if (ep->cfg.role == QUIC_SERVER)
			send_version_negotiation(sock, remote, remote_len, &vc);
		return;
	}
	if (rv != 0) {
		not_quic(sock, remote, remote_len, pkt, len);
		return;
	}
	struct quic_conn *c = quic_cid_find(&ep->cids, vc.dcid, vc.dcidlen);
	if (!c) {
		if (ep->cfg.role == QUIC_SERVER)
			c = conn_accept(sock, local, remote, pkt, len);
		if (!c) {
			not_quic(sock, remote, remote_len, pkt, len);
			return;
		}
	}
	if (c->state == QC_CLOSING) {
		if (c->close_pkt) {
			ngtcp2_path path = {{(ngtcp2_sockaddr *)local, sa_len(local)},
					    {(ngtcp2_sockaddr *)remote, remote_len}, NULL};
			send_now(c, &path, c->close_pkt, c->close_pkt_len);
		}
		return;
	}
	if (c->state == QC_DEAD)
		return;
	ngtcp2_path path = {{(ngtcp2_sockaddr *)local, sa_len(local)},
			    {(ngtcp2_sockaddr *)remote, remote_len}, NULL};
	ngtcp2_pkt_info pi = {0};
	c->bytes_recv += len;
	c->pkts_recv++;
	uint64_t now = quic_now();
	rv = ngtcp2_conn_read_pkt(c->conn, &path, &pi, pkt, len, now);
	if (rv == 0)
		c->last_rx_ns = now;
	if (rv == NGTCP2_ERR_DRAINING)
		conn_peer_closed(c);
	else if (rv != 0)
		conn_fail(c, rv);
	if (!c->dirty) {
		c->dirty = 1;
		LIST_INSERT_HEAD(&ep->dirty, c, dirty_link);
	}
}

/* ICMP is not authenticated, so it ends a connection only where QUIC itself has nothing
 * better: during the handshake (a dial to a closed port fails at once instead of after the
 * handshake timeout), or when the peer has been silent for a while (a crashed peer is
 * noticed in seconds instead of after the idle timeout). A forged error against a live
 * connection is ignored: the peer's own packets keep arriving.
 * A server is more careful than a client, because its client may move (NAT rebinding) and
 * errors for the address it left are then expected until the client is heard from the new
 * one: a client receiving data says where it is within QUIC_PROBE_NS of the data stopping
 * (conn_probe_arm), so the server waits three times that, and only when the silence began
 * during a transfer; an idle client shows its new address with its keepalive. A server's
 * address does not change. */
#define UNREACHABLE_SILENCE_CLIENT_NS (1 * NGTCP2_SECONDS)
#define UNREACHABLE_SILENCE_SERVER_NS (3 * NGTCP2_SECONDS)

void quic_conn_unreachable(struct quic_sock *sock, const struct sockaddr *remote, int err)
{
	struct quic_endpoint *ep = sock->ep;
	uint64_t silence = ep->cfg.role == QUIC_CLIENT ? UNREACHABLE_SILENCE_CLIENT_NS
						       : UNREACHABLE_SILENCE_SERVER_NS;
	uint64_t now = quic_now();
	struct quic_conn *c;
	LIST_FOREACH(c, &ep->conns, link) {
		if (c->state > QC_READY || c->close_pending)
			continue;
		const ngtcp2_path *p = ngtcp2_conn_get_path(c->conn);
		if (!quic_sockaddr_eq(p->remote.addr, remote))
			continue;
		uint64_t heard = c->last_rx_ns ? c->last_rx_ns : c->created_ns;
		if (c->state == QC_READY && now - heard < silence)
			continue;
		/* a server whose client fell silent with no transfer under way may be talking to
		 * the address the client's NAT has just given up: the client's keepalive will come
		 * from the new one */
		if (c->state == QC_READY && ep->cfg.role == QUIC_SERVER &&
		    c->last_stream_ns + 2 * QUIC_PROBE_NS < heard)
			continue;
		char addr[INET6_ADDRSTRLEN] = "?";
		if (remote->sa_family == AF_INET)
			inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)remote)->sin_addr,
				  addr, sizeof addr);
		else
			inet_ntop(AF_INET6,
				  &((const struct sockaddr_in6 *)(const void *)remote)->sin6_addr, addr,
				  sizeof addr);
		unsigned port = ntohs(remote->sa_family == AF_INET
					      ? ((const struct sockaddr_in *)(const void *)remote)->sin_port
					      : ((const struct sockaddr_in6 *)(const void *)remote)->sin6_port);
		conn_terminate(c, QUIC_CLOSE_UNREACHABLE, 1, (uint64_t)err, QC_DEAD,
			       "%s%s%s:%u is unreachable (ICMP: %s)%s",
			       remote->sa_family == AF_INET6 ? "[" : "", addr,
			       remote->sa_family == AF_INET6 ? "]" : "", port, strerror(err),
			       c->state == QC_HANDSHAKE ? "" : " and silent");
	}
}

void quic_endpoint_after_input(struct quic_endpoint *ep)
{
	while (!LIST_EMPTY(&ep->dirty)) {
		struct quic_conn *c = LIST_FIRST(&ep->dirty);
		LIST_REMOVE(c, dirty_link);
		c->dirty = 0;
		if (conn_dispatch(c))
			continue;
		conn_write(c);
	}
}

/* ---- writing ---- */

static void conn_arm_timer(struct quic_conn *c)
{
	uint64_t expiry = c->state == QC_CLOSING ? c->closing_deadline
						  : ngtcp2_conn_get_expiry(c->conn);
	if (expiry == UINT64_MAX) {
		evtimer_del(c->timer);
		return;
	}
	uint64_t now = quic_now();
	uint64_t d = expiry > now ? expiry - now : 0;
	/* rounded up: a timer that fires early finds nothing to do and spins (notes P10) */
	uint64_t us = (d + 999) / 1000;
	struct timeval tv = {(time_t)(us / 1000000), (suseconds_t)(us % 1000000)};
	evtimer_add(c->timer, &tv);
}

static void conn_write(struct quic_conn *c)
{
	struct quic_endpoint *ep = c->ep;
	struct quic_tx_batch *b = ep->tx;
	if (c->state > QC_READY || c->close_pending || c->write_blocked)
		return;
	uint64_t ts = quic_now();
	size_t mtu = ngtcp2_conn_get_max_tx_udp_payload_size(c->conn);
	size_t max_pkts = ngtcp2_conn_get_send_quantum(c->conn) / (mtu ? mtu : 1200);
	if (max_pkts < 1)
		max_pkts = 1;
	if (max_pkts > QUIC_BATCH)
		max_pkts = QUIC_BATCH;
	size_t pkts = 0;
	for (;;) {
		if (b->npkts == QUIC_BATCH)
			quic_tx_flush(ep);
		uint8_t *buf = b->buf + b->used;
		struct quic_stream *s = TAILQ_FIRST(&c->sendq);
		ngtcp2_vec v[16];
		size_t nv = 0;
		int64_t sid = -1;
		uint32_t fl = NGTCP2_WRITE_STREAM_FLAG_MORE;
		if (s) {
			sid = s->id;
			nv = quic_stream_tx_vecs(s, v, 16);
			uint64_t total = 0;
			for (size_t i = 0; i < nv; i++)
				total += v[i].len;
			if (s->fin_wanted && s->tx_sent + total == s->tx_end)
				fl |= NGTCP2_WRITE_STREAM_FLAG_FIN;
		}
		ngtcp2_path_storage ps;
		ngtcp2_path_storage_zero(&ps);
		ngtcp2_pkt_info pi;
		ngtcp2_ssize nd = -1;
		ngtcp2_ssize n = ngtcp2_conn_writev_stream(c->conn, &ps.path, &pi, buf, QUIC_MAX_PKT,
							   &nd, fl, sid, v, nv, ts);
		if (s && nd >= 0) {
			if (nd > 0)
				c->last_stream_ns = ts;
			s->tx_sent += (uint64_t)nd;
			if ((fl & NGTCP2_WRITE_STREAM_FLAG_FIN) && s->tx_sent == s->tx_end)
				s->fin_sent = 1;
			if (!quic_stream_has_tx(s))
				quic_stream_sendq_remove(s);
		}
		if (n < 0) {
			if (n == NGTCP2_ERR_WRITE_MORE)
				continue;
			if (s && (n == NGTCP2_ERR_STREAM_DATA_BLOCKED)) {
				s->tx_blocked = 1;
				quic_stream_sendq_remove(s);
				continue;
			}
			if (s && (n == NGTCP2_ERR_STREAM_SHUT_WR || n == NGTCP2_ERR_STREAM_NOT_FOUND)) {
				s->tx_shut = 1;
				quic_stream_sendq_remove(s);
				continue;
			}
			quic_tx_flush(ep);
			conn_fail(c, (int)n);
			return;
		}
		if (n == 0)
			break; /* congestion, pacing, flow control, or nothing to send */
		struct quic_tx_pkt *p = &b->pkts[b->npkts++];
		struct quic_sock *sock = quic_sock_by_local(ep, ps.path.local.addr);
		p->sock = sock ? sock : c->sock; /* per packet: probes leave on the new path (P10) */
		memcpy(&p->remote, ps.path.remote.addr, ps.path.remote.addrlen);
		p->remote_len = ps.path.remote.addrlen;
		memcpy(&p->local, ps.path.local.addr, ps.path.local.addrlen);
		p->off = b->used;
		p->len = (size_t)n;
		b->used += (size_t)n;
		c->bytes_sent += (uint64_t)n;
		c->pkts_sent++;
		/* round robin between streams with data */
		if (s && s->in_sendq && TAILQ_FIRST(&c->sendq) == s && TAILQ_NEXT(s, sendq)) {
			TAILQ_REMOVE(&c->sendq, s, sendq);
			TAILQ_INSERT_TAIL(&c->sendq, s, sendq);
		}
		if (++pkts >= max_pkts)
			break;
	}
	quic_tx_flush(ep);
	if (quic_sock_blocked(c->sock) && !c->write_blocked) {
		c->write_blocked = 1;
		LIST_INSERT_HEAD(&ep->blocked, c, blocked_link);
	}
	/* 0.12 paces from initial_rtt (333 ms) until the first RTT sample, which holds the
	 * client's second flight back ~25 ms: pace only once an RTT was measured (notes P1) */
	ngtcp2_conn_stat st;
	ngtcp2_conn_get_conn_stat(c->conn, &st);
	if (st.first_rtt_sample_ts != UINT64_MAX)
		ngtcp2_conn_update_pkt_tx_time(c->conn, ts);
	conn_arm_timer(c);
}

/* ---- delivering events to the owner ---- */

/* Returns 1 when the connection is gone. */
static int conn_dispatch(struct quic_conn *c)
{
	struct quic_endpoint *ep = c->ep;
	const struct quic_callbacks *cb = &ep->cb;
	if (c->in_dispatch)
		return 0;
	c->in_dispatch = 1;
	if (!c->announced) {
		c->announced = 1;
		if (cb->conn_new)
			cb->conn_new(c, ep->arg);
	}
	if (c->ev_ready && !c->close_pending) {
		c->ev_ready = 0;
		c->state = QC_READY;
		c->ready_ns = quic_now();
		if (cb->conn_ready)
			cb->conn_ready(c, ep->arg);
	}
	struct quic_stream *s;
	while (!c->close_pending && (s = TAILQ_FIRST(&c->notifyq))) {
		TAILQ_REMOVE(&c->notifyq, s, notify);
		s->in_notify = 0;
		unsigned ev = s->events;
		s->events = 0;
		if (ev & QS_EV_OPENED) {
			s->owned = 1;
			if (cb->stream_opened)
				cb->stream_opened(s, ep->arg);
		}
		if (!s->owned)
			continue;
		if ((ev & QS_EV_READABLE) && !s->rx_reset && cb->stream_readable)
			cb->stream_readable(s, ep->arg);
		if ((ev & QS_EV_RESET_READ) && cb->stream_reset)
			cb->stream_reset(s, QUIC_DIR_READ, s->reset_read_code, ep->arg);
		if (ev & QS_EV_RESET_WRITE) {
			/* answer STOP_SENDING with RESET_STREAM (RFC 9000 3.5) */
			if (!s->quic_closed && c->state == QC_READY)
				ngtcp2_conn_shutdown_stream_write(c->conn, s->id, s->reset_write_code);
			if (cb->stream_reset)
				cb->stream_reset(s, QUIC_DIR_WRITE, s->reset_write_code, ep->arg);
		}
		if ((ev & QS_EV_WRITABLE) && !s->tx_shut && !s->quic_closed && cb->stream_writable)
			cb->stream_writable(s, ep->arg);
		if ((ev & QS_EV_CLOSED) || (s->events & QS_EV_CLOSED)) {
			if (s->in_notify) {
				TAILQ_REMOVE(&c->notifyq, s, notify);
				s->in_notify = 0;
			}
			if (cb->stream_closed)
				cb->stream_closed(s, s->close_code, ep->arg);
			if (!s->quic_closed && c->state <= QC_READY) {
				s->orphan = 1; /* reset by the owner: see quic_stream_reset */
				s->owned = 0;
				s->user = NULL;
			} else {
				quic_stream_free(s);
			}
		}
	}
	if (!c->close_pending && c->ev_path) {
		c->ev_path = 0;
		if (cb->path_changed)
			cb->path_changed(c, c->ev_path_ok, ep->arg);
	}
	if (!c->close_pending && c->ev_streams) {
		c->ev_streams = 0;
		if (cb->streams_available)
			cb->streams_available(c, ep->arg);
	}
	if (c->close_pending) {
		c->close_pending = 0;
		while ((s = LIST_FIRST(&c->streams))) {
			if (s->owned && cb->stream_closed)
				cb->stream_closed(s, QUIC_STREAM_CONN_CLOSED, ep->arg);
			quic_stream_free(s);
		}
		if (cb->conn_closed)
			cb->conn_closed(c, &c->close, ep->arg);
		c->user = NULL;
		if (c->state == QC_DEAD) {
			conn_destroy(c);
			return 1;
		}
	}
	c->in_dispatch = 0;
	return 0;
}

static void on_kick(evutil_socket_t fd, short what, void *arg)
{
	struct quic_conn *c = arg;
	if (conn_dispatch(c))
		return;
	conn_write(c);
}

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct quic_conn *c = arg;
	uint64_t now = quic_now();
	if (c->state == QC_CLOSING) {
		if (now >= c->closing_deadline && !c->close_pending) {
			c->state = QC_DEAD;
			conn_destroy(c);
		} else {
			conn_arm_timer(c);
		}
		return;
	}
	if (c->state == QC_DEAD)
		return;
	int rv = ngtcp2_conn_handle_expiry(c->conn, now);
	if (rv != 0)
		conn_fail(c, rv);
	if (conn_dispatch(c))
		return;
	conn_write(c);
	if (c->state <= QC_READY)
		conn_probe_done(c, now);
}

/* ---- endpoints ---- */

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	struct quic_endpoint *ep = arg;
	struct quic_sock *s, *next;
	for (s = LIST_FIRST(&ep->socks); s; s = next) {
		next = LIST_NEXT(s, link);
		if (s->dead)
			quic_sock_close(s);
	}
}

/* Zero means default. */
static void config_fill_defaults(struct quic_config *cfg)
{
	struct quic_config def;
	quic_config_default(&def);
#define DEF(f)                    \
	if (!cfg->f)              \
		cfg->f = def.f;
	DEF(keepalive_ms) DEF(idle_timeout_ms) DEF(handshake_timeout_ms) DEF(stream_window)
	DEF(max_stream_window) DEF(conn_window) DEF(max_conn_window) DEF(max_streams)
	DEF(stream_send_buffer)
#undef DEF
}

int quic_endpoint_new(struct event_base *base, const struct quic_config *cfg,
		      const struct quic_callbacks *cb, void *arg, struct quic_endpoint **out,
		      char *err, size_t errlen)
{
	struct quic_endpoint *ep = calloc(1, sizeof *ep);
	if (!ep) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	ep->base = base;
	ep->cfg = *cfg;
	config_fill_defaults(&ep->cfg);
	if (cfg->role != QUIC_SERVER && cfg->role != QUIC_CLIENT) {
		snprintf(err, errlen, "the endpoint's role must be QUIC_SERVER or QUIC_CLIENT");
		free(ep);
		return -EINVAL;
	}
	ep->cb = *cb;
	ep->arg = arg;
	LIST_INIT(&ep->socks);
	LIST_INIT(&ep->conns);
	LIST_INIT(&ep->dirty);
	LIST_INIT(&ep->blocked);
	const char *which;
	int rv = quic_tls_new(cfg, &ep->tls, &which, err, errlen);
	if (rv < 0) {
		free(ep);
		return rv;
	}
	ep->tx = malloc(sizeof *ep->tx);
	ep->rx_buf = malloc((size_t)QUIC_BATCH * QUIC_RX_SLOT);
	ep->reap = event_new(base, -1, 0, on_reap, ep);
	if (!ep->tx || !ep->rx_buf || !ep->reap) {
		snprintf(err, errlen, "out of memory");
		quic_endpoint_free(ep);
		return -ENOMEM;
	}
	ep->tx->npkts = ep->tx->used = 0;
	/* strings in the copy point to the caller's; the TLS part keeps its own copies */
	ep->cfg.ca_file = ep->cfg.cert_file = ep->cfg.key_file = ep->cfg.key_password = NULL;
	ep->cfg.server_name = NULL;
	ep->cfg.alpn = ep->tls->alpn;
	*out = ep;
	return 0;
}

int quic_config_check(const struct quic_config *cfg, const char **which, char *err,
		      size_t errlen)
{
	struct quic_tls *t;
	int rv = quic_tls_new(cfg, &t, which, err, errlen);
	if (rv == 0)
		quic_tls_unref(t);
	return rv;
}

int quic_endpoint_reconfigure(struct quic_endpoint *ep, const struct quic_config *cfg,
			      const char **which, char *err, size_t errlen)
{
	*which = "ca";
	if (cfg->role != ep->cfg.role) {
		snprintf(err, errlen, "an endpoint cannot change its role");
		return -EINVAL;
	}
	struct quic_tls *t;
	int rv = quic_tls_new(cfg, &t, which, err, errlen);
	if (rv < 0)
		return rv;
	quic_tls_unref(ep->tls);
	ep->tls = t;
	ep->cfg = *cfg;
	config_fill_defaults(&ep->cfg);
	ep->cfg.ca_file = ep->cfg.cert_file = ep->cfg.key_file = ep->cfg.key_password = NULL;
	ep->cfg.server_name = NULL;
	ep->cfg.alpn = t->alpn;
	return 0;
}

void quic_endpoint_free(struct quic_endpoint *ep)
{
	if (!ep)
		return;
	while (!LIST_EMPTY(&ep->conns))
		conn_destroy(LIST_FIRST(&ep->conns));
	while (!LIST_EMPTY(&ep->socks))
		quic_sock_close(LIST_FIRST(&ep->socks));
	quic_cid_table_fini(&ep->cids);
	quic_tls_unref(ep->tls);
	if (ep->reap)
		event_free(ep->reap);
	free(ep->tx);
	free(ep->rx_buf);
	free(ep);
}

int quic_endpoint_adopt_fd(struct quic_endpoint *ep, int fd)
{
	struct quic_sock *s;
	return quic_sock_open(ep, fd, &s);
}

int quic_endpoint_bind(struct quic_endpoint *ep, const struct sockaddr *addr, socklen_t len)
{
	int fd = socket(addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (addr->sa_family == AF_INET6) {
		int on = 1;
		(void)setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
	}
	if (bind(fd, addr, len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	int rv = quic_endpoint_adopt_fd(ep, fd);
	if (rv < 0)
		close(fd);
	return rv;
}

int quic_endpoint_local_addr(struct quic_endpoint *ep, struct sockaddr_storage *ss,
			     socklen_t *len)
{
	struct quic_sock *s = LIST_FIRST(&ep->socks);
	if (!s)
		return -ENOTCONN;
	memcpy(ss, &s->local, s->local_len);
	*len = s->local_len;
	return 0;
}

/* The address a wildcard-bound socket sends from towards remote: what the kernel's route
 * picks, with the socket's port. ngtcp2 needs the real one (notes P9). */
static int local_towards(const struct quic_sock *s, const struct sockaddr *remote,
			 struct sockaddr_storage *out)
{
	memcpy(out, &s->local, sizeof *out);
	if (!s->wildcard)
		return 0;
	int fd = socket(remote->sa_family, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_storage probe;
	socklen_t len = sizeof probe;
	if (connect(fd, remote, sa_len(remote)) < 0 ||
	    getsockname(fd, (struct sockaddr *)&probe, &len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	close(fd);
	if (remote->sa_family == AF_INET)
		((struct sockaddr_in *)out)->sin_addr = ((struct sockaddr_in *)&probe)->sin_addr;
	else
		((struct sockaddr_in6 *)out)->sin6_addr = ((struct sockaddr_in6 *)&probe)->sin6_addr;
	return 0;
}

int quic_endpoint_connect(struct quic_endpoint *ep, const struct sockaddr *remote,
			  socklen_t len, void *user, struct quic_conn **out)
{
	if (ep->cfg.role != QUIC_CLIENT)
		return -EINVAL;
	struct quic_sock *sock = LIST_FIRST(&ep->socks);
	if (!sock) {
		struct sockaddr_storage any;
		memset(&any, 0, sizeof any);
		any.ss_family = remote->sa_family;
		int rv = quic_endpoint_bind(ep, (struct sockaddr *)&any, sa_len(remote));
		if (rv < 0)
			return rv;
		sock = LIST_FIRST(&ep->socks);
	}
	struct sockaddr_storage local;
	int rv = local_towards(sock, remote, &local);
	if (rv < 0)
		return rv;
	struct quic_conn *c = conn_alloc(ep, sock, (struct sockaddr *)&local, remote);
	if (!c)
		return -ENOMEM;
	c->user = user;
	c->announced = 1;
	ngtcp2_settings s;
	ngtcp2_transport_params p;
	conn_settings(c, &s, &p);
	ngtcp2_cid dcid, scid;
	dcid.datalen = QUIC_SCID_LEN;
	rand_bytes(dcid.data, dcid.datalen);
	scid.datalen = QUIC_SCID_LEN;
	rand_bytes(scid.data, scid.datalen);
	rv = -EINVAL;
	if (ngtcp2_conn_client_new(&c->conn, &dcid, &scid, &c->ps.path, NGTCP2_PROTO_VER_V1,
				   &client_callbacks, &s, &p, NULL, c) != 0)
		goto fail;
	if (conn_finish_new(c) < 0)
		goto fail;
	rv = -ENOMEM;
	if (quic_cid_add(&ep->cids, scid.data, scid.datalen, c) < 0)
		goto fail;
	quic_conn_schedule(c);
	*out = c;
	return 0;
fail:
	conn_destroy(c);
	return rv;
}

/* ---- connection calls ---- */

void quic_conn_set_user(struct quic_conn *c, void *user)
{
	c->user = user;
}

void *quic_conn_user(const struct quic_conn *c)
{
	return c->user;
}

struct quic_endpoint *quic_conn_endpoint(const struct quic_conn *c)
{
	return c->ep;
}

const char *quic_conn_peer_identity(const struct quic_conn *c)
{
	return c->peer_identity;
}

const char *quic_conn_security(const struct quic_conn *c)
{
	return c->security;
}

int quic_conn_peer_addr(const struct quic_conn *c, struct sockaddr_storage *ss, socklen_t *len)
{
	const ngtcp2_path *p = ngtcp2_conn_get_path(c->conn);
	memcpy(ss, p->remote.addr, p->remote.addrlen);
	*len = p->remote.addrlen;
	return 0;
}

int quic_conn_local_addr(const struct quic_conn *c, struct sockaddr_storage *ss, socklen_t *len)
{
	const ngtcp2_path *p = ngtcp2_conn_get_path(c->conn);
	memcpy(ss, p->local.addr, p->local.addrlen);
	*len = p->local.addrlen;
	return 0;
}

void quic_conn_get_stats(const struct quic_conn *c, struct quic_conn_stats *st)
{
	ngtcp2_conn_stat cs;
	memset(st, 0, sizeof *st);
	ngtcp2_conn_get_conn_stat(c->conn, &cs);
	st->rtt_us = cs.smoothed_rtt / 1000;
	st->min_rtt_us = cs.min_rtt == UINT64_MAX ? 0 : cs.min_rtt / 1000;
	st->rttvar_us = cs.rttvar / 1000;
	st->cwnd = cs.cwnd;
	st->bytes_sent = c->bytes_sent;
	st->bytes_recv = c->bytes_recv;
	st->pkts_sent = c->pkts_sent;
	st->pkts_recv = c->pkts_recv;
	st->pkts_lost = c->lost_closed;
	const struct quic_stream *s;
	LIST_FOREACH(s, &c->streams, all)
		if (!s->quic_closed)
			st->pkts_lost += ngtcp2_conn_get_stream_loss_count(c->conn, s->id);
	st->handshake_us = c->ready_ns ? (c->ready_ns - c->created_ns) / 1000 : 0;
}

int quic_conn_close(struct quic_conn *c, uint64_t code, const char *reason)
{
	if (c->state >= QC_CLOSING)
		return 0;
	ngtcp2_connection_close_error ce;
	const char *r = reason ? reason : "";
	ngtcp2_connection_close_error_set_application_error(&ce, code, (const uint8_t *)r,
							    strlen(r));
	/* what is queued goes out before the close */
	conn_write(c);
	if (c->state >= QC_CLOSING)
		return 0;
	conn_send_close(c, &ce);
	conn_terminate(c, QUIC_CLOSE_APPLICATION, 0, code, QC_CLOSING, "%s", r);
	return 0;
}

int quic_conn_migrate(struct quic_conn *c, int fd)
{
	struct quic_endpoint *ep = c->ep;
	if (ep->cfg.role != QUIC_CLIENT)
		return -EINVAL;
	if (c->state != QC_READY)
		return -EAGAIN;
	const ngtcp2_path *cur = ngtcp2_conn_get_path(c->conn);
	if (fd < 0) {
		fd = socket(cur->local.addr->sa_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		struct sockaddr_storage a;
		memcpy(&a, cur->local.addr, cur->local.addrlen);
		if (a.ss_family == AF_INET)
			((struct sockaddr_in *)&a)->sin_port = 0;
		else
			((struct sockaddr_in6 *)&a)->sin6_port = 0;
		if (bind(fd, (struct sockaddr *)&a, cur->local.addrlen) < 0) {
			int e = errno;
			close(fd);
			return -e;
		}
	}
	struct quic_sock *ns;
	int rv = quic_sock_open(ep, fd, &ns);
	if (rv < 0) {
		close(fd);
		return rv;
	}
	struct sockaddr_storage local;
	rv = local_towards(ns, cur->remote.addr, &local);
	if (rv == 0) {
		ngtcp2_path_storage ps;
		ngtcp2_path_storage_init(&ps, (struct sockaddr *)&local, sa_len((struct sockaddr *)&local),
					 cur->remote.addr, cur->remote.addrlen, NULL);
		rv = ngtcp2_conn_initiate_immediate_migration(c->conn, &ps.path, quic_now());
		if (rv == NGTCP2_ERR_CONN_ID_BLOCKED)
			rv = -EAGAIN;
		else if (rv != 0)
			rv = -EINVAL;
	}
	if (rv < 0) {
		quic_sock_close(ns);
		return rv;
	}
	memcpy(&ns->local, &local, sizeof local); /* what ngtcp2 now calls our address */
	ns->wildcard = 0;
	c->sock = ns;
	quic_conn_schedule(c);
	return 0;
}

int quic_stream_open(struct quic_conn *c, void *user, struct quic_stream **out)
{
	if (c->state != QC_READY || c->close_pending)
		return -ENOTCONN;
	int64_t id;
	int rv = ngtcp2_conn_open_bidi_stream(c->conn, &id, NULL);
	if (rv == NGTCP2_ERR_STREAM_ID_BLOCKED) {
		c->want_streams = 1;
		return -EAGAIN;
	}
	if (rv != 0)
		return -ENOMEM;
	struct quic_stream *s = quic_stream_new(c, id, 1);
	if (!s) {
		ngtcp2_conn_shutdown_stream(c->conn, id, 0);
		return -ENOMEM;
	}
	s->owned = 1;
	s->user = user;
	ngtcp2_conn_set_stream_user_data(c->conn, id, s);
	*out = s;
	return 0;
}

int quic_endpoint_rebind_for_test(struct quic_endpoint *ep)
{
	struct quic_sock *s = LIST_FIRST(&ep->socks);
	if (!s)
		return -ENOTCONN;
	int fd = socket(s->local.ss_family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct sockaddr_storage a = s->local;
	if (a.ss_family == AF_INET)
		((struct sockaddr_in *)&a)->sin_port = 0;
	else
		((struct sockaddr_in6 *)&a)->sin6_port = 0;
	if (bind(fd, (struct sockaddr *)&a, s->local_len) < 0) {
		int e = errno;
		close(fd);
		return -e;
	}
	event_del(s->ev_read);
	event_del(s->ev_write);
	event_assign(s->ev_read, ep->base, fd, EV_READ | EV_PERSIST, quic_sock_on_read, s);
	event_assign(s->ev_write, ep->base, fd, EV_WRITE, quic_sock_on_write, s);
	close(s->fd);
	s->fd = fd;
	event_add(s->ev_read, NULL);
	if (s->pending_head)
		event_add(s->ev_write, NULL);
	return 0;
}
