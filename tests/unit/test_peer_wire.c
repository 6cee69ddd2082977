/* Agent-to-agent wire format (core/peer_wire.h): round trips of the preamble and of every
 * frame type, every rejection the header promises, -EAGAIN at every truncation point of a
 * valid frame, and garbage headers refused from the 4 header bytes alone. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "peer_wire.h"

static uint8_t buf[PEER_FRAME_MAX + 16];
static struct peer_frame f;
static const char *err;

static void expect_proto_frame(size_t len, const char *why)
{
	err = NULL;
	int r = peer_frame_decode(buf, len, &f, &err);
	if (r != -EPROTO)
		fail_msg("expected -EPROTO (%s), got %d", why, r);
	assert_non_null(err);
	if (!strstr(err, why))
		fail_msg("expected error containing \"%s\", got \"%s\"", why, err);
}

static void expect_proto_preamble(size_t len, const char *why)
{
	char agent[PEER_AGENT_MAX + 1];
	err = NULL;
	int r = peer_preamble_decode(buf, len, agent, sizeof agent, &err);
	if (r != -EPROTO)
		fail_msg("expected -EPROTO (%s), got %d", why, r);
	assert_non_null(err);
	if (!strstr(err, why))
		fail_msg("expected error containing \"%s\", got \"%s\"", why, err);
}

static void header(uint8_t type, uint32_t length)
{
	buf[0] = type;
	buf[1] = (uint8_t)(length >> 16);
	buf[2] = (uint8_t)(length >> 8);
	buf[3] = (uint8_t)length;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--, v >>= 8)
		p[i] = (uint8_t)v;
}

/* Every strict prefix of a valid frame of n bytes asks for more. */
static void all_prefixes_again(size_t n)
{
	for (size_t i = 0; i < n; i++) {
		err = NULL;
		int r = peer_frame_decode(buf, i, &f, &err);
		if (r != -EAGAIN)
			fail_msg("prefix of %zu of %zu bytes: expected -EAGAIN, got %d", i, n, r);
	}
}

static int setup(void **state)
{
	memset(buf, 0, sizeof buf);
	memset(&f, 0xa5, sizeof f);
	err = NULL;
	return 0;
}

/* ---- preamble ---- */

static void preamble_round_trip(void **state)
{
	static const char *const ids[] = {"a", "agent-1", "Z9._-x", "node.example_1-b"};
	char agent[PEER_AGENT_MAX + 1];
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++) {
		size_t n = strlen(ids[i]);
		assert_int_equal(peer_preamble_encode(ids[i], buf, sizeof buf), (int)(1 + n));
		assert_int_equal(buf[0], n);
		assert_memory_equal(buf + 1, ids[i], n);
		memset(agent, 'x', sizeof agent);
		/* trailing bytes (the first frame) are not consumed */
		assert_int_equal(peer_preamble_decode(buf, n + 5, agent, sizeof agent, &err),
				 (int)(1 + n));
		assert_string_equal(agent, ids[i]);
		for (size_t k = 0; k < 1 + n; k++)
			assert_int_equal(peer_preamble_decode(buf, k, agent, sizeof agent, &err),
					 -EAGAIN);
	}

	/* the longest id */
	char id[PEER_AGENT_MAX + 2];
	memset(id, 'a', PEER_AGENT_MAX);
	id[PEER_AGENT_MAX] = '\0';
	assert_int_equal(peer_preamble_encode(id, buf, sizeof buf), PEER_PREAMBLE_MAX);
	assert_int_equal(peer_preamble_decode(buf, PEER_PREAMBLE_MAX, agent, sizeof agent, &err),
			 PEER_PREAMBLE_MAX);
	assert_string_equal(agent, id);
	/* room for exactly the preamble, one byte less */
	assert_int_equal(peer_preamble_encode(id, buf, PEER_PREAMBLE_MAX), PEER_PREAMBLE_MAX);
	assert_int_equal(peer_preamble_encode(id, buf, PEER_PREAMBLE_MAX - 1), -ENOSPC);
	assert_int_equal(peer_preamble_encode("ab", buf, 2), -ENOSPC);
	assert_int_equal(peer_preamble_encode("ab", buf, 0), -ENOSPC);
}

