/* router-subdomain's direct mode, the pure parts (sd_answer.c): addresses, a command's output,
 * the HTTP lookup's response and JSON, networks, URLs and templates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "sd_answer.h"

static void addresses(void **state)
{
	char out[SD_ADDR_MAX];
	int v6;
	const char *why;
	assert_int_equal(sd_addr_parse("172.30.0.2", 10, out, &v6, &why), 0);
	assert_string_equal(out, "172.30.0.2");
	assert_false(v6);
	assert_int_equal(sd_addr_parse("FD00:0:0::02", 12, out, &v6, &why), 0);
	assert_string_equal(out, "fd00::2"); /* canonical, so the cache and agents agree */
	assert_true(v6);
	/* the length bounds the text */
	assert_int_equal(sd_addr_parse("10.0.0.1XYZ", 8, out, &v6, &why), 0);
	assert_string_equal(out, "10.0.0.1");
	static const char *const bad[] = {"", "web1.local", "0.0.0.0", "::", "224.0.0.1",
					  "ff02::1", "255.255.255.255", "10.0.0.1:80", "[fd00::2]",
					  "fe80::1%eth0", "1.2.3", " 10.0.0.1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		if (sd_addr_parse(bad[i], strlen(bad[i]), out, &v6, &why) != -EINVAL || !why)
			fail_msg("\"%s\" should be refused", bad[i]);
	}
}

static void command_output(void **state)
{
	struct sd_answer a;
	const char *why;
	assert_int_equal(sd_parse_cmd_output("172.30.0.2\n", 11, &a, &why), SD_FOUND);
	assert_string_equal(a.address, "172.30.0.2");
	assert_int_equal(a.n_ports, 0);
	const char *two = "  \n\t172.30.0.7  3000,5173 3000\t8080  \nignored second line\n";
	assert_int_equal(sd_parse_cmd_output(two, strlen(two), &a, &why), SD_FOUND);
	assert_string_equal(a.address, "172.30.0.7");
	assert_int_equal(a.n_ports, 3); /* 3000 once */
	assert_int_equal(a.ports[0], 3000);
	assert_int_equal(a.ports[1], 5173);
	assert_int_equal(a.ports[2], 8080);
	assert_int_equal(sd_parse_cmd_output("fd00::9\r\n", 9, &a, &why), SD_FOUND);
	assert_true(a.v6);
	/* nothing printed: no such VM */
	assert_int_equal(sd_parse_cmd_output("", 0, &a, &why), SD_NOT_FOUND);
	assert_int_equal(sd_parse_cmd_output(" \n\n\t ", 5, &a, &why), SD_NOT_FOUND);
	/* unusable */
	assert_int_equal(sd_parse_cmd_output("web1.local\n", 11, &a, &why), SD_BAD);
	assert_int_equal(sd_parse_cmd_output("10.0.0.1 http\n", 14, &a, &why), SD_BAD);
	assert_non_null(strstr(why, "port numbers"));
	assert_int_equal(sd_parse_cmd_output("10.0.0.1 0\n", 11, &a, &why), SD_BAD);
	assert_int_equal(sd_parse_cmd_output("10.0.0.1 65536\n", 15, &a, &why), SD_BAD);
	char many[400] = "10.0.0.1";
	for (int i = 1; i <= SD_VM_PORTS_MAX + 1; i++)
		snprintf(many + strlen(many), sizeof many - strlen(many), " %d", 1000 + i);
	assert_int_equal(sd_parse_cmd_output(many, strlen(many), &a, &why), SD_BAD);
	assert_non_null(strstr(why, "more than 32"));
}

static enum sd_result http(const char *resp, int *status, char *body)
{
	const char *b = NULL, *why = NULL;
	size_t bl = 0;
	enum sd_result r = sd_parse_http_response(resp, strlen(resp), status, &b, &bl, &why);
	body[0] = '\0';
	if (r == SD_FOUND)
		snprintf(body, 256, "%.*s", (int)bl, b);
	else if (r == SD_BAD)
		snprintf(body, 256, "%s", why);
	return r;
}

