/* HTTP/1.1 message heads (RFC 9112): the request or status line and the header fields, up to
 * and including the empty line, parsed into slices of the caller's buffer together with how
 * the message that follows is framed. Pure functions over a buffer: no allocation, no I/O, so
 * they can be fuzzed. libhttp-parser tokenises the start line; this file holds every rule a
 * proxy needs on top of it to keep a client and the service behind the proxy from reading two
 * different messages out of the same bytes (request smuggling, response splitting). */
#ifndef PROXYD_CORE_HTTP_HEAD_H
#define PROXYD_CORE_HTTP_HEAD_H

#include <stddef.h>
#include <stdint.h>

/* The header array is part of struct http_head, so this is also the most a configuration may
 * allow (Apache's LimitRequestFields default). */
#define HTTP_MAX_HEADERS 100
#define HTTP_HEAD_DEFAULT_BYTES (16 * 1024)
/* libhttp-parser refuses heads above 80 KiB on its own; stay clear of it. */
#define HTTP_HEAD_MAX_BYTES (64 * 1024)

/* A header field line: name and value point into the parsed buffer and are NOT
 * NUL-terminated. The value has its leading and trailing whitespace removed. Both are peer
 * text: escape before logging. */
struct http_header {
	const char *name;
	size_t name_len;
	const char *value;
	size_t value_len;
};

/* Zero means the default for each field; neither may exceed its maximum (an assertion: the
 * configuration reader enforces the bounds). The same limits bound chunked trailers. */
struct http_head_limits {
	size_t max_head_bytes; /* start line, fields and the empty line; default 16 KiB, max 64 */
	unsigned max_headers;  /* field lines; default and max HTTP_MAX_HEADERS */
};

/* How the message after the head is delimited (RFC 9112 section 6.3), one value instead of
 * several flags so a caller switches on it and no impossible combination exists. */
enum http_body {
	HTTP_BODY_NONE,    /* nothing: the next head follows (or raw bytes after an upgrade) */
	HTTP_BODY_LENGTH,  /* content_length (> 0) bytes */
	HTTP_BODY_CHUNKED, /* chunked coding: feed struct http_chunked until it reports the end */
	HTTP_BODY_CLOSE,   /* responses only: everything until the server closes the connection */
};

struct http_head {
	int is_request;
	/* Requests. method_str is a static string ("GET"); target is the request-target exactly
	 * as sent (origin-form "/p?q", absolute-form "http://h/p", "*" for OPTIONS, or
	 * "host:port" for CONNECT). */
	int method; /* enum http_method of <http_parser.h> */
	const char *method_str;
	const char *target;
	size_t target_len;
	/* The authority the request is for: the absolute-form target's host[:port] when there
	 * is one (RFC 9112 section 3.2.2: it wins over Host), else the Host field's value. May
	 * be empty; NULL only for an HTTP/1.0 request without Host. */
	const char *host;
	size_t host_len;
	int expect_continue; /* HTTP/1.1 request with "Expect: 100-continue" */

	/* Responses. 1xx other than 101 are interim: another head follows for the same
	 * request. */
	int status;
	const char *reason;
	size_t reason_len;

	unsigned http_major, http_minor; /* major is always 1 */

	enum http_body body;
	int64_t content_length; /* the Content-Length field, -1 without one; informative only
				 * when body is not HTTP_BODY_LENGTH (a HEAD response's size) */
	int keep_alive; /* the connection may carry another message after this one */
	/* After this message the connection may carry another protocol, spliced raw: a request
	 * asking for an Upgrade (Upgrade field and "Connection: upgrade", HTTP/1.1; it switches
	 * only if the answer is 101), a 101 response, or a 2xx response to CONNECT. A CONNECT
	 * request is told by its method. */
	int upgrade;

	size_t head_len; /* bytes of the head, the empty line included */
	unsigned n_headers;
	struct http_header headers[HTTP_MAX_HEADERS];
};

/* Parse the head at the start of buf (a request, or the response to a request of method
 * req_method, which decides the framing for HEAD and CONNECT). lim may be NULL for the
 * defaults. Returns head_len (> 0) with *out filled; the body, or the next message, starts at
 * buf + head_len. Returns -EAGAIN when buf ends inside a head that is valid so far and within
 * the limits; -EMSGSIZE when the head has more bytes or field lines than lim allows; -EPROTO
 * when the bytes are not an acceptable head. Each error sets *err (a static string; err may
 * be NULL). On error *out is unspecified.
 *
 * Refused, beyond what libhttp-parser refuses: bare LF or CR line ends, obsolete line
 * folding, a field name that is empty, holds a non-token byte or is followed by whitespace
 * before the colon, control bytes (NUL, CR, LF, ...) in a value, a start line that is not
 * exactly "METHOD SP target SP HTTP/1.d" or "HTTP/1.d SP ddd[ SP reason]", HTTP versions
 * other than 1.x, Transfer-Encoding together with Content-Length, Content-Length repeated or
 * not a plain number, chunked applied twice or (requests) not as the final coding,
 * Transfer-Encoding in HTTP/1.0, a request-target not of its method's form or with a
 * fragment or userinfo, and an HTTP/1.1 request with no Host or several, or an invalid one.
 *
 * Each call parses from the start of buf: a caller reading a head in pieces calls again with
 * the longer buffer. The cost is bounded by max_head_bytes per call. */
int http_parse_request_head(const uint8_t *buf, size_t len, const struct http_head_limits *lim,
			    struct http_head *out, const char **err);
int http_parse_response_head(const uint8_t *buf, size_t len, int req_method,
			     const struct http_head_limits *lim, struct http_head *out,
			     const char **err);

/* The value of the nth (from 0) field named name, compared case-insensitively: a repeated
 * field such as Set-Cookie is one entry per line. Returns 1 with *value and *value_len set,
 * or 0 when there are not that many. */
int http_head_get(const struct http_head *h, const char *name, unsigned nth, const char **value,
		  size_t *value_len);

/* Does any field named name hold token in its comma-separated list (case-insensitive, for
 * Connection, Transfer-Encoding, Upgrade, ...)? Returns 1 or 0. */
int http_head_has_token(const struct http_head *h, const char *name, const char *token);

/* Is [p, p + len) a non-empty RFC 9110 token (a field name, a method, a coding)? */
int http_token_valid(const char *p, size_t len);

#endif
