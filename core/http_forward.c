/* Heads the edge sends on (see http_forward.h). */
#include "config.h"
#include "http_forward.h"

#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static int name_is(const struct http_header *f, const char *name)
{
	return f->name_len == strlen(name) && strncasecmp(f->name, name, f->name_len) == 0;
}

/* Fields that describe one connection, not the message (RFC 9110 section 7.6.1), plus every
 * field the Connection header names. Transfer-Encoding stays: the edge forwards a chunked
 * body as it came, so its framing field must come along. */
static int hop_by_hop(const struct http_head *h, const struct http_header *f, int keep_upgrade)
{
	static const char *const fixed[] = {"connection", "keep-alive", "proxy-connection", "te",
					    "upgrade"};
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
		if (name_is(f, fixed[i]))
			return !(keep_upgrade && i == 4);
	if (name_is(f, "transfer-encoding") || name_is(f, "host"))
		return 0;
	char name[128];
	if (f->name_len >= sizeof name)
		return 0;
	memcpy(name, f->name, f->name_len);
	name[f->name_len] = '\0';
	return http_head_has_token(h, "connection", name);
}

void http_client_ip(const char *client, char *ip, size_t cap)
{
	const char *end;
	if (!client || !*client) {
		snprintf(ip, cap, "unknown");
		return;
	}
	if (client[0] == '[') {
		end = strchr(client, ']');
		client++;
	} else {
		end = strrchr(client, ':');
	}
	size_t n = end ? (size_t)(end - client) : strlen(client);
	snprintf(ip, cap, "%.*s", (int)n, client);
}

/* An absolute-form target ("http://h/p?q") is sent to the service in origin form ("/p?q"):
 * the service is behind the edge, not a proxy itself. */
static void origin_form(const struct http_head *h, const char **t, size_t *n)
{
	*t = h->target;
	*n = h->target_len;
	if (*n && (*t)[0] != '/' && (*t)[0] != '*') {
		const char *scheme_end = memchr(*t, ':', *n);
		if (scheme_end && (size_t)(scheme_end - *t) + 3 <= *n && scheme_end[1] == '/' &&
		    scheme_end[2] == '/') {
			const char *auth = scheme_end + 3;
			const char *slash = memchr(auth, '/', (size_t)(*t + *n - auth));
			const char *q = memchr(auth, '?', (size_t)(*t + *n - auth));
			if (slash && (!q || slash < q)) {
				*n -= (size_t)(slash - *t);
				*t = slash;
			} else if (q) {
				/* "http://h?q": the path is empty, which means "/" */
				*n -= (size_t)(q - *t);
				*t = q;
			} else {
				*t = "/";
				*n = 1;
			}
		}
	}
}

/* Our element of Forwarded (RFC 7239): an IPv6 address and a host with a port need quotes. */
static int add_forwarded_element(struct evbuffer *out, const char *ip, const struct http_head *h,
				 const char *proto)
{
	int rc = evbuffer_add_printf(out, strchr(ip, ':') ? "for=\"[%s]\";proto=%s" : "for=%s;proto=%s",
				     ip, proto) < 0;
	if (h->host && h->host_len)
		rc |= evbuffer_add_printf(out, ";host=\"%.*s\"", (int)h->host_len, h->host) < 0;
	return rc | (evbuffer_add(out, "\r\n", 2) < 0);
}

/* "Name: <every line of the field, in order>, " — the start of a combined line to which the
 * caller appends this edge's own element. */
static int add_accumulated(struct evbuffer *out, const struct http_head *h, const char *name,
			   const char *field)
{
	int rc = evbuffer_add_printf(out, "%s: ", name) < 0;
	const char *v;
	size_t vn;
	for (unsigned k = 0; http_head_get(h, field, k, &v, &vn); k++)
		rc |= evbuffer_add_printf(out, "%.*s, ", (int)vn, v) < 0;
	return rc;
}

