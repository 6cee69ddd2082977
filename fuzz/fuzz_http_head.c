/* libFuzzer harness for HTTP/1.1 heads (core/http_head.c, over libhttp-parser). The first
 * input byte picks the limits and the method the response answers; the rest is parsed as a
 * request and as a response, from a heap copy of exactly its size so ASan sees any read past
 * it. Besides "no crash, no UB", an accepted head must be self-consistent: slices inside the
 * head, names that are tokens, values without CR/LF/NUL or edge whitespace, every field found
 * again by http_head_get, framing values that fit together; and every proper prefix of it,
 * as of any input still incomplete, must be -EAGAIN. */
#include "config.h"
#include "http_forward.h"
#include "http_head.h"
#include "http_request.h"

#include <event2/buffer.h>

#include <errno.h>
#include <http_parser.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                               \
	do {                                                                                   \
		if (!(x))                                                                      \
			__builtin_trap();                                                      \
	} while (0)

static const int methods[] = {HTTP_GET, HTTP_HEAD, HTTP_CONNECT, HTTP_POST};

static int parse(int is_request, const uint8_t *data, size_t n, int method,
		 const struct http_head_limits *lim, struct http_head *h, const char **err)
{
	uint8_t *p = malloc(n ? n : 1);
	if (!p)
		abort();
	memcpy(p, data, n);
	*err = NULL;
	int r = is_request ? http_parse_request_head(p, n, lim, h, err)
			   : http_parse_response_head(p, n, method, lim, h, err);
	free(p); /* h's slices now dangle: callers look only at numbers */
	return r;
}

static int inside(const char *p, size_t n, const uint8_t *buf, size_t len)
{
	return p && (const uint8_t *)p >= buf && (const uint8_t *)p + n <= buf + len;
}

static int lower(int c)
{
	return c >= 'A' && c <= 'Z' ? c + 32 : c;
}

static int same_name(const struct http_header *a, const struct http_header *b)
{
	if (a->name_len != b->name_len)
		return 0;
	for (size_t i = 0; i < a->name_len; i++)
		if (lower((uint8_t)a->name[i]) != lower((uint8_t)b->name[i]))
			return 0;
	return 1;
}

static void check_head(const struct http_head *h, int r, const uint8_t *buf, size_t len,
		       size_t max_bytes, unsigned max_fields)
{
	CHECK((size_t)r == h->head_len && h->head_len <= len && h->head_len <= max_bytes);
	CHECK(h->head_len >= 4 && memcmp(buf + h->head_len - 4, "\r\n\r\n", 4) == 0);
	CHECK(h->n_headers <= max_fields);
	CHECK(h->http_major == 1 && h->http_minor <= 9);
	for (unsigned i = 0; i < h->n_headers; i++) {
		const struct http_header *f = &h->headers[i];
		CHECK(inside(f->name, f->name_len, buf, h->head_len));
		CHECK(inside(f->value, f->value_len, buf, h->head_len));
		CHECK(http_token_valid(f->name, f->name_len));
		for (size_t k = 0; k < f->value_len; k++)
			CHECK(f->value[k] != '\r' && f->value[k] != '\n' && f->value[k] != 0);
		if (f->value_len) {
			CHECK(f->value[0] != ' ' && f->value[0] != '\t');
			CHECK(f->value[f->value_len - 1] != ' ' && f->value[f->value_len - 1] != '\t');
		}
		/* The field is the nth of its name, and http_head_get says so. */
		unsigned nth = 0;
		for (unsigned j = 0; j < i; j++)
			nth += same_name(&h->headers[j], f);
		char name[HTTP_HEAD_MAX_BYTES + 1];
		memcpy(name, f->name, f->name_len);
		name[f->name_len] = '\0';
		const char *v = NULL;
		size_t vn = 0;
		CHECK(http_head_get(h, name, nth, &v, &vn) == 1);
		CHECK(v == f->value && vn == f->value_len);
	}
	switch (h->body) {
	case HTTP_BODY_NONE:
		break;
	case HTTP_BODY_LENGTH:
		CHECK(h->content_length > 0);
		break;
	case HTTP_BODY_CHUNKED:
		CHECK(h->content_length == -1 && h->http_minor >= 1);
		break;
	case HTTP_BODY_CLOSE:
		CHECK(!h->is_request && !h->keep_alive);
		break;
	default:
		CHECK(0);
	}
	if (h->is_request) {
		CHECK(h->method_str && inside(h->target, h->target_len, buf, h->head_len));
		CHECK(h->target_len > 0);
		CHECK(h->http_minor == 0 || h->host);
		CHECK(!h->host || inside(h->host, h->host_len, buf, h->head_len));
		CHECK(h->body != HTTP_BODY_CLOSE);
	} else {
		CHECK(h->status >= 100 && h->status <= 999);
		CHECK(inside(h->reason, h->reason_len, buf, h->head_len));
		if (h->status < 200 || h->status == 204 || h->status == 304)
			CHECK(h->body == HTTP_BODY_NONE);
	}
}

