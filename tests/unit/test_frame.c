/* Multiplexer frames: the preface, header round trips, every rejection rule of the header and
 * payload decoders, unknown types passed through for skipping, and the stream-open header. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "frame.h"

static uint8_t buf[FRAME_HEADER_LEN];
static struct frame_header h;
static const char *err;

/* Decode the header given by its fields (encoded by hand, so invalid ones too). */
static int decode(uint32_t length, uint8_t type, uint8_t flags, uint32_t stream)
{
	buf[0] = (uint8_t)(length >> 16);
	buf[1] = (uint8_t)(length >> 8);
	buf[2] = (uint8_t)length;
	buf[3] = type;
	buf[4] = flags;
	buf[5] = (uint8_t)(stream >> 24);
	buf[6] = (uint8_t)(stream >> 16);
	buf[7] = (uint8_t)(stream >> 8);
	buf[8] = (uint8_t)stream;
	err = NULL;
	memset(&h, 0xee, sizeof h);
	return frame_decode_header(buf, sizeof buf, &h, &err);
}

static void expect_proto(uint32_t length, uint8_t type, uint8_t flags, uint32_t stream,
			 const char *why)
{
	assert_int_equal(decode(length, type, flags, stream), -EPROTO);
	assert_non_null(err);
	assert_non_null(strstr(err, why));
}

static void preface(void **state)
{
	const uint8_t good[] = {'P', 'R', 'X', 'D', 0, 0, 0, 1, 0xff};
	assert_int_equal(FRAME_PREFACE_LEN, 8);
	assert_memory_equal(FRAME_PREFACE, good, 8);
	assert_int_equal(frame_check_preface(good, 9), 1); /* frames may follow */
	assert_int_equal(frame_check_preface(good, 8), 1);
	for (size_t n = 0; n < 8; n++)
		assert_int_equal(frame_check_preface(good, n), 0);
	const uint8_t http[] = "GET / HTTP/1.1\r\n";
	assert_int_equal(frame_check_preface(http, 2), -EPROTO); /* fails before 8 bytes */
	const uint8_t v2[] = {'P', 'R', 'X', 'D', 0, 0, 0, 2};
	assert_int_equal(frame_check_preface(v2, 7), 0);
	assert_int_equal(frame_check_preface(v2, 8), -EPROTO);
}

static void header_round_trip(void **state)
{
	const struct frame_header cases[] = {
		{0, FRAME_DATA, 0, 0},
		{FRAME_MAX_PAYLOAD, FRAME_DATA, FRAME_FLAG_SYN | FRAME_FLAG_FIN, 0x7fffffff},
		{0, FRAME_DATA, FRAME_FLAG_FIN, 2},
		{5, FRAME_DATA, FRAME_FLAG_SYN, 1},
		{4, FRAME_WINDOW, 0, 3},
		{4, FRAME_RST, 0, 3},
		{260, FRAME_RST, 0, 3},
		{8, FRAME_PING, 0, 0},
		{8, FRAME_PING, FRAME_FLAG_ACK, 0},
		{8, FRAME_GOAWAY, 0, 0},
		{264, FRAME_GOAWAY, 0, 0},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint8_t out[FRAME_HEADER_LEN];
		struct frame_header got;
		frame_encode_header(out, &cases[i]);
		assert_int_equal(frame_decode_header(out, sizeof out, &got, NULL), 0);
		assert_int_equal(got.length, cases[i].length);
		assert_int_equal(got.type, cases[i].type);
		assert_int_equal(got.flags, cases[i].flags);
		assert_int_equal(got.stream_id, cases[i].stream_id);
	}
}

static void header_layout_is_big_endian(void **state)
{
	const struct frame_header hh = {0x012345, FRAME_RST, 0, 0x0a0b0c0d};
	uint8_t out[FRAME_HEADER_LEN];
	frame_encode_header(out, &hh);
	const uint8_t want[] = {0x01, 0x23, 0x45, 2, 0, 0x0a, 0x0b, 0x0c, 0x0d};
	assert_memory_equal(out, want, sizeof want);
}