static void preamble_rejected(void **state)
{
	/* length 0 and above 64: known from the first byte alone */
	buf[0] = 0;
	expect_proto_preamble(1, "length must be 1..64");
	buf[0] = PEER_AGENT_MAX + 1;
	expect_proto_preamble(1, "length must be 1..64");
	buf[0] = 0xff;
	expect_proto_preamble(1, "length must be 1..64");

	static const char *const bad[] = {"a b", "a/b", "a:b", "a\nb", "\xc3\xa9", "a@b", "*",
					  "a\x7f"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		size_t n = strlen(bad[i]);
		buf[0] = (uint8_t)n;
		memcpy(buf + 1, bad[i], n);
		expect_proto_preamble(1 + n, "invalid agent id");
		assert_int_equal(peer_preamble_encode(bad[i], buf, sizeof buf), -EINVAL);
	}
	/* a NUL inside the id */
	memcpy(buf, "\x03" "a\0b", 4);
	expect_proto_preamble(4, "invalid agent id");

	/* the encoder refuses what would not decode */
	char id[PEER_AGENT_MAX + 2];
	memset(id, 'a', PEER_AGENT_MAX + 1);
	id[PEER_AGENT_MAX + 1] = '\0';
	assert_int_equal(peer_preamble_encode(id, buf, sizeof buf), -EINVAL);
	assert_int_equal(peer_preamble_encode("", buf, sizeof buf), -EINVAL);

	/* err may be NULL */
	char agent[PEER_AGENT_MAX + 1];
	buf[0] = 0;
	assert_int_equal(peer_preamble_decode(buf, 1, agent, sizeof agent, NULL), -EPROTO);
}

/* ---- frames: round trips ---- */

static void leg_round_trip(void **state)
{
	size_t n = peer_encode_leg(buf, 0x0102030405060708ull, 0xfffffffffffffffeull, 0);
	assert_int_equal(n, PEER_FRAME_HEADER + 24);
	const uint8_t want[] = {PF_LEG, 0, 0, 24, 1, 2, 3, 4, 5, 6, 7, 8,
				0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xfe,
				0, 0, 0, 0, 0, 0, 0, 0};
	assert_memory_equal(buf, want, sizeof want);
	assert_int_equal(peer_frame_decode(buf, n + 7, &f, &err), (int)n);
	assert_int_equal(f.type, PF_LEG);
	assert_int_equal(f.length, 24);
	assert_true(f.conn_id == 0x0102030405060708ull);
	assert_true(f.value == 0xfffffffffffffffeull);
	assert_null(f.data);
	all_prefixes_again(n);

	/* delivered 0 on a fresh leg is fine */
	n = peer_encode_leg(buf, 1, 0, 0);
	assert_int_equal(peer_frame_decode(buf, n, &f, &err), (int)n);
	assert_true(f.conn_id == 1 && f.value == 0);
}

static void u64_round_trips(void **state)
{
	static const uint8_t types[] = {PF_ACK, PF_FIN, PF_PING, PF_PONG};
	static const uint64_t values[] = {0, 1, 0x8000000000000000ull, UINT64_MAX};
	for (size_t t = 0; t < sizeof types; t++)
		for (size_t v = 0; v < sizeof values / sizeof values[0]; v++) {
			size_t n = peer_encode_u64(buf, types[t], values[v]);
			assert_int_equal(n, PEER_FRAME_HEADER + 8);
			assert_int_equal(buf[0], types[t]);
			assert_int_equal(buf[3], 8);
			memset(&f, 0xa5, sizeof f);
			assert_int_equal(peer_frame_decode(buf, n, &f, &err), (int)n);
			assert_int_equal(f.type, types[t]);
			assert_int_equal(f.length, 8);
			assert_true(f.value == values[v]);
			assert_true(f.conn_id == 0);
			assert_null(f.data);
			all_prefixes_again(n);
		}
}

static void data_round_trip(void **state)
{
	static const size_t lens[] = {1, 2, 1000, PEER_DATA_MAX - 1, PEER_DATA_MAX};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		size_t len = lens[i];
		peer_encode_data_header(buf, len);
		assert_int_equal(buf[0], PF_DATA);
		assert_int_equal((size_t)buf[1] << 16 | (size_t)buf[2] << 8 | buf[3], len);
		for (size_t k = 0; k < len; k++)
			buf[PEER_FRAME_HEADER + k] = (uint8_t)(k * 7 + 3);
		assert_int_equal(peer_frame_decode(buf, PEER_FRAME_HEADER + len, &f, &err),
				 (int)(PEER_FRAME_HEADER + len));
		assert_int_equal(f.type, PF_DATA);
		assert_int_equal(f.length, len);
		assert_ptr_equal(f.data, buf + PEER_FRAME_HEADER);
		assert_int_equal(f.data_len, len);
		if (len <= 1000)
			all_prefixes_again(PEER_FRAME_HEADER + len);
		else /* every prefix is slow for 64 KiB: the edges */
			for (size_t k = 0; k < PEER_FRAME_HEADER + len; k += (k < 8 ? 1 : 4093))
				assert_int_equal(peer_frame_decode(buf, k, &f, &err), -EAGAIN);
		assert_int_equal(peer_frame_decode(buf, PEER_FRAME_HEADER + len - 1, &f, &err),
				 -EAGAIN);
	}
	assert_int_equal(PEER_FRAME_MAX, PEER_FRAME_HEADER + PEER_DATA_MAX);
}

