/* HTTP/1.1 head parsing (see http_head.h). Two passes over the same bytes, and both must
 * accept them:
 *
 * 1. A line scan written here, which is the authority on syntax: CRLF line ends, the exact
 *    shape of the start line, field lines as token ":" OWS value OWS, the limits. It also
 *    cuts the field lines into the name/value slices of struct http_head.
 * 2. libhttp-parser, which tokenises the start line (method, target, version, status) and
 *    reads the field section a second time. It is paused in on_headers_complete, so it never
 *    looks past the head.
 *
 * The scan is not optional: Debian builds libhttp-parser with HTTP_PARSER_STRICT=0, which
 * accepts "Host : x" (a field named "Host "), CR not followed by LF, bytes above 0x7f in the
 * target and any letters in place of "HTTP"; and the library keeps F_CHUNKED set from an
 * earlier Transfer-Encoding line when a later one ends in another coding. Framing (RFC 9112
 * section 6.3) is therefore decided here from the fields, never from the library's flags. */
#include "config.h"
#include "http_head.h"

#include <assert.h>
#include <errno.h>
#include <http_parser.h>
#include <string.h>

static int fail(const char **err, int rc, const char *why)
{
	if (err)
		*err = why;
	return rc;
}

/* ---- character classes (RFC 9110 section 5.6.2, RFC 3986) ---- */

