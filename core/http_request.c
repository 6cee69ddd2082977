/* The router's view of a request (see http_request.h). */
#include "config.h"
#include "http_request.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

int http_request_init(struct proxyd_request *r, const struct http_head *head, const char *client,
		      const char *scheme, const char *sni)
{
	memset(r, 0, sizeof *r);
	r->head = head;
	r->client = client;
	r->scheme = scheme;
	r->sni = sni && *sni ? sni : NULL;
	const char *h = head->host;
	size_t n = head->host ? head->host_len : 0;
	const char *host = h, *port = NULL;
	size_t host_len = n;
	if (n && h[0] == '[') {
		/* "[v6]" or "[v6]:port" */
		const char *close = memchr(h, ']', n);
		if (!close)
			return -EINVAL;
		host = h + 1;
		host_len = (size_t)(close - host);
		if ((size_t)(close - h) + 1 < n && close[1] == ':')
			port = close + 2;
	} else if (n) {
		const char *colon = memchr(h, ':', n);
		if (colon) {
			host_len = (size_t)(colon - h);
			port = colon + 1;
		}
	}
	if (host_len >= sizeof r->host)
		return -EINVAL;
	for (size_t i = 0; i < host_len; i++)
		r->host[i] = (char)tolower((unsigned char)host[i]);
	r->host[host_len] = '\0';
	r->host_len = host_len;
	if (port && port < h + n) {
		r->port = port;
		r->port_len = (size_t)(h + n - port);
	}
	return 0;
}

static int give(const char *p, size_t n, const char **value, size_t *len)
{
	*value = p;
	*len = n;
	return 1;
}

int http_request_field(const proxyd_request *r, int field, const char **value, size_t *len)
{
	const struct http_head *h = r->head;
	const char *q;
	switch (field) {
	case PROXYD_REQ_METHOD:
		return give(h->method_str, strlen(h->method_str), value, len);
	case PROXYD_REQ_TARGET:
		return give(h->target, h->target_len, value, len);
	case PROXYD_REQ_PATH:
		q = memchr(h->target, '?', h->target_len);
		return give(h->target, q ? (size_t)(q - h->target) : h->target_len, value, len);
	case PROXYD_REQ_QUERY:
		q = memchr(h->target, '?', h->target_len);
		if (!q)
			return 0;
		return give(q + 1, h->target_len - (size_t)(q + 1 - h->target), value, len);
	case PROXYD_REQ_HOST:
		return r->head->host ? give(r->host, r->host_len, value, len) : 0;
	case PROXYD_REQ_PORT:
		return r->port ? give(r->port, r->port_len, value, len) : 0;
	case PROXYD_REQ_CLIENT:
		return r->client ? give(r->client, strlen(r->client), value, len) : 0;
	case PROXYD_REQ_SCHEME:
		return r->scheme ? give(r->scheme, strlen(r->scheme), value, len) : 0;
	case PROXYD_REQ_SNI:
		return r->sni ? give(r->sni, strlen(r->sni), value, len) : 0;
	default:
		return 0;
	}
}

int http_request_header(const proxyd_request *r, const char *name, unsigned nth, const char **value,
			size_t *len)
{
	return http_head_get(r->head, name, nth, value, len);
}
