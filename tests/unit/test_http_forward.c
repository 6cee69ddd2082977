/* What the edge sends on: hop-by-hop fields dropped (fixed ones and those Connection names),
 * X-Forwarded-For and Forwarded accumulated, X-Forwarded-Proto/-Host set (never trusted from
 * the user), path and Host rewritten, absolute-form targets made origin-form, Upgrade kept
 * only for upgrades; response heads with Connection as the edge decides and repeated fields
 * intact; the router's view of the request (host split, path, query); the edge's errors. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <event2/buffer.h>

#include "http_forward.h"
#include "http_head.h"
#include "http_request.h"

static struct http_head head;

static void parse_req(const char *s)
{
	const char *err = NULL;
	int rc = http_parse_request_head((const uint8_t *)s, strlen(s), NULL, &head, &err);
	if (rc <= 0)
		fail_msg("parse failed: %d %s", rc, err ? err : "");
}

static void parse_resp(const char *s, int method)
{
	const char *err = NULL;
	int rc = http_parse_response_head((const uint8_t *)s, strlen(s), method, NULL, &head, &err);
	if (rc <= 0)
		fail_msg("parse failed: %d %s", rc, err ? err : "");
}

/* The forwarded head as a NUL-terminated string (static). */
static const char *fwd_req(const struct http_fwd_request *o)
{
	static char out[8192];
	struct evbuffer *b = evbuffer_new();
	assert_int_equal(http_forward_request_head(b, &head, o), 0);
	size_t n = evbuffer_get_length(b);
	assert_true(n < sizeof out);
	evbuffer_remove(b, out, n);
	out[n] = '\0';
	evbuffer_free(b);
	return out;
}

static const char *fwd_resp(const struct http_fwd_response *o)
{
	static char out[8192];
	struct evbuffer *b = evbuffer_new();
	assert_int_equal(http_forward_response_head(b, &head, o), 0);
	size_t n = evbuffer_get_length(b);
	evbuffer_remove(b, out, n);
	out[n] = '\0';
	evbuffer_free(b);
	return out;
}

static void forwarded_fields(void **state)
{
	parse_req("GET /a?b=1 HTTP/1.1\r\nHost: app.example.com\r\nAccept: */*\r\n"
		  "X-Forwarded-For: 10.0.0.1\r\nX-Forwarded-Proto: https\r\nX-Forwarded-Host: evil\r\n"
		  "Forwarded: for=10.0.0.1\r\n\r\n");
	struct http_fwd_request o = {.client = "192.0.2.7:5555", .proto = "http"};
	const char *s = fwd_req(&o);
	assert_non_null(strstr(s, "GET /a?b=1 HTTP/1.1\r\nHost: app.example.com\r\n"));
	assert_non_null(strstr(s, "\r\nAccept: */*\r\n"));
	assert_non_null(strstr(s, "\r\nX-Forwarded-For: 10.0.0.1, 192.0.2.7\r\n"));
	assert_non_null(strstr(s, "\r\nForwarded: for=10.0.0.1, for=192.0.2.7;proto=http;host=\"app.example.com\"\r\n"));
	assert_non_null(strstr(s, "\r\nX-Forwarded-Proto: http\r\n"));
	assert_null(strstr(s, "https"));
	assert_null(strstr(s, "evil"));
	assert_non_null(strstr(s, "\r\nX-Forwarded-Host: app.example.com\r\n"));
	assert_string_equal(s + strlen(s) - 4, "\r\n\r\n");
}

static void ipv6_client_is_quoted(void **state)
{
	parse_req("GET / HTTP/1.1\r\nHost: h\r\n\r\n");
	struct http_fwd_request o = {.client = "[2001:db8::1]:443", .proto = "https"};
	const char *s = fwd_req(&o);
	assert_non_null(strstr(s, "X-Forwarded-For: 2001:db8::1\r\n"));
	assert_non_null(strstr(s, "Forwarded: for=\"[2001:db8::1]\";proto=https;host=\"h\"\r\n"));
}

static void hop_by_hop_dropped(void **state)
{
	parse_req("POST /x HTTP/1.1\r\nHost: h\r\nConnection: keep-alive, X-Secret\r\n"
		  "Keep-Alive: timeout=5\r\nX-Secret: 1\r\nTE: trailers\r\nProxy-Connection: x\r\n"
		  "Upgrade: websocket\r\nTransfer-Encoding: chunked\r\nX-Other: 2\r\n\r\n");
	struct http_fwd_request o = {.client = "1.2.3.4:1", .proto = "http"};
	const char *s = fwd_req(&o);
	assert_null(strstr(s, "Connection"));
	assert_null(strstr(s, "Keep-Alive"));
	assert_null(strstr(s, "X-Secret"));
	assert_null(strstr(s, "TE:"));
	assert_null(strstr(s, "Upgrade"));
	assert_non_null(strstr(s, "\r\nTransfer-Encoding: chunked\r\n"));
	assert_non_null(strstr(s, "\r\nX-Other: 2\r\n"));
}

