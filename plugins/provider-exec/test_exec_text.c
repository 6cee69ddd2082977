/* provider-exec's text functions: line splitting, log-safe lines with the secret redacted,
 * URL extraction with each preset's expression, backoff, names, URL and address parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "exec_text.h"

struct got {
	char lines[8][PX_LINE_MAX + 1];
	int n;
};

static void collect(void *arg, const char *line, size_t len)
{
	struct got *g = arg;
	if (g->n < 8) {
		memcpy(g->lines[g->n], line, len);
		g->lines[g->n][len] = '\0';
	}
	g->n++;
}

static void lines(void **state)
{
	struct px_lines l = {0};
	struct got g = {0};
	/* Pieces in any size; CRLF and LF; a last line without newline comes at flush. */
	const char *text = "one\r\ntwo\n\nthree";
	for (size_t i = 0; i < strlen(text); i++)
		px_lines_feed(&l, text + i, 1, collect, &g);
	assert_int_equal(g.n, 3);
	assert_string_equal(g.lines[0], "one");
	assert_string_equal(g.lines[1], "two");
	assert_string_equal(g.lines[2], "");
	px_lines_flush(&l, collect, &g);
	assert_int_equal(g.n, 4);
	assert_string_equal(g.lines[3], "three");
	px_lines_flush(&l, collect, &g);
	assert_int_equal(g.n, 4);

	/* A line longer than the buffer comes in pieces of PX_LINE_MAX. */
	char big[PX_LINE_MAX * 2 + 10];
	memset(big, 'x', sizeof big);
	big[sizeof big - 1] = '\n';
	struct got g2 = {0};
	px_lines_feed(&l, big, sizeof big, collect, &g2);
	assert_int_equal(g2.n, 3);
	assert_int_equal(strlen(g2.lines[0]), PX_LINE_MAX);
	assert_int_equal(strlen(g2.lines[2]), sizeof big - 1 - 2 * PX_LINE_MAX);
}

static void clean(void **state)
{
	char out[64];
	const char *in = "\x1b[32mINF\x1b[0m token=SeCrEt123 and\tSeCrEt123\x07!";
	size_t n = px_clean_line(in, strlen(in), "SeCrEt123", out, sizeof out);
	assert_string_equal(out, "INF token=[redacted] and\t[redacted]?!");
	assert_int_equal(n, strlen(out));
	/* OSC (a terminal title) removed, DEL replaced. */
	in = "a\x1b]0;title\x07z\x7f";
	px_clean_line(in, strlen(in), NULL, out, sizeof out);
	assert_string_equal(out, "az?");
	/* Truncation never leaves the start of a secret behind. */
	char small[12];
	in = "abcdefgSECRETVALUE";
	px_clean_line(in, strlen(in), "SECRETVALUE", small, sizeof small);
	assert_null(strstr(small, "SECR"));
	in = "abcdSECRETVALUE";
	px_clean_line(in, strlen(in), "SECRETVALUE", small, sizeof small);
	assert_string_equal(small, "abcd[redact");
	/* A lone ESC at the end. */
	in = "x\x1b";
	px_clean_line(in, 2, NULL, out, sizeof out);
	assert_string_equal(out, "x");
}

static void extract(void **state)
{
	regex_t re;
	char url[PX_URL_MAX];
	assert_int_equal(regcomp(&re, "Allocated port ([0-9]+) for remote forward", REG_EXTENDED), 0);
	assert_int_equal(px_url_extract(&re,
					"Allocated port 41235 for remote forward to 127.0.0.1:3000",
					"http://127.0.0.1:{}", url, sizeof url),
			 1);
	assert_string_equal(url, "http://127.0.0.1:41235");
	assert_int_equal(px_url_extract(&re, "Warning: Permanently added", "http://h:{}", url,
					sizeof url),
			 0);
	/* Too long for out. */
	char tiny[8];
	assert_int_equal(px_url_extract(&re, "Allocated port 41235 for remote forward", "http://h:{}",
					tiny, sizeof tiny),
			 -1);
	regfree(&re);

	assert_int_equal(regcomp(&re, "(https://[-a-zA-Z0-9.]+\\.trycloudflare\\.com)", REG_EXTENDED), 0);
	assert_int_equal(px_url_extract(&re,
					"2026-12-01T10:00:00Z INF |  https://tall-dogs-run.trycloudflare.com"
					"                 |",
					NULL, url, sizeof url),
			 1);
	assert_string_equal(url, "https://tall-dogs-run.trycloudflare.com");
	regfree(&re);

	assert_int_equal(regcomp(&re, "url=(https?://[^[:space:]\"]+)", REG_EXTENDED), 0);
	assert_int_equal(px_url_extract(&re,
					"t=2026 lvl=info msg=\"started tunnel\" obj=tunnels name=command_line "
					"addr=http://127.0.0.1:3000 url=https://ab12.ngrok-free.app",
					NULL, url, sizeof url),
			 1);
	assert_string_equal(url, "https://ab12.ngrok-free.app");
	regfree(&re);

	/* A group that matches empty, or with a blank, is no URL. */
	assert_int_equal(regcomp(&re, "URL: ?(.*)", REG_EXTENDED), 0);
	assert_int_equal(px_url_extract(&re, "URL: ", NULL, url, sizeof url), 0);
	assert_int_equal(px_url_extract(&re, "URL: http://a b", NULL, url, sizeof url), 0);
	assert_int_equal(px_url_extract(&re, "URL: http://a", NULL, url, sizeof url), 1);
	regfree(&re);
	/* No group at all. */
	assert_int_equal(regcomp(&re, "http://x", REG_EXTENDED), 0);
	assert_int_equal(px_url_extract(&re, "http://x", NULL, url, sizeof url), 0);
	regfree(&re);
}

