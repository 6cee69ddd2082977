/* Event loop ownership plus thin timer/watch handles over libevent events. */
#include "config.h"
#include "loop.h"

#include <event2/event.h>
#include <stdlib.h>
#include <time.h>

static struct event_base *base;

struct proxyd_timer {
	struct event *ev;
	void (*cb)(void *arg);
	void *arg;
};

struct proxyd_watch {
	struct event *ev;
	void (*cb)(int fd, int events, void *arg);
	void *arg;
};

struct event_base *loop_base(void)
{
	return base;
}

int loop_init(void)
{
	if (base)
		return 0;
	base = event_base_new();
	return base ? 0 : -1;
}

void loop_fini(void)
{
	if (base) {
		/* A bufferevent with deferred callbacks that was freed while one of them was
		 * queued (a TLS filter that encrypted a last frame in the final loop turn) keeps a
		 * reference until that callback runs, and event_base_free() drops queued
		 * callbacks without running them: one more non-blocking turn lets them run (their
		 * callbacks are already cleared) so the bufferevents are finalized. */
		event_base_loop(base, EVLOOP_NONBLOCK);
		event_base_free(base);
	}
	base = NULL;
}

uint64_t loop_now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

uint64_t loop_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void timer_fired(evutil_socket_t fd, short what, void *arg)
{
	proxyd_timer *t = arg;
	t->cb(t->arg);
}

proxyd_timer *loop_timer_new(void (*cb)(void *arg), void *arg)
{
	proxyd_timer *t = calloc(1, sizeof *t);
	if (!t)
		return NULL;
	t->cb = cb;
	t->arg = arg;
	t->ev = event_new(base, -1, 0, timer_fired, t);
	if (!t->ev) {
		free(t);
		return NULL;
	}
	return t;
}

void loop_timer_start(proxyd_timer *t, uint64_t after_ms, int repeat)
{
	struct timeval tv = {.tv_sec = (time_t)(after_ms / 1000),
			     .tv_usec = (suseconds_t)((after_ms % 1000) * 1000)};
	event_del(t->ev);
	event_assign(t->ev, base, -1, repeat ? EV_PERSIST : 0, timer_fired, t);
	event_add(t->ev, &tv);
}

void loop_timer_stop(proxyd_timer *t)
{
	event_del(t->ev);
}

void loop_timer_free(proxyd_timer *t)
{
	if (!t)
		return;
	event_free(t->ev);
	free(t);
}

static void watch_fired(evutil_socket_t fd, short what, void *arg)
{
	proxyd_watch *w = arg;
	int events = (what & EV_READ ? PROXYD_WATCH_READ : 0) | (what & EV_WRITE ? PROXYD_WATCH_WRITE : 0);
	w->cb((int)fd, events, w->arg);
}

proxyd_watch *loop_watch_new(int fd, int events, void (*cb)(int fd, int events, void *arg),
			     void *arg)
{
	proxyd_watch *w = calloc(1, sizeof *w);
	if (!w)
		return NULL;
	w->cb = cb;
	w->arg = arg;
	short what = EV_PERSIST | (events & PROXYD_WATCH_READ ? EV_READ : 0) |
		     (events & PROXYD_WATCH_WRITE ? EV_WRITE : 0);
	w->ev = event_new(base, fd, what, watch_fired, w);
	if (!w->ev || event_add(w->ev, NULL) != 0) {
		if (w->ev)
			event_free(w->ev);
		free(w);
		return NULL;
	}
	return w;
}

void loop_watch_free(proxyd_watch *w)
{
	if (!w)
		return;
	event_free(w->ev);
	free(w);
}