static void header_truncated(void **state)
{
	uint8_t out[FRAME_HEADER_LEN];
	frame_encode_header(out, &(struct frame_header){8, FRAME_PING, 0, 0});
	for (size_t n = 0; n < FRAME_HEADER_LEN; n++)
		assert_int_equal(frame_decode_header(out, n, &h, &err), -EAGAIN);
}

static void header_oversize(void **state)
{
	assert_int_equal(decode(FRAME_MAX_PAYLOAD + 1, FRAME_DATA, 0, 1), -EMSGSIZE);
	assert_non_null(err);
	assert_int_equal(decode(0xffffff, 0x99, 0, 1), -EMSGSIZE); /* for unknown types too */
	assert_int_equal(decode(FRAME_MAX_PAYLOAD, FRAME_DATA, 0, 1), 0);
}

static void header_reserved_bit(void **state)
{
	expect_proto(0, FRAME_DATA, 0, 0x80000001, "reserved");
	expect_proto(0, 0x42, 0, 0x80000000, "reserved"); /* for unknown types too */
}

static void data_rules(void **state)
{
	expect_proto(1, FRAME_DATA, 0x04, 1, "DATA flags");
	expect_proto(1, FRAME_DATA, 0x80, 1, "DATA flags");
	expect_proto(5, FRAME_DATA, FRAME_FLAG_SYN, 0, "control stream");
	expect_proto(0, FRAME_DATA, FRAME_FLAG_FIN, 0, "control stream");
	expect_proto(4, FRAME_DATA, FRAME_FLAG_SYN, 1, "SYN payload");
	expect_proto(0, FRAME_DATA, FRAME_FLAG_SYN | FRAME_FLAG_FIN, 1, "SYN payload");
	assert_int_equal(decode(100, FRAME_DATA, 0, 0), 0); /* control data */
	assert_int_equal(decode(0, FRAME_DATA, 0, 7), 0);   /* empty DATA is harmless */
}

static void window_rules(void **state)
{
	expect_proto(4, FRAME_WINDOW, 0, 0, "control stream");
	expect_proto(3, FRAME_WINDOW, 0, 1, "not 4");
	expect_proto(5, FRAME_WINDOW, 0, 1, "not 4");
	expect_proto(4, FRAME_WINDOW, FRAME_FLAG_ACK, 1, "WINDOW flags");
}

static void rst_rules(void **state)
{
	expect_proto(4, FRAME_RST, 0, 0, "control stream");
	expect_proto(3, FRAME_RST, 0, 1, "4..260");
	expect_proto(261, FRAME_RST, 0, 1, "4..260");
	expect_proto(4, FRAME_RST, FRAME_FLAG_FIN, 1, "RST flags");
}

static void ping_rules(void **state)
{
	expect_proto(8, FRAME_PING, 0, 1, "stream 0");
	expect_proto(7, FRAME_PING, 0, 0, "not 8");
	expect_proto(9, FRAME_PING, 0, 0, "not 8");
	expect_proto(8, FRAME_PING, FRAME_FLAG_SYN, 0, "PING flags");
}

static void goaway_rules(void **state)
{
	expect_proto(8, FRAME_GOAWAY, 0, 1, "stream 0");
	expect_proto(7, FRAME_GOAWAY, 0, 0, "8..264");
	expect_proto(265, FRAME_GOAWAY, 0, 0, "8..264");
	expect_proto(8, FRAME_GOAWAY, FRAME_FLAG_ACK, 0, "GOAWAY flags");
}

