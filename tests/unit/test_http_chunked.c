/* The chunked decoder: bodies fed whole, split at every position and byte by byte give the
 * same end and the same payload; extensions and trailers; the end leaves the next message's
 * bytes alone; every rejection rule and limit; counting payload without reading it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "http_chunked.h"

struct result {
	int rc;		/* 1 done, 0 more needed, or the error */
	size_t end;	/* bytes of the body (rc 1) or where the error is */
	char data[256]; /* payload */
	size_t data_len;
	const char *err;
};

/* Feed s in the pieces given by cuts (increasing offsets, ending with strlen), each piece an
 * exact-size heap copy. With spans, collect the payload through data_off/data_len; without,
 * use the raw-forwarding mode. */
static void run(const char *s, size_t len, const size_t *cuts, size_t ncuts, int spans,
		const struct http_head_limits *lim, struct result *r)
{
	struct http_chunked c;
	http_chunked_init(&c, lim);
	memset(r, 0, sizeof *r);
	size_t pos = 0;
	for (size_t k = 0; k < ncuts && r->rc == 0; k++) {
		size_t n = cuts[k] - pos;
		uint8_t *p = malloc(n ? n : 1);
		assert_non_null(p);
		memcpy(p, s + pos, n);
		size_t off = 0;
		do {
			size_t used = 0, doff = 99, dlen = 99;
			int rc = spans ? http_chunked_feed(&c, p + off, n - off, &used, &doff, &dlen,
							   &r->err)
				       : http_chunked_feed(&c, p + off, n - off, &used, NULL, NULL,
							   &r->err);
			assert_true(used <= n - off);
			if (spans) {
				assert_true(doff + dlen <= used);
				assert_true(r->data_len + dlen <= sizeof r->data);
				memcpy(r->data + r->data_len, p + off + doff, dlen);
				r->data_len += dlen;
				if (rc == 0 && off + used < n)
					assert_true(dlen > 0); /* stopped early only for a span */
			} else if (rc == 0) {
				assert_int_equal(used, n - off);
			}
			off += used;
			r->rc = rc;
		} while (r->rc == 0 && off < n);
		r->end = pos + off;
		pos = cuts[k];
		free(p);
	}
	if (r->rc == 0)
		r->end = len;
}

static void whole(const char *s, size_t len, int spans, struct result *r)
{
	run(s, len, &len, 1, spans, NULL, r);
}

/* The reference: fed whole. Every split into two pieces, byte by byte, and both modes must
 * agree with it. */
static void check_all_splits(const char *s, size_t len, int want_rc, size_t want_end,
			     const char *want_data)
{
	struct result ref, r;
	whole(s, len, 1, &ref);
	if (ref.rc != want_rc || ref.end != want_end)
		fail_msg("'%s': rc %d end %zu (%s), want %d %zu", s, ref.rc, ref.end,
			 ref.err ? ref.err : "-", want_rc, want_end);
	if (want_data) {
		assert_int_equal(ref.data_len, strlen(want_data));
		assert_memory_equal(ref.data, want_data, ref.data_len);
	}
	whole(s, len, 0, &r);
	assert_int_equal(r.rc, ref.rc);
	assert_int_equal(r.end, ref.end);
	for (size_t cut = 0; cut <= len; cut++) {
		for (int spans = 0; spans < 2; spans++) {
			size_t cuts[2] = {cut, len};
			run(s, len, cuts, 2, spans, NULL, &r);
			if (r.rc != ref.rc || r.end != ref.end)
				fail_msg("'%s' cut at %zu: rc %d end %zu, want %d %zu", s, cut, r.rc,
					 r.end, ref.rc, ref.end);
			if (spans) {
				assert_int_equal(r.data_len, ref.data_len);
				assert_memory_equal(r.data, ref.data, r.data_len);
			}
		}
	}
	size_t *bytes = malloc((len + 1) * sizeof *bytes);
	assert_non_null(bytes);
	for (size_t i = 0; i < len; i++)
		bytes[i] = i + 1;
	run(s, len, bytes, len, 1, NULL, &r);
	assert_int_equal(r.rc, ref.rc);
	assert_int_equal(r.end, ref.end);
	assert_int_equal(r.data_len, ref.data_len);
	assert_memory_equal(r.data, ref.data, r.data_len);
	free(bytes);
}

static void good(const char *s, const char *payload)
{
	size_t n = strlen(s);
	check_all_splits(s, n, 1, n, payload);
}