int http_forward_request_head(struct evbuffer *out, const struct http_head *h,
			      const struct http_fwd_request *o)
{
	const char *t;
	size_t tn;
	origin_form(h, &t, &tn);
	if (o->path) {
		t = o->path;
		tn = strlen(o->path);
	}
	int rc = 0;
	int upgrade = h->upgrade;
	rc |= evbuffer_add_printf(out, "%s %s%.*s HTTP/1.%u\r\n", h->method_str, t[0] == '?' ? "/" : "",
				  (int)tn, t, h->http_minor) < 0;
	/* Host first, as clients send it; an HTTP/1.0 request may have had none. */
	if (o->host)
		rc |= evbuffer_add_printf(out, "Host: %s\r\n", o->host) < 0;
	else if (h->host) /* even empty: an HTTP/1.1 request must carry one */
		rc |= evbuffer_add_printf(out, "Host: %.*s\r\n", (int)h->host_len, h->host) < 0;
	/* X-Forwarded-For and Forwarded accumulate along a chain of proxies; X-Forwarded-Proto
	 * and -Host describe this edge's client side and are set here, never taken from the
	 * user. */
	char ip[64];
	http_client_ip(o->client, ip, sizeof ip);
	for (unsigned i = 0; i < h->n_headers; i++) {
		const struct http_header *f = &h->headers[i];
		if (hop_by_hop(h, f, upgrade) || name_is(f, "host") || name_is(f, "x-forwarded-proto") ||
		    name_is(f, "x-forwarded-host") || name_is(f, "x-forwarded-for") ||
		    name_is(f, "forwarded") || (o->drop_authorization && name_is(f, "authorization")))
			continue;
		rc |= evbuffer_add_printf(out, "%.*s: %.*s\r\n", (int)f->name_len, f->name,
					  (int)f->value_len, f->value) < 0;
	}
	rc |= add_accumulated(out, h, "X-Forwarded-For", "x-forwarded-for");
	rc |= evbuffer_add_printf(out, "%s\r\n", ip) < 0;
	rc |= add_accumulated(out, h, "Forwarded", "forwarded");
	rc |= add_forwarded_element(out, ip, h, o->proto);
	rc |= evbuffer_add_printf(out, "X-Forwarded-Proto: %s\r\n", o->proto) < 0;
	if (h->host && h->host_len)
		rc |= evbuffer_add_printf(out, "X-Forwarded-Host: %.*s\r\n", (int)h->host_len, h->host) < 0;
	if (upgrade)
		rc |= evbuffer_add(out, "Connection: upgrade\r\n", 21) < 0;
	if (o->add_headers && *o->add_headers)
		rc |= evbuffer_add(out, o->add_headers, strlen(o->add_headers)) < 0;
	rc |= evbuffer_add(out, "\r\n", 2) < 0;
	return rc ? -1 : 0;
}

int http_forward_response_head(struct evbuffer *out, const struct http_head *h,
			       const struct http_fwd_response *o)
{
	int rc = 0;
	int interim = h->status >= 100 && h->status < 200;
	int switching = h->status == 101;
	rc |= evbuffer_add_printf(out, "HTTP/1.1 %d %.*s\r\n", h->status, (int)h->reason_len,
				  h->reason ? h->reason : "") < 0;
	for (unsigned i = 0; i < h->n_headers; i++) {
		const struct http_header *f = &h->headers[i];
		if (hop_by_hop(h, f, switching))
			continue;
		rc |= evbuffer_add_printf(out, "%.*s: %.*s\r\n", (int)f->name_len, f->name,
					  (int)f->value_len, f->value) < 0;
	}
	if (switching) {
		rc |= evbuffer_add(out, "Connection: upgrade\r\n", 21) < 0;
	} else if (!interim) {
		if (o->add_headers && *o->add_headers)
			rc |= evbuffer_add(out, o->add_headers, strlen(o->add_headers)) < 0;
		if (o->close)
			rc |= evbuffer_add(out, "Connection: close\r\n", 19) < 0;
		else if (o->client_http10)
			rc |= evbuffer_add(out, "Connection: keep-alive\r\n", 24) < 0;
	}
	rc |= evbuffer_add(out, "\r\n", 2) < 0;
	return rc ? -1 : 0;
}

const char *http_status_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 301: return "Moved Permanently";
	case 302: return "Found";
	case 307: return "Temporary Redirect";
	case 308: return "Permanent Redirect";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 413: return "Content Too Large";
	case 421: return "Misdirected Request";
	case 429: return "Too Many Requests";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 502: return "Bad Gateway";
	case 503: return "Service Unavailable";
	case 504: return "Gateway Timeout";
	case 505: return "HTTP Version Not Supported";
	default: return status < 400 ? "OK" : status < 500 ? "Client Error" : "Server Error";
	}
}

int http_error_response(struct evbuffer *out, int status, const char *message,
			const char *extra_headers, int close)
{
	char body[512];
	const char *reason = http_status_reason(status);
	int n = message && *message ? snprintf(body, sizeof body, "%d %s: %s\n", status, reason, message)
				    : snprintf(body, sizeof body, "%d %s\n", status, reason);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof body)
		n = (int)sizeof body - 1;
	int rc = evbuffer_add_printf(out,
				     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
				     "Content-Length: %d\r\nCache-Control: no-store\r\n%s%s\r\n",
				     status, reason, n, extra_headers ? extra_headers : "",
				     close ? "Connection: close\r\n" : "") < 0;
	rc |= evbuffer_add(out, body, (size_t)n) < 0;
	return rc ? -1 : 0;
}