static void unknown_type_is_skippable(void **state)
{
	/* Any flags, any stream, any length up to the maximum: the caller skips it. */
	assert_int_equal(decode(1000, 0x05, 0xff, 0), 0);
	assert_int_equal(h.type, 0x05);
	assert_int_equal(h.length, 1000);
	assert_int_equal(h.flags, 0xff);
	assert_int_equal(decode(0, 0xff, 0, 12345), 0);
	assert_string_equal(frame_type_name(0x05), "unknown");
	assert_string_equal(frame_type_name(FRAME_GOAWAY), "GOAWAY");
}

static void window_payload(void **state)
{
	uint8_t p[FRAME_WINDOW_LEN];
	uint32_t inc = 0;
	assert_int_equal(frame_encode_window(p, 0x01020304), 4);
	assert_int_equal(frame_decode_window(p, 4, &inc), 0);
	assert_int_equal(inc, 0x01020304);
	assert_int_equal(frame_decode_window(p, 3, &inc), -EPROTO);
	assert_int_equal(frame_decode_window(p, 5, &inc), -EPROTO);
	const uint8_t zero[4] = {0};
	assert_int_equal(frame_decode_window(zero, 4, &inc), -EPROTO);
}

static void rst_payload(void **state)
{
	uint8_t p[FRAME_RST_MAX + 16];
	uint32_t code;
	const char *reason;
	size_t rlen;
	size_t n = frame_encode_rst(p, RST_NO_SERVICE, "no service 'web'");
	assert_int_equal(n, 4 + 16);
	assert_int_equal(frame_decode_rst(p, n, &code, &reason, &rlen), 0);
	assert_int_equal(code, RST_NO_SERVICE);
	assert_int_equal(rlen, 16);
	assert_memory_equal(reason, "no service 'web'", 16);

	n = frame_encode_rst(p, RST_CANCEL, NULL);
	assert_int_equal(n, 4);
	assert_int_equal(frame_decode_rst(p, n, &code, &reason, &rlen), 0);
	assert_int_equal(rlen, 0);

	char longer[400];
	memset(longer, 'x', sizeof longer - 1);
	longer[sizeof longer - 1] = '\0';
	memset(p, 0xab, sizeof p);
	n = frame_encode_rst(p, RST_INTERNAL, longer);
	assert_int_equal(n, FRAME_RST_MAX); /* truncated to 256 */
	assert_int_equal(p[FRAME_RST_MAX], 0xab); /* nothing written past it */
	assert_int_equal(frame_decode_rst(p, n, &code, &reason, &rlen), 0);
	assert_int_equal(rlen, FRAME_REASON_MAX);
	assert_int_equal(frame_decode_rst(p, 3, &code, &reason, &rlen), -EPROTO);
	assert_int_equal(frame_decode_rst(p, FRAME_RST_MAX + 1, &code, &reason, &rlen), -EPROTO);
}

static void goaway_payload(void **state)
{
	uint8_t p[FRAME_GOAWAY_MAX];
	uint32_t last, code;
	const char *reason;
	size_t rlen;
	size_t n = frame_encode_goaway(p, 41, 0, "shutdown");
	assert_int_equal(n, 16);
	assert_int_equal(frame_decode_goaway(p, n, &last, &code, &reason, &rlen), 0);
	assert_int_equal(last, 41);
	assert_int_equal(code, 0);
	assert_int_equal(rlen, 8);
	assert_memory_equal(reason, "shutdown", 8);
	assert_int_equal(frame_decode_goaway(p, 7, &last, &code, &reason, &rlen), -EPROTO);
	assert_int_equal(frame_decode_goaway(p, FRAME_GOAWAY_MAX + 1, &last, &code, &reason, &rlen),
			 -EPROTO);
	p[0] = 0x80; /* reserved bit in last_stream_id */
	assert_int_equal(frame_decode_goaway(p, n, &last, &code, &reason, &rlen), -EPROTO);
}