static void bad(const char *s, int rc, const char *why)
{
	struct result r;
	whole(s, strlen(s), 1, &r);
	if (r.rc != rc || !r.err || !strstr(r.err, why))
		fail_msg("'%s': rc %d (%s), want %d (%s)", s, r.rc, r.err ? r.err : "-", rc, why);
	check_all_splits(s, strlen(s), rc, r.end, NULL);
}

static void simple_bodies(void **state)
{
	good("5\r\nhello\r\n0\r\n\r\n", "hello");
	good("0\r\n\r\n", "");
	good("1\r\na\r\n2\r\nbc\r\n3\r\ndef\r\n0\r\n\r\n", "abcdef");
	good("A\r\n0123456789\r\n0\r\n\r\n", "0123456789");
	good("a\r\n0123456789\r\n000\r\n\r\n", "0123456789");
	good("0005\r\nhello\r\n0\r\n\r\n", "hello");
	good("2\r\n\r\n\r\n0\r\n\r\n", "\r\n"); /* payload is opaque, CRLF included */
	const char bin[] = "3\r\n\0\xff\n\r\n0\r\n\r\n";
	check_all_splits(bin, sizeof bin - 1, 1, sizeof bin - 1, NULL);
}

static void extensions_and_trailers(void **state)
{
	good("5;name=value\r\nhello\r\n0\r\n\r\n", "hello");
	good("5 ;a\r\nhello\r\n0;last\r\n\r\n", "hello");
	good("5\t; a = \"q;\\\" s\"\r\nhello\r\n0\r\n\r\n", "hello");
	good("5\r\nhello\r\n0\r\nX-Checksum: abc\r\nX-Empty:\r\n\r\n", "hello");
	good("0\r\nServer-Timing: db;dur=53, app;dur=47.2\r\n\r\n", "");
}

static void stops_at_the_end(void **state)
{
	const char *s = "3\r\nabc\r\n0\r\n\r\nGET / HTTP/1.1\r\n\r\n";
	size_t body = strlen("3\r\nabc\r\n0\r\n\r\n");
	check_all_splits(s, strlen(s), 1, body, "abc");

	struct http_chunked c;
	size_t used;
	http_chunked_init(&c, NULL);
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)s, strlen(s), &used, NULL, NULL,
					   NULL),
			 1);
	assert_int_equal(used, body);
	assert_true(http_chunked_done(&c));
	/* After the end: 1 again, nothing consumed. */
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)s + used, 5, &used, NULL, NULL,
					   NULL),
			 1);
	assert_int_equal(used, 0);
}

static void rejected(void **state)
{
	bad("x\r\n", -EPROTO, "not a hex number");
	bad("\r\n", -EPROTO, "not a hex number");
	bad(";x\r\n", -EPROTO, "not a hex number");
	bad("-5\r\n", -EPROTO, "not a hex number");
	bad("+5\r\nhello\r\n", -EPROTO, "not a hex number");
	bad(" 5\r\nhello\r\n", -EPROTO, "not a hex number");
	bad("0x5\r\nhello\r\n", -EPROTO, "invalid chunk size line");
	bad("5 \r\nhello\r\n0\r\n\r\n", -EPROTO, "whitespace after the chunk size");
	bad("5 x\r\n", -EPROTO, "whitespace after the chunk size");
	bad("5\nhello\r\n0\r\n\r\n", -EPROTO, "bare LF");
	bad("5;a\nhello\r\n", -EPROTO, "bare LF");
	bad("5\rhello\r\n", -EPROTO, "bare CR");
	bad("5;a\x01\r\nhello\r\n", -EPROTO, "control character in a chunk extension");
	bad("5\r\nhelloX\r\n0\r\n\r\n", -EPROTO, "no CRLF after chunk data");
	bad("5\r\nhello\n0\r\n\r\n", -EPROTO, "no CRLF after chunk data");
	bad("5\r\nhello\r0\r\n\r\n", -EPROTO, "no CRLF after chunk data");
	bad("3\r\nhello\r\n0\r\n\r\n", -EPROTO, "no CRLF after chunk data");
	bad("10000000000000000\r\n", -EPROTO, "chunk size too large");
	bad("8000000000000000\r\n", -EPROTO, "chunk size too large");
	bad("0\r\n\n", -EPROTO, "bare LF");
	bad("0\r\n\r\r\n", -EPROTO, "bare CR");
	bad("0\r\nX: y\n\r\n", -EPROTO, "bare LF");
	bad("0\r\nX : y\r\n\r\n", -EPROTO, "whitespace before the colon");
	bad("0\r\nX: y\r\n z\r\n\r\n", -EPROTO, "obsolete line folding");
	bad("0\r\n: y\r\n\r\n", -EPROTO, "empty trailer name");
	bad("0\r\nX(: y\r\n\r\n", -EPROTO, "invalid trailer name");
	bad("0\r\nX\r\n\r\n", -EPROTO, "invalid trailer name");
	bad("0\r\n\x80: y\r\n\r\n", -EPROTO, "invalid trailer name");
	bad("0\r\nX: a\x7f\r\n\r\n", -EPROTO, "control character in a trailer value");
	bad("0\r\nX: a\rb\r\n\r\n", -EPROTO, "bare CR in trailers");

	/* A NUL needs an explicit length. */
	const char nul[] = "0\r\nX: a\0\r\n\r\n";
	struct result r;
	whole(nul, sizeof nul - 1, 1, &r);
	assert_int_equal(r.rc, -EPROTO);
	assert_non_null(strstr(r.err, "control character"));
	assert_int_equal(r.end, 7);
}

