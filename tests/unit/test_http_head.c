/* HTTP/1.1 heads: fields and repeated fields, framing of requests and responses (HEAD, 1xx,
 * 204, 304, CONNECT, close-delimited), keep-alive, upgrade, Expect, Host, the limits, every
 * rejection rule, and incremental reading where each prefix gives -EAGAIN. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <http_parser.h>

#include "http_head.h"

static struct http_head h;
static const char *err;

static int req_n(const char *s, size_t n)
{
	err = NULL;
	memset(&h, 0xee, sizeof h);
	return http_parse_request_head((const uint8_t *)s, n, NULL, &h, &err);
}

static int req(const char *s)
{
	return req_n(s, strlen(s));
}

static int resp_m(const char *s, int method)
{
	err = NULL;
	memset(&h, 0xee, sizeof h);
	return http_parse_response_head((const uint8_t *)s, strlen(s), method, NULL, &h, &err);
}

static int resp(const char *s)
{
	return resp_m(s, HTTP_GET);
}

static int slice_is(const char *p, size_t n, const char *want)
{
	return p && n == strlen(want) && memcmp(p, want, n) == 0;
}

static void expect_field(const char *name, unsigned nth, const char *want)
{
	const char *v = NULL;
	size_t n = 0;
	assert_int_equal(http_head_get(&h, name, nth, &v, &n), 1);
	if (!slice_is(v, n, want))
		fail_msg("%s[%u] is '%.*s', want '%s'", name, nth, (int)n, v, want);
}

static void expect_rc(int rc, int want, const char *why)
{
	if (rc != want)
		fail_msg("rc %d, want %d (err %s, want %s)", rc, want, err ? err : "-", why);
	assert_non_null(err);
	if (!strstr(err, why))
		fail_msg("err '%s', want '%s'", err, why);
}

static void bad_req_n(const char *s, size_t n, const char *why)
{
	expect_rc(req_n(s, n), -EPROTO, why);
}

static void bad_req(const char *s, const char *why)
{
	expect_rc(req(s), -EPROTO, why);
}

static void bad_resp(const char *s, const char *why)
{
	expect_rc(resp(s), -EPROTO, why);
}

/* Every proper prefix is -EAGAIN and the whole is head_len: a head read a byte at a time. */
static void incremental(const char *s, int is_request)
{
	size_t n = strlen(s);
	int want = is_request ? req(s) : resp(s);
	assert_true(want > 0);
	/* An exact-size copy per prefix, so ASan sees any read past it. */
	for (size_t i = 0; i < (size_t)want; i++) {
		uint8_t *p = malloc(i ? i : 1);
		assert_non_null(p);
		memcpy(p, s, i);
		struct http_head hh;
		const char *e = NULL;
		int r = is_request ? http_parse_request_head(p, i, NULL, &hh, &e)
				   : http_parse_response_head(p, i, HTTP_GET, NULL, &hh, &e);
		if (r != -EAGAIN)
			fail_msg("prefix %zu of '%s': %d (%s)", i, s, r, e ? e : "-");
		free(p);
	}
	assert_true((size_t)want <= n);
}

static void simple_get(void **state)
{
	const char *s = "GET /index.html?q=1 HTTP/1.1\r\nHost: example.com\r\n"
			"User-Agent: curl/7.88\r\nAccept: */*\r\n\r\n";
	assert_int_equal(req(s), (int)strlen(s));
	assert_int_equal(h.head_len, strlen(s));
	assert_true(h.is_request);
	assert_int_equal(h.method, HTTP_GET);
	assert_string_equal(h.method_str, "GET");
	assert_true(slice_is(h.target, h.target_len, "/index.html?q=1"));
	assert_int_equal(h.http_major, 1);
	assert_int_equal(h.http_minor, 1);
	assert_true(slice_is(h.host, h.host_len, "example.com"));
	assert_int_equal(h.n_headers, 3);
	assert_true(slice_is(h.headers[1].name, h.headers[1].name_len, "User-Agent"));
	assert_true(slice_is(h.headers[1].value, h.headers[1].value_len, "curl/7.88"));
	assert_int_equal(h.body, HTTP_BODY_NONE);
	assert_int_equal(h.content_length, -1);
	assert_true(h.keep_alive);
	assert_false(h.upgrade);
	assert_false(h.expect_continue);
	expect_field("accept", 0, "*/*");
	expect_field("HOST", 0, "example.com");
	const char *v;
	size_t n;
	assert_int_equal(http_head_get(&h, "Accept", 1, &v, &n), 0);
	assert_int_equal(http_head_get(&h, "Cookie", 0, &v, &n), 0);
}