static void rst_names(void **state)
{
	assert_string_equal(frame_rst_name(RST_CANCEL), "CANCEL");
	assert_string_equal(frame_rst_name(RST_REFUSED), "REFUSED");
	assert_string_equal(frame_rst_name(RST_NO_SERVICE), "NO_SERVICE");
	assert_string_equal(frame_rst_name(RST_PROTOCOL), "PROTOCOL");
	assert_string_equal(frame_rst_name(RST_FLOW), "FLOW");
	assert_string_equal(frame_rst_name(RST_INTERNAL), "INTERNAL");
	assert_string_equal(frame_rst_name(RST_GOING_AWAY), "GOING_AWAY");
	assert_string_equal(frame_rst_name(0), "UNKNOWN");
	assert_string_equal(frame_rst_name(99), "UNKNOWN");
}

/* ---- open header ---- */

static void open_round_trip(void **state)
{
	const struct open_header in = {OPEN_KIND_HTTP, "web", "203.0.113.9:51234"};
	uint8_t p[OPEN_HEADER_MAX_LEN + 8];
	int n = open_header_encode(p, sizeof p, &in);
	assert_int_equal(n, 3 + 3 + 1 + 17);
	const uint8_t want[] = {1, 2, 3, 'w', 'e', 'b', 17};
	assert_memory_equal(p, want, sizeof want);
	memcpy(p + n, "GET ", 4); /* stream data follows in the same payload */
	struct open_header out;
	assert_int_equal(open_header_decode(p, (size_t)n + 4, &out, &err), n);
	assert_int_equal(out.kind, OPEN_KIND_HTTP);
	assert_string_equal(out.service, "web");
	assert_string_equal(out.client, "203.0.113.9:51234");
}

static void open_limits(void **state)
{
	struct open_header in = {OPEN_KIND_TCP, "", "[2001:db8::1]:22"};
	memset(in.service, 'a', 63);
	memset(in.client, '9', 63);
	uint8_t p[OPEN_HEADER_MAX_LEN];
	assert_int_equal(open_header_encode(p, sizeof p, &in), OPEN_HEADER_MAX_LEN);
	assert_int_equal(open_header_encode(p, sizeof p - 1, &in), -ENOSPC);
	struct open_header out;
	assert_int_equal(open_header_decode(p, sizeof p, &out, &err), OPEN_HEADER_MAX_LEN);
	assert_int_equal(strlen(out.service), 63);
	assert_int_equal(strlen(out.client), 63);

	/* The smallest header: one-byte name, no client address. */
	const struct open_header tiny = {OPEN_KIND_TCP, "s", ""};
	assert_int_equal(open_header_encode(p, sizeof p, &tiny), OPEN_HEADER_MIN_LEN);
	assert_int_equal(open_header_decode(p, OPEN_HEADER_MIN_LEN, &out, &err), OPEN_HEADER_MIN_LEN);
	assert_string_equal(out.client, "");
}

static void open_truncated(void **state)
{
	const struct open_header in = {OPEN_KIND_TCP, "ssh", "10.0.0.1:4000"};
	uint8_t p[64];
	int n = open_header_encode(p, sizeof p, &in);
	assert_true(n > 0);
	struct open_header out;
	for (int i = 0; i < n; i++)
		assert_int_equal(open_header_decode(p, (size_t)i, &out, &err), -EAGAIN);
	assert_int_equal(open_header_decode(p, (size_t)n, &out, &err), n);
}

static void expect_open_proto(const uint8_t *p, size_t len, const char *why)
{
	struct open_header out;
	err = NULL;
	assert_int_equal(open_header_decode(p, len, &out, &err), -EPROTO);
	assert_non_null(err);
	assert_non_null(strstr(err, why));
}

