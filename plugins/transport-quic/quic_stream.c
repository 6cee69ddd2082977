/* quic_stream.c: a stream's buffers and the owner's stream calls.
 *
 * Send side: bytes are copied into 64 KiB chunks that never move, because ngtcp2 keeps
 * pointers to sent bytes until they are acked (notes P8); a chunk is freed once all of it is
 * acked. The buffer is bounded (stream_send_buffer): a write takes what fits.
 * Receive side: ngtcp2 hands bytes in order; they wait in an evbuffer until the owner reads
 * them, and only then does the peer get stream credit for as many, so a slow reader stalls
 * its own stream and no other (connection credit is given back on arrival, see
 * cb_recv_stream_data). */
#include "config.h"
#include "quic_internal.h"

#include <assert.h>
#include <errno.h>
#include <event2/buffer.h>
#include <stdlib.h>
#include <string.h>

struct quic_stream *quic_stream_new(struct quic_conn *c, int64_t id, int local)
{
	struct quic_stream *s = calloc(1, sizeof *s);
	if (!s)
		return NULL;
	s->rx = evbuffer_new();
	if (!s->rx) {
		free(s);
		return NULL;
	}
	s->conn = c;
	s->id = id;
	s->local = local ? 1 : 0;
	LIST_INSERT_HEAD(&c->streams, s, all);
	return s;
}

void quic_stream_free(struct quic_stream *s)
{
	struct quic_conn *c = s->conn;
	quic_stream_sendq_remove(s);
	if (s->in_notify)
		TAILQ_REMOVE(&c->notifyq, s, notify);
	LIST_REMOVE(s, all);
	if (c->conn && !s->quic_closed) {
		c->lost_closed += ngtcp2_conn_get_stream_loss_count(c->conn, s->id);
		ngtcp2_conn_set_stream_user_data(c->conn, s->id, NULL);
	}
	struct quic_chunk *k, *next;
	for (k = s->tx_head; k; k = next) {
		next = k->next;
		free(k);
	}
	evbuffer_free(s->rx);
	free(s);
}

void quic_stream_post(struct quic_stream *s, unsigned ev)
{
	s->events |= ev;
	if (!s->in_notify) {
		TAILQ_INSERT_TAIL(&s->conn->notifyq, s, notify);
		s->in_notify = 1;
	}
	quic_conn_schedule(s->conn);
}

int quic_stream_has_tx(const struct quic_stream *s)
{
	if (s->tx_shut || s->quic_closed || s->fin_sent)
		return 0;
	return s->tx_sent < s->tx_end || s->fin_wanted;
}

void quic_stream_sendq_add(struct quic_stream *s)
{
	if (s->in_sendq || s->tx_blocked || !quic_stream_has_tx(s))
		return;
	TAILQ_INSERT_TAIL(&s->conn->sendq, s, sendq);
	s->in_sendq = 1;
}

void quic_stream_sendq_remove(struct quic_stream *s)
{
	if (!s->in_sendq)
		return;
	TAILQ_REMOVE(&s->conn->sendq, s, sendq);
	s->in_sendq = 0;
}

size_t quic_stream_tx_vecs(const struct quic_stream *s, ngtcp2_vec *v, size_t n)
{
	size_t i = 0;
	uint64_t off = s->tx_base;
	for (struct quic_chunk *k = s->tx_head; k && i < n; k = k->next) {
		uint64_t end = off + k->len;
		if (end > s->tx_sent) {
			size_t skip = s->tx_sent > off ? (size_t)(s->tx_sent - off) : 0;
			v[i].base = k->data + skip;
			v[i].len = k->len - skip;
			i++;
		}
		off = end;
	}
	return i;
}

void quic_stream_acked(struct quic_stream *s, uint64_t offset, uint64_t len)
{
	if (offset + len > s->tx_acked)
		s->tx_acked = offset + len;
	/* free whole chunks below the acked edge; the tail stays for later writes */
	while (s->tx_head && s->tx_head != s->tx_tail &&
	       s->tx_base + s->tx_head->len <= s->tx_acked) {
		struct quic_chunk *k = s->tx_head;
		s->tx_base += k->len;
		s->tx_head = k->next;
		free(k);
	}
	if (s->tx_head && s->tx_head == s->tx_tail && s->tx_base + s->tx_head->len <= s->tx_acked &&
	    s->tx_head->len == QUIC_CHUNK) {
		s->tx_base += QUIC_CHUNK;
		free(s->tx_head);
		s->tx_head = s->tx_tail = NULL;
	}
	if (s->want_writable && quic_stream_write_space(s) > 0) {
		s->want_writable = 0;
		quic_stream_post(s, QS_EV_WRITABLE);
	}
}

