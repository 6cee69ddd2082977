/* test_stun.c: the STUN codec, with RFC 5769's test vectors (the sample request and the IPv4
 * and IPv6 responses: FINGERPRINT and XOR-MAPPED-ADDRESS; MESSAGE-INTEGRITY is skipped by
 * the codec), round trips of what we send, and malformed messages. */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "stun.h"

#include <errno.h>
#include <string.h>

/* RFC 5769 2.1: a Binding request with SOFTWARE, PRIORITY (comprehension-required, unknown
 * here), ICE-CONTROLLED, USERNAME padded with spaces, MESSAGE-INTEGRITY and FINGERPRINT. */
static const uint8_t rfc_request[] = {
	0x00, 0x01, 0x00, 0x58, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x10, 0x53, 0x54, 0x55, 0x4e,
	0x20, 0x74, 0x65, 0x73, 0x74, 0x20, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x00, 0x24,
	0x00, 0x04, 0x6e, 0x00, 0x01, 0xff, 0x80, 0x29, 0x00, 0x08, 0x93, 0x2f, 0xf9, 0xb1,
	0x51, 0x26, 0x3b, 0x36, 0x00, 0x06, 0x00, 0x09, 0x65, 0x76, 0x74, 0x6a, 0x3a, 0x68,
	0x36, 0x76, 0x59, 0x20, 0x20, 0x20, 0x00, 0x08, 0x00, 0x14, 0x9a, 0xea, 0xa7, 0x0c,
	0xbf, 0xd8, 0xcb, 0x56, 0x78, 0x1e, 0xf2, 0xb5, 0xb2, 0xd3, 0xf2, 0x49, 0xc1, 0xb5,
	0x71, 0xa2, 0x80, 0x28, 0x00, 0x04, 0xe5, 0x7a, 0x3b, 0xcf,
};

/* RFC 5769 2.2: 192.0.2.1 port 32853 */
static const uint8_t rfc_response4[] = {
	0x01, 0x01, 0x00, 0x3c, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
	0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x08, 0x00, 0x01,
	0xa1, 0x47, 0xe1, 0x12, 0xa6, 0x43, 0x00, 0x08, 0x00, 0x14, 0x2b, 0x91, 0xf5, 0x99,
	0xfd, 0x9e, 0x90, 0xc3, 0x8c, 0x74, 0x89, 0xf9, 0x2a, 0xf9, 0xba, 0x53, 0xf0, 0x6b,
	0xe7, 0xd7, 0x80, 0x28, 0x00, 0x04, 0xc0, 0x7d, 0x4c, 0x96,
};

/* RFC 5769 2.3: 2001:db8:1234:5678:11:2233:4455:6677 port 32853 */
static const uint8_t rfc_response6[] = {
	0x01, 0x01, 0x00, 0x48, 0x21, 0x12, 0xa4, 0x42, 0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
	0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae, 0x80, 0x22, 0x00, 0x0b, 0x74, 0x65, 0x73, 0x74,
	0x20, 0x76, 0x65, 0x63, 0x74, 0x6f, 0x72, 0x20, 0x00, 0x20, 0x00, 0x14, 0x00, 0x02,
	0xa1, 0x47, 0x01, 0x13, 0xa9, 0xfa, 0xa5, 0xd3, 0xf1, 0x79, 0xbc, 0x25, 0xf4, 0xb5,
	0xbe, 0xd2, 0xb9, 0xd9, 0x00, 0x08, 0x00, 0x14, 0xa3, 0x82, 0x95, 0x4e, 0x4b, 0xe6,
	0x7b, 0xf1, 0x17, 0x84, 0xc9, 0x7c, 0x82, 0x92, 0xc2, 0x75, 0xbf, 0xe3, 0xed, 0x41,
	0x80, 0x28, 0x00, 0x04, 0xc8, 0xfb, 0x0b, 0x4c,
};

static const uint8_t rfc_txid[12] = {0xb7, 0xe7, 0xa7, 0x01, 0xbc, 0x34,
				     0xd6, 0x86, 0xfa, 0x87, 0xdf, 0xae};

