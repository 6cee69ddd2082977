/* The endpoint parsers: what "host:port" and "sha256:..." accept, and the phrases an operator
 * sees for what they refuse. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "tcp_addr.h"

static int parse(const char *s, struct tcp_hostport *hp, const char **why)
{
	*why = NULL;
	return tcp_hostport_parse(s, strlen(s), hp, why);
}

static void accepts_ipv4_ipv6_and_names(void **state)
{
	struct tcp_hostport hp;
	const char *why;
	assert_int_equal(parse("0.0.0.0:9090", &hp, &why), 0);
	assert_string_equal(hp.host, "0.0.0.0");
	assert_int_equal(hp.port, 9090);
	assert_int_equal(hp.kind, TCP_HOST_IPV4);

	assert_int_equal(parse("[::1]:443", &hp, &why), 0);
	assert_string_equal(hp.host, "::1");
	assert_int_equal(hp.port, 443);
	assert_int_equal(hp.kind, TCP_HOST_IPV6);

	assert_int_equal(parse("[::ffff:10.0.0.1]:65535", &hp, &why), 0);
	assert_int_equal(hp.kind, TCP_HOST_IPV6);

	assert_int_equal(parse("server.example.com:1", &hp, &why), 0);
	assert_string_equal(hp.host, "server.example.com");
	assert_int_equal(hp.kind, TCP_HOST_NAME);

	assert_int_equal(parse("localhost:9443", &hp, &why), 0);
	assert_int_equal(parse("my_host-1.internal:80", &hp, &why), 0);
}

static void refuses_malformed(void **state)
{
	static const char *const bad[] = {
		"",          "9090",        ":9090",          "host:",       "host:0",
		"host:65536", "host:+80",   "host: 80",       "host:80 ",    "host:0x50",
		"::1:9090",  "[::1]9090",   "[::1]",          "[::1:9090",   "[1.2.3.4]:80",
		"[host]:80", "-host:80",    "host-:80",       "a..b:80",     "a.b.:80",
		"1.2.3:80",  "10.1:80",     "1.2.3.256:80",   "host name:80", "hö.st:80",
		"[::1]:80:80",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct tcp_hostport hp;
		const char *why;
		if (parse(bad[i], &hp, &why) != -22)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(why);
	}
}

static void explains_ipv6_without_brackets(void **state)
{
	struct tcp_hostport hp;
	const char *why;
	assert_int_equal(parse("::1:9090", &hp, &why), -22);
	assert_non_null(strstr(why, "brackets"));
}

static void not_nul_terminated(void **state)
{
	/* The parser must stop at len, not at a NUL. */
	const char buf[] = "example.com:80XYZ";
	struct tcp_hostport hp;
	const char *why;
	assert_int_equal(tcp_hostport_parse(buf, 14, &hp, &why), 0);
	assert_int_equal(hp.port, 80);
	assert_int_equal(tcp_hostport_parse(buf, 15, &hp, &why), -22);
}

static void name_length_limits(void **state)
{
	char name[300];
	enum tcp_host_kind kind;
	memset(name, 'a', 63);
	assert_int_equal(tcp_host_classify(name, 63, &kind), 0);
	memset(name, 'a', 64);
	assert_int_equal(tcp_host_classify(name, 64, &kind), -22);
	/* 4 labels of 63 + 3 dots = 255 > 253 */
	for (int i = 0; i < 255; i++)
		name[i] = (i % 64 == 63) ? '.' : 'a';
	assert_int_equal(tcp_host_classify(name, 255, &kind), -22);
	assert_int_equal(tcp_host_classify(name, 253, &kind), 0);
}

static void pin_round_trip(void **state)
{
	const char *text = "sha256:00112233445566778899AABBCCDDEEFF00112233445566778899aabbccddeeff";
	uint8_t pin[TCP_PIN_LEN];
	assert_int_equal(tcp_pin_parse(text, strlen(text), pin), 0);
	assert_int_equal(pin[0], 0x00);
	assert_int_equal(pin[1], 0x11);
	assert_int_equal(pin[10], 0xaa);
	assert_int_equal(pin[31], 0xff);
	char out[TCP_PIN_TEXT_MAX];
	tcp_pin_format(pin, out);
	assert_string_equal(out,
			    "sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff");
}

static void pin_refuses_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"sha256:",
		"sha1:00112233445566778899aabbccddeeff00112233",
		"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeef",
		"sha256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff0",
		"sha256:g0112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"SHA256:00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff",
		"sha256:00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff:00:11:22:33:44:55",
	};
	uint8_t pin[TCP_PIN_LEN];
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (tcp_pin_parse(bad[i], strlen(bad[i]), pin) != -22)
			fail_msg("accepted \"%s\"", bad[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(accepts_ipv4_ipv6_and_names),
		cmocka_unit_test(refuses_malformed),
		cmocka_unit_test(explains_ipv6_without_brackets),
		cmocka_unit_test(not_nul_terminated),
		cmocka_unit_test(name_length_limits),
		cmocka_unit_test(pin_round_trip),
		cmocka_unit_test(pin_refuses_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