static void largest_sizes(void **state)
{
	/* 7fffffffffffffff is the largest size taken; counting through it costs nothing. */
	struct http_chunked c;
	size_t used;
	const char *err = NULL;
	http_chunked_init(&c, NULL);
	const char *s = "7fffffffffffffff\r\n";
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)s, strlen(s), &used, NULL, NULL,
					   &err),
			 0);
	assert_int_equal(http_chunked_data_left(&c), INT64_MAX);
	http_chunked_skip(&c, INT64_MAX - 1);
	assert_int_equal(http_chunked_data_left(&c), 1);
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)"x\r\n0\r\n\r\n", 8, &used, NULL,
					   NULL, &err),
			 1);
	assert_int_equal(used, 8);
	/* Leading zeros do not count towards the size. */
	http_chunked_init(&c, NULL);
	s = "00000000000000000000000000000001\r\nx\r\n0\r\n\r\n";
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)s, strlen(s), &used, NULL, NULL,
					   &err),
			 1);
}

static void limits(void **state)
{
	/* The chunk-size line: HTTP_CHUNK_LINE_MAX bytes with its CRLF. */
	char *s = malloc(3 * HTTP_CHUNK_LINE_MAX);
	assert_non_null(s);
	strcpy(s, "1;");
	memset(s + 2, 'e', HTTP_CHUNK_LINE_MAX - 4);
	strcpy(s + HTTP_CHUNK_LINE_MAX - 2, "\r\nx\r\n0\r\n\r\n");
	struct result r;
	whole(s, strlen(s), 1, &r);
	assert_int_equal(r.rc, 1);
	strcpy(s, "1;");
	memset(s + 2, 'e', HTTP_CHUNK_LINE_MAX - 3);
	strcpy(s + HTTP_CHUNK_LINE_MAX - 1, "\r\nx\r\n0\r\n\r\n");
	whole(s, strlen(s), 1, &r);
	assert_int_equal(r.rc, -EMSGSIZE);
	assert_non_null(strstr(r.err, "chunk size line too long"));
	assert_int_equal(r.end, HTTP_CHUNK_LINE_MAX);
	/* Limits per line: the next line has its own. */
	strcpy(s, "1;");
	memset(s + 2, 'e', HTTP_CHUNK_LINE_MAX - 4);
	strcpy(s + HTTP_CHUNK_LINE_MAX - 2, "\r\nx\r\n1;");
	size_t n = strlen(s);
	memset(s + n, 'e', HTTP_CHUNK_LINE_MAX - 4);
	strcpy(s + n + HTTP_CHUNK_LINE_MAX - 4, "\r\ny\r\n0\r\n\r\n");
	whole(s, strlen(s), 1, &r);
	assert_int_equal(r.rc, 1);
	free(s);

	/* Trailers: bytes (field lines and the last CRLF) and field lines. */
	struct http_head_limits lim = {.max_head_bytes = 20, .max_headers = 2};
	const char *t = "0\r\nA: 1\r\nB: 2345678\r\n\r\n"; /* 6 + 12 + 2 = 20 trailer bytes */
	size_t tl = strlen(t);
	run(t, tl, &tl, 1, 1, &lim, &r);
	assert_int_equal(r.rc, 1);
	t = "0\r\nA: 1\r\nB: 23456789\r\n\r\n"; /* 21 */
	tl = strlen(t);
	run(t, tl, &tl, 1, 1, &lim, &r);
	assert_int_equal(r.rc, -EMSGSIZE);
	assert_non_null(strstr(r.err, "trailer section too large"));
	t = "0\r\nA:\r\nB:\r\nC:\r\n\r\n";
	tl = strlen(t);
	run(t, tl, &tl, 1, 1, &lim, &r);
	assert_int_equal(r.rc, -EMSGSIZE);
	assert_non_null(strstr(r.err, "too many trailer fields"));
}