static void test_rfc5769_request(void **state)
{
	struct stun_msg m;
	const char *why = NULL;
	assert_int_equal(stun_decode(rfc_request, sizeof rfc_request, &m, &why), 0);
	assert_int_equal(m.type, STUN_BINDING_REQUEST);
	assert_memory_equal(m.txid, rfc_txid, 12);
	assert_true(m.has_fingerprint);
	assert_true(m.has_integrity);
	assert_int_equal(m.software_len, 16);
	assert_memory_equal(m.software, "STUN test client", 16);
	/* PRIORITY (0x0024) and USERNAME (0x0006) are comprehension-required and unknown to
	 * this codec: listed, not fatal */
	assert_int_equal(m.n_unknown, 2);
	assert_int_equal(m.unknown[0], 0x0024);
	assert_int_equal(m.unknown[1], 0x0006);
	assert_true(stun_looks_like(rfc_request, sizeof rfc_request));
}

static void test_rfc5769_response4(void **state)
{
	struct stun_msg m;
	const char *why = NULL;
	assert_int_equal(stun_decode(rfc_response4, sizeof rfc_response4, &m, &why), 0);
	assert_int_equal(m.type, STUN_BINDING_SUCCESS);
	assert_true(m.has_fingerprint);
	assert_true(m.has_xor_mapped);
	assert_int_equal(m.xor_mapped.family, 4);
	assert_int_equal(m.xor_mapped.port, 32853);
	const uint8_t ip[4] = {192, 0, 2, 1};
	assert_memory_equal(m.xor_mapped.ip, ip, 4);
	assert_int_equal(m.n_unknown, 0);
}

static void test_rfc5769_response6(void **state)
{
	struct stun_msg m;
	const char *why = NULL;
	assert_int_equal(stun_decode(rfc_response6, sizeof rfc_response6, &m, &why), 0);
	assert_true(m.has_fingerprint);
	assert_true(m.has_xor_mapped);
	assert_int_equal(m.xor_mapped.family, 6);
	assert_int_equal(m.xor_mapped.port, 32853);
	const uint8_t ip[16] = {0x20, 0x01, 0x0d, 0xb8, 0x12, 0x34, 0x56, 0x78,
				0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77};
	assert_memory_equal(m.xor_mapped.ip, ip, 16);
}

static void test_fingerprint_flip(void **state)
{
	/* any changed byte (here the mapped address) breaks the CRC */
	uint8_t buf[sizeof rfc_response4];
	memcpy(buf, rfc_response4, sizeof buf);
	buf[45] ^= 1;
	struct stun_msg m;
	const char *why = NULL;
	assert_int_equal(stun_decode(buf, sizeof buf, &m, &why), -EINVAL);
	assert_string_equal(why, "FINGERPRINT does not match");
}

static void test_request_round_trip(void **state)
{
	uint8_t buf[STUN_MSG_MAX];
	for (int fp = 0; fp < 2; fp++) {
		size_t n = stun_encode_binding_request(buf, sizeof buf, rfc_txid, fp);
		assert_int_equal(n, fp ? 28 : 20);
		struct stun_msg m;
		const char *why = NULL;
		assert_int_equal(stun_decode(buf, n, &m, &why), 0);
		assert_int_equal(m.type, STUN_BINDING_REQUEST);
		assert_int_equal(m.has_fingerprint, fp);
		assert_memory_equal(m.txid, rfc_txid, 12);
	}
	assert_int_equal(stun_encode_binding_request(buf, 27, rfc_txid, 1), 0);
}

