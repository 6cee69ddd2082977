/* The read-only view of a request head that routers get (proxyd_request in plugin.h): the
 * parsed head plus what the edge knows of the connection (client address, TLS, SNI). Pure:
 * the view points into the head's buffer and is valid while that is. */
#ifndef PROXYD_CORE_HTTP_REQUEST_H
#define PROXYD_CORE_HTTP_REQUEST_H

#include <stddef.h>

#include "http_head.h"
#include "proxyd/plugin.h"

/* A DNS name is at most 253 bytes; an IPv6 literal fits too. */
#define HTTP_REQUEST_HOST_MAX 256

struct proxyd_request {
	const struct http_head *head;
	const char *client; /* "ip:port" */
	const char *scheme; /* "http" or "https" */
	const char *sni;    /* NULL without TLS or SNI */
	/* Split from head->host at http_request_init: host lower-cased, without brackets. */
	char host[HTTP_REQUEST_HOST_MAX];
	size_t host_len;
	const char *port; /* into head->host; NULL when none */
	size_t port_len;
};

/* Fill r from a parsed request head. Returns 0, or -EINVAL when the authority's host is
 * longer than HTTP_REQUEST_HOST_MAX - 1 (the head parser has already refused malformed ones). */
int http_request_init(struct proxyd_request *r, const struct http_head *head, const char *client,
		      const char *scheme, const char *sni);

/* host->req_field and host->req_header. */
int http_request_field(const proxyd_request *r, int field, const char **value, size_t *len);
int http_request_header(const proxyd_request *r, const char *name, unsigned nth, const char **value,
			size_t *len);

#endif