/* What the edge sends on must itself be one valid head with the same meaning: the same
 * method or status and the same framing, so the service (or the user) and the edge cannot
 * read two different messages out of it. The router's view of the host must fit. */
static void check_forwarded(const struct http_head *h, int method)
{
	struct evbuffer *out = evbuffer_new();
	if (!out)
		abort();
	int rc;
	if (h->is_request) {
		struct proxyd_request r;
		if (http_request_init(&r, h, "192.0.2.1:1", "http", NULL) == 0) {
			const char *v;
			size_t n;
			CHECK(!h->host || http_request_field(&r, PROXYD_REQ_HOST, &v, &n) == 1);
			CHECK(r.host_len < sizeof r.host);
		}
		struct http_fwd_request o = {.client = "192.0.2.1:1", .proto = "https"};
		rc = http_forward_request_head(out, h, &o);
	} else {
		struct http_fwd_response o = {.close = 1};
		rc = http_forward_response_head(out, h, &o);
	}
	CHECK(rc == 0);
	size_t n = evbuffer_get_length(out);
	uint8_t *copy = malloc(n);
	if (!copy)
		abort();
	evbuffer_remove(out, copy, n);
	evbuffer_free(out);
	/* The forwarded head may have grown past the input's limits: parse it with the largest. */
	struct http_head_limits big = {.max_head_bytes = HTTP_HEAD_MAX_BYTES, .max_headers = HTTP_MAX_HEADERS};
	struct http_head f;
	const char *err = NULL;
	int r = h->is_request ? http_parse_request_head(copy, n, &big, &f, &err)
			      : http_parse_response_head(copy, n, method, &big, &f, &err);
	/* Added fields can push a head at the limits over them; anything else must parse. */
	if (r != -EMSGSIZE) {
		CHECK(r == (int)n);
		CHECK(f.body == h->body);
		CHECK(f.content_length == h->content_length || h->body != HTTP_BODY_LENGTH);
		if (h->is_request)
			CHECK(f.method == h->method);
		else
			CHECK(f.status == h->status);
	}
	free(copy);
}

static void one(int is_request, const uint8_t *data, size_t size, int method,
		const struct http_head_limits *lim, size_t max_bytes, unsigned max_fields)
{
	struct http_head h;
	const char *err;
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		abort();
	memcpy(buf, data, size);
	err = NULL;
	int r = is_request ? http_parse_request_head(buf, size, lim, &h, &err)
			   : http_parse_response_head(buf, size, method, lim, &h, &err);
	CHECK(r > 0 || r == -EAGAIN || r == -EPROTO || r == -EMSGSIZE);
	CHECK(r != -EPROTO || err != NULL);
	CHECK(r != -EMSGSIZE || err != NULL);
	if (r > 0) {
		check_head(&h, r, buf, size, max_bytes, max_fields);
		check_forwarded(&h, method);
		/* One byte short, and half-way: not there yet. */
		struct http_head h2;
		CHECK(parse(is_request, data, (size_t)r - 1, method, lim, &h2, &err) == -EAGAIN);
		CHECK(parse(is_request, data, (size_t)r / 2, method, lim, &h2, &err) == -EAGAIN);
	} else if (r == -EAGAIN) {
		CHECK(size < max_bytes);
		struct http_head h2;
		CHECK(parse(is_request, data, size / 2, method, lim, &h2, &err) == -EAGAIN);
	}
	free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	struct http_head_limits lim = {
		.max_head_bytes = sel & 1 ? 256 : 0,
		.max_headers = sel & 2 ? 4 : 0,
	};
	size_t max_bytes = lim.max_head_bytes ? lim.max_head_bytes : HTTP_HEAD_DEFAULT_BYTES;
	unsigned max_fields = lim.max_headers ? lim.max_headers : HTTP_MAX_HEADERS;
	int method = methods[(sel >> 2) & 3];
	one(1, data, size, method, &lim, max_bytes, max_fields);
	one(0, data, size, method, &lim, max_bytes, max_fields);
	return 0;
}
