/* A request that waits for a router (proxyd_route_wait in plugin.h, ABI 1.4). The owner (an
 * HTTP connection) makes one and offers it to the router chain; a router that answers
 * PENDING keeps it and later calls host->route_resume, which reaches the owner on a later
 * loop turn, never from inside the router's call. A wait outlives an owner that goes away
 * while a router holds it: the router's resume then only frees it. */
#ifndef PROXYD_CORE_ROUTE_WAIT_H
#define PROXYD_CORE_ROUTE_WAIT_H

#include "proxyd/plugin.h"

/* on_resume(arg) runs on the loop once a router resumed the wait. NULL when out of memory. */
proxyd_route_wait *route_wait_new(void (*on_resume)(void *arg), void *arg);
/* A router answered PENDING with it: it is the router's until route_wait_resume. */
void route_wait_taken(proxyd_route_wait *w);
/* Held by a router right now? */
int route_wait_pending(const proxyd_route_wait *w);
/* The owner is done with it: freed now, or (held by a router) when the router resumes it. */
void route_wait_release(proxyd_route_wait *w);
/* host->route_resume. */
void route_wait_resume(proxyd_route_wait *w);

#endif