static void open_invalid(void **state)
{
	const uint8_t v2[] = {2, 1, 1, 'a', 0};
	expect_open_proto(v2, sizeof v2, "version");
	expect_open_proto(v2, 1, "version"); /* garbage fails at once, not with -EAGAIN */
	const uint8_t kind0[] = {1, 0, 1, 'a', 0};
	expect_open_proto(kind0, sizeof kind0, "kind");
	const uint8_t kind5[] = {1, 5, 1, 'a', 0};
	expect_open_proto(kind5, 2, "kind");
	const uint8_t empty_svc[] = {1, 1, 0, 0};
	expect_open_proto(empty_svc, sizeof empty_svc, "1..63");
	const uint8_t long_svc[] = {1, 1, 64};
	expect_open_proto(long_svc, sizeof long_svc, "1..63");
	const uint8_t nul_svc[] = {1, 1, 3, 'a', 0, 'b', 0};
	expect_open_proto(nul_svc, sizeof nul_svc, "service name");
	const uint8_t slash_svc[] = {1, 1, 3, 'a', '/', 'b', 0};
	expect_open_proto(slash_svc, 5, "service name");
	const uint8_t long_client[] = {1, 1, 1, 'a', 64};
	expect_open_proto(long_client, sizeof long_client, "longer than 63");
	const uint8_t nul_client[] = {1, 1, 1, 'a', 3, '1', 0, '2'};
	expect_open_proto(nul_client, sizeof nul_client, "client address");
	const uint8_t crlf_client[] = {1, 1, 1, 'a', 3, '1', '\r', '\n'};
	expect_open_proto(crlf_client, sizeof crlf_client, "client address");
	const uint8_t space_client[] = {1, 1, 1, 'a', 2, ' ', '1'};
	expect_open_proto(space_client, sizeof space_client, "client address");
}

static void open_encode_invalid(void **state)
{
	uint8_t p[OPEN_HEADER_MAX_LEN];
	struct open_header in = {OPEN_KIND_TCP, "ok", ""};
	assert_int_equal(open_header_encode(p, 0, &in), -ENOSPC);
	in.kind = 9;
	assert_int_equal(open_header_encode(p, sizeof p, &in), -EINVAL);
	in.kind = OPEN_KIND_TCP;
	strcpy(in.service, "");
	assert_int_equal(open_header_encode(p, sizeof p, &in), -EINVAL);
	strcpy(in.service, "a b");
	assert_int_equal(open_header_encode(p, sizeof p, &in), -EINVAL);
	memset(in.service, 'a', sizeof in.service); /* 64 bytes, no terminator */
	assert_int_equal(open_header_encode(p, sizeof p, &in), -EINVAL);
	strcpy(in.service, "ok");
	strcpy(in.client, "1.2.3.4:5\n");
	assert_int_equal(open_header_encode(p, sizeof p, &in), -EINVAL);
	memset(in.client, '1', sizeof in.client);
	assert_int_equal(open_header_encode(p, sizeof p, &in), -EINVAL);
}

static void service_names(void **state)
{
	assert_true(frame_service_name_valid("web-1.prod_x", 12));
	assert_false(frame_service_name_valid("", 0));
	assert_false(frame_service_name_valid("caf\xc3\xa9", 5));
	assert_false(frame_service_name_valid("a:b", 3));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(preface),
		cmocka_unit_test(header_round_trip),
		cmocka_unit_test(header_layout_is_big_endian),
		cmocka_unit_test(header_truncated),
		cmocka_unit_test(header_oversize),
		cmocka_unit_test(header_reserved_bit),
		cmocka_unit_test(data_rules),
		cmocka_unit_test(window_rules),
		cmocka_unit_test(rst_rules),
		cmocka_unit_test(ping_rules),
		cmocka_unit_test(goaway_rules),
		cmocka_unit_test(unknown_type_is_skippable),
		cmocka_unit_test(window_payload),
		cmocka_unit_test(rst_payload),
		cmocka_unit_test(goaway_payload),
		cmocka_unit_test(rst_names),
		cmocka_unit_test(open_round_trip),
		cmocka_unit_test(open_limits),
		cmocka_unit_test(open_truncated),
		cmocka_unit_test(open_invalid),
		cmocka_unit_test(open_encode_invalid),
		cmocka_unit_test(service_names),
	};
	return cmocka_run_group_tests_name("frame", tests, NULL, NULL);
}