/* tchar: ALPHA, DIGIT and "!#$%&'*+-.^_`|~"; a table, as every byte of a name asks. */
static const uint8_t tchars[256] = {
	['!'] = 1, ['#'] = 1, ['$'] = 1, ['%'] = 1, ['&'] = 1, ['\''] = 1, ['*'] = 1, ['+'] = 1,
	['-'] = 1, ['.'] = 1, ['^'] = 1, ['_'] = 1, ['`'] = 1, ['|'] = 1, ['~'] = 1,
	['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1, ['6'] = 1, ['7'] = 1,
	['8'] = 1, ['9'] = 1,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1, ['H'] = 1,
	['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1, ['O'] = 1, ['P'] = 1,
	['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1, ['V'] = 1, ['W'] = 1, ['X'] = 1,
	['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1, ['h'] = 1,
	['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1, ['o'] = 1, ['p'] = 1,
	['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1, ['v'] = 1, ['w'] = 1, ['x'] = 1,
	['y'] = 1, ['z'] = 1,
};

static int tchar(uint8_t c)
{
	return tchars[c];
}

int http_token_valid(const char *p, size_t len)
{
	if (len == 0)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!tchar((uint8_t)p[i]))
			return 0;
	return 1;
}

static int ows(uint8_t c)
{
	return c == ' ' || c == '\t';
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}

static int ieq_n(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return 0;
	for (size_t i = 0; i < alen; i++)
		if (lower((uint8_t)a[i]) != lower((uint8_t)b[i]))
			return 0;
	return 1;
}

/* b a string literal: its length is known at compile time. */
#define IEQ(a, alen, lit) ieq_n(a, alen, lit, sizeof(lit) - 1)

/* ---- pass 1: the line scan ---- */

struct scan {
	const uint8_t *buf;
	size_t limit;            /* bytes looked at: min(len, max_head_bytes) */
	size_t start, start_len; /* the start line, without CRLF */
	size_t head_len;         /* 0 until the empty line is seen */
	unsigned max_headers;
	struct http_head *out;
};

/* Field values and reason phrases: HTAB, SP, VCHAR, obs-text. A request line is ASCII
 * without controls (the target is a URI). Both are asked of every byte: keep them to one
 * comparison on the common path. */
static int field_vchar(uint8_t c)
{
	return (uint8_t)(c - 0x20) < 0x5f || c >= 0x80 || c == '\t';
}

static int start_byte_ok(uint8_t c, int is_request)
{
	return is_request ? (uint8_t)(c - 0x20) < 0x5f : field_vchar(c);
}

/* Check the field line [p, p + n); complete says whether its CRLF has arrived, so a partial
 * line is checked as far as it goes and garbage fails before the head is whole. */
static int field_line(const uint8_t *p, size_t n, int complete, struct http_header *h,
		      const char **err)
{
	if (n == 0)
		return 0;
	if (ows(p[0]))
		return fail(err, -EPROTO, "obsolete line folding");
	size_t i = 0;
	while (i < n && tchar(p[i]))
		i++;
	if (i == n)
		return complete ? fail(err, -EPROTO, "header line without a colon") : 0;
	if (p[i] != ':') {
		if (ows(p[i]))
			return fail(err, -EPROTO, "whitespace before the colon");
		if (p[i] == '\r')
			return fail(err, -EPROTO, "bare CR in a header line");
		return fail(err, -EPROTO, "invalid header name");
	}
	if (i == 0)
		return fail(err, -EPROTO, "empty header name");
	size_t v = i + 1, j = v;
	while (j < n && field_vchar(p[j]))
		j++;
	if (j < n) {
		if (p[j] == 0)
			return fail(err, -EPROTO, "NUL in header value");
		if (p[j] == '\r')
			return fail(err, -EPROTO, "CR in header value");
		return fail(err, -EPROTO, "control character in header value");
	}
	if (!complete)
		return 0;
	size_t e = n;
	while (v < e && ows(p[v]))
		v++;
	while (e > v && ows(p[e - 1]))
		e--;
	h->name = (const char *)p;
	h->name_len = i;
	h->value = (const char *)p + v;
	h->value_len = e - v;
	return 0;
}

/* Walk the lines in [0, limit): leading empty lines (RFC 9112 section 2.2 lets a server skip
 * them), the start line, the field lines, the empty line. Returns 0 with s->head_len set when
 * the head is complete, -EAGAIN when it is not (yet), or an error. */
static int scan_lines(struct scan *s, int is_request, const char **err)
{
	const uint8_t *b = s->buf;
	size_t off = 0;
	int have_start = 0;
	struct http_head *out = s->out;
	out->n_headers = 0;

	while (off < s->limit) {
		const uint8_t *lf = memchr(b + off, '\n', s->limit - off);
		size_t end = lf ? (size_t)(lf - b) : s->limit; /* the LF, or where bytes stop */
		size_t n; /* line length without CRLF */
		if (lf) {
			if (end == off || b[end - 1] != '\r')
				return fail(err, -EPROTO, "bare LF line end");
			n = end - 1 - off;
		} else {
			/* A CR as the very last byte may be the first half of CRLF. */
			n = end - off;
			if (n && b[end - 1] == '\r')
				n--;
		}
		if (!have_start) {
			if (n == 0 && lf) { /* an empty line before the start line */
				off = end + 1;
				continue;
			}
			for (size_t i = 0; i < n; i++) {
				uint8_t c = b[off + i];
				if (c == '\r')
					return fail(err, -EPROTO, "bare CR in the start line");
				if (!start_byte_ok(c, is_request))
					return fail(err, -EPROTO, "invalid byte in the start line");
			}
			if (!lf)
				return -EAGAIN;
			s->start = off;
			s->start_len = n;
			have_start = 1;
		} else if (n == 0 && lf) {
			s->head_len = end + 1;
			return 0;
		} else {
			struct http_header h;
			int r = field_line(b + off, n, lf != NULL, &h, err);
			if (r < 0)
				return r;
			if (!lf)
				return -EAGAIN;
			if (out->n_headers == s->max_headers)
				return fail(err, -EMSGSIZE, "too many header fields");
			out->headers[out->n_headers++] = h;
		}
		off = end + 1;
	}
	return -EAGAIN;
}

/* "HTTP/1.d": libhttp-parser (non-strict) would take any four letters for "HTTP". */
static int version_ok(const uint8_t *p, unsigned *minor)
{
	if (memcmp(p, "HTTP/1.", 7) != 0 || p[7] < '0' || p[7] > '9')
		return 0;
	*minor = (unsigned)(p[7] - '0');
	return 1;
}

/* ---- pass 2: libhttp-parser ---- */

struct pctx {
	const char *url;
	size_t url_len;
	unsigned fields;
	int last_was_field;
	int complete;
};

static int on_url(http_parser *p, const char *at, size_t n)
{
	struct pctx *c = p->data;
	if (!c->url)
		c->url = at;
	else if (c->url + c->url_len != at)
		return 1; /* one contiguous buffer: pieces must follow each other */
	c->url_len += n;
	return 0;
}

static int on_header_field(http_parser *p, const char *at, size_t n)
{
	struct pctx *c = p->data;
	if (!c->last_was_field)
		c->fields++;
	c->last_was_field = 1;
	return 0;
}

static int on_header_value(http_parser *p, const char *at, size_t n)
{
	struct pctx *c = p->data;
	c->last_was_field = 0;
	return 0;
}

/* Stop at the end of the head: the body is the caller's, framed by our own rules. */
static int on_headers_complete(http_parser *p)
{
	struct pctx *c = p->data;
	c->complete = 1;
	http_parser_pause(p, 1);
	return 0;
}

static const char *parser_error(enum http_errno e, enum http_parser_type type)
{
	switch (e) {
	case HPE_INVALID_CONSTANT: /* "HTTP" or "ICE" expected */
	case HPE_INVALID_STATUS:
		return type == HTTP_REQUEST ? "bad request line" : "bad status line";
	case HPE_INVALID_METHOD:
		return "unknown method";
	case HPE_INVALID_URL:
		return "bad request-target";
	case HPE_INVALID_VERSION:
		return "unsupported HTTP version";
	case HPE_INVALID_CONTENT_LENGTH:
		return "invalid Content-Length";
	case HPE_UNEXPECTED_CONTENT_LENGTH:
		return "duplicate Content-Length, or with Transfer-Encoding";
	case HPE_HEADER_OVERFLOW:
		return "head larger than the limit";
	default:
		return http_errno_description(e); /* static strings */
	}
}

/* Run libhttp-parser over [0, n). Returns 0 when it agrees that the head ends at n (complete)
 * or saw nothing wrong in a partial head, else -EPROTO. */
static int run_parser(enum http_parser_type type, const uint8_t *buf, size_t n, int complete,
		      struct pctx *c, http_parser *p, const char **err)
{
	static const http_parser_settings settings = {
		.on_url = on_url,
		.on_header_field = on_header_field,
		.on_header_value = on_header_value,
		.on_headers_complete = on_headers_complete,
	};
	memset(c, 0, sizeof *c);
	http_parser_init(p, type);
	p->data = c;
	size_t used = http_parser_execute(p, &settings, (const char *)buf, n);
	enum http_errno e = HTTP_PARSER_ERRNO(p);
	if (e != HPE_OK && e != HPE_PAUSED)
		return fail(err, -EPROTO, parser_error(e, type));
	if (!complete)
		return c->complete ? fail(err, -EPROTO, "malformed head") : 0;
	/* Paused on the last LF: the two passes see the same end of head. */
	if (!c->complete || e != HPE_PAUSED || used + 1 != n)
		return fail(err, -EPROTO, "malformed head");
	return 0;
}

/* ---- field semantics ---- */

/* Visit the elements of a comma-separated list, OWS trimmed, empty ones skipped (RFC 9110
 * section 5.6.1). Stops and returns what fn returns when that is not 0. */
typedef int (*list_fn)(const char *p, size_t n, void *arg);

static int each_element(const char *v, size_t len, list_fn fn, void *arg)
{
	size_t i = 0;
	while (i <= len) {
		size_t j = i;
		while (j < len && v[j] != ',')
			j++;
		size_t a = i, e = j;
		while (a < e && ows((uint8_t)v[a]))
			a++;
		while (e > a && ows((uint8_t)v[e - 1]))
			e--;
		if (e > a) {
			int r = fn(v + a, e - a, arg);
			if (r)
				return r;
		}
		i = j + 1;
	}
	return 0;
}

int http_head_get(const struct http_head *h, const char *name, unsigned nth, const char **value,
		  size_t *value_len)
{
	size_t nlen = strlen(name);
	for (unsigned i = 0; i < h->n_headers; i++) {
		const struct http_header *f = &h->headers[i];
		if (!ieq_n(f->name, f->name_len, name, nlen))
			continue;
		if (nth-- == 0) {
			*value = f->value;
			*value_len = f->value_len;
			return 1;
		}
	}
	return 0;
}

struct want {
	const char *s;
	size_t n;
};

static int token_is(const char *p, size_t n, void *arg)
{
	const struct want *w = arg;
	return ieq_n(p, n, w->s, w->n);
}

int http_head_has_token(const struct http_head *h, const char *name, const char *token)
{
	struct want w = {token, strlen(token)};
	size_t nlen = strlen(name);
	for (unsigned i = 0; i < h->n_headers; i++) {
		const struct http_header *f = &h->headers[i];
		if (ieq_n(f->name, f->name_len, name, nlen) &&
		    each_element(f->value, f->value_len, token_is, &w))
			return 1;
	}
	return 0;
}

struct te_state {
	int codings;
	int chunked_seen;
	int last_chunked;
	const char *why;
};

/* transfer-coding = token *( OWS ";" OWS transfer-parameter ). chunked takes no parameters
 * and is applied at most once (RFC 9112 section 6.1, 7). */
static int te_element(const char *p, size_t n, void *arg)
{
	struct te_state *t = arg;
	size_t k = 0;
	while (k < n && p[k] != ';')
		k++;
	size_t e = k;
	while (e > 0 && ows((uint8_t)p[e - 1]))
		e--;
	if (!http_token_valid(p, e)) {
		t->why = "invalid Transfer-Encoding";
		return 1;
	}
	t->codings++;
	if (t->chunked_seen) {
		t->why = "chunked not the final transfer coding";
		return 1;
	}
	t->last_chunked = IEQ(p, e, "chunked");
	if (t->last_chunked) {
		if (k < n) {
			t->why = "parameters on chunked";
			return 1;
		}
		t->chunked_seen = 1;
	}
	return 0;
}

static int digits(const char *p, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return 0;
		if (v > ((uint64_t)INT64_MAX - 9) / 10)
			return 0;
		v = v * 10 + (uint64_t)(p[i] - '0');
	}
	*out = v;
	return 1;
}

static int unreserved_or_sub(uint8_t c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return 1;
	return c != 0 && strchr("-._~%!$&'()*+,;=", c) != NULL;
}

/* host [":" port] (RFC 3986 section 3.2.2, without userinfo): a reg-name or IPv4 address of
 * unreserved, pct-encoded and sub-delims characters, or an IP-literal in brackets. Only the
 * character set and the shape are checked: routing compares names, it does not resolve them.
 * need_port: authority-form (CONNECT) needs a port. An empty authority is valid when
 * allow_empty (Host may be empty, RFC 9112 section 3.2). */
static int authority_valid(const char *p, size_t n, int need_port, int allow_empty)
{
	size_t i = 0;
	if (n == 0)
		return allow_empty && !need_port;
	if (p[0] == '[') {
		for (i = 1; i < n && p[i] != ']'; i++) {
			uint8_t c = (uint8_t)p[i];
			if (!(unreserved_or_sub(c) || c == ':'))
				return 0;
		}
		if (i == n || i == 1)
			return 0;
		i++;
	} else {
		while (i < n && unreserved_or_sub((uint8_t)p[i]))
			i++;
		if (i == 0)
			return 0;
	}
	if (i == n)
		return !need_port;
	if (p[i] != ':')
		return 0;
	i++;
	if (need_port && i == n)
		return 0;
	for (; i < n; i++)
		if (p[i] < '0' || p[i] > '9')
			return 0;
	return 1;
}

/* The request-target's form must fit the method (RFC 9112 section 3.2): authority-form for
 * CONNECT only, "*" for OPTIONS only, origin-form, or absolute-form of an http(s) URI. A
 * fragment is never sent; userinfo in an http URI is treated as an error (RFC 9110 4.2.4). */
static int check_target(struct http_head *h, const char **err)
{
	const char *t = h->target;
	size_t n = h->target_len;
	if (memchr(t, '#', n))
		return fail(err, -EPROTO, "bad request-target");
	if (h->method == HTTP_CONNECT) {
		if (!authority_valid(t, n, 1, 0))
			return fail(err, -EPROTO, "bad request-target");
		h->host = t;
		h->host_len = n;
		return 0;
	}
	if (n == 1 && t[0] == '*')
		return h->method == HTTP_OPTIONS ? 0 : fail(err, -EPROTO, "bad request-target");
	if (t[0] == '/')
		return 0;
	size_t s;
	if (n > 7 && IEQ(t, 7, "http://"))
		s = 7;
	else if (n > 8 && IEQ(t, 8, "https://"))
		s = 8;
	else
		return fail(err, -EPROTO, "bad request-target");
	size_t e = s;
	while (e < n && t[e] != '/' && t[e] != '?')
		e++;
	if (memchr(t + s, '@', e - s) || !authority_valid(t + s, e - s, 0, 0))
		return fail(err, -EPROTO, "bad request-target");
	h->host = t + s;
	h->host_len = e - s;
	return 0;
}

/* Content-Length, Transfer-Encoding and what they mean for the body: the rules both sides
 * of a proxy must read the same way. */
static int check_framing(struct http_head *h, const char **err)
{
	int have_cl = 0, have_te = 0;
	uint64_t cl = 0;
	struct te_state te = {0};
	for (unsigned i = 0; i < h->n_headers; i++) {
		const struct http_header *f = &h->headers[i];
		if (IEQ(f->name, f->name_len, "content-length")) {
			uint64_t v;
			if (!digits(f->value, f->value_len, &v))
				return fail(err, -EPROTO, "invalid Content-Length");
			if (have_cl)
				return fail(err, -EPROTO,
					    v == cl ? "duplicate Content-Length"
						    : "conflicting Content-Length values");
			have_cl = 1;
			cl = v;
		} else if (IEQ(f->name, f->name_len, "transfer-encoding")) {
			have_te = 1;
			if (each_element(f->value, f->value_len, te_element, &te))
				return fail(err, -EPROTO, te.why);
		}
	}
	h->content_length = have_cl ? (int64_t)cl : -1;
	if (have_te) {
		if (te.codings == 0)
			return fail(err, -EPROTO, "empty Transfer-Encoding");
		if (have_cl)
			return fail(err, -EPROTO, "both Content-Length and Transfer-Encoding");
		/* RFC 9112 section 6.1: an HTTP/1.0 recipient's framing is faulty. */
		if (h->http_minor == 0)
			return fail(err, -EPROTO, "Transfer-Encoding in an HTTP/1.0 message");
		if (te.last_chunked)
			h->body = HTTP_BODY_CHUNKED;
		else if (h->is_request)
			return fail(err, -EPROTO, "Transfer-Encoding not ending in chunked");
		else
			h->body = HTTP_BODY_CLOSE;
	} else if (have_cl) {
		h->body = cl ? HTTP_BODY_LENGTH : HTTP_BODY_NONE;
	} else {
		h->body = h->is_request ? HTTP_BODY_NONE : HTTP_BODY_CLOSE;
	}
	return 0;
}

static void set_keep_alive(struct http_head *h)
{
	if (http_head_has_token(h, "connection", "close"))
		h->keep_alive = 0;
	else if (h->http_minor >= 1)
		h->keep_alive = 1;
	else
		h->keep_alive = http_head_has_token(h, "connection", "keep-alive");
	if (h->body == HTTP_BODY_CLOSE)
		h->keep_alive = 0;
}

static void limits(const struct http_head_limits *lim, size_t *bytes, unsigned *fields)
{
	*bytes = lim && lim->max_head_bytes ? lim->max_head_bytes : HTTP_HEAD_DEFAULT_BYTES;
	*fields = lim && lim->max_headers ? lim->max_headers : HTTP_MAX_HEADERS;
	assert(*bytes <= HTTP_HEAD_MAX_BYTES);
	assert(*fields <= HTTP_MAX_HEADERS);
}

/* The start line's exact shape, which libhttp-parser (non-strict) does not check:
 * "METHOD SP request-target SP HTTP/1.d" with single spaces, or "HTTP/1.d SP 3DIGIT
 * [SP reason-phrase]". The method's name is checked against the parser's afterwards. */
static int start_line(const uint8_t *l, size_t n, struct http_head *out, size_t *mlen,
		      const char **err)
{
	if (out->is_request) {
		const uint8_t *sp1 = memchr(l, ' ', n);
		if (!sp1 || n < 9 || l[n - 9] != ' ' || !version_ok(l + n - 8, &out->http_minor))
			return fail(err, -EPROTO, "bad request line");
		size_t tend = n - 9;
		*mlen = (size_t)(sp1 - l);
		if (*mlen + 1 >= tend || memchr(sp1 + 1, ' ', tend - *mlen - 1))
			return fail(err, -EPROTO, "bad request line");
		out->target = (const char *)sp1 + 1;
		out->target_len = tend - *mlen - 1;
	} else {
		if (n < 12 || !version_ok(l, &out->http_minor) || l[8] != ' ' || l[9] < '1' ||
		    l[9] > '9' || l[10] < '0' || l[10] > '9' || l[11] < '0' || l[11] > '9' ||
		    (n > 12 && l[12] != ' '))
			return fail(err, -EPROTO, "bad status line");
		out->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
		out->reason = (const char *)l + (n > 12 ? 13 : n);
		out->reason_len = n > 12 ? n - 13 : 0;
	}
	out->http_major = 1;
	return 0;
}

/* Both passes, common to requests and responses. Returns 0 when the head is complete. Our
 * own checks of a complete head come first so their precise reasons win over the library's
 * (it refuses a repeated Content-Length, for one, as "unexpected content-length header"). */
static int parse_common(const uint8_t *buf, size_t len, int is_request,
			const struct http_head_limits *lim, struct http_head *out,
			const char **err)
{
	size_t max_bytes, mlen = 0;
	struct scan s = {.buf = buf, .out = out};
	limits(lim, &max_bytes, &s.max_headers);
	s.limit = len < max_bytes ? len : max_bytes;
	memset(out, 0, offsetof(struct http_head, headers));
	out->is_request = is_request;

	int r = scan_lines(&s, is_request, err);
	if (r < 0 && r != -EAGAIN)
		return r;
	int complete = r == 0;
	if (complete) {
		out->head_len = s.head_len;
		r = start_line(buf + s.start, s.start_len, out, &mlen, err);
		if (r < 0)
			return r;
		r = check_framing(out, err);
		if (r < 0)
			return r;
	}

	struct pctx pc;
	http_parser p;
	r = run_parser(is_request ? HTTP_REQUEST : HTTP_RESPONSE, buf,
		       complete ? s.head_len : s.limit, complete, &pc, &p, err);
	if (r < 0)
		return r;
	if (!complete)
		return len >= max_bytes ? fail(err, -EMSGSIZE, "head larger than the limit")
					: -EAGAIN;

	/* Both passes must have read the same message. */
	if (pc.fields != out->n_headers || p.http_major != 1 || p.http_minor != out->http_minor)
		return fail(err, -EPROTO, "malformed head");
	if (is_request) {
		out->method = p.method;
		out->method_str = http_method_str(p.method);
		if (mlen != strlen(out->method_str) || memcmp(buf + s.start, out->method_str, mlen))
			return fail(err, -EPROTO, "bad request line");
		if (pc.url != out->target || pc.url_len != out->target_len)
			return fail(err, -EPROTO, "bad request-target");
	} else if ((unsigned)out->status != p.status_code) {
		return fail(err, -EPROTO, "bad status line");
	}
	return 0;
}

int http_parse_request_head(const uint8_t *buf, size_t len, const struct http_head_limits *lim,
			    struct http_head *out, const char **err)
{
	int r = parse_common(buf, len, 1, lim, out, err);
	if (r < 0)
		return r;

	r = check_target(out, err);
	if (r < 0)
		return r;
	const char *hv = NULL;
	size_t hn = 0;
	if (http_head_get(out, "host", 1, &hv, &hn))
		return fail(err, -EPROTO, "several Host fields");
	if (http_head_get(out, "host", 0, &hv, &hn)) {
		if (!authority_valid(hv, hn, 0, 1))
			return fail(err, -EPROTO, "invalid Host");
		if (!out->host) {
			out->host = hv;
			out->host_len = hn;
		}
	} else if (out->http_minor >= 1) {
		return fail(err, -EPROTO, "missing Host field");
	}
	set_keep_alive(out);
	if (out->http_minor >= 1) {
		out->expect_continue = http_head_has_token(out, "expect", "100-continue");
		out->upgrade = http_head_get(out, "upgrade", 0, &hv, &hn) &&
			       http_head_has_token(out, "connection", "upgrade");
	}
	return (int)out->head_len;
}

int http_parse_response_head(const uint8_t *buf, size_t len, int req_method,
			     const struct http_head_limits *lim, struct http_head *out,
			     const char **err)
{
	int r = parse_common(buf, len, 0, lim, out, err);
	if (r < 0)
		return r;

	/* RFC 9112 section 6.3, rules 1 and 2: these never have a body, whatever the fields
	 * say. The fields were checked all the same; a HEAD response's Content-Length is the
	 * size a GET would have had. */
	int st = out->status;
	if (req_method == HTTP_HEAD || st < 200 || st == 204 || st == 304)
		out->body = HTTP_BODY_NONE;
	if (req_method == HTTP_CONNECT && st >= 200 && st < 300) {
		out->body = HTTP_BODY_NONE;
		out->upgrade = 1;
	}
	if (st == 101)
		out->upgrade = 1;
	set_keep_alive(out);
	if (out->upgrade)
		out->keep_alive = 0; /* the connection is no longer HTTP */
	return (int)out->head_len;
}
