/* See sock_flush.h. */
#include "config.h"
#include "sock_flush.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>

int sock_flush(struct bufferevent *bev)
{
	struct evbuffer *out = bufferevent_get_output(bev);
	if (evbuffer_get_length(out)) {
		/* A socket bufferevent keeps the start of its output frozen except while it
		 * writes itself (libevent's bufferevent_sock.c): unfreeze around our write. */
		evbuffer_unfreeze(out, 1);
		int n = evbuffer_write(out, bufferevent_getfd(bev));
		int saved = errno;
		evbuffer_freeze(out, 1);
		if (n < 0 && saved != EAGAIN && saved != EWOULDBLOCK && saved != EINTR) {
			errno = saved;
			return -1;
		}
	}
	if (evbuffer_get_length(out)) {
		bufferevent_enable(bev, EV_WRITE);
		return 0;
	}
	bufferevent_disable(bev, EV_WRITE);
	return 1;
}
