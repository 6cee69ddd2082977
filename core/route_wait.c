/* Requests waiting for a router (see route_wait.h). */
#include "config.h"
#include "route_wait.h"
#include "log.h"
#include "loop.h"

#include <event2/event.h>
#include <stdlib.h>

struct proxyd_route_wait {
	struct event *ev; /* the owner's callback, run a loop turn after the resume */
	void (*on_resume)(void *arg);
	void *arg;
	unsigned pending : 1, orphan : 1;
};

static void resumed(evutil_socket_t fd, short what, void *arg)
{
	proxyd_route_wait *w = arg;
	w->on_resume(w->arg);
}

proxyd_route_wait *route_wait_new(void (*on_resume)(void *arg), void *arg)
{
	proxyd_route_wait *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->on_resume = on_resume;
	w->arg = arg;
	w->ev = event_new(loop_base(), -1, 0, resumed, w);
	if (!w->ev) {
		free(w);
		return NULL;
	}
	return w;
}

static void wait_free(proxyd_route_wait *w)
{
	event_free(w->ev);
	free(w);
}

void route_wait_taken(proxyd_route_wait *w)
{
	w->pending = 1;
}

int route_wait_pending(const proxyd_route_wait *w)
{
	return w->pending;
}

void route_wait_release(proxyd_route_wait *w)
{
	if (!w)
		return;
	if (w->pending) {
		w->orphan = 1; /* the router still holds it: its resume frees it */
		return;
	}
	wait_free(w);
}

void route_wait_resume(proxyd_route_wait *w)
{
	if (!w)
		return;
	if (!w->pending) {
		/* A router that resumes what it never got, or twice: a bug in that router. The
		 * handle may be gone already, so nothing else is safe to touch. */
		log_msg(PROXYD_LOG_ERROR, "http", 0, "a router resumed a request that was not waiting");
		return;
	}
	w->pending = 0;
	if (w->orphan) {
		wait_free(w);
		return;
	}
	/* Deferred: the router may be in the middle of updating its own state. */
	event_active(w->ev, 0, 0);
}