static void slices_point_into_buffer(void **state)
{
	const char *s = "POST /up HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhelloGET";
	int r = req(s);
	assert_int_equal(r, (int)strlen(s) - 8);
	assert_memory_equal(s + r, "hello", 5); /* the body starts at head_len */
	assert_ptr_equal(h.target, s + 5);
	assert_ptr_equal(h.headers[0].name, s + 19);
	assert_ptr_equal(h.host, s + 25);
	assert_int_equal(h.body, HTTP_BODY_LENGTH);
	assert_int_equal(h.content_length, 5);
}

static void values_trimmed(void **state)
{
	const char *s = "GET / HTTP/1.1\r\nHost:h\r\nX-A:  a  b \t\r\nX-Empty:\r\nX-Sp:   \r\n"
			"X-Obs: caf\xc3\xa9\r\nX-Tab:\tv\t\r\n\r\n";
	assert_int_equal(req(s), (int)strlen(s));
	expect_field("host", 0, "h");
	expect_field("x-a", 0, "a  b");
	expect_field("x-empty", 0, "");
	expect_field("x-sp", 0, "");
	expect_field("x-obs", 0, "caf\xc3\xa9"); /* obs-text passes through */
	expect_field("x-tab", 0, "v");
}

static void set_cookie_twenty(void **state)
{
	char s[4096];
	size_t n = (size_t)snprintf(s, sizeof s, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n");
	for (int i = 0; i < 20; i++)
		n += (size_t)snprintf(s + n, sizeof s - n,
				      "Set-Cookie: c%d=v%d; Path=/; HttpOnly\r\n", i, i);
	n += (size_t)snprintf(s + n, sizeof s - n, "\r\n");
	assert_int_equal(resp(s), (int)n);
	assert_int_equal(h.n_headers, 21);
	for (unsigned i = 0; i < 20; i++) {
		char want[64];
		snprintf(want, sizeof want, "c%u=v%u; Path=/; HttpOnly", i, i);
		expect_field(i % 2 ? "set-cookie" : "Set-Cookie", i, want);
	}
	const char *v;
	size_t vn;
	assert_int_equal(http_head_get(&h, "set-cookie", 20, &v, &vn), 0);
	assert_int_equal(h.body, HTTP_BODY_NONE);
}

static void request_framing(void **state)
{
	assert_true(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_CHUNKED);
	assert_int_equal(h.content_length, -1);
	assert_true(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, Chunked\r\n\r\n") >
		    0);
	assert_int_equal(h.body, HTTP_BODY_CHUNKED);
	assert_true(req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n"
			"Transfer-Encoding: chunked\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_CHUNKED);
	assert_true(req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 0\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_NONE);
	assert_int_equal(h.content_length, 0);
	assert_true(req("PUT / HTTP/1.1\r\nHost: h\r\nContent-Length: 007\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_LENGTH);
	assert_int_equal(h.content_length, 7);
	assert_true(req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 9223372036854775799\r\n\r\n") >
		    0);
	assert_int_equal(h.content_length, 9223372036854775799LL);
	/* No Content-Length, no Transfer-Encoding: no body, whatever the method. */
	assert_true(req("POST / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_NONE);
}

static void response_framing(void **state)
{
	assert_true(resp("HTTP/1.1 200 OK\r\nContent-Length: 12\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_LENGTH);
	assert_int_equal(h.content_length, 12);
	assert_int_equal(h.status, 200);
	assert_true(slice_is(h.reason, h.reason_len, "OK"));
	assert_true(h.keep_alive);

	assert_true(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_CHUNKED);
	assert_true(h.keep_alive);

	/* Neither: until the server closes, and then the connection is done. */
	assert_true(resp("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_CLOSE);
	assert_false(h.keep_alive);
	/* A coding other than chunked last: also until close (RFC 9112 6.3 rule 4). */
	assert_true(resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_CLOSE);
	assert_false(h.keep_alive);
	assert_true(resp("HTTP/1.0 200 OK\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_CLOSE);
	assert_false(h.keep_alive);

	/* Reason phrases: empty, absent, with obs-text and tabs. */
	assert_true(resp("HTTP/1.1 404 \r\nContent-Length: 0\r\n\r\n") > 0);
	assert_int_equal(h.status, 404);
	assert_int_equal(h.reason_len, 0);
	assert_true(resp("HTTP/1.1 204\r\n\r\n") > 0);
	assert_int_equal(h.status, 204);
	assert_int_equal(h.reason_len, 0);
	assert_true(resp("HTTP/1.1 500 Erreur \xe9\tinterne\r\nContent-Length: 0\r\n\r\n") > 0);
	assert_true(slice_is(h.reason, h.reason_len, "Erreur \xe9\tinterne"));
	assert_true(resp("HTTP/1.1 599 Custom\r\nContent-Length: 0\r\n\r\n") > 0);
	assert_int_equal(h.status, 599);
}

static void no_body_responses(void **state)
{
	/* HEAD: the fields describe the GET's body, none follows. */
	assert_true(resp_m("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n", HTTP_HEAD) > 0);
	assert_int_equal(h.body, HTTP_BODY_NONE);
	assert_int_equal(h.content_length, 1234);
	assert_true(h.keep_alive);
	assert_true(resp_m("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", HTTP_HEAD) > 0);
	assert_int_equal(h.body, HTTP_BODY_NONE);
	assert_true(resp_m("HTTP/1.1 200 OK\r\n\r\n", HTTP_HEAD) > 0);
	assert_int_equal(h.body, HTTP_BODY_NONE);
	assert_true(h.keep_alive);

	const int none[] = {100, 102, 103, 204, 304};
	for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
		char s[128];
		snprintf(s, sizeof s, "HTTP/1.1 %d X\r\nContent-Length: 10\r\n\r\n", none[i]);
		assert_true(resp(s) > 0);
		assert_int_equal(h.status, none[i]);
		assert_int_equal(h.body, HTTP_BODY_NONE);
		assert_false(h.upgrade);
		assert_true(h.keep_alive);
	}
	assert_true(resp("HTTP/1.1 304 Not Modified\r\nTransfer-Encoding: chunked\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_NONE);
	assert_true(resp("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_NONE);
	assert_true(h.keep_alive);
	/* The same 200 to a GET is close-delimited. */
	assert_true(resp("HTTP/1.1 200 OK\r\n\r\n") > 0);
	assert_int_equal(h.body, HTTP_BODY_CLOSE);
}

static void connect_and_upgrade_responses(void **state)
{
	assert_true(resp("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
			 "Connection: Upgrade\r\n\r\n") > 0);
	assert_true(h.upgrade);
	assert_int_equal(h.body, HTTP_BODY_NONE);
	assert_false(h.keep_alive);
	/* Upgrade in a 200 only announces support. */
	assert_true(resp("HTTP/1.1 200 OK\r\nUpgrade: h2c\r\nContent-Length: 0\r\n\r\n") > 0);
	assert_false(h.upgrade);
	assert_true(resp_m("HTTP/1.1 200 Connection established\r\n\r\n", HTTP_CONNECT) > 0);
	assert_true(h.upgrade);
	assert_int_equal(h.body, HTTP_BODY_NONE);
	assert_true(resp_m("HTTP/1.1 407 Auth\r\nContent-Length: 3\r\n\r\n", HTTP_CONNECT) > 0);
	assert_false(h.upgrade);
	assert_int_equal(h.body, HTTP_BODY_LENGTH);
}

static void keep_alive_defaults(void **state)
{
	assert_true(req("GET / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	assert_true(h.keep_alive);
	assert_true(req("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") > 0);
	assert_false(h.keep_alive);
	assert_true(req("GET / HTTP/1.1\r\nHost: h\r\nConnection: foo, CLOSE\r\n\r\n") > 0);
	assert_false(h.keep_alive);
	assert_true(req("GET / HTTP/1.1\r\nHost: h\r\nConnection: closed\r\n\r\n") > 0);
	assert_true(h.keep_alive);
	assert_true(req("GET / HTTP/1.0\r\n\r\n") > 0);
	assert_false(h.keep_alive);
	assert_int_equal(h.http_minor, 0);
	assert_null(h.host); /* 1.0 may omit Host */
	assert_true(req("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") > 0);
	assert_true(h.keep_alive);
	assert_true(req("GET / HTTP/1.0\r\nConnection: keep-alive\r\nConnection: close\r\n\r\n") >
		    0);
	assert_false(h.keep_alive);
	assert_true(resp("HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\n") > 0);
	assert_false(h.keep_alive);
	assert_true(resp("HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\n") >
		    0);
	assert_true(h.keep_alive);
	assert_true(resp("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\n") > 0);
	assert_false(h.keep_alive);
	/* A minor version above 1 is read as 1.1. */
	assert_true(req("GET / HTTP/1.2\r\nHost: h\r\n\r\n") > 0);
	assert_int_equal(h.http_minor, 2);
	assert_true(h.keep_alive);
}

static void upgrade_requests(void **state)
{
	assert_true(req("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n"
			"Connection: keep-alive, Upgrade\r\nSec-WebSocket-Key: x\r\n\r\n") > 0);
	assert_true(h.upgrade);
	assert_true(http_head_has_token(&h, "connection", "keep-alive"));
	assert_true(http_head_has_token(&h, "CONNECTION", "upgrade"));
	assert_false(http_head_has_token(&h, "connection", "close"));
	/* Upgrade without "Connection: upgrade", and in HTTP/1.0, is ignored. */
	assert_true(req("GET /ws HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\n\r\n") > 0);
	assert_false(h.upgrade);
	assert_true(req("GET /ws HTTP/1.0\r\nUpgrade: websocket\r\nConnection: upgrade\r\n\r\n") > 0);
	assert_false(h.upgrade);
	assert_true(req("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\n\r\n") > 0);
	assert_false(h.upgrade);
}

static void expect_continue(void **state)
{
	assert_true(req("PUT /f HTTP/1.1\r\nHost: h\r\nContent-Length: 100\r\n"
			"Expect: 100-continue\r\n\r\n") > 0);
	assert_true(h.expect_continue);
	assert_true(req("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\n\r\n") > 0);
	assert_true(h.expect_continue);
	assert_true(req("PUT /f HTTP/1.1\r\nHost: h\r\nExpect: something-else\r\n\r\n") > 0);
	assert_false(h.expect_continue);
	/* RFC 9110 10.1.1: ignored in an HTTP/1.0 request. */
	assert_true(req("PUT /f HTTP/1.0\r\nExpect: 100-continue\r\n\r\n") > 0);
	assert_false(h.expect_continue);
	assert_true(req("PUT /f HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	assert_false(h.expect_continue);
}

static void targets_and_host(void **state)
{
	assert_true(req("GET http://Example.com:8080/a?b HTTP/1.1\r\nHost: other\r\n\r\n") > 0);
	assert_true(slice_is(h.target, h.target_len, "http://Example.com:8080/a?b"));
	assert_true(slice_is(h.host, h.host_len, "Example.com:8080")); /* the target wins */
	assert_true(req("GET https://x.test?q HTTP/1.1\r\nHost: x.test\r\n\r\n") > 0);
	assert_true(slice_is(h.host, h.host_len, "x.test"));
	assert_true(req("CONNECT db.internal:5432 HTTP/1.1\r\nHost: db.internal:5432\r\n\r\n") > 0);
	assert_int_equal(h.method, HTTP_CONNECT);
	assert_true(slice_is(h.host, h.host_len, "db.internal:5432"));
	assert_true(req("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	assert_true(slice_is(h.target, h.target_len, "*"));
	assert_true(req("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n") > 0);
	assert_true(slice_is(h.host, h.host_len, "[::1]:8080"));
	assert_true(req("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n") > 0);
	assert_true(req("GET / HTTP/1.1\r\nHost:\r\n\r\n") > 0); /* empty is allowed */
	assert_int_equal(h.host_len, 0);
	assert_true(req("DELETE /a%20b/c;p=1 HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	assert_int_equal(h.method, HTTP_DELETE);
	assert_true(req("PATCH / HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	assert_string_equal(h.method_str, "PATCH");
	assert_true(req("M-SEARCH * HTTP/1.1\r\nHost: h\r\n\r\n") == -EPROTO); /* * is OPTIONS' */

	bad_req("GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n", "missing Host");
	bad_req("GET / HTTP/1.1\r\nHost: a\r\nHost: a\r\n\r\n", "several Host");
	bad_req("GET / HTTP/1.1\r\nHost: a/b\r\n\r\n", "invalid Host");
	bad_req("GET / HTTP/1.1\r\nHost: u@a\r\n\r\n", "invalid Host");
	bad_req("GET / HTTP/1.1\r\nHost: a b\r\n\r\n", "invalid Host");
	bad_req("GET / HTTP/1.1\r\nHost: a:8x\r\n\r\n", "invalid Host");
	bad_req("GET / HTTP/1.1\r\nHost: [::1\r\n\r\n", "invalid Host");
	bad_req("GET http://u:p@h/ HTTP/1.1\r\nHost: h\r\n\r\n", "bad request-target");
	bad_req("GET /a#frag HTTP/1.1\r\nHost: h\r\n\r\n", "bad request-target");
	bad_req("GET * HTTP/1.1\r\nHost: h\r\n\r\n", "bad request-target");
	bad_req("GET ftp://h/ HTTP/1.1\r\nHost: h\r\n\r\n", "bad request-target");
	bad_req("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n", "bad request-target");
	bad_req("CONNECT /x HTTP/1.1\r\nHost: h\r\n\r\n", "request-target");
	bad_req("CONNECT h HTTP/1.1\r\nHost: h\r\n\r\n", "request-target");
	bad_req("CONNECT h: HTTP/1.1\r\nHost: h\r\n\r\n", "request-target");
	bad_req("GET /\xff HTTP/1.1\r\nHost: h\r\n\r\n", "invalid byte in the start line");
}

static void smuggling_rejected(void **state)
{
	bad_req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n"
		"Transfer-Encoding: chunked\r\n\r\n",
		"both Content-Length and Transfer-Encoding");
	bad_req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		"Content-Length: 5\r\n\r\n",
		"both Content-Length and Transfer-Encoding");
	bad_resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n",
		 "both Content-Length and Transfer-Encoding");
	bad_req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n",
		"conflicting Content-Length values");
	bad_req("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\n",
		"duplicate Content-Length");
	bad_resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Length: 50\r\n\r\n",
		 "conflicting Content-Length values");
	const char *bad_cl[] = {"5, 5", "-1", "+5", "0x10", "1 2", "", "5a",
				"99999999999999999999"};
	for (size_t i = 0; i < sizeof bad_cl / sizeof bad_cl[0]; i++) {
		char s[128];
		snprintf(s, sizeof s, "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: %s\r\n\r\n",
			 bad_cl[i]);
		bad_req(s, "Content-Length");
	}
	bad_req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n",
		"Transfer-Encoding not ending in chunked");
	bad_req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: identity\r\n\r\n",
		"Transfer-Encoding not ending in chunked");
	bad_req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
		"chunked not the final");
	bad_req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n"
		"Transfer-Encoding: gzip\r\n\r\n",
		"chunked not the final");
	bad_req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n",
		"chunked not the final");
	bad_req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked;x=1\r\n\r\n",
		"parameters on chunked");
	bad_req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: \"chunked\"\r\n\r\n",
		"invalid Transfer-Encoding");
	bad_req("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: ,\r\n\r\n",
		"empty Transfer-Encoding");
	bad_req("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.0");
	bad_resp("HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", "HTTP/1.0");
	bad_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked, gzip\r\n\r\n",
		 "chunked not the final");

	/* Field-line syntax. */
	bad_req("GET / HTTP/1.1\r\nHost : h\r\n\r\n", "whitespace before the colon");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nContent-Length\t: 5\r\n\r\n",
		"whitespace before the colon");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nX(y): 1\r\n\r\n", "invalid header name");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nX@Y: 1\r\n\r\n", "invalid header name");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nX\x01Y: 1\r\n\r\n", "invalid header name");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nCaf\xc3\xa9: 1\r\n\r\n", "invalid header name");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\n: 1\r\n\r\n", "empty header name");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nNoColon\r\n\r\n", "without a colon");
	const char nul[] = "GET / HTTP/1.1\r\nHost: h\r\nX: a\0b\r\n\r\n";
	bad_req_n(nul, sizeof nul - 1, "NUL in header value");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nX: a\rb\r\n\r\n", "CR in header value");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nX: a\nb\r\n\r\n", "bare LF");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nX: a\x7f\r\n\r\n", "control character");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nX: a\x1b[0m\r\n\r\n", "control character");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n b\r\n\r\n", "obsolete line folding");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nX: a\r\n\tb\r\n\r\n", "obsolete line folding");
	bad_req("GET / HTTP/1.1\r\n Host: h\r\n\r\n", "obsolete line folding");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip,\r\n chunked\r\n\r\n",
		"obsolete line folding");
	bad_resp("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\n b=2\r\n\r\n", "obsolete line folding");

	/* Line ends. */
	bad_req("GET / HTTP/1.1\nHost: h\n\n", "bare LF");
	bad_req("GET / HTTP/1.1\r\nHost: h\n\r\n", "bare LF");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\n\n", "bare LF");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\r\n\r\n", "CR");
	bad_req("GET / HTTP/1.1\r\nHost: h\r\n\r\r\n", "CR");
	bad_req("GET / HTTP/1.1\rHost: h\r\n\r\n", "bare CR");
	bad_resp("HTTP/1.1 200 OK\nContent-Length: 0\n\n", "bare LF");
}

static void start_lines_rejected(void **state)
{
	bad_req("GET  / HTTP/1.1\r\nHost: h\r\n\r\n", "bad request line");
	bad_req("GET /  HTTP/1.1\r\nHost: h\r\n\r\n", "bad request line");
	bad_req("GET / HTTP/1.1 \r\nHost: h\r\n\r\n", "");
	bad_req("GET / HTXX/1.1\r\nHost: h\r\n\r\n", "");
	bad_req("GET / http/1.1\r\nHost: h\r\n\r\n", "");
	bad_req("GET / HTTP/2.0\r\nHost: h\r\n\r\n", "");
	bad_req("GET / HTTP/1.x\r\nHost: h\r\n\r\n", "");
	bad_req("GET /\r\n\r\n", ""); /* HTTP/0.9 */
	bad_req("GET HTTP/1.1\r\nHost: h\r\n\r\n", "");
	bad_req("get / HTTP/1.1\r\nHost: h\r\n\r\n", "unknown method");
	bad_req("QUERY / HTTP/1.1\r\nHost: h\r\n\r\n", "unknown method");
	bad_req("GETS / HTTP/1.1\r\nHost: h\r\n\r\n", "unknown method");
	bad_req("SOURCE / ICE/1.0\r\nHost: h\r\n\r\n", "");
	bad_req("GET\t/ HTTP/1.1\r\nHost: h\r\n\r\n", "invalid byte in the start line");
	bad_req("HTTP/1.1 200 OK\r\n\r\n", ""); /* a response where a request belongs */
	bad_resp("GET / HTTP/1.1\r\nHost: h\r\n\r\n", "");
	bad_resp("HTTP/1.1 20 OK\r\n\r\n", "bad status line");
	bad_resp("HTTP/1.1 2000 OK\r\n\r\n", "");
	bad_resp("HTTP/1.1 099 OK\r\n\r\n", "bad status line");
	bad_resp("HTTP/1.1  200 OK\r\n\r\n", "bad status line");
	bad_resp("HTXX/1.1 200 OK\r\n\r\n", "bad status line");
	bad_resp("HTTP/2 200 OK\r\n\r\n", "");
	bad_resp("HTTP/1.1 200 OK\x01\r\n\r\n", "invalid byte in the start line");
	bad_resp("HTTP/1.1 abc OK\r\n\r\n", "");
}

static void early_garbage(void **state)
{
	/* A TLS ClientHello on the plain port fails on its first bytes, not after a timeout. */
	const char hello[] = "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03";
	bad_req_n(hello, sizeof hello - 1, "");
	bad_req_n(hello, 1, "");
	bad_req_n("PRI * HTTP/2.0\r\n", 16, "unknown method");
	bad_req_n("XYZ", 3, "unknown method");
	bad_req_n("GET / HTTP/1.1\r\nHo st", 21, "");
	bad_req_n("GET / HTTP/1.1\r\nHost: h\r\nX: \x01", 29, "control character");
	expect_rc(resp_m("SSH-2.0-OpenSSH_9.2\r\n", HTTP_GET), -EPROTO, "");
	/* A valid beginning is only -EAGAIN. */
	assert_int_equal(req_n("GET / HTTP/1.1\r\nHost: h\r\nX-Long: aaaa", 37), -EAGAIN);
	assert_int_equal(req_n("", 0), -EAGAIN);
	assert_int_equal(req_n("\r\n", 2), -EAGAIN);
}

static void leading_empty_lines_and_pipelining(void **state)
{
	const char *s = "\r\n\r\nGET /a HTTP/1.1\r\nHost: h\r\n\r\n"
			"GET /b HTTP/1.1\r\nHost: h\r\n\r\n";
	int r = req(s);
	assert_int_equal(r, 4 + 28);
	assert_true(slice_is(h.target, h.target_len, "/a"));
	int r2 = req(s + r);
	assert_int_equal(r2, 28);
	assert_true(slice_is(h.target, h.target_len, "/b"));
	bad_req("\n\nGET / HTTP/1.1\r\nHost: h\r\n\r\n", "bare LF");
	/* After a response's body, the next response. */
	const char *rs = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
	r = resp(rs);
	assert_int_equal(r, 25);
	assert_int_equal(h.status, 100);
	r2 = resp(rs + r);
	assert_int_equal(h.status, 200);
	assert_memory_equal(rs + r + r2, "ok", 2);
}

static void byte_by_byte(void **state)
{
	incremental("GET /x HTTP/1.1\r\nHost: example.com\r\nCookie: a=b\r\n\r\n", 1);
	incremental("\r\nPOST /x HTTP/1.0\r\nContent-Length: 10\r\n\r\n0123456789", 1);
	incremental("GET / HTTP/1.1\r\nHost: h\r\nX-Empty:\r\nX:  v  \r\n\r\n", 1);
	incremental("CONNECT a:1 HTTP/1.1\r\nHost: a:1\r\n\r\n", 1);
	incremental("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nSet-Cookie: a\r\n"
		    "Set-Cookie: b\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		    0);
	incremental("HTTP/1.1 204\r\n\r\n", 0);
	incremental("HTTP/1.0 200 OK\r\n\r\nbody until close", 0);

	/* An invalid head: -EAGAIN up to the offending byte, -EPROTO from there on. */
	const char *bad = "GET / HTTP/1.1\r\nHost: h\r\nX : y\r\n\r\n";
	size_t at = strlen("GET / HTTP/1.1\r\nHost: h\r\nX ");
	for (size_t i = 0; i <= strlen(bad); i++) {
		int r = req_n(bad, i);
		assert_int_equal(r, i < at ? -EAGAIN : -EPROTO);
	}
	/* Found only once the head is whole: the -EAGAIN before it never becomes success. */
	const char *late = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\n"
			   "Transfer-Encoding: chunked\r\n\r\n";
	for (size_t i = 0; i < strlen(late); i++)
		assert_true(req_n(late, i) == -EAGAIN || req_n(late, i) == -EPROTO);
	assert_int_equal(req(late), -EPROTO);
}

static void limits(void **state)
{
	/* Exactly max_head_bytes is accepted; one more is -EMSGSIZE, with or without bytes
	 * after it. */
	struct http_head_limits lim = {.max_head_bytes = 64, .max_headers = 3};
	char s[256];
	const char *pre = "GET / HTTP/1.1\r\nHost: h\r\nX: ";
	size_t pad = 64 - strlen(pre) - 4;
	snprintf(s, sizeof s, "%s%.*s\r\n\r\nBODY", pre, (int)pad,
		 "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
	assert_int_equal(http_parse_request_head((uint8_t *)s, strlen(s), &lim, &h, &err), 64);
	snprintf(s, sizeof s, "%s%.*s\r\n\r\n", pre, (int)pad + 1,
		 "vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv");
	assert_int_equal(http_parse_request_head((uint8_t *)s, 64, &lim, &h, &err), -EMSGSIZE);
	assert_non_null(strstr(err, "larger than the limit"));
	assert_int_equal(http_parse_request_head((uint8_t *)s, strlen(s), &lim, &h, &err),
			 -EMSGSIZE);
	assert_int_equal(http_parse_request_head((uint8_t *)s, 63, &lim, &h, &err), -EAGAIN);

	const char *three = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\n\r\n";
	assert_true(http_parse_request_head((const uint8_t *)three, strlen(three), &lim, &h,
					    &err) > 0);
	const char *four = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n";
	err = NULL;
	assert_int_equal(http_parse_request_head((const uint8_t *)four, strlen(four), &lim, &h,
						 &err),
			 -EMSGSIZE);
	assert_non_null(strstr(err, "too many header fields"));
	/* Known as soon as the fourth line ends. */
	assert_int_equal(http_parse_request_head((const uint8_t *)four, strlen(four) - 2, &lim,
						 &h, &err),
			 -EMSGSIZE);

	/* The defaults: 100 fields fit, 101 do not; 16 KiB. */
	char *big = malloc(70000);
	assert_non_null(big);
	size_t n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: h\r\n");
	for (int i = 0; i < 99; i++)
		n += (size_t)sprintf(big + n, "X-%d: %d\r\n", i, i);
	strcpy(big + n, "\r\n");
	assert_int_equal(req(big), (int)n + 2);
	assert_int_equal(h.n_headers, 100);
	n += (size_t)sprintf(big + n, "X-last: 1\r\n");
	strcpy(big + n, "\r\n");
	expect_rc(req(big), -EMSGSIZE, "too many");
	n = (size_t)sprintf(big, "GET / HTTP/1.1\r\nHost: h\r\nX: ");
	memset(big + n, 'a', 16 * 1024);
	strcpy(big + n + 16 * 1024, "\r\n\r\n");
	expect_rc(req(big), -EMSGSIZE, "larger than the limit");
	/* The maximum limit, 64 KiB, in one field. */
	struct http_head_limits maxlim = {.max_head_bytes = HTTP_HEAD_MAX_BYTES};
	memset(big + n, 'a', 60000);
	strcpy(big + n + 60000, "\r\n\r\n");
	assert_int_equal(http_parse_request_head((uint8_t *)big, strlen(big), &maxlim, &h, &err),
			 (int)strlen(big));
	assert_int_equal(h.headers[1].value_len, 60000);
	free(big);
}

static void tokens(void **state)
{
	assert_true(http_token_valid("Content-Type", 12));
	assert_true(http_token_valid("!#$%&'*+-.^_`|~09azAZ", 21));
	assert_false(http_token_valid("", 0));
	assert_false(http_token_valid("a b", 3));
	assert_false(http_token_valid("a:b", 3));
	assert_false(http_token_valid("\xc3\xa9", 2));
	assert_true(req("GET / HTTP/1.1\r\nHost: h\r\nTE: trailers\r\nX: , a ,, b,\r\n\r\n") > 0);
	assert_true(http_head_has_token(&h, "x", "a"));
	assert_true(http_head_has_token(&h, "x", "B"));
	assert_false(http_head_has_token(&h, "x", ""));
	assert_false(http_head_has_token(&h, "y", "a"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(simple_get),
		cmocka_unit_test(slices_point_into_buffer),
		cmocka_unit_test(values_trimmed),
		cmocka_unit_test(set_cookie_twenty),
		cmocka_unit_test(request_framing),
		cmocka_unit_test(response_framing),
		cmocka_unit_test(no_body_responses),
		cmocka_unit_test(connect_and_upgrade_responses),
		cmocka_unit_test(keep_alive_defaults),
		cmocka_unit_test(upgrade_requests),
		cmocka_unit_test(expect_continue),
		cmocka_unit_test(targets_and_host),
		cmocka_unit_test(smuggling_rejected),
		cmocka_unit_test(start_lines_rejected),
		cmocka_unit_test(early_garbage),
		cmocka_unit_test(leading_empty_lines_and_pipelining),
		cmocka_unit_test(byte_by_byte),
		cmocka_unit_test(limits),
		cmocka_unit_test(tokens),
	};
	return cmocka_run_group_tests_name("http_head", tests, NULL, NULL);
}