static void http_responses(void **state)
{
	int st;
	char body[256];
	assert_int_equal(http("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":1}", &st, body),
			 SD_FOUND);
	assert_int_equal(st, 200);
	assert_string_equal(body, "{\"a\":1}");
	/* Content-Length cuts the body; bare LF heads are read too */
	assert_int_equal(http("HTTP/1.1 200 OK\ncontent-length:  3 \n\n{}xxx", &st, body), SD_FOUND);
	assert_string_equal(body, "{}x");
	assert_int_equal(http("HTTP/1.0 200\r\n\r\n", &st, body), SD_FOUND);
	assert_string_equal(body, "");
	assert_int_equal(http("HTTP/1.0 404 Not Found\r\n\r\nno", &st, body), SD_NOT_FOUND);
	assert_int_equal(http("HTTP/1.1 410 Gone\r\n\r\n", &st, body), SD_NOT_FOUND);
	assert_int_equal(http("HTTP/1.0 500 Oops\r\n\r\n", &st, body), SD_BAD);
	assert_int_equal(st, 500);
	assert_int_equal(http("HTTP/1.0 200 OK\r\nContent-Length: 10\r\n\r\nshort", &st, body), SD_BAD);
	assert_non_null(strstr(body, "shorter than its Content-Length"));
	assert_int_equal(http("HTTP/1.0 200 OK\r\nContent-Length: x\r\n\r\nabc", &st, body), SD_FOUND);
	assert_string_equal(body, "abc"); /* a length that is not a number is no length */
	assert_int_equal(http("HTTP/1.0 200 OK\r\nServer: x\r\n", &st, body), SD_BAD);
	assert_non_null(strstr(body, "ended in its head"));
	assert_int_equal(http("SSH-2.0-OpenSSH_9.2\r\n", &st, body), SD_BAD);
	assert_int_equal(http("HTTP/2 200\r\n\r\n", &st, body), SD_BAD);
	assert_int_equal(http("HTTP/1.0 2000 OK\r\n\r\n", &st, body), SD_BAD);
	assert_int_equal(http("", &st, body), SD_BAD);
}

static enum sd_result json(const char *doc, const char *ap, const char *pp, struct sd_answer *a,
			   char *why)
{
	return sd_parse_json_answer(doc, strlen(doc), ap, pp, a, why, 256);
}

static void json_answers(void **state)
{
	struct sd_answer a;
	char why[256];
	const char *doc = "{\"name\": \"web1\", \"network\": {\"ip\": \"172.30.0.2\"}, "
			  "\"ifaces\": [{\"addr\": \"fd00::5\"}], \"ports\": [3000, 5173], \"one\": 22}";
	assert_int_equal(json(doc, "network.ip", "ports", &a, why), SD_FOUND);
	assert_string_equal(a.address, "172.30.0.2");
	assert_int_equal(a.n_ports, 2);
	assert_int_equal(a.ports[1], 5173);
	assert_int_equal(json(doc, "ifaces.0.addr", "one", &a, why), SD_FOUND);
	assert_string_equal(a.address, "fd00::5");
	assert_int_equal(a.n_ports, 1);
	assert_int_equal(a.ports[0], 22);
	assert_int_equal(json(doc, "network.ip", NULL, &a, why), SD_FOUND);
	assert_int_equal(a.n_ports, 0);
	assert_int_equal(json(doc, "network.ip", "absent", &a, why), SD_FOUND);
	/* null at the address: no such VM */
	assert_int_equal(json("{\"ip\": null}", "ip", NULL, &a, why), SD_NOT_FOUND);
	/* unusable, with the reason */
	assert_int_equal(json("{\"ip\": \"web1\"}", "ip", NULL, &a, why), SD_BAD);
	assert_non_null(strstr(why, "the answer's \"ip\" is not an IP address"));
	assert_int_equal(json(doc, "network.address", NULL, &a, why), SD_BAD);
	assert_string_equal(why, "the answer has nothing at \"network.address\"");
	assert_int_equal(json(doc, "ifaces.1.addr", NULL, &a, why), SD_BAD);
	assert_int_equal(json(doc, "ports", NULL, &a, why), SD_BAD);
	assert_non_null(strstr(why, "is not a string"));
	assert_int_equal(json(doc, "network.ip", "name", &a, why), SD_BAD);
	assert_non_null(strstr(why, "not a port"));
	assert_string_equal(a.address, ""); /* nothing half-filled */
	assert_int_equal(json("{\"ip\":\"10.0.0.1\",\"p\":[80,0]}", "ip", "p", &a, why), SD_BAD);
	assert_int_equal(json("{\"ip\":\"10.0.0.1\",\"p\":[80,65536]}", "ip", "p", &a, why), SD_BAD);
	assert_int_equal(json("not json", "ip", NULL, &a, why), SD_BAD);
	assert_non_null(strstr(why, "not JSON"));
	assert_int_equal(json("\"10.0.0.1\"", "ip", NULL, &a, why), SD_BAD);
	assert_int_equal(json("[\"10.0.0.1\"]", "0", NULL, &a, why), SD_FOUND);
}

