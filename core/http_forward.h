/* The heads the HTTP edge sends on: a request head for the service (hop-by-hop fields
 * dropped, X-Forwarded-* and Forwarded added, path and Host as the route says) and a response
 * head for the client; and the edge's own short error responses. Pure apart from appending
 * to an evbuffer, so they are unit-tested on their own. */
#ifndef PROXYD_CORE_HTTP_FORWARD_H
#define PROXYD_CORE_HTTP_FORWARD_H

#include <stddef.h>

#include "http_head.h"

struct evbuffer;

struct http_fwd_request {
	const char *path;         /* new request-target ("/x?y"), or NULL to keep the client's */
	const char *host;         /* new Host value, or NULL to keep the client's */
	const char *client;       /* the user's "ip:port" / "[ip6]:port" */
	const char *proto;        /* "http" or "https" */
	const char *add_headers;  /* "Name: value\r\n" lines from the router, or NULL */
	int drop_authorization;   /* the edge checked it (basic_auth): the service must not see it */
};

/* Append the head to send the service. Returns 0, or -1 when out of memory. */
int http_forward_request_head(struct evbuffer *out, const struct http_head *h,
			      const struct http_fwd_request *o);

struct http_fwd_response {
	int close;               /* the edge closes the client connection after this response */
	int client_http10;       /* the client spoke HTTP/1.0: say keep-alive explicitly */
	const char *add_headers; /* "Name: value\r\n" lines (a router's Set-Cookie), or NULL */
};

/* Append the response head for the client (an interim 1xx or 101 gets no added fields). */
int http_forward_response_head(struct evbuffer *out, const struct http_head *h,
			       const struct http_fwd_response *o);

/* The reason phrase for the statuses the edge itself sends ("Bad Gateway"). */
const char *http_status_reason(int status);

/* Append a complete response: status line, Content-Type text/plain, Content-Length, the
 * extra lines, Connection: close when close, and the body "<status> <reason>: <message>\n"
 * (message may be NULL or empty). */
int http_error_response(struct evbuffer *out, int status, const char *message,
			const char *extra_headers, int close);

/* The user's address without the port: "1.2.3.4" from "1.2.3.4:5", "::1" from "[::1]:5". */
void http_client_ip(const char *client, char *ip, size_t cap);

#endif
