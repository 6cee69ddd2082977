/* See sock_read.h. */
#include "config.h"
#include "sock_read.h"
#include "loop.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <stdlib.h>
#include <sys/uio.h>
#include <unistd.h>

/* The first read of a wakeup: most HTTP heads and small bodies fit. */
#define FIRST_READ (16 * 1024)
/* Then straight into the input, this much per readv (larger evbuffer chains are served by
 * mmap() and cost page faults every time), and at most this much per wakeup so one busy
 * socket does not starve the others. */
#define BULK_READ (64 * 1024)
#define WAKEUP_MAX (512 * 1024)

struct sock_reader {
	struct bufferevent *bev;
	struct event *ev;
	void (*cb)(void *arg, int status);
	void *arg;
	int on, done;
};

/* Read into in until the socket is empty or max bytes came. Returns the bytes read (>= 0), or
 * -errno; *eof is set when the peer finished. */
static ssize_t read_bulk(int fd, struct evbuffer *in, size_t max, int *eof)
{
	size_t total = 0;
	while (total < max) {
		struct evbuffer_iovec v[2];
		int n = evbuffer_reserve_space(in, BULK_READ, v, 2);
		if (n <= 0)
			break;
		struct iovec iov[2];
		size_t want = 0;
		for (int i = 0; i < n; i++) {
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len;
			want += v[i].iov_len;
		}
		ssize_t r = readv(fd, iov, n);
		if (r <= 0) {
			int err = errno;
			evbuffer_commit_space(in, v, 0);
			if (r == 0)
				*eof = 1;
			else if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR)
				return total ? (ssize_t)total : -err;
			break;
		}
		size_t left = (size_t)r;
		int used = 0;
		for (; used < n && left; used++) {
			if (v[used].iov_len > left)
				v[used].iov_len = left;
			left -= v[used].iov_len;
		}
		evbuffer_commit_space(in, v, used);
		total += (size_t)r;
		if ((size_t)r < want)
			break; /* the socket is empty */
	}
	return (ssize_t)total;
}

static void on_readable(evutil_socket_t fd, short what, void *arg)
{
	struct sock_reader *r = arg;
	struct evbuffer *in = bufferevent_get_input(r->bev);
	uint8_t first[FIRST_READ];
	ssize_t n = read(fd, first, sizeof first);
	int eof = n == 0, status = 0;
	if (n < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
			return;
		status = -errno;
	}
	/* A bufferevent's input is frozen at the end except while libevent itself reads. */
	evbuffer_unfreeze(in, 0);
	if (n > 0)
		evbuffer_add(in, first, (size_t)n);
	if (n == (ssize_t)sizeof first) {
		ssize_t more = read_bulk(fd, in, WAKEUP_MAX, &eof);
		if (more < 0)
			status = (int)more;
	}
	evbuffer_freeze(in, 0);
	if (eof && status == 0)
		status = 1;
	if (status != 0) {
		r->done = 1;
		event_del(r->ev);
	}
	/* One call, last: the owner may free the reader inside it. With EOF or an error, bytes
	 * may have come in the same wakeup; the owner takes them first. */
	r->cb(r->arg, status);
}

struct sock_reader *sock_reader_new(struct bufferevent *bev, void (*cb)(void *arg, int status),
				    void *arg)
{
	struct sock_reader *r = calloc(1, sizeof *r);
	if (!r)
		return NULL;
	r->bev = bev;
	r->cb = cb;
	r->arg = arg;
	r->ev = event_new(loop_base(), bufferevent_getfd(bev), EV_READ | EV_PERSIST, on_readable, r);
	if (!r->ev) {
		free(r);
		return NULL;
	}
	bufferevent_disable(bev, EV_READ);
	sock_reader_enable(r, 1);
	return r;
}

void sock_reader_enable(struct sock_reader *r, int on)
{
	on = on && !r->done;
	if (on == r->on)
		return;
	r->on = on;
	if (on)
		event_add(r->ev, NULL);
	else
		event_del(r->ev);
}

void sock_reader_free(struct sock_reader *r)
{
	if (!r)
		return;
	event_free(r->ev);
	free(r);
}
