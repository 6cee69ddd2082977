/* Stream <-> socket splice (see splice.h). Both sides keep their bytes in evbuffers that are
 * moved, not copied; the only limits are the stream window and SOCK_OUT_HIGH. */
#include "config.h"
#include "splice.h"
#include "log.h"
#include "session.h"
#include "sock_flush.h"
#include "sock_read.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>

/* Stop taking from the stream while this much waits for the socket. */
#define SOCK_OUT_HIGH (256 * 1024)
#define SOCK_OUT_LOW (64 * 1024)

struct splice {
	struct stream *st;
	struct bufferevent *bev;
	struct sock_reader *reader;
	uint64_t conn_id;
	unsigned sock_eof : 1,     /* the socket peer finished sending */
		stream_fin_sent : 1, /* ... and we passed that on as FIN */
		stream_fin : 1,    /* the stream peer finished sending */
		sock_shut : 1,     /* ... and we passed that on as shutdown(SHUT_WR) */
		reading_paused : 1, dead : 1;
	/* Calls into the stream API can call back into us (stream_write -> on_writable ->
	 * finished). Every entry point holds `busy`; the outermost one frees a finished
	 * splice as it leaves. */
	int busy;
};

/* Mark the splice finished. Every caller is inside enter()/leave(), and the outermost
 * leave() frees it, so nothing below a callback ever touches freed memory. */
static void splice_finish(struct splice *sp)
{
	sp->dead = 1;
}

static void enter(struct splice *sp)
{
	sp->busy++;
}

static void stream_to_sock(struct splice *sp);
static void maybe_done(struct splice *sp);

/* Write what is queued for the socket before going back to the loop (sock_flush.h); while
 * bytes are left over, on_sock_write takes over. */
static void flush_sock(struct splice *sp)
{
	struct evbuffer *out = bufferevent_get_output(sp->bev);
	for (int round = 0; round < 4 && !sp->dead && evbuffer_get_length(out); round++) {
		int rc = sock_flush(sp->bev);
		if (rc < 0) {
			log_msg(PROXYD_LOG_DEBUG, "splice", sp->conn_id, "socket error: %s", strerror(errno));
			stream_reset(sp->st, RST_CANCEL, "connection reset");
			splice_finish(sp);
			return;
		}
		if (rc == 0)
			return;
		/* Room again: more of the stream, or the FIN, may go now. */
		stream_to_sock(sp);
		maybe_done(sp);
	}
	/* Rounds used up with bytes still queued: let the write event carry on, or they would
	 * wait for an event that may never come (the stream may have nothing more to say). */
	if (!sp->dead && evbuffer_get_length(out))
		bufferevent_enable(sp->bev, EV_WRITE);
}

static void leave(struct splice *sp)
{
	if (sp->busy == 1 && !sp->dead) {
		flush_sock(sp);
	}
	if (--sp->busy > 0 || !sp->dead)
		return;
	if (sp->st)
		stream_release(sp->st);
	sock_reader_free(sp->reader);
	if (sp->bev)
		bufferevent_free(sp->bev);
	free(sp);
}

/* Abort the socket with RST: the other end must not take a cut transfer for a whole one. */
static void abort_socket(struct splice *sp)
{
	evutil_socket_t fd = bufferevent_getfd(sp->bev);
	if (fd >= 0) {
		struct linger lg = {.l_onoff = 1, .l_linger = 0};
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	}
}

static void maybe_done(struct splice *sp)
{
	if (sp->stream_fin_sent && sp->sock_shut)
		splice_finish(sp);
}

/* socket -> stream */
static void sock_to_stream(struct splice *sp)
{
	struct evbuffer *in = bufferevent_get_input(sp->bev);
	size_t len = evbuffer_get_length(in);
	if (len) {
		size_t space = stream_send_space(sp->st);
		size_t n = len < space ? len : space;
		if (n)
			stream_write_buffer(sp->st, in, n);
		if (sp->dead)
			return;
		/* Not n < len: on_writable may have run inside stream_write_buffer (a native
		 * transport takes the bytes at once) and moved the rest already; pausing on the
		 * stale count would wait for an on_writable that was just delivered. */
		if (evbuffer_get_length(in)) {
			/* The window is full: stop reading until on_writable. */
			if (!sp->reading_paused) {
				sock_reader_enable(sp->reader, 0);
				sp->reading_paused = 1;
			}
			return;
		}
	}
	if (sp->sock_eof && !sp->stream_fin_sent) {
		sp->stream_fin_sent = 1;
		stream_shutdown(sp->st);
	}
}

