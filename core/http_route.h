/* The router chain: the routes of http.routes asked in configuration order, each answering
 * match, next or reject; plus what the core itself does per route (basic auth, Host
 * rewrite). */
#ifndef PROXYD_CORE_HTTP_ROUTE_H
#define PROXYD_CORE_HTTP_ROUTE_H

#include "conf.h"
#include "http_request.h"

#define ROUTE_PATH_MAX (HTTP_HEAD_MAX_BYTES + 1)
#define ROUTE_HEADERS_MAX 4096

struct route_decision {
	int status;        /* 0: send it to the target; else answer with this status */
	char agent[CONF_ID_MAX + 1];
	char service[64];
	char address[128];
	char path[ROUTE_PATH_MAX]; /* "" keeps the client's */
	char host[256];            /* "" keeps the client's */
	char add_headers[ROUTE_HEADERS_MAX];      /* to the request (or a rejection's response) */
	char response_headers[ROUTE_HEADERS_MAX]; /* to the response */
	char message[256];
	int drop_authorization;
	const char *route_name; /* for logs: the router that decided, or NULL */
	int pending; /* a router answered PENDING and holds the wait (ABI 1.4) */
};

/* Decide for one request. Always fills *d: a target, or a status (404 when no route matched,
 * 401 when a route's basic auth was not met, a router's REJECT status otherwise), or
 * d->pending when a router took wait (NULL: the caller cannot wait, and a router that
 * answers PENDING anyway gets the request a 500). */
void http_route(const struct conf_http *h, const proxyd_request *req, proxyd_route_wait *wait,
		struct route_decision *d);

/* The edge could not connect to a direct address ("ip:port"): tell every route of h whose
 * router wants to know (target_failed, ABI 1.4), so cached addresses can be let go of. */
void http_route_target_failed(const struct conf_http *h, const char *address, const char *reason);

#endif
