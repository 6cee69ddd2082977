/* PROXY protocol headers: the exact bytes of v1 and v2 for IPv4, IPv6, mixed families and an
 * unknown source; round trips through the decoder; every prefix of a valid header asks for
 * more; and malformed v1 lines and v2 blocks rejected with a reason. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <cmocka.h>

#include "proxy_proto.h"

static const uint8_t sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static uint8_t out[16 + 65535 + 64]; /* room for the largest v2 header */
static struct proxy_proto_info info;
static const char *err;

static int decode(const void *buf, size_t len)
{
	err = NULL;
	memset(&info, 0xee, sizeof info);
	return proxy_proto_decode(buf, len, &info, &err);
}

static void expect_v1(const char *client, const char *local, const char *line)
{
	int n = proxy_proto_encode(1, client, local, out, sizeof out);
	assert_int_equal(n, (int)strlen(line));
	assert_memory_equal(out, line, strlen(line));
}

static void v1_bytes(void **state)
{
	expect_v1("192.0.2.1:50123", "127.0.0.1:2222", "PROXY TCP4 192.0.2.1 127.0.0.1 50123 2222\r\n");
	expect_v1("[2001:db8::1]:443", "[::1]:22", "PROXY TCP6 2001:db8::1 ::1 443 22\r\n");
	/* Both addresses of a line are of one family: the IPv4 one is mapped. */
	expect_v1("[2001:db8::1]:443", "127.0.0.1:22", "PROXY TCP6 2001:db8::1 ::ffff:127.0.0.1 443 22\r\n");
	expect_v1("10.0.0.1:1", "[::1]:2", "PROXY TCP6 ::ffff:10.0.0.1 ::1 1 2\r\n");
	expect_v1("0.0.0.0:0", "255.255.255.255:65535", "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n");
	/* Non-canonical IPv6 text comes out canonical. */
	expect_v1("[2001:DB8:0:0::1]:80", "[::1]:81", "PROXY TCP6 2001:db8::1 ::1 80 81\r\n");
	expect_v1(NULL, "127.0.0.1:22", "PROXY UNKNOWN\r\n");
	expect_v1("", "127.0.0.1:22", "PROXY UNKNOWN\r\n");
	expect_v1("127.0.0.1:22", NULL, "PROXY UNKNOWN\r\n");
}

static void v1_longest(void **state)
{
	const char *a = "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535";
	int n = proxy_proto_encode(1, a, a, out, sizeof out);
	assert_int_equal(n, 104);
	assert_true(n <= PROXY_PROTO_ENCODE_MAX);
	assert_int_equal(decode(out, (size_t)n), n);
	assert_string_equal(info.src, a);
}

static void v2_bytes(void **state)
{
	int n = proxy_proto_encode(2, "192.0.2.1:50123", "127.0.0.1:2222", out, sizeof out);
	const uint8_t v4[] = {0x21, 0x11, 0x00, 0x0c, 192, 0, 2, 1, 127, 0, 0, 1, 0xc3, 0xcb, 0x08, 0xae};
	assert_int_equal(n, 28);
	assert_memory_equal(out, sig, 12);
	assert_memory_equal(out + 12, v4, sizeof v4);

	n = proxy_proto_encode(2, "[2001:db8::1]:443", "127.0.0.1:22", out, sizeof out);
	assert_int_equal(n, 52);
	assert_memory_equal(out, sig, 12);
	const uint8_t v6[] = {0x21, 0x21, 0x00, 0x24, 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
	assert_memory_equal(out + 12, v6, sizeof v6);
	const uint8_t mapped[] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1, 0x01, 0xbb, 0x00, 0x16};
	assert_memory_equal(out + 32, mapped, sizeof mapped);

	n = proxy_proto_encode(2, "", "", out, sizeof out);
	const uint8_t unknown[] = {0x21, 0x00, 0x00, 0x00};
	assert_int_equal(n, 16);
	assert_memory_equal(out, sig, 12);
	assert_memory_equal(out + 12, unknown, sizeof unknown);
}

static void encode_rejects(void **state)
{
	const char *bad[] = {
		"1.2.3.4",          "1.2.3.4:",       "1.2.3.4:65536", "1.2.3.4:0080",
		"1.2.3.4:-1",       "1.2.3.4:+1",     "1.2.3.4:80 ",   "1.2.3:80",
		"1.2.3.4.5:80",     "01.2.3.4:80",    "host:80",       "2001:db8::1:80",
		"[1.2.3.4]:80",     "[::1]80",        "[::1]:",        "[::1:80",
		"[fe80::1%lo]:80",  ":80",            "[]:80",         "1.2.3.4:123456",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		for (int v = 1; v <= 2; v++) {
			assert_int_equal(proxy_proto_encode(v, bad[i], "127.0.0.1:1", out, sizeof out), -EINVAL);
			assert_int_equal(proxy_proto_encode(v, "127.0.0.1:1", bad[i], out, sizeof out), -EINVAL);
		}
	}
	assert_int_equal(proxy_proto_encode(0, "1.2.3.4:1", "1.2.3.4:2", out, sizeof out), -EINVAL);
	assert_int_equal(proxy_proto_encode(3, "1.2.3.4:1", "1.2.3.4:2", out, sizeof out), -EINVAL);
	assert_int_equal(proxy_proto_encode(3, NULL, NULL, out, sizeof out), -EINVAL);
}

