/* test_punch_msg.c: the punch codec (layout, MAC, attempt id, what is dropped) and the
 * candidate lists (cand.c). */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cand.h"
#include "punch_msg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static const uint8_t key[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16,
				17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32};

static void test_round_trip(void **state)
{
	uint8_t buf[PUNCH_MSG_LEN];
	struct punch_msg m = {.type = PUNCH_PUNCH, .attempt_id = 0x0102030405060708ull,
			      .nonce = 0xfedcba9876543210ull};
	assert_int_equal(punch_msg_encode(buf, &m, key, sizeof key), 0);
	/* the layout of punch_msg.h */
	assert_int_equal(buf[0], 0x3f);
	assert_memory_equal(buf + 1, "PXP", 3);
	assert_int_equal(buf[4], PUNCH_VERSION);
	assert_int_equal(buf[5], PUNCH_PUNCH);
	assert_int_equal(buf[6], 0x01);
	assert_int_equal(buf[13], 0x08);
	assert_int_equal(buf[14], 0xfe);
	/* never QUIC's fixed bit or long header, never STUN's cookie */
	assert_true(buf[0] < 0x40);
	assert_false(buf[4] == 0x21 && buf[5] == 0x12);
	struct punch_msg out;
	assert_true(punch_msg_looks_like(buf, sizeof buf));
	assert_int_equal(punch_msg_decode(buf, sizeof buf, key, sizeof key, m.attempt_id, &out), 0);
	assert_int_equal(out.type, PUNCH_PUNCH);
	assert_true(out.attempt_id == m.attempt_id);
	assert_true(out.nonce == m.nonce);
	m.type = PUNCH_ACK;
	assert_int_equal(punch_msg_encode(buf, &m, key, sizeof key), 0);
	assert_int_equal(punch_msg_decode(buf, sizeof buf, key, sizeof key, m.attempt_id, &out), 0);
	assert_int_equal(out.type, PUNCH_ACK);
}

static void test_rejects(void **state)
{
	uint8_t buf[PUNCH_MSG_LEN], other[32];
	memset(other, 0x55, sizeof other);
	struct punch_msg m = {.type = PUNCH_PUNCH, .attempt_id = 42, .nonce = 7}, out;
	assert_int_equal(punch_msg_encode(buf, &m, key, sizeof key), 0);
	/* another key: the MAC fails */
	assert_int_equal(punch_msg_decode(buf, sizeof buf, other, sizeof other, 42, &out),
			 PUNCH_BAD_MAC);
	/* the right key, another attempt */
	assert_int_equal(punch_msg_decode(buf, sizeof buf, key, sizeof key, 43, &out),
			 PUNCH_BAD_ATTEMPT);
	/* every single bit flipped after the magic and version breaks the MAC */
	for (size_t i = 5; i < PUNCH_MSG_LEN; i++) {
		for (int b = 0; b < 8; b++) {
			buf[i] ^= (uint8_t)(1 << b);
			assert_int_equal(punch_msg_decode(buf, sizeof buf, key, sizeof key, 42, &out),
					 PUNCH_BAD_MAC);
			buf[i] ^= (uint8_t)(1 << b);
		}
	}
	/* not ours */
	assert_int_equal(punch_msg_decode(buf, sizeof buf - 1, key, sizeof key, 42, &out),
			 PUNCH_NOT_PUNCH);
	buf[4] = 2;
	assert_int_equal(punch_msg_decode(buf, sizeof buf, key, sizeof key, 42, &out),
			 PUNCH_NOT_PUNCH);
	buf[0] = 0x40;
	assert_false(punch_msg_looks_like(buf, sizeof buf));
	/* an authentic message of an unknown type */
	m.type = 9;
	assert_int_equal(punch_msg_encode(buf, &m, key, sizeof key), 0);
	assert_int_equal(punch_msg_decode(buf, sizeof buf, key, sizeof key, 42, &out),
			 PUNCH_BAD_TYPE);
}

static void test_cand_round_trip(void **state)
{
	struct cand_list l;
	const char *why = NULL;
	const char *text = "host 10.0.1.2:40112,srflx 198.18.0.11:40112,host [2001:db8::1]:5555";
	assert_int_equal(cand_parse(text, &l, &why), 0);
	assert_int_equal(l.n, 3);
	assert_int_equal(l.c[0].type, CAND_HOST);
	assert_int_equal(l.c[1].type, CAND_SRFLX);
	assert_int_equal(l.c[2].addr.ss_family, AF_INET6);
	char buf[512];
	assert_int_equal(cand_format(&l, buf, sizeof buf), 3);
	assert_string_equal(buf, text);
	/* too small a buffer: whole entries only */
	assert_int_equal(cand_format(&l, buf, 25), 1);
	assert_string_equal(buf, "host 10.0.1.2:40112");
	/* duplicates are dropped whatever their type; unknown types skipped */
	assert_int_equal(cand_parse("host 1.2.3.4:5,srflx 1.2.3.4:5,relay 9.9.9.9:1", &l, &why), 0);
	assert_int_equal(l.n, 1);
	assert_int_equal(cand_parse("", &l, &why), 0);
	assert_int_equal(l.n, 0);
}

static void test_cand_bad(void **state)
{
	struct cand_list l;
	const char *why = NULL;
	const char *bad[] = {
		"host",		       "host 1.2.3.4",	  "host 1.2.3.4:0",   "host 1.2.3.4:65536",
		"host name.example:80", "host 2001:db8::1:80", "host 1.2.3.4:80,", ",host 1.2.3.4:80",
		"host [1.2.3.4]:80",    "host 1.2.3.4:8x",
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		assert_int_equal(cand_parse(bad[i], &l, &why), -EINVAL);
		assert_non_null(why);
	}
	struct sockaddr_storage ss;
	socklen_t len;
	assert_int_equal(cand_parse_ipport("0.0.0.0:0", 1, &ss, &len, &why), 0);
	assert_int_equal(cand_parse_ipport("0.0.0.0:0", 0, &ss, &len, &why), -EINVAL);
	assert_int_equal(cand_parse_ipport("[::]:3478", 0, &ss, &len, &why), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_cand_round_trip),
		cmocka_unit_test(test_cand_bad),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