static void json_paths(void **state)
{
	const char *why;
	assert_int_equal(sd_json_path_valid("network.ip", &why), 0);
	assert_int_equal(sd_json_path_valid("a", &why), 0);
	assert_int_equal(sd_json_path_valid("ifaces.0.addr_v4-x", &why), 0);
	static const char *const bad[] = {"", ".a", "a.", "a..b", "a b", "a/b", "$.a", "a[0]"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (sd_json_path_valid(bad[i], &why) != -EINVAL)
			fail_msg("path \"%s\" should be refused", bad[i]);
	char deep[200] = "a";
	for (int i = 0; i < 16; i++)
		strcat(deep, ".a");
	assert_int_equal(sd_json_path_valid(deep, &why), -EINVAL);
}

static void networks(void **state)
{
	struct sd_net n;
	const char *why;
	assert_int_equal(sd_net_parse("172.30.0.0/16", 13, &n, &why), 0);
	assert_true(sd_net_contains(&n, "172.30.9.2"));
	assert_false(sd_net_contains(&n, "172.31.0.2"));
	assert_false(sd_net_contains(&n, "fd00::2"));
	assert_false(sd_net_contains(&n, "nonsense"));
	assert_int_equal(sd_net_parse("fd00::/8", 8, &n, &why), 0);
	assert_true(sd_net_contains(&n, "fd12::1"));
	assert_false(sd_net_contains(&n, "fe00::1"));
	assert_false(sd_net_contains(&n, "172.30.0.2"));
	assert_int_equal(sd_net_parse("10.0.0.5", 8, &n, &why), 0); /* one address */
	assert_true(sd_net_contains(&n, "10.0.0.5"));
	assert_false(sd_net_contains(&n, "10.0.0.6"));
	assert_int_equal(sd_net_parse("0.0.0.0/0", 9, &n, &why), 0);
	assert_true(sd_net_contains(&n, "8.8.8.8"));
	assert_false(sd_net_contains(&n, "fd00::1")); /* IPv4's /0 is IPv4 only */
	static const char *const bad[] = {"172.30.0.1/16", "10.0.0.0/33", "fd00::/129", "10.0.0.0/",
					  "10.0.0.0/08", "web/24", "", "10.0.0.0/-1"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (sd_net_parse(bad[i], strlen(bad[i]), &n, &why) != -EINVAL)
			fail_msg("network \"%s\" should be refused", bad[i]);
}

static void urls(void **state)
{
	char host[64];
	uint16_t port;
	const char *path, *why;
	assert_int_equal(sd_url_parse("http://127.0.0.1:7070/vms/{name}", host, sizeof host, &port,
				      &path, &why),
			 0);
	assert_string_equal(host, "127.0.0.1");
	assert_int_equal(port, 7070);
	assert_string_equal(path, "/vms/{name}");
	assert_int_equal(sd_url_parse("http://api.internal", host, sizeof host, &port, &path, &why), 0);
	assert_string_equal(host, "api.internal");
	assert_int_equal(port, 80);
	assert_string_equal(path, "");
	assert_int_equal(sd_url_parse("http://[fd00::1]:81?vm={name}", host, sizeof host, &port,
				      &path, &why),
			 0);
	assert_string_equal(host, "fd00::1");
	assert_int_equal(port, 81);
	assert_string_equal(path, "?vm={name}");
	static const char *const bad[] = {
		"https://a/x",      "ftp://a",          "http://",         "http://:80/",
		"http://a:0/",      "http://a:99999/",  "http://a b/",     "http://u@a/",
		"http://{name}/",   "http://[fd00::1/", "http://[::1]x/",  "http://a/#frag",
		"http://a:/",       "http://a]/",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (sd_url_parse(bad[i], host, sizeof host, &port, &path, &why) != -EINVAL)
			fail_msg("URL \"%s\" should be refused", bad[i]);
	assert_int_equal(sd_url_parse("http://a-very-long-host-name/", host, 8, &port, &path, &why),
			 -EINVAL);
}

static void templates(void **state)
{
	char out[32];
	assert_int_equal(sd_expand("/vms/{name}?q={name}", "web1", out, sizeof out), 0);
	assert_string_equal(out, "/vms/web1?q=web1");
	assert_int_equal(sd_expand("{nam}{name", "x", out, sizeof out), 0);
	assert_string_equal(out, "{nam}{name");
	assert_int_equal(sd_expand("", "x", out, sizeof out), 0);
	assert_string_equal(out, "");
	assert_int_equal(sd_expand("0123456789{name}", "0123456789012345678901", out, sizeof out),
			 -ENOSPC);
	assert_int_equal(sd_expand("{name}", "0123456789012345678901234567890", out, sizeof out), 0);
	assert_int_equal(sd_expand("{name}", "01234567890123456789012345678901", out, sizeof out),
			 -ENOSPC);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(addresses),     cmocka_unit_test(command_output),
		cmocka_unit_test(http_responses), cmocka_unit_test(json_answers),
		cmocka_unit_test(json_paths),    cmocka_unit_test(networks),
		cmocka_unit_test(urls),          cmocka_unit_test(templates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