static void encode_no_space(void **state)
{
	const char *pairs[][2] = {
		{"192.0.2.1:50123", "127.0.0.1:2222"}, {"[2001:db8::1]:443", "[::1]:22"}, {NULL, NULL}};
	for (size_t i = 0; i < 3; i++) {
		for (int v = 1; v <= 2; v++) {
			int n = proxy_proto_encode(v, pairs[i][0], pairs[i][1], out, sizeof out);
			assert_true(n > 0);
			uint8_t exact[PROXY_PROTO_ENCODE_MAX];
			assert_int_equal(proxy_proto_encode(v, pairs[i][0], pairs[i][1], exact, (size_t)n), n);
			assert_memory_equal(exact, out, (size_t)n);
			assert_int_equal(proxy_proto_encode(v, pairs[i][0], pairs[i][1], exact, (size_t)n - 1),
					 -ENOSPC);
			assert_int_equal(proxy_proto_encode(v, pairs[i][0], pairs[i][1], exact, 0), -ENOSPC);
		}
	}
}

static void round_trips(void **state)
{
	const struct {
		const char *src, *dst;
		int family;
	} cases[] = {
		{"192.0.2.1:50123", "127.0.0.1:2222", AF_INET},
		{"0.0.0.0:0", "255.255.255.255:65535", AF_INET},
		{"[2001:db8::1]:443", "[::1]:22", AF_INET6},
		{"[::ffff:10.0.0.1]:1", "[::1]:2", AF_INET6},
		{"[fe80::1:2:3:4]:65535", "[::]:1", AF_INET6},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		for (int v = 1; v <= 2; v++) {
			int n = proxy_proto_encode(v, cases[i].src, cases[i].dst, out, sizeof out);
			assert_true(n > 0);
			/* The user's first bytes follow the header; the decoder stops before them. */
			memcpy(out + n, "GET / HTTP/1.1\r\n", 16);
			assert_int_equal(decode(out, (size_t)n + 16), n);
			assert_int_equal(info.version, v);
			assert_int_equal(info.command, PROXY_PROTO_CMD_PROXY);
			assert_int_equal(info.family, cases[i].family);
			assert_int_equal(info.socktype, SOCK_STREAM);
			assert_string_equal(info.src, cases[i].src);
			assert_string_equal(info.dst, cases[i].dst);
			/* Every prefix of a valid header asks for more, never fails. */
			for (size_t k = 0; k < (size_t)n; k++)
				assert_int_equal(decode(out, k), -EAGAIN);
		}
	}
	for (int v = 1; v <= 2; v++) {
		int n = proxy_proto_encode(v, NULL, NULL, out, sizeof out);
		assert_int_equal(decode(out, (size_t)n), n);
		assert_int_equal(info.version, v);
		assert_int_equal(info.command, PROXY_PROTO_CMD_PROXY);
		assert_int_equal(info.family, AF_UNSPEC);
		assert_string_equal(info.src, "");
		assert_string_equal(info.dst, "");
	}
}

static void expect_proto(const char *text, const char *why)
{
	assert_int_equal(decode(text, strlen(text)), -EPROTO);
	assert_non_null(err);
	if (!strstr(err, why))
		fail_msg("'%s': error '%s' does not mention '%s'", text, err, why);
}