static void rst_round_trip(void **state)
{
	size_t n = peer_encode_rst(buf, 0xdeadbeef, "no service 'web'");
	assert_int_equal(n, PEER_FRAME_HEADER + 4 + 16);
	assert_int_equal(peer_frame_decode(buf, n, &f, &err), (int)n);
	assert_int_equal(f.type, PF_RST);
	assert_int_equal(f.code, 0xdeadbeef);
	assert_int_equal(f.data_len, 16);
	assert_memory_equal(f.data, "no service 'web'", 16);
	assert_ptr_equal(f.data, buf + 8);
	all_prefixes_again(n);

	/* no reason (NULL or empty): 4 bytes */
	n = peer_encode_rst(buf, 7, NULL);
	assert_int_equal(n, PEER_FRAME_HEADER + 4);
	assert_int_equal(peer_frame_decode(buf, n, &f, &err), (int)n);
	assert_int_equal(f.code, 7);
	assert_int_equal(f.data_len, 0);
	all_prefixes_again(n);
	assert_int_equal(peer_encode_rst(buf, 7, ""), PEER_FRAME_HEADER + 4);

	/* the longest reason, and a longer one cut to it */
	char reason[PEER_REASON_MAX + 20];
	memset(reason, 'r', sizeof reason - 1);
	reason[sizeof reason - 1] = '\0';
	n = peer_encode_rst(buf, 1, reason);
	assert_int_equal(n, PEER_FRAME_HEADER + 4 + PEER_REASON_MAX);
	assert_int_equal(peer_frame_decode(buf, n, &f, &err), (int)n);
	assert_int_equal(f.data_len, PEER_REASON_MAX);
	assert_memory_equal(f.data, reason, PEER_REASON_MAX);
	all_prefixes_again(n);
}

static void frames_in_a_row(void **state)
{
	size_t off = 0;
	off += peer_encode_leg(buf + off, 42, 100, PEER_LEG_RESUME);
	peer_encode_data_header(buf + off, 3);
	memcpy(buf + off + PEER_FRAME_HEADER, "abc", 3);
	off += PEER_FRAME_HEADER + 3;
	off += peer_encode_u64(buf + off, PF_ACK, 103);
	off += peer_encode_rst(buf + off, 2, "bye");
	size_t at = 0;
	static const uint8_t want[] = {PF_LEG, PF_DATA, PF_ACK, PF_RST};
	for (size_t i = 0; i < sizeof want; i++) {
		int r = peer_frame_decode(buf + at, off - at, &f, &err);
		assert_true(r > 0);
		assert_int_equal(f.type, want[i]);
		at += (size_t)r;
	}
	assert_int_equal(at, off);
	assert_int_equal(peer_frame_decode(buf + at, 0, &f, &err), -EAGAIN);
}

/* ---- frames: rejections ---- */

static void unknown_types(void **state)
{
	static const uint8_t types[] = {0, 8, 9, 0x7f, 0x80, 0xff};
	for (size_t i = 0; i < sizeof types; i++) {
		header(types[i], 8);
		expect_proto_frame(PEER_FRAME_HEADER, "unknown peer frame type");
		header(types[i], 0);
		expect_proto_frame(PEER_FRAME_HEADER, "unknown peer frame type");
	}
	/* err may be NULL */
	header(0, 0);
	assert_int_equal(peer_frame_decode(buf, PEER_FRAME_HEADER, &f, NULL), -EPROTO);
}

