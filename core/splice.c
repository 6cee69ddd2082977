/* Stream <-> socket splice (see splice.h). Both sides keep their bytes in evbuffers that are
 * moved, not copied; the only limits are the stream window and SOCK_OUT_HIGH. */
#include "config.h"
#include "splice.h"
#include "log.h"
#include "session.h"
#include "sock_flush.h"

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
/* Per readv() beyond libevent's own. Larger reservations make evbuffer chains that malloc
 * serves with mmap(): fresh pages and page faults on every chain. */
#define SOCK_READ (64 * 1024)
/* What libevent 2.1's evbuffer_read() takes per call at most. */
#define LIBEVENT_READ_MAX 4096

struct splice {
	struct stream *st;
	struct bufferevent *bev;
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
		if (n < len) {
			/* The window is full: stop reading until on_writable. */
			if (!sp->reading_paused) {
				bufferevent_disable(sp->bev, EV_READ);
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
		bufferevent_enable(sp->bev, EV_READ);
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

/* Up to room bytes from fd into in, in reads of up to SOCK_READ, until the socket is
 * empty. Returns 0, or -errno for a socket error (EOF is left to libevent's next read:
 * it is sticky). */
static int read_into(evutil_socket_t fd, struct evbuffer *in, size_t room)
{
	while (room > 0) {
		size_t ask = room < SOCK_READ ? room : SOCK_READ;
		struct evbuffer_iovec v[2];
		int n = evbuffer_reserve_space(in, (ev_ssize_t)ask, v, 2);
		if (n <= 0)
			return 0;
		struct iovec iov[2];
		size_t want = 0;
		for (int i = 0; i < n; i++) {
			size_t len = v[i].iov_len < ask - want ? v[i].iov_len : ask - want;
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = len;
			want += len;
		}
		ssize_t r = readv(fd, iov, n);
		if (r <= 0) {
			int err = r < 0 ? errno : 0;
			evbuffer_commit_space(in, v, 0);
			if (r == 0 || err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
				return 0;
			return -err;
		}
		size_t left = (size_t)r;
		int used = 0;
		for (; used < n && left; used++) {
			v[used].iov_len = iov[used].iov_len < left ? iov[used].iov_len : left;
			left -= v[used].iov_len;
		}
		evbuffer_commit_space(in, v, used);
		room -= (size_t)r;
		if ((size_t)r < want)
			return 0; /* the socket is empty */
	}
	return 0;
}

/* libevent 2.1's evbuffer_read() reads at most 4 KiB per call, whatever max_single_read
 * says, so a bulk stream cost a loop turn and three or four syscalls per 4 KiB. After
 * libevent's read, take what else the socket holds, as much as the stream will accept. */
static int sock_read_more(struct splice *sp, size_t room)
{
	struct evbuffer *in = bufferevent_get_input(sp->bev);
	/* A bufferevent's input is frozen at the end except while libevent itself reads. */
	evbuffer_unfreeze(in, 0);
	int rc = read_into(bufferevent_getfd(sp->bev), in, room);
	evbuffer_freeze(in, 0);
	return rc;
}

static void on_sock_read(struct bufferevent *bev, void *arg)
{
	struct splice *sp = arg;
	enter(sp);
	size_t have = evbuffer_get_length(bufferevent_get_input(bev));
	size_t space = stream_send_space(sp->st);
	/* Less than libevent's 4 KiB per read buffered: the socket is empty, and reading again
	 * would cost a syscall per message that only says EAGAIN. */
	int rc = have >= LIBEVENT_READ_MAX && space > have ? sock_read_more(sp, space - have) : 0;
	sock_to_stream(sp);
	if (rc < 0 && !sp->dead) {
		log_msg(PROXYD_LOG_DEBUG, "splice", sp->conn_id, "socket error: %s",
			evutil_socket_error_to_string(-rc));
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
	if (what & BEV_EVENT_EOF) {
		sp->sock_eof = 1;
		bufferevent_disable(bev, EV_READ);
		sock_to_stream(sp);
		if (!sp->dead)
			maybe_done(sp);
	} else if (what & BEV_EVENT_ERROR) {
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
	bufferevent_setcb(bev, on_sock_read, on_sock_write, on_sock_event, sp);
	bufferevent_setwatermark(bev, EV_WRITE, SOCK_OUT_LOW, 0);
	/* See session.c: libevent's 16 KiB per-call default makes bulk data syscall-bound. */
	bufferevent_set_max_single_read(bev, SOCK_OUT_HIGH);
	bufferevent_set_max_single_write(bev, SOCK_OUT_HIGH);
	bufferevent_enable(bev, EV_READ);
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