static void v1_malformed(void **state)
{
	expect_proto("GET / HTTP/1.1\r\n", "not a PROXY");
	expect_proto("PROXZ", "not a PROXY");                 /* fails before the line ends */
	expect_proto("proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "not a PROXY");
	expect_proto("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "control character");
	expect_proto("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX", "CR not followed by LF");
	expect_proto("PROXY TCP4\t1.2.3.4 5.6.7.8 1 2\r\n", "control character");
	expect_proto("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", "TCP4, TCP6 or UNKNOWN");
	expect_proto("PROXY \r\n", "no protocol");
	expect_proto("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", "no protocol");
	expect_proto("PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n", "bad destination address");
	expect_proto("PROXY TCP4 ::1 ::1 1 2\r\n", "bad source address");
	expect_proto("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", "bad source address");
	expect_proto("PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n", "bad source port");
	expect_proto("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", "bad destination port");
	expect_proto("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "bad destination port");
	expect_proto("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n", "bad destination port");
	expect_proto("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n", "extra fields");
	expect_proto("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\xff\r\n", "non-ASCII");

	/* No CRLF within 107 bytes: rejected at 106 bytes, before any more is read. */
	char longline[200] = "PROXY UNKNOWN";
	memset(longline + 13, ' ', sizeof longline - 14);
	longline[sizeof longline - 1] = '\0';
	assert_int_equal(decode(longline, 105), -EAGAIN);
	assert_int_equal(decode(longline, 106), -EPROTO);
	assert_non_null(strstr(err, "longer than 107"));
	/* ... while a CRLF ending at byte 107 is fine. */
	memcpy(longline + 105, "\r\n", 2);
	assert_int_equal(decode(longline, 107), 107);
	assert_int_equal(info.family, AF_UNSPEC);

	/* UNKNOWN ignores the rest of its line. */
	const char *unk = "PROXY UNKNOWN ffff::1 ffff::2 1 2\r\nhello";
	assert_int_equal(decode(unk, strlen(unk)), (int)strlen(unk) - 5);
	assert_int_equal(info.family, AF_UNSPEC);
}

/* A v2 header: signature, then the given bytes. */
static size_t v2(uint8_t ver_cmd, uint8_t fam, size_t alen, const uint8_t *addr)
{
	memcpy(out, sig, 12);
	out[12] = ver_cmd;
	out[13] = fam;
	out[14] = (uint8_t)(alen >> 8);
	out[15] = (uint8_t)alen;
	memset(out + 16, 0, alen);
	if (addr)
		memcpy(out + 16, addr, alen < 12 ? alen : 12);
	return 16 + alen;
}

static void v2_variants(void **state)
{
	const uint8_t a4[12] = {192, 0, 2, 1, 10, 0, 0, 1, 0x30, 0x39, 0x00, 0x50};
	/* TLVs after the addresses are taken up and skipped. */
	size_t n = v2(0x21, 0x11, 12 + 7, a4);
	assert_int_equal(decode(out, n), (int)n);
	assert_string_equal(info.src, "192.0.2.1:12345");
	assert_string_equal(info.dst, "10.0.0.1:80");
	/* LOCAL: addresses ignored. */
	n = v2(0x20, 0x11, 12, a4);
	assert_int_equal(decode(out, n), 28);
	assert_int_equal(info.command, PROXY_PROTO_CMD_LOCAL);
	assert_int_equal(info.family, AF_UNSPEC);
	assert_string_equal(info.src, "");
	/* UDP over IPv4. */
	n = v2(0x21, 0x12, 12, a4);
	assert_int_equal(decode(out, n), 28);
	assert_int_equal(info.socktype, SOCK_DGRAM);
	assert_int_equal(info.family, AF_INET);
	/* UNIX stream: no ip:port. */
	n = v2(0x21, 0x31, 216, NULL);
	assert_int_equal(decode(out, n), 232);
	assert_int_equal(info.family, AF_UNIX);
	assert_string_equal(info.src, "");
	/* The largest block there can be. */
	n = v2(0x21, 0x00, 65535, NULL);
	assert_int_equal(decode(out, n - 1), -EAGAIN);
	assert_int_equal(decode(out, n), 16 + 65535);
}

static void v2_malformed(void **state)
{
	const struct {
		uint8_t ver_cmd, fam;
		size_t alen;
		const char *why;
	} cases[] = {
		{0x11, 0x11, 12, "version is not 2"},
		{0x31, 0x11, 12, "version is not 2"},
		{0x22, 0x11, 12, "unknown command"},
		{0x2f, 0x11, 12, "unknown command"},
		{0x21, 0x41, 12, "unknown address family"},
		{0x21, 0x13, 12, "unknown transport"},
		{0x21, 0x11, 11, "shorter than its family"},
		{0x21, 0x21, 12, "shorter than its family"},
		{0x21, 0x31, 215, "shorter than its family"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = v2(cases[i].ver_cmd, cases[i].fam, cases[i].alen, NULL);
		assert_int_equal(decode(out, n), -EPROTO);
		assert_non_null(strstr(err, cases[i].why));
		/* Rejected as soon as the offending byte is there. */
		size_t at = cases[i].ver_cmd != 0x21 ? 13 : strstr(cases[i].why, "shorter") ? 16 : 14;
		assert_int_equal(decode(out, at), -EPROTO);
		assert_int_equal(decode(out, at - 1), -EAGAIN);
	}
	/* A broken signature fails at the first wrong byte. */
	v2(0x21, 0x11, 12, NULL);
	out[5] = 0x0c;
	assert_int_equal(decode(out, 6), -EPROTO);
	assert_int_equal(decode(out, 5), -EAGAIN);
	assert_int_equal(decode(out, 0), -EAGAIN);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(v1_bytes),       cmocka_unit_test(v1_longest),
		cmocka_unit_test(v2_bytes),       cmocka_unit_test(encode_rejects),
		cmocka_unit_test(encode_no_space), cmocka_unit_test(round_trips),
		cmocka_unit_test(v1_malformed),   cmocka_unit_test(v2_variants),
		cmocka_unit_test(v2_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