static void test_response_round_trip(void **state)
{
	struct stun_addr a4 = {.family = 4, .ip = {198, 18, 0, 11}, .port = 40112};
	struct stun_addr a6 = {.family = 6, .ip = {0x20, 0x01, 0x0d, 0xb8, [15] = 7}, .port = 5555};
	const struct stun_addr *as[] = {&a4, &a6};
	for (int i = 0; i < 2; i++) {
		for (int fp = 0; fp < 2; fp++) {
			uint8_t buf[STUN_MSG_MAX];
			size_t n = stun_encode_binding_success(buf, sizeof buf, rfc_txid, as[i],
							       i ? NULL : "proxyd udp-punch", fp);
			assert_true(n > 0);
			struct stun_msg m;
			const char *why = NULL;
			assert_int_equal(stun_decode(buf, n, &m, &why), 0);
			assert_int_equal(m.type, STUN_BINDING_SUCCESS);
			assert_int_equal(m.has_fingerprint, fp);
			assert_true(m.has_xor_mapped && m.has_mapped);
			assert_int_equal(m.xor_mapped.family, as[i]->family);
			assert_int_equal(m.xor_mapped.port, as[i]->port);
			assert_memory_equal(m.xor_mapped.ip, as[i]->ip, as[i]->family == 4 ? 4 : 16);
			assert_memory_equal(&m.mapped, &m.xor_mapped, sizeof m.mapped);
			/* the wire carries the XORed form, not the address */
			assert_memory_not_equal(buf + 28, as[i]->ip, 4); /* XOR-MAPPED's value */
			if (!i)
				assert_memory_equal(m.software, "proxyd udp-punch", 16);
		}
	}
}

static void expect_bad(const uint8_t *buf, size_t len, const char *want)
{
	struct stun_msg m;
	const char *why = NULL;
	assert_int_equal(stun_decode(buf, len, &m, &why), -EINVAL);
	assert_non_null(why);
	if (want)
		assert_string_equal(why, want);
}

static void test_malformed(void **state)
{
	uint8_t buf[sizeof rfc_response4];
	memcpy(buf, rfc_response4, sizeof buf);
	expect_bad(buf, 19, "shorter than a STUN header");
	buf[0] = 0x41; /* a QUIC-looking first byte */
	expect_bad(buf, sizeof buf, "first two bits are not zero");
	memcpy(buf, rfc_response4, sizeof buf);
	buf[4] = 0;
	expect_bad(buf, sizeof buf, "no magic cookie");
	memcpy(buf, rfc_response4, sizeof buf);
	buf[3] = 0x3d;
	expect_bad(buf, sizeof buf, "message length is not a multiple of 4");
	buf[3] = 0x38;
	expect_bad(buf, sizeof buf, "message length does not match the datagram");
	expect_bad(buf, sizeof buf - 1, "message length does not match the datagram");
	/* an attribute whose length runs past the end */
	memcpy(buf, rfc_response4, sizeof buf);
	buf[22] = 0x01;
	expect_bad(buf, sizeof buf, "attribute runs past the end");
	/* XOR-MAPPED-ADDRESS with an unknown family */
	memcpy(buf, rfc_response4, sizeof buf);
	buf[41] = 3;
	expect_bad(buf, sizeof buf, NULL);
	/* something after FINGERPRINT: a request whose length is bumped by a trailing attr */
	uint8_t req[STUN_MSG_MAX];
	size_t n = stun_encode_binding_request(req, sizeof req, rfc_txid, 1);
	memset(req + n, 0, 4);
	req[n + 1] = 0x80; /* type 0x8000, empty: comprehension-optional */
	req[0 + 3] = (uint8_t)(n + 4 - 20);
	expect_bad(req, n + 4, NULL);
	/* an unknown comprehension-optional attribute is skipped, not an error */
	n = stun_encode_binding_request(req, sizeof req, rfc_txid, 0);
	const uint8_t opt[] = {0x80, 0x55, 0x00, 0x01, 0xaa, 0, 0, 0};
	memcpy(req + n, opt, sizeof opt);
	req[3] = (uint8_t)(n + sizeof opt - 20);
	struct stun_msg m;
	const char *why = NULL;
	assert_int_equal(stun_decode(req, n + sizeof opt, &m, &why), 0);
	assert_int_equal(m.n_unknown, 0);
}

static void test_crc32(void **state)
{
	/* the standard check value */
	assert_int_equal(stun_crc32((const uint8_t *)"123456789", 9), 0xcbf43926u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc32),
		cmocka_unit_test(test_rfc5769_request),
		cmocka_unit_test(test_rfc5769_response4),
		cmocka_unit_test(test_rfc5769_response6),
		cmocka_unit_test(test_fingerprint_flip),
		cmocka_unit_test(test_request_round_trip),
		cmocka_unit_test(test_response_round_trip),
		cmocka_unit_test(test_malformed),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
