/* The two kinds of upstream behind one interface (see upstream.h). */
#include "config.h"
#include "upstream.h"
#include "frame.h"
#include "log.h"
#include "loop.h"
#include "session.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>

/* A direct connection stops taking more once this much waits for the socket. */
#define SOCK_OUT_HIGH (256 * 1024)
#define SOCK_OUT_LOW (64 * 1024)

struct upstream {
	const struct upstream_cbs *cbs;
	void *arg;
	struct stream *st;       /* kind 1 */
	struct bufferevent *bev; /* kind 2 */
	uint64_t conn_id;
	unsigned fin_in : 1, fin_out : 1, connected : 1, failed : 1;
};

/* ---- a stream to an agent ---- */

static void st_data(struct stream *st, void *arg)
{
	struct upstream *u = arg;
	u->cbs->on_data(u->arg);
}

static void st_fin(struct stream *st, void *arg)
{
	struct upstream *u = arg;
	u->fin_in = 1;
	u->cbs->on_fin(u->arg);
}

static void st_reset(struct stream *st, void *arg, uint32_t code, const char *reason)
{
	struct upstream *u = arg;
	char why[320];
	snprintf(why, sizeof why, "%s (%s)", reason && *reason ? reason : "stream reset",
		 frame_rst_name(code));
	u->failed = 1;
	u->cbs->on_reset(u->arg, why);
}

static void st_writable(struct stream *st, void *arg)
{
	struct upstream *u = arg;
	u->cbs->on_writable(u->arg);
}

static const struct stream_cbs upstream_stream_cbs = {
	.on_data = st_data,
	.on_fin = st_fin,
	.on_reset = st_reset,
	.on_writable = st_writable,
};

struct upstream *upstream_from_stream(struct stream *st, const struct upstream_cbs *cbs, void *arg)
{
	struct upstream *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	u->cbs = cbs;
	u->arg = arg;
	u->st = st;
	u->connected = 1;
	u->fin_in = stream_peer_finished(st) ? 1 : 0;
	stream_set_cbs(st, &upstream_stream_cbs, u);
	return u;
}

/* ---- a TCP connection to a direct address ---- */

static void sock_read(struct bufferevent *bev, void *arg)
{
	struct upstream *u = arg;
	u->cbs->on_data(u->arg);
}

static void sock_write(struct bufferevent *bev, void *arg)
{
	struct upstream *u = arg;
	if (u->fin_out && evbuffer_get_length(bufferevent_get_output(bev)) == 0)
		shutdown(bufferevent_getfd(bev), SHUT_WR);
	u->cbs->on_writable(u->arg);
}

static void sock_event(struct bufferevent *bev, short what, void *arg)
{
	struct upstream *u = arg;
	if (what & BEV_EVENT_CONNECTED) {
		u->connected = 1;
		int one = 1;
		setsockopt(bufferevent_getfd(bev), IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		return;
	}
	if (what & BEV_EVENT_EOF) {
		u->fin_in = 1;
		bufferevent_disable(bev, EV_READ);
		u->cbs->on_fin(u->arg);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		int err = EVUTIL_SOCKET_ERROR();
		char why[160];
		snprintf(why, sizeof why, "%s: %s", u->connected ? "connection lost" : "cannot connect",
			 evutil_socket_error_to_string(err));
		u->failed = 1;
		bufferevent_disable(bev, EV_READ | EV_WRITE);
		u->cbs->on_reset(u->arg, why);
	}
}

struct upstream *upstream_connect(const struct sockaddr *sa, socklen_t salen, uint64_t conn_id,
				  const struct upstream_cbs *cbs, void *arg)
{
	struct upstream *u = calloc(1, sizeof *u);
	if (!u)
		return NULL;
	u->cbs = cbs;
	u->arg = arg;
	u->conn_id = conn_id;
	u->bev = bufferevent_socket_new(loop_base(), -1, BEV_OPT_CLOSE_ON_FREE);
	if (!u->bev) {
		free(u);
		return NULL;
	}
	bufferevent_setcb(u->bev, sock_read, sock_write, sock_event, u);
	bufferevent_setwatermark(u->bev, EV_WRITE, SOCK_OUT_LOW, 0);
	bufferevent_set_max_single_read(u->bev, SOCK_OUT_HIGH);
	bufferevent_set_max_single_write(u->bev, SOCK_OUT_HIGH);
	bufferevent_enable(u->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(u->bev, (struct sockaddr *)sa, (int)salen) < 0) {
		/* Reported through the error event like any other failure, after we return. */
		u->failed = 1;
	}
	return u;
}

/* ---- common ---- */

struct evbuffer *upstream_input(struct upstream *u)
{
	return u->st ? stream_input(u->st) : bufferevent_get_input(u->bev);
}

void upstream_consumed(struct upstream *u, size_t n)
{
	if (u->st)
		stream_consumed(u->st, n);
}

int upstream_write_buffer(struct upstream *u, struct evbuffer *buf, size_t n)
{
	if (u->st)
		return stream_write_buffer(u->st, buf, n);
	return evbuffer_remove_buffer(buf, bufferevent_get_output(u->bev), n) < 0 ? -1 : 0;
}

size_t upstream_send_space(struct upstream *u)
{
	if (u->st)
		return stream_send_space(u->st);
	size_t queued = evbuffer_get_length(bufferevent_get_output(u->bev));
	return queued < SOCK_OUT_HIGH ? SOCK_OUT_HIGH - queued : 0;
}

void upstream_shutdown(struct upstream *u)
{
	if (u->fin_out)
		return;
	u->fin_out = 1;
	if (u->st) {
		stream_shutdown(u->st);
	} else if (u->connected && evbuffer_get_length(bufferevent_get_output(u->bev)) == 0) {
		shutdown(bufferevent_getfd(u->bev), SHUT_WR);
	}
}

int upstream_connected(const struct upstream *u)
{
	return u->connected;
}

void upstream_free(struct upstream *u, int abort)
{
	if (!u)
		return;
	int clean = u->fin_in && u->fin_out && !u->failed;
	if (u->st) {
		stream_set_cbs(u->st, NULL, NULL);
		if (abort && !clean)
			stream_reset(u->st, RST_CANCEL, "the client went away");
		/* release resets an open stream; after FIN both ways it only frees. */
		stream_release(u->st);
	} else {
		evutil_socket_t fd = bufferevent_getfd(u->bev);
		if (abort && !clean && fd >= 0) {
			struct linger lg = {.l_onoff = 1, .l_linger = 0};
			setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		}
		bufferevent_free(u->bev);
	}
	free(u);
}