static void errors_stick(void **state)
{
	struct http_chunked c;
	size_t used;
	const char *err = NULL;
	http_chunked_init(&c, NULL);
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)"5\r\nab", 5, &used, NULL, NULL,
					   &err),
			 0);
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)"cdeZ", 4, &used, NULL, NULL,
					   &err),
			 -EPROTO);
	assert_int_equal(used, 3);
	err = NULL;
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)"\r\n", 2, &used, NULL, NULL,
					   &err),
			 -EPROTO);
	assert_int_equal(used, 0);
	assert_non_null(strstr(err, "no CRLF after chunk data"));
	assert_false(http_chunked_done(&c));
}

static void spans_and_skip(void **state)
{
	/* Spans: one per call, then the caller calls again for the rest. */
	struct http_chunked c;
	size_t used, off, len;
	const char *s = "3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
	http_chunked_init(&c, NULL);
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)s, strlen(s), &used, &off, &len,
					   NULL),
			 0);
	assert_int_equal(off, 3);
	assert_int_equal(len, 3);
	assert_int_equal(used, 6);
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)s + 6, strlen(s) - 6, &used, &off,
					   &len, NULL),
			 0);
	assert_int_equal(off, 5);
	assert_int_equal(len, 2);
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)s + 13, strlen(s) - 13, &used,
					   &off, &len, NULL),
			 1);
	assert_int_equal(len, 0);
	assert_int_equal(13 + used, strlen(s));

	/* data_left: a caller moves payload without looking at it, then skips it. */
	http_chunked_init(&c, NULL);
	assert_int_equal(http_chunked_data_left(&c), 0);
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)"a\r\n", 3, &used, NULL, NULL,
					   NULL),
			 0);
	assert_int_equal(http_chunked_data_left(&c), 10);
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)"0123", 4, &used, NULL, NULL,
					   NULL),
			 0);
	assert_int_equal(http_chunked_data_left(&c), 6);
	http_chunked_skip(&c, 6);
	assert_int_equal(http_chunked_data_left(&c), 0);
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)"\r\n0\r\n\r\n", 7, &used, NULL,
					   NULL, NULL),
			 1);
	assert_int_equal(used, 7);
}

static void big_body_in_pieces(void **state)
{
	/* 1 MiB chunks fed in 1000-byte reads: the payload spans add up. */
	struct http_chunked c;
	http_chunked_init(&c, NULL);
	uint8_t *buf = malloc(1000);
	assert_non_null(buf);
	memset(buf, 'z', 1000);
	uint64_t total = 0;
	for (int chunk = 0; chunk < 3; chunk++) {
		size_t used, off, len;
		assert_int_equal(http_chunked_feed(&c, (const uint8_t *)"100000\r\n", 8, &used, &off,
						   &len, NULL),
				 0);
		uint64_t left = 0x100000;
		while (left) {
			size_t n = left < 1000 ? (size_t)left : 1000;
			assert_int_equal(http_chunked_feed(&c, buf, n, &used, &off, &len, NULL), 0);
			assert_int_equal(used, n);
			assert_int_equal(len, n);
			total += len;
			left -= n;
		}
		assert_int_equal(http_chunked_feed(&c, (const uint8_t *)"\r\n", 2, &used, &off, &len,
						   NULL),
				 0);
	}
	size_t used;
	assert_int_equal(http_chunked_feed(&c, (const uint8_t *)"0\r\n\r\n", 5, &used, NULL, NULL,
					   NULL),
			 1);
	assert_int_equal(total, 3 * 0x100000);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(simple_bodies),
		cmocka_unit_test(extensions_and_trailers),
		cmocka_unit_test(stops_at_the_end),
		cmocka_unit_test(rejected),
		cmocka_unit_test(largest_sizes),
		cmocka_unit_test(limits),
		cmocka_unit_test(errors_stick),
		cmocka_unit_test(spans_and_skip),
		cmocka_unit_test(big_body_in_pieces),
	};
	return cmocka_run_group_tests_name("http_chunked", tests, NULL, NULL);
}