/* stream -> socket */
static void stream_to_sock(struct splice *sp)
{
	struct evbuffer *out = bufferevent_get_output(sp->bev);
	struct evbuffer *in = stream_input(sp->st);
	size_t have = evbuffer_get_length(in);
	size_t queued = evbuffer_get_length(out);
	if (have && queued < SOCK_OUT_HIGH) {
		size_t n = SOCK_OUT_HIGH - queued;
		if (n > have)
			n = have;
		evbuffer_remove_buffer(in, out, n);
		stream_consumed(sp->st, n);
		have -= n;
	}
	if (sp->stream_fin && !have && !sp->sock_shut && evbuffer_get_length(out) == 0) {
		shutdown(bufferevent_getfd(sp->bev), SHUT_WR);
		sp->sock_shut = 1;
	}
}

static void on_stream_data(struct stream *st, void *arg)
{
	struct splice *sp = arg;
	enter(sp);
	stream_to_sock(sp);
	leave(sp);
}

static void on_stream_fin(struct stream *st, void *arg)
{
	struct splice *sp = arg;
	enter(sp);
	sp->stream_fin = 1;
	stream_to_sock(sp);
	maybe_done(sp);
	leave(sp);
}

static void on_stream_reset(struct stream *st, void *arg, uint32_t code, const char *reason)
{
	struct splice *sp = arg;
	/* The agent's reason (a refused local service, no such service) is what an operator
	 * needs to see on the server; ordinary cancellations are noise. */
	int level = code == RST_REFUSED || code == RST_NO_SERVICE ? PROXYD_LOG_INFO : PROXYD_LOG_DEBUG;
	log_msg(level, "splice", sp->conn_id, "stream %u reset by peer (%s): %s", stream_id(st),
		frame_rst_name(code), reason);
	enter(sp);
	abort_socket(sp);
	splice_finish(sp);
	leave(sp);
}

static void on_stream_writable(struct stream *st, void *arg)
{
	struct splice *sp = arg;
	enter(sp);
	if (sp->reading_paused) {
		sp->reading_paused = 0;
		sock_reader_enable(sp->reader, 1);
	}
	sock_to_stream(sp);
	if (!sp->dead)
		maybe_done(sp);
	leave(sp);
}

static const struct stream_cbs splice_stream_cbs = {
	.on_data = on_stream_data,
	.on_fin = on_stream_fin,
	.on_reset = on_stream_reset,
	.on_writable = on_stream_writable,
};

static void on_sock_read(void *arg, int status)
{
	struct splice *sp = arg;
	enter(sp);
	if (status == 1)
		sp->sock_eof = 1;
	sock_to_stream(sp);
	if (!sp->dead && status == 1)
		maybe_done(sp);
	if (status < 0 && !sp->dead) {
		log_msg(PROXYD_LOG_DEBUG, "splice", sp->conn_id, "socket error: %s", strerror(-status));
		stream_reset(sp->st, RST_CANCEL, "connection reset");
		splice_finish(sp);
	}
	leave(sp);
}

static void on_sock_write(struct bufferevent *bev, void *arg)
{
	struct splice *sp = arg;
	enter(sp);
	stream_to_sock(sp);
	maybe_done(sp);
	leave(sp);
}

static void on_sock_event(struct bufferevent *bev, short what, void *arg)
{
	struct splice *sp = arg;
	enter(sp);
	/* Reads are the reader's (EOF and read errors come through on_sock_read); what is left
	 * here are write errors. */
	if (what & BEV_EVENT_ERROR) {
		log_msg(PROXYD_LOG_DEBUG, "splice", sp->conn_id, "socket error: %s",
			evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		stream_reset(sp->st, RST_CANCEL, "connection reset");
		splice_finish(sp);
	}
	leave(sp);
}

int splice_start(struct stream *st, struct bufferevent *bev, uint64_t conn_id)
{
	struct splice *sp = calloc(1, sizeof *sp);
	if (!sp)
		return -1;
	sp->st = st;
	sp->bev = bev;
	sp->conn_id = conn_id;
	stream_set_cbs(st, &splice_stream_cbs, sp);
	bufferevent_setcb(bev, NULL, on_sock_write, on_sock_event, sp);
	sp->reader = sock_reader_new(bev, on_sock_read, sp);
	if (!sp->reader) {
		free(sp);
		return -1;
	}
	bufferevent_setwatermark(bev, EV_WRITE, SOCK_OUT_LOW, 0);
	/* See session.c: libevent's 16 KiB per-call default makes bulk data syscall-bound. */
	bufferevent_set_max_single_write(bev, SOCK_OUT_HIGH);
	/* Bytes, and even the FIN, may have arrived before the splice existed; so may the
	 * socket's (a passthrough ClientHello is still unread in the kernel, but a caller may
	 * have buffered some). */
	enter(sp);
	sp->stream_fin = stream_peer_finished(st) ? 1 : 0;
	stream_to_sock(sp);
	if (!sp->dead && evbuffer_get_length(bufferevent_get_input(bev)))
		sock_to_stream(sp);
	leave(sp);
	return 0;
}