static void backoff(void **state)
{
	assert_int_equal(px_backoff_ms(0, 1000, 60000), 1000);
	assert_int_equal(px_backoff_ms(1, 1000, 60000), 2000);
	assert_int_equal(px_backoff_ms(2, 1000, 60000), 4000);
	assert_int_equal(px_backoff_ms(5, 1000, 60000), 32000);
	assert_int_equal(px_backoff_ms(6, 1000, 60000), 60000);
	assert_int_equal(px_backoff_ms(4000000000u, 1000, 60000), 60000);
	assert_int_equal(px_backoff_ms(3, 5000, 5000), 5000);
}

static void names(void **state)
{
	char out[64];
	assert_int_equal(px_state_path("/run/proxyd", "web", out, sizeof out), 0);
	assert_string_equal(out, "/run/proxyd/web.url");
	assert_int_equal(px_state_path("/tmp/", "a.b", out, sizeof out), 0);
	assert_string_equal(out, "/tmp/a.b.url");
	char small[10];
	assert_int_equal(px_state_path("/run/proxyd", "web", small, sizeof small), -1);
	assert_int_equal(px_env_name("my-web.1", "URL", out, sizeof out), 0);
	assert_string_equal(out, "PROXYD_PROVIDER_MY_WEB_1_URL");
	assert_int_equal(px_env_name("a", "PRESET", small, sizeof small), -1);
}

static void addresses(void **state)
{
	char host[64], scheme[8], path[64];
	int port;
	assert_int_equal(px_split_hostport("127.0.0.1:3000", host, sizeof host, &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 3000);
	assert_int_equal(px_split_hostport("[::1]:80", host, sizeof host, &port), 0);
	assert_string_equal(host, "::1");
	assert_int_equal(px_split_hostport("localhost:65535", host, sizeof host, &port), 0);
	static const char *const bad[] = {"", ":80", "host", "host:", "host:0", "host:65536",
					  "::1:80", "[::1]", "host:8x", "a b:80", "[]:80", "h:123456"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (px_split_hostport(bad[i], host, sizeof host, &port) != -1)
			fail_msg("accepted \"%s\"", bad[i]);

	assert_int_equal(px_split_url("http://127.0.0.1:4000/x?y", scheme, sizeof scheme, host,
				      sizeof host, &port, path, sizeof path),
			 0);
	assert_string_equal(scheme, "http");
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 4000);
	assert_string_equal(path, "/x?y");
	assert_int_equal(px_split_url("https://a.trycloudflare.com", scheme, sizeof scheme, host,
				      sizeof host, &port, path, sizeof path),
			 0);
	assert_int_equal(port, 443);
	assert_string_equal(path, "/");
	assert_int_equal(px_split_url("http://[::1]/", scheme, sizeof scheme, host, sizeof host,
				      &port, path, sizeof path),
			 0);
	assert_string_equal(host, "::1");
	assert_int_equal(port, 80);
	static const char *const badurl[] = {"ftp://a", "http://", "http://u@h/", "http://h:0/",
					     "http://h/a b", "https://::1/", "http://a b/"};
	for (size_t i = 0; i < sizeof badurl / sizeof badurl[0]; i++)
		if (px_split_url(badurl[i], scheme, sizeof scheme, host, sizeof host, &port, path,
				 sizeof path) != -1)
			fail_msg("accepted \"%s\"", badurl[i]);
}

static void status_lines(void **state)
{
	assert_int_equal(px_http_status("HTTP/1.1 200 OK", 15), 200);
	assert_int_equal(px_http_status("HTTP/1.0 502", 12), 502);
	assert_int_equal(px_http_status("HTTP/1.1 20", 11), -1);
	assert_int_equal(px_http_status("HTTP/2 200 OK", 13), -1);
	assert_int_equal(px_http_status("HTTP/1.1 2000", 13), -1);
	assert_int_equal(px_http_status("SSH-2.0-OpenSSH", 15), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(lines),     cmocka_unit_test(clean),     cmocka_unit_test(extract),
		cmocka_unit_test(backoff),   cmocka_unit_test(names),     cmocka_unit_test(addresses),
		cmocka_unit_test(status_lines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