/* Wrong lengths fail from the 4 header bytes, before any payload has arrived. */
static void wrong_lengths(void **state)
{
	static const struct {
		uint8_t type;
		uint32_t length;
		const char *why;
	} cases[] = {
		{PF_LEG, 0, "LEG frame: length must be 24"},
		{PF_LEG, 8, "LEG frame: length must be 24"},
		{PF_LEG, 23, "LEG frame: length must be 24"},
		{PF_LEG, 25, "LEG frame: length must be 24"},
		{PF_LEG, 0xffffff, "LEG frame: length must be 24"},
		{PF_DATA, 0, "DATA frame: length must be 1..65536"},
		{PF_DATA, PEER_DATA_MAX + 1, "DATA frame: length must be 1..65536"},
		{PF_DATA, 0xffffff, "DATA frame: length must be 1..65536"},
		{PF_ACK, 0, "length must be 8"},
		{PF_ACK, 7, "length must be 8"},
		{PF_ACK, 9, "length must be 8"},
		{PF_FIN, 4, "length must be 8"},
		{PF_FIN, 16, "length must be 8"},
		{PF_PING, 0, "length must be 8"},
		{PF_PING, 24, "length must be 8"},
		{PF_PONG, 1, "length must be 8"},
		{PF_PONG, 0x10008, "length must be 8"},
		{PF_RST, 0, "RST frame: length must be 4..260"},
		{PF_RST, 3, "RST frame: length must be 4..260"},
		{PF_RST, 4 + PEER_REASON_MAX + 1, "RST frame: length must be 4..260"},
		{PF_RST, 0xffffff, "RST frame: length must be 4..260"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(buf, 0, 64);
		header(cases[i].type, cases[i].length);
		expect_proto_frame(PEER_FRAME_HEADER, cases[i].why);
		/* and the same with the payload there (as far as the buffer goes) */
		size_t have = cases[i].length < 1000 ? cases[i].length : 1000;
		expect_proto_frame(PEER_FRAME_HEADER + have, cases[i].why);
	}
	/* the bounds themselves are fine: only -EAGAIN from the header */
	static const struct {
		uint8_t type;
		uint32_t length;
	} ok[] = {{PF_DATA, 1}, {PF_DATA, PEER_DATA_MAX}, {PF_RST, 4}, {PF_RST, 260}, {PF_LEG, 24}};
	for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
		header(ok[i].type, ok[i].length);
		assert_int_equal(peer_frame_decode(buf, PEER_FRAME_HEADER, &f, &err), -EAGAIN);
	}
}

static void leg_rejected(void **state)
{
	/* flags set: any bit */
	static const uint64_t flags[] = {2, 0x100, 0x8000000000000000ull, UINT64_MAX};
	for (size_t i = 0; i < sizeof flags / sizeof flags[0]; i++) {
		size_t n = peer_encode_leg(buf, 5, 10, 0);
		put_u64(buf + PEER_FRAME_HEADER + 16, flags[i]);
		expect_proto_frame(n, "LEG frame: unknown flags");
		/* still incomplete one byte short: the payload is checked only once whole */
		assert_int_equal(peer_frame_decode(buf, n - 1, &f, &err), -EAGAIN);
	}
	/* connection id 0 */
	size_t n = peer_encode_leg(buf, 0, 10, 0);
	expect_proto_frame(n, "LEG frame: connection id 0");
	assert_int_equal(peer_frame_decode(buf, n - 1, &f, &err), -EAGAIN);
}

static void names(void **state)
{
	assert_string_equal(peer_frame_name(PF_LEG), "LEG");
	assert_string_equal(peer_frame_name(PF_DATA), "DATA");
	assert_string_equal(peer_frame_name(PF_ACK), "ACK");
	assert_string_equal(peer_frame_name(PF_FIN), "FIN");
	assert_string_equal(peer_frame_name(PF_RST), "RST");
	assert_string_equal(peer_frame_name(PF_PING), "PING");
	assert_string_equal(peer_frame_name(PF_PONG), "PONG");
	assert_string_equal(peer_frame_name(8), "unknown");
	assert_string_equal(peer_frame_name(255), "unknown");
	assert_non_null(peer_frame_name(0));
}

/* The frame size from the header alone, and an RST reason made safe for a log line. */
static void size_and_reason(void **state)
{
	size_t n = peer_encode_rst(buf, 3, "no \x01way\x7f");
	assert_int_equal(peer_frame_size(buf), n);
	assert_int_equal(peer_frame_decode(buf, n, &f, NULL), (int)n);
	char reason[PEER_REASON_MAX + 1];
	peer_rst_reason(&f, reason);
	assert_string_equal(reason, "no ?way?");
	n = peer_encode_u64(buf, PF_ACK, 7);
	assert_int_equal(peer_frame_size(buf), n);
	assert_int_equal(peer_frame_decode(buf, n, &f, NULL), (int)n);
	peer_rst_reason(&f, reason); /* not an RST: empty */
	assert_string_equal(reason, "");
	const uint8_t big[PEER_FRAME_HEADER] = {PF_DATA, 0xff, 0xff, 0xff};
	assert_int_equal(peer_frame_size(big), PEER_FRAME_HEADER + 0xffffff);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(preamble_round_trip, setup),
		cmocka_unit_test_setup(preamble_rejected, setup),
		cmocka_unit_test_setup(leg_round_trip, setup),
		cmocka_unit_test_setup(u64_round_trips, setup),
		cmocka_unit_test_setup(data_round_trip, setup),
		cmocka_unit_test_setup(rst_round_trip, setup),
		cmocka_unit_test_setup(frames_in_a_row, setup),
		cmocka_unit_test_setup(unknown_types, setup),
		cmocka_unit_test_setup(wrong_lengths, setup),
		cmocka_unit_test_setup(leg_rejected, setup),
		cmocka_unit_test_setup(names, setup),
		cmocka_unit_test_setup(size_and_reason, setup),
	};
	return cmocka_run_group_tests_name("peer_wire", tests, NULL, NULL);
}