/* ---- the owner's calls ---- */

int64_t quic_stream_id(const struct quic_stream *s)
{
	return s->id;
}

struct quic_conn *quic_stream_conn(const struct quic_stream *s)
{
	return s->conn;
}

void quic_stream_set_user(struct quic_stream *s, void *user)
{
	s->user = user;
}

void *quic_stream_user(const struct quic_stream *s)
{
	return s->user;
}

size_t quic_stream_write_space(const struct quic_stream *s)
{
	uint64_t limit = s->conn->ep->cfg.stream_send_buffer;
	uint64_t held = s->tx_end - s->tx_acked;
	return held >= limit ? 0 : (size_t)(limit - held);
}

ssize_t quic_stream_write(struct quic_stream *s, const void *buf, size_t len)
{
	if (s->tx_shut || s->fin_wanted || s->quic_closed || s->conn->state != QC_READY)
		return -EPIPE;
	size_t room = quic_stream_write_space(s);
	size_t take = len < room ? len : room;
	const uint8_t *p = buf;
	size_t left = take;
	while (left) {
		struct quic_chunk *k = s->tx_tail;
		if (!k || k->len == QUIC_CHUNK) {
			k = malloc(sizeof *k);
			if (!k)
				break;
			k->next = NULL;
			k->len = 0;
			if (s->tx_tail)
				s->tx_tail->next = k;
			else {
				s->tx_head = k;
				s->tx_base = s->tx_end;
			}
			s->tx_tail = k;
		}
		size_t n = QUIC_CHUNK - k->len;
		if (n > left)
			n = left;
		memcpy(k->data + k->len, p, n);
		k->len += n;
		p += n;
		left -= n;
	}
	take -= left;
	s->tx_end += take;
	if (take < len)
		s->want_writable = 1;
	if (take) {
		quic_stream_sendq_add(s);
		quic_conn_schedule(s->conn);
	}
	return (ssize_t)take;
}

int quic_stream_shutdown(struct quic_stream *s)
{
	if (s->tx_shut || s->quic_closed)
		return -EPIPE;
	if (s->fin_wanted)
		return 0;
	s->fin_wanted = 1;
	quic_stream_sendq_add(s);
	quic_conn_schedule(s->conn);
	return 0;
}

ssize_t quic_stream_read(struct quic_stream *s, void *buf, size_t len)
{
	int n = evbuffer_remove(s->rx, buf, len);
	if (n > 0) {
		struct quic_conn *c = s->conn;
		if (c->conn && c->state <= QC_READY) {
			/* the stream's credit only (the connection's went back on arrival) */
			if (!s->quic_closed) {
				ngtcp2_conn_extend_max_stream_offset(c->conn, s->id, (uint64_t)n);
				quic_conn_schedule(c); /* the window update goes out */
			}
		}
	}
	if (evbuffer_get_length(s->rx) == 0) {
		if (s->rx_fin)
			s->rx_eof_read = 1;
		/* a close that waited for the owner to read to the end */
		if (s->quic_closed && !(s->events & QS_EV_CLOSED))
			quic_stream_post(s, QS_EV_CLOSED);
	}
	return n > 0 ? n : 0;
}

size_t quic_stream_readable_bytes(const struct quic_stream *s)
{
	return evbuffer_get_length(s->rx);
}

int quic_stream_eof(const struct quic_stream *s)
{
	return s->rx_fin && evbuffer_get_length(s->rx) == 0;
}

int quic_stream_reset(struct quic_stream *s, uint64_t code)
{
	struct quic_conn *c = s->conn;
	if (s->quic_closed || c->state != QC_READY)
		return 0;
	int rv = ngtcp2_conn_shutdown_stream(c->conn, s->id, code);
	if (rv < 0 && rv != NGTCP2_ERR_STREAM_NOT_FOUND)
		return -EIO;
	s->tx_shut = 1;
	quic_stream_sendq_remove(s);
	/* what we had not read is dropped (its connection credit went back on arrival) */
	evbuffer_drain(s->rx, evbuffer_get_length(s->rx));
	s->rx_reset = 1;
	/* The owner is done with the stream: it hears stream_closed now, while the object
	 * stays (orphaned) until ngtcp2 lets go of it, because ngtcp2 may still hold pointers
	 * into its send buffer. Waiting for ngtcp2's own close instead could take forever: a
	 * peer that never saw the stream (reset before any byte left) never answers
	 * STOP_SENDING in 0.12. */
	s->close_code = code;
	quic_stream_post(s, QS_EV_CLOSED);
	return 0;
}