static void upgrade_kept(void **state)
{
	parse_req("GET /ws HTTP/1.1\r\nHost: h\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n"
		  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
	assert_true(head.upgrade);
	struct http_fwd_request o = {.client = "1.2.3.4:1", .proto = "http"};
	const char *s = fwd_req(&o);
	assert_non_null(strstr(s, "\r\nUpgrade: websocket\r\n"));
	assert_non_null(strstr(s, "\r\nConnection: upgrade\r\n"));
	assert_non_null(strstr(s, "\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"));
}

static void rewrites(void **state)
{
	parse_req("GET http://outer.example/p/q?x=1 HTTP/1.1\r\nHost: outer.example\r\n"
		  "Authorization: Basic dTpw\r\n\r\n");
	struct http_fwd_request o = {.client = "1.2.3.4:1", .proto = "http"};
	const char *s = fwd_req(&o);
	assert_non_null(strstr(s, "GET /p/q?x=1 HTTP/1.1\r\nHost: outer.example\r\n"));
	assert_non_null(strstr(s, "Authorization: Basic dTpw\r\n"));
	o.path = "/q?x=1";
	o.host = "inner:8080";
	o.drop_authorization = 1;
	o.add_headers = "X-Route: r1\r\n";
	s = fwd_req(&o);
	assert_non_null(strstr(s, "GET /q?x=1 HTTP/1.1\r\nHost: inner:8080\r\n"));
	assert_null(strstr(s, "\r\nHost: outer.example"));
	assert_null(strstr(s, "Authorization"));
	assert_non_null(strstr(s, "X-Forwarded-Host: outer.example\r\n"));
	assert_non_null(strstr(s, "\r\nX-Route: r1\r\n\r\n"));
	parse_req("GET http://outer.example HTTP/1.1\r\nHost: outer.example\r\n\r\n");
	o = (struct http_fwd_request){.client = "1.2.3.4:1", .proto = "http"};
	assert_non_null(strstr(fwd_req(&o), "GET / HTTP/1.1\r\n"));
}

static void http10_version_kept(void **state)
{
	parse_req("GET / HTTP/1.0\r\n\r\n");
	struct http_fwd_request o = {.client = "1.2.3.4:1", .proto = "http"};
	const char *s = fwd_req(&o);
	assert_non_null(strstr(s, "GET / HTTP/1.0\r\n"));
	assert_null(strstr(s, "Host:"));
}

static void response_heads(void **state)
{
	char resp[4096] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\n";
	for (int i = 0; i < 20; i++)
		snprintf(resp + strlen(resp), sizeof resp - strlen(resp), "Set-Cookie: c%d=v%d; Path=/\r\n", i, i);
	strcat(resp, "\r\n");
	parse_resp(resp, 1 /* GET */);
	struct http_fwd_response o = {.add_headers = "Set-Cookie: proxyd_agent=a1; Path=/\r\n"};
	const char *s = fwd_resp(&o);
	for (int i = 0; i < 20; i++) {
		char want[64];
		snprintf(want, sizeof want, "\r\nSet-Cookie: c%d=v%d; Path=/\r\n", i, i);
		assert_non_null(strstr(s, want));
	}
	assert_non_null(strstr(s, "Set-Cookie: proxyd_agent=a1; Path=/\r\n"));
	assert_null(strstr(s, "X-Hop"));
	assert_null(strstr(s, "Connection"));
	o.close = 1;
	assert_non_null(strstr(fwd_resp(&o), "\r\nConnection: close\r\n\r\n"));
	o.close = 0;
	o.client_http10 = 1;
	assert_non_null(strstr(fwd_resp(&o), "\r\nConnection: keep-alive\r\n\r\n"));
}

static void switching_and_interim(void **state)
{
	parse_resp("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
		   "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n", 1);
	struct http_fwd_response o = {.close = 1, .add_headers = "Set-Cookie: a=b\r\n"};
	const char *s = fwd_resp(&o);
	assert_non_null(strstr(s, "HTTP/1.1 101 Switching Protocols\r\n"));
	assert_non_null(strstr(s, "\r\nUpgrade: websocket\r\n"));
	assert_non_null(strstr(s, "\r\nConnection: upgrade\r\n"));
	assert_null(strstr(s, "close"));
	assert_null(strstr(s, "Set-Cookie"));
	parse_resp("HTTP/1.1 100 Continue\r\n\r\n", 3 /* POST */);
	assert_string_equal(fwd_resp(&o), "HTTP/1.1 100 Continue\r\n\r\n");
}

static void error_responses(void **state)
{
	struct evbuffer *b = evbuffer_new();
	assert_int_equal(http_error_response(b, 502, "agent a1: agent offline", NULL, 0), 0);
	char out[1024];
	size_t n = evbuffer_get_length(b);
	evbuffer_remove(b, out, n);
	out[n] = '\0';
	const char *body = "502 Bad Gateway: agent a1: agent offline\n";
	assert_non_null(strstr(out, "HTTP/1.1 502 Bad Gateway\r\n"));
	char cl[64];
	snprintf(cl, sizeof cl, "Content-Length: %zu\r\n", strlen(body));
	assert_non_null(strstr(out, cl));
	assert_null(strstr(out, "Connection: close"));
	assert_string_equal(strstr(out, "\r\n\r\n") + 4, body);
	assert_int_equal(http_error_response(b, 401, NULL, "WWW-Authenticate: Basic realm=\"x\"\r\n", 1), 0);
	n = evbuffer_get_length(b);
	evbuffer_remove(b, out, n);
	out[n] = '\0';
	assert_non_null(strstr(out, "WWW-Authenticate: Basic realm=\"x\"\r\nConnection: close\r\n\r\n401 Unauthorized\n"));
	evbuffer_free(b);
}

static void field(const proxyd_request *r, int f, const char *want)
{
	const char *v;
	size_t n;
	if (!want) {
		assert_int_equal(http_request_field(r, f, &v, &n), 0);
		return;
	}
	assert_int_equal(http_request_field(r, f, &v, &n), 1);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(v, want, n);
}

static void request_view(void **state)
{
	struct proxyd_request r;
	parse_req("GET /proxy/a1/x?y=1&z HTTP/1.1\r\nHost: Web-3000.Tunnel.Test:8080\r\nCookie: a=b\r\n"
		  "Cookie: c=d\r\n\r\n");
	assert_int_equal(http_request_init(&r, &head, "1.2.3.4:5", "https", "web-3000.tunnel.test"), 0);
	field(&r, PROXYD_REQ_METHOD, "GET");
	field(&r, PROXYD_REQ_TARGET, "/proxy/a1/x?y=1&z");
	field(&r, PROXYD_REQ_PATH, "/proxy/a1/x");
	field(&r, PROXYD_REQ_QUERY, "y=1&z");
	field(&r, PROXYD_REQ_HOST, "web-3000.tunnel.test");
	field(&r, PROXYD_REQ_PORT, "8080");
	field(&r, PROXYD_REQ_CLIENT, "1.2.3.4:5");
	field(&r, PROXYD_REQ_SCHEME, "https");
	field(&r, PROXYD_REQ_SNI, "web-3000.tunnel.test");
	field(&r, 999, NULL);
	const char *v;
	size_t n;
	assert_int_equal(http_request_header(&r, "cookie", 1, &v, &n), 1);
	assert_int_equal(n, 3);
	assert_memory_equal(v, "c=d", 3);
	assert_int_equal(http_request_header(&r, "cookie", 2, &v, &n), 0);

	parse_req("GET / HTTP/1.1\r\nHost: [::1]:9\r\n\r\n");
	assert_int_equal(http_request_init(&r, &head, "[::1]:5", "http", NULL), 0);
	field(&r, PROXYD_REQ_HOST, "::1");
	field(&r, PROXYD_REQ_PORT, "9");
	field(&r, PROXYD_REQ_QUERY, NULL);
	field(&r, PROXYD_REQ_SNI, NULL);

	parse_req("GET / HTTP/1.1\r\nHost: plain\r\n\r\n");
	assert_int_equal(http_request_init(&r, &head, "1.2.3.4:5", "http", ""), 0);
	field(&r, PROXYD_REQ_HOST, "plain");
	field(&r, PROXYD_REQ_PORT, NULL);
	field(&r, PROXYD_REQ_SNI, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(forwarded_fields),
		cmocka_unit_test(ipv6_client_is_quoted),
		cmocka_unit_test(hop_by_hop_dropped),
		cmocka_unit_test(upgrade_kept),
		cmocka_unit_test(rewrites),
		cmocka_unit_test(http10_version_kept),
		cmocka_unit_test(response_heads),
		cmocka_unit_test(switching_and_interim),
		cmocka_unit_test(error_responses),
		cmocka_unit_test(request_view),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
