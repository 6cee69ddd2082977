/* The one libevent loop of the process, and the timer and fd-watch wrappers plugins get. */
#ifndef PROXYD_CORE_LOOP_H
#define PROXYD_CORE_LOOP_H

#include <stdint.h>
#include "proxyd/plugin.h"

struct event_base;

struct event_base *loop_base(void);
int loop_init(void);
void loop_fini(void);

proxyd_timer *loop_timer_new(void (*cb)(void *arg), void *arg);
void loop_timer_start(proxyd_timer *t, uint64_t after_ms, int repeat);
void loop_timer_stop(proxyd_timer *t);
void loop_timer_free(proxyd_timer *t);

proxyd_watch *loop_watch_new(int fd, int events, void (*cb)(int fd, int events, void *arg),
			     void *arg);
void loop_watch_free(proxyd_watch *w);

/* Monotonic milliseconds. */
uint64_t loop_now_ms(void);
uint64_t loop_now_us(void);

#endif
