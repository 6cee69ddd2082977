/* Control messages: a round trip per type, every decoder rejection (truncation, oversize,
 * field lengths, duplicates, strings, services), forward compatibility (unknown types and
 * tags skipped), encoder refusals, version choice, and the token proof. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "ctl.h"
#include "ctl_auth.h"
#include "frame.h"

static uint8_t wire[CTL_MAX_MSG + 64];
static struct ctl_msg in, out;
static const char *err;

/* ---- a tiny builder for hand-made (also invalid) messages ---- */

static size_t blen;

static void begin(uint16_t type)
{
	wire[0] = (uint8_t)(type >> 8);
	wire[1] = (uint8_t)type;
	blen = 4;
}

static void raw(const void *p, size_t n)
{
	memcpy(wire + blen, p, n);
	blen += n;
}

static void field(uint8_t tag, const void *v, size_t n)
{
	uint8_t hdr[3] = {tag, (uint8_t)(n >> 8), (uint8_t)n};
	raw(hdr, 3);
	raw(v, n);
}

static void field_u8(uint8_t tag, uint8_t v)
{
	field(tag, &v, 1);
}

static size_t end(void)
{
	size_t body = blen - 4;
	wire[2] = (uint8_t)(body >> 8);
	wire[3] = (uint8_t)body;
	return blen;
}

static void expect_proto(size_t len, const char *why)
{
	err = NULL;
	int r = ctl_decode(wire, len, &out, &err);
	if (r != -EPROTO)
		fail_msg("expected -EPROTO (%s), got %d", why, r);
	assert_non_null(err);
	if (!strstr(err, why))
		fail_msg("expected error containing \"%s\", got \"%s\"", why, err);
}

static int setup(void **state)
{
	memset(&in, 0, sizeof in);
	memset(&out, 0xa5, sizeof out); /* the decoder must clear it */
	memset(wire, 0, sizeof wire);
	err = NULL;
	return 0;
}

/* Encode in, decode into out, and check the lengths agree. */
static void round_trip(void)
{
	int n = ctl_encode(&in, wire, sizeof wire);
	assert_true(n >= CTL_HEADER_LEN);
	assert_int_equal(ctl_decode(wire, (size_t)n, &out, &err), n);
	assert_int_equal(out.type, in.type);
}

/* ---- round trips ---- */

static void hello_agent(void **state)
{
	in.type = CTL_HELLO;
	in.version_min = 1;
	in.version_max = 3;
	strcpy(in.node_id, "n-7f3a");
	in.role = CTL_ROLE_AGENT;
	in.caps = 0x80000001;
	for (int i = 0; i < 32; i++)
		in.nonce[i] = (uint8_t)i;
	in.has_nonce = 1;
	round_trip();
	assert_int_equal(out.version_min, 1);
	assert_int_equal(out.version_max, 3);
	assert_int_equal(out.version, 0);
	assert_string_equal(out.node_id, "n-7f3a");
	assert_int_equal(out.role, CTL_ROLE_AGENT);
	assert_int_equal(out.caps, 0x80000001);
	assert_true(out.has_nonce);
	assert_memory_equal(out.nonce, in.nonce, 32);
	assert_false(out.has_proof);
	assert_int_equal(out.n_services, 0);
}

static void hello_server(void **state)
{
	in.type = CTL_HELLO;
	in.version = 1;
	strcpy(in.node_id, "srv");
	in.role = CTL_ROLE_SERVER;
	in.has_nonce = 1;
	round_trip();
	assert_int_equal(out.version, 1);
	assert_int_equal(out.version_min, 0);
	assert_int_equal(out.role, CTL_ROLE_SERVER);
	assert_true(out.has_nonce);
}

static void hello_layout(void **state)
{
	in.type = CTL_HELLO;
	in.version_min = 1;
	in.version_max = 2;
	strcpy(in.node_id, "ab");
	in.role = CTL_ROLE_AGENT;
	const uint8_t want[] = {0, 1, 0, 19,                 /* HELLO, body 19 */
				1, 0, 2, 0, 1,               /* version_min 1 */
				2, 0, 2, 0, 2,               /* version_max 2 */
				4, 0, 2, 'a', 'b',           /* node_id "ab" */
				5, 0, 1, 1};                 /* role agent */
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), sizeof want);
	assert_memory_equal(wire, want, sizeof want);
}

static void auth_token_and_mtls(void **state)
{
	in.type = CTL_AUTH;
	strcpy(in.agent_id, "agent-1");
	memset(in.proof, 0x5a, 32);
	in.has_proof = 1;
	round_trip();
	assert_string_equal(out.agent_id, "agent-1");
	assert_true(out.has_proof);
	assert_memory_equal(out.proof, in.proof, 32);

	in.has_proof = 0; /* mTLS mode: identity from the certificate */
	round_trip();
	assert_false(out.has_proof);
	assert_string_equal(out.agent_id, "agent-1");
}

static void auth_ok(void **state)
{
	in.type = CTL_AUTH_OK;
	strcpy(in.agent_id, "agent-1");
	in.has_proof = 1; /* not meaningful for AUTH_OK: not written */
	round_trip();
	assert_string_equal(out.agent_id, "agent-1");
	assert_false(out.has_proof);
}

static void register_services(void **state)
{
	in.type = CTL_REGISTER;
	strcpy(in.group, "blue");
	in.n_services = 2;
	in.services[0] = (struct ctl_service){"web", OPEN_KIND_HTTP, 1};
	in.services[1] = (struct ctl_service){"ssh", OPEN_KIND_TCP, 0};
	round_trip();
	assert_string_equal(out.group, "blue");
	assert_int_equal(out.n_services, 2);
	assert_string_equal(out.services[0].name, "web");
	assert_int_equal(out.services[0].kind, OPEN_KIND_HTTP);
	assert_int_equal(out.services[0].is_default, 1);
	assert_string_equal(out.services[1].name, "ssh");
	assert_int_equal(out.services[1].kind, OPEN_KIND_TCP);
	assert_int_equal(out.services[1].is_default, 0);

	in.type = CTL_REGISTER_OK;
	round_trip();
	assert_int_equal(out.n_services, 0); /* REGISTER_OK has no body */
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), CTL_HEADER_LEN);
}

static void register_max_services(void **state)
{
	in.type = CTL_REGISTER;
	in.n_services = CTL_MAX_SERVICES;
	for (int i = 0; i < CTL_MAX_SERVICES; i++) {
		memset(in.services[i].name, 'a', 63);
		snprintf(in.services[i].name + 55, 9, "%08d", i);
		in.services[i].kind = OPEN_KIND_TCP;
	}
	round_trip();
	assert_int_equal(out.n_services, CTL_MAX_SERVICES);
	assert_string_equal(out.services[63].name, in.services[63].name);
	in.n_services = CTL_MAX_SERVICES + 1;
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
}

static void ping_pong(void **state)
{
	in.type = CTL_PING;
	in.seq = 0x0102030405060708ull;
	in.time_ns = 0xfffffffffffffff0ull;
	round_trip();
	assert_true(out.seq == in.seq);
	assert_true(out.time_ns == in.time_ns);
	in.type = CTL_PONG;
	round_trip();
	assert_true(out.seq == in.seq);
}

static void goaway_and_error(void **state)
{
	in.type = CTL_ERROR;
	in.code = CTL_CODE_VERSION;
	strcpy(in.reason, "no common protocol version");
	round_trip();
	assert_int_equal(out.code, CTL_CODE_VERSION);
	assert_string_equal(out.reason, "no common protocol version");

	in.type = CTL_GOAWAY;
	in.code = CTL_CODE_NONE;
	memset(in.reason, 'r', 256);
	in.reason[256] = '\0';
	round_trip();
	assert_int_equal(out.code, 0);
	assert_int_equal(strlen(out.reason), 256);

	strcpy(in.reason, "d\xc3\xa9j\xc3\xa0 vu \xe2\x82\xac \xf0\x9f\x98\x80"); /* UTF-8 */
	round_trip();
	assert_string_equal(out.reason, in.reason);
}

/* ---- framing of messages ---- */

static void truncated(void **state)
{
	in.type = CTL_PING;
	in.seq = 1;
	int n = ctl_encode(&in, wire, sizeof wire);
	for (int i = 0; i < n; i++)
		assert_int_equal(ctl_decode(wire, (size_t)i, &out, &err), -EAGAIN);
	assert_int_equal(ctl_decode(wire, (size_t)n + 10, &out, &err), n); /* one message only */
}

static void oversize(void **state)
{
	begin(CTL_HELLO);
	wire[2] = 0x40;
	wire[3] = 0x01; /* 16385 */
	assert_int_equal(ctl_decode(wire, 4, &out, &err), -EMSGSIZE); /* known from the header */
	assert_non_null(err);
	wire[3] = 0x00; /* exactly 16384: fine (one unknown field filling it) */
	wire[4] = 99;
	wire[5] = (16384 - 3) >> 8;
	wire[6] = (uint8_t)(16384 - 3);
	assert_int_equal(ctl_decode(wire, 4 + 16384, &out, &err), 4 + 16384);
}

static void unknown_type_skipped(void **state)
{
	begin(0x7777);
	field(1, "garbage that is not even a field", 4);
	raw("\xff\xff", 2); /* would be invalid in a known type */
	size_t first = end();
	/* a PING right after it */
	in.type = CTL_PING;
	in.seq = 9;
	int n = ctl_encode(&in, wire + first, sizeof wire - first);
	assert_true(n > 0);
	assert_int_equal(ctl_decode(wire, first + (size_t)n, &out, &err), (int)first);
	assert_int_equal(out.type, 0x7777);
	assert_int_equal(out.seq, 0);
	assert_int_equal(ctl_decode(wire + first, (size_t)n, &out, &err), n);
	assert_int_equal(out.type, CTL_PING);
	assert_int_equal(out.seq, 9);
	assert_string_equal(ctl_type_name(0x7777), "unknown");
	in.type = 0x7777;
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), CTL_HEADER_LEN);
}

static void unknown_tags_skipped(void **state)
{
	begin(CTL_REGISTER);
	field(0, "zero", 4);
	field(99, "future", 6);
	field(T_SVC_NAME, "x", 1); /* a nested tag at the top level is unknown here */
	uint8_t svc[64];
	size_t s = 0;
	memcpy(svc + s, "\x14\x00\x03web", 6), s += 6;       /* name */
	memcpy(svc + s, "\x15\x00\x01\x02", 4), s += 4;      /* kind http */
	memcpy(svc + s, "\x63\x00\x02zz", 5), s += 5;        /* unknown nested tag 99 */
	memcpy(svc + s, "\x01\x00\x02\x00\x01", 5), s += 5;  /* a top-level tag nested: unknown */
	field(T_SERVICE, svc, s);
	field(200, "", 0);
	size_t n = end();
	assert_int_equal(ctl_decode(wire, n, &out, &err), (int)n);
	assert_int_equal(out.n_services, 1);
	assert_string_equal(out.services[0].name, "web");
	assert_int_equal(out.services[0].kind, OPEN_KIND_HTTP);
	assert_int_equal(out.version_min, 0);
}

static void bad_field_lengths(void **state)
{
	begin(CTL_HELLO);
	raw("\x04\x00\x05" "ab", 5); /* claims 5 bytes, 2 left */
	expect_proto(end(), "bad field length");

	begin(CTL_HELLO);
	raw("\x04\x00", 2); /* field header cut */
	expect_proto(end(), "truncated field header");

	static const struct {
		uint8_t tag;
		uint8_t len;
		const char *why;
	} ints[] = {
		{T_VERSION_MIN, 1, "version_min: bad field length"},
		{T_VERSION_MAX, 4, "version_max: bad field length"},
		{T_VERSION, 0, "version: bad field length"},
		{T_ROLE, 2, "role: bad field length"},
		{T_CAPS, 2, "caps: bad field length"},
		{T_NONCE, 31, "nonce: bad field length"},
		{T_PROOF, 33, "proof: bad field length"},
		{T_SEQ, 4, "seq: bad field length"},
		{T_TIME, 9, "time: bad field length"},
		{T_CODE, 8, "code: bad field length"},
	};
	const uint8_t zeros[64] = {0};
	for (size_t i = 0; i < sizeof ints / sizeof ints[0]; i++) {
		begin(CTL_HELLO);
		field(ints[i].tag, zeros, ints[i].len);
		expect_proto(end(), ints[i].why);
	}
}

static void duplicates(void **state)
{
	begin(CTL_AUTH);
	field(T_AGENT_ID, "a", 1);
	field(T_AGENT_ID, "b", 1);
	expect_proto(end(), "duplicate agent_id");

	begin(CTL_PING);
	field(T_SEQ, "\0\0\0\0\0\0\0\1", 8);
	field(T_SEQ, "\0\0\0\0\0\0\0\2", 8);
	expect_proto(end(), "duplicate seq");

	begin(CTL_REGISTER);
	field(T_SERVICE, "\x14\x00\x01" "a\x15\x00\x01\x01", 8);
	field(T_SERVICE, "\x14\x00\x01" "a\x15\x00\x01\x02", 8);
	expect_proto(end(), "service name registered twice");
}

static void strings(void **state)
{
	char s[300];
	memset(s, 'n', sizeof s);

	begin(CTL_HELLO);
	field(T_NODE_ID, s, 65);
	expect_proto(end(), "node_id too long");
	begin(CTL_HELLO);
	field(T_NODE_ID, s, 64);
	assert_int_equal(ctl_decode(wire, end(), &out, &err), (int)blen);
	assert_int_equal(strlen(out.node_id), 64);
	begin(CTL_HELLO);
	field(T_NODE_ID, "", 0);
	expect_proto(end(), "node_id empty");
	begin(CTL_HELLO);
	field(T_NODE_ID, "a\0b", 3);
	expect_proto(end(), "node_id contains NUL");

	begin(CTL_AUTH);
	field(T_AGENT_ID, s, 65);
	expect_proto(end(), "agent_id too long");
	begin(CTL_AUTH);
	field(T_AGENT_ID, "a\nb", 3);
	expect_proto(end(), "agent_id is not valid UTF-8");
	begin(CTL_REGISTER);
	field(T_GROUP, s, 65);
	expect_proto(end(), "group too long");
	begin(CTL_ERROR);
	field(T_REASON, s, 257);
	expect_proto(end(), "reason too long");
	begin(CTL_ERROR);
	field(T_REASON, "", 0); /* an empty reason is allowed */
	assert_int_equal(ctl_decode(wire, end(), &out, &err), (int)blen);

	static const char *const bad_utf8[] = {
		"\x80",             /* lone continuation */
		"\xc3",             /* cut sequence */
		"\xc0\xaf",         /* overlong '/' */
		"\xe0\x80\xaf",     /* overlong */
		"\xed\xa0\x80",     /* surrogate */
		"\xf4\x90\x80\x80", /* past U+10FFFF */
		"\xff",             /* never valid */
		"\x7f",             /* DEL */
		"\x1b[31m",         /* terminal escape */
	};
	for (size_t i = 0; i < sizeof bad_utf8 / sizeof bad_utf8[0]; i++) {
		begin(CTL_ERROR);
		field(T_REASON, bad_utf8[i], strlen(bad_utf8[i]));
		expect_proto(end(), "reason is not valid UTF-8");
	}
}

static void role_values(void **state)
{
	begin(CTL_HELLO);
	field_u8(T_ROLE, 3);
	expect_proto(end(), "unknown role");
	begin(CTL_HELLO);
	field_u8(T_ROLE, 0);
	expect_proto(end(), "unknown role");
}

static void service_errors(void **state)
{
	static const struct {
		const char *value;
		size_t len;
		const char *why;
	} cases[] = {
		{"\x15\x00\x01\x01", 4, "service without name"},
		{"\x14\x00\x01" "a", 4, "service without kind"},
		{"\x14\x00\x00\x15\x00\x01\x01", 7, "service name empty"},
		{"\x14\x00\x03" "a/b\x15\x00\x01\x01", 10, "outside [A-Za-z0-9._-]"},
		{"\x14\x00\x03" "a\0b\x15\x00\x01\x01", 10, "outside [A-Za-z0-9._-]"},
		{"\x14\x00\x01" "a\x15\x00\x01\x03", 8, "unknown service kind"},
		{"\x14\x00\x01" "a\x15\x00\x02\x00\x01", 9, "service kind: bad field length"},
		{"\x14\x00\x01" "a\x15\x00\x01\x01\x16\x00\x01\x02", 12, "default not 0 or 1"},
		{"\x14\x00\x01" "a\x14\x00\x01" "b", 8, "duplicate service name"}, /* tag twice */
		{"\x14\x00\x01" "a\x15\x00\x05\x01", 8, "bad field length"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		begin(CTL_REGISTER);
		field(T_SERVICE, cases[i].value, cases[i].len);
		expect_proto(end(), cases[i].why);
	}

	char name[70];
	memset(name, 'a', sizeof name);
	uint8_t v[80] = {T_SVC_NAME, 0, 64};
	memcpy(v + 3, name, 64);
	begin(CTL_REGISTER);
	field(T_SERVICE, v, 67);
	expect_proto(end(), "service name too long");

	/* two defaults */
	begin(CTL_REGISTER);
	field(T_SERVICE, "\x14\x00\x01" "a\x15\x00\x01\x01\x16\x00\x01\x01", 12);
	field(T_SERVICE, "\x14\x00\x01" "b\x15\x00\x01\x01\x16\x00\x01\x01", 12);
	expect_proto(end(), "more than one default");
}

static void too_many_services(void **state)
{
	begin(CTL_REGISTER);
	for (int i = 0; i <= CTL_MAX_SERVICES; i++) {
		char v[16];
		int n = snprintf(v, sizeof v, "\x14%c%cs%02d\x15%c%c\x01", 0, 3, i, 0, 1);
		field(T_SERVICE, v, (size_t)n);
	}
	expect_proto(end(), "too many services");
}

/* ---- encoder refusals ---- */

static void encode_no_space(void **state)
{
	in.type = CTL_HELLO;
	in.version_min = 1;
	in.version_max = 1;
	strcpy(in.node_id, "node");
	in.has_nonce = 1;
	int n = ctl_encode(&in, wire, sizeof wire);
	assert_true(n > 0);
	for (int cap = 0; cap < n; cap++)
		assert_int_equal(ctl_encode(&in, wire, (size_t)cap), -ENOSPC);

	in.type = CTL_REGISTER;
	in.n_services = 2;
	in.services[0] = (struct ctl_service){"a", OPEN_KIND_TCP, 0};
	in.services[1] = (struct ctl_service){"b", OPEN_KIND_TCP, 0};
	n = ctl_encode(&in, wire, sizeof wire);
	assert_true(n > 0);
	for (int cap = 0; cap < n; cap++)
		assert_int_equal(ctl_encode(&in, wire, (size_t)cap), -ENOSPC);
}

static void encode_invalid(void **state)
{
	in.type = CTL_HELLO;
	memset(in.node_id, 'x', sizeof in.node_id); /* no terminator */
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
	strcpy(in.node_id, "tab\there");
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
	strcpy(in.node_id, "ok");
	in.role = 3;
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);

	memset(&in, 0, sizeof in);
	in.type = CTL_REGISTER;
	in.n_services = 1;
	in.services[0] = (struct ctl_service){"a b", OPEN_KIND_TCP, 0};
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
	in.services[0] = (struct ctl_service){"ab", 7, 0};
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
	in.n_services = 2;
	in.services[0] = (struct ctl_service){"ab", OPEN_KIND_TCP, 1};
	in.services[1] = (struct ctl_service){"ab", OPEN_KIND_TCP, 0};
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
	in.n_services = -1;
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);

	memset(&in, 0, sizeof in);
	in.type = CTL_ERROR;
	memset(in.reason, 'r', sizeof in.reason);
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
}

static void set_reason_always_encodes(void **state)
{
	in.type = CTL_ERROR;
	ctl_set_reason(&in, "bad\r\nname \x1b[1m \xff\xc3( ok \xe2\x82\xac");
	assert_string_equal(in.reason, "bad?" "?name ?[1m ?" "?( ok \xe2\x82\xac"); /* no trigraphs */
	round_trip();
	assert_string_equal(out.reason, in.reason);

	/* 255 ASCII bytes then a 3-byte character: cut before it, not through it */
	char text[300];
	memset(text, 'a', 255);
	strcpy(text + 255, "\xe2\x82\xac tail");
	ctl_set_reason(&in, text);
	assert_int_equal(strlen(in.reason), 255);
	round_trip();

	memset(text, 'b', sizeof text - 1);
	text[sizeof text - 1] = '\0';
	ctl_set_reason(&in, text);
	assert_int_equal(strlen(in.reason), 256);
	round_trip();

	ctl_set_reason(&in, NULL);
	assert_string_equal(in.reason, "");
}

/* ---- PORTS: an agent's listening ports (agent.report_ports) ---- */

static void ports_report(void **state)
{
	in.type = CTL_PORTS;
	in.n_ports = 3;
	in.ports[0] = (struct ctl_port){3000, "app"};
	in.ports[1] = (struct ctl_port){8080, ""};
	in.ports[2] = (struct ctl_port){65535, "a.b_c-D9"};
	round_trip();
	assert_int_equal(out.n_ports, 3);
	assert_int_equal(out.ports[0].port, 3000);
	assert_string_equal(out.ports[0].label, "app");
	assert_int_equal(out.ports[1].port, 8080);
	assert_string_equal(out.ports[1].label, "");
	assert_string_equal(out.ports[2].label, "a.b_c-D9");
	assert_string_equal(ctl_type_name(CTL_PORTS), "PORTS");
	/* none open is a report too */
	in.n_ports = 0;
	round_trip();
	assert_int_equal(out.n_ports, 0);
	/* the most a message holds, each with the longest label */
	in.n_ports = CTL_MAX_PORTS;
	for (int i = 0; i < CTL_MAX_PORTS; i++) {
		in.ports[i].port = (uint16_t)(1000 + i);
		memset(in.ports[i].label, 'x', CTL_PORT_LABEL_MAX);
		in.ports[i].label[CTL_PORT_LABEL_MAX] = '\0';
	}
	round_trip();
	assert_int_equal(out.n_ports, CTL_MAX_PORTS);
	assert_int_equal(out.ports[CTL_MAX_PORTS - 1].port, 1000 + CTL_MAX_PORTS - 1);
	in.n_ports = CTL_MAX_PORTS + 1;
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
}

static void ports_refused(void **state)
{
	static const uint8_t p0[2] = {0, 0}, p80[2] = {0, 80}, p3[1] = {3};
	uint8_t item[64];

	/* a port entry built from raw fields */
#define PORT_ITEM(num, numlen, label, labellen)                                                   \
	do {                                                                                   \
		size_t k = 0;                                                                  \
		item[k++] = T_PORT_NUMBER, item[k++] = 0, item[k++] = (numlen);                \
		memcpy(item + k, num, numlen), k += (numlen);                                   \
		if (labellen) {                                                                \
			item[k++] = T_PORT_LABEL, item[k++] = 0, item[k++] = (uint8_t)(labellen); \
			memcpy(item + k, label, labellen), k += (labellen);                     \
		}                                                                              \
		field(T_PORT, item, k);                                                        \
	} while (0)
	begin(CTL_PORTS);
	PORT_ITEM(p0, 2, "", 0);
	expect_proto(end(), "port number 0");
	begin(CTL_PORTS);
	PORT_ITEM(p3, 1, "", 0);
	expect_proto(end(), "port number: bad field length");
	begin(CTL_PORTS);
	PORT_ITEM(p80, 2, "", 0);
	PORT_ITEM(p80, 2, "web", 3);
	expect_proto(end(), "port reported twice");
	begin(CTL_PORTS);
	PORT_ITEM(p80, 2, "a b", 3);
	expect_proto(end(), "port label empty or with characters outside");
	begin(CTL_PORTS);
	PORT_ITEM(p80, 2, "abcdefghijklmnopqrstuvwxyz0123456", 33);
	expect_proto(end(), "port label too long");
	begin(CTL_PORTS);
	field(T_PORT, "", 0);
	expect_proto(end(), "port without a number");
	begin(CTL_PORTS);
	for (int i = 0; i <= CTL_MAX_PORTS; i++) {
		uint8_t num[2] = {(uint8_t)(i >> 8), (uint8_t)(1 + i)};
		PORT_ITEM(num, 2, "", 0);
	}
	expect_proto(end(), "too many ports");
#undef PORT_ITEM
	/* the encoder never sends what a peer would refuse */
	in.type = CTL_PORTS;
	in.n_ports = 2;
	in.ports[0] = (struct ctl_port){80, "web"};
	in.ports[1] = (struct ctl_port){80, ""};
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
	in.ports[1] = (struct ctl_port){0, ""};
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
	in.ports[1] = (struct ctl_port){81, "no/slash"};
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
}

/* ---- DIRECT_*: rendezvous for direct paths between agents ---- */

static void direct_fill(void)
{
	in.attempt = 0x1122334455667788ull;
	strcpy(in.peer, "db-host");
	strcpy(in.candidates, "host 192.168.1.5:40000,srflx 203.0.113.9:51820");
	for (int i = 0; i < 32; i++)
		in.key[i] = (uint8_t)(0xc0 + i);
	in.has_key = 1;
	in.code = CTL_CODE_TIMEOUT;
	strcpy(in.reason, "no answer");
	strcpy(in.step, "punch");
	in.elapsed_ms = 0x80001234;
	/* fields no DIRECT type carries */
	strcpy(in.agent_id, "not-sent");
	in.seq = 5;
}

static void direct_request(void **state)
{
	in.type = CTL_DIRECT_REQUEST;
	direct_fill();
	round_trip();
	assert_string_equal(out.peer, "db-host");
	assert_string_equal(out.candidates, in.candidates);
	assert_true(out.attempt == 0); /* the server assigns attempts */
	assert_false(out.has_key);
	assert_int_equal(out.code, 0);
	assert_string_equal(out.reason, "");
	assert_string_equal(out.step, "");
	assert_int_equal(out.elapsed_ms, 0);
	assert_string_equal(out.agent_id, "");
	assert_true(out.seq == 0);
	assert_string_equal(ctl_type_name(CTL_DIRECT_REQUEST), "DIRECT_REQUEST");

	/* no candidates (none gathered yet) is still a request */
	in.candidates[0] = '\0';
	round_trip();
	assert_string_equal(out.peer, "db-host");
	assert_string_equal(out.candidates, "");
}

static void direct_offer(void **state)
{
	in.type = CTL_DIRECT_OFFER;
	direct_fill();
	round_trip();
	assert_true(out.attempt == in.attempt);
	assert_string_equal(out.peer, "db-host");
	assert_string_equal(out.candidates, in.candidates);
	assert_true(out.has_key);
	assert_memory_equal(out.key, in.key, 32);
	assert_int_equal(out.code, 0);
	assert_string_equal(out.reason, "");
	assert_string_equal(out.step, "");
	assert_int_equal(out.elapsed_ms, 0);
	assert_string_equal(ctl_type_name(CTL_DIRECT_OFFER), "DIRECT_OFFER");

	in.has_key = 0;
	round_trip();
	assert_false(out.has_key);
}

static void direct_answer(void **state)
{
	in.type = CTL_DIRECT_ANSWER;
	direct_fill();
	round_trip();
	assert_true(out.attempt == in.attempt);
	assert_string_equal(out.candidates, in.candidates);
	assert_int_equal(out.code, CTL_CODE_TIMEOUT);
	assert_string_equal(out.reason, "no answer");
	assert_string_equal(out.peer, "");
	assert_false(out.has_key);
	assert_string_equal(out.step, "");
	assert_int_equal(out.elapsed_ms, 0);
	assert_string_equal(ctl_type_name(CTL_DIRECT_ANSWER), "DIRECT_ANSWER");
}

static void direct_go(void **state)
{
	in.type = CTL_DIRECT_GO;
	direct_fill();
	round_trip();
	assert_true(out.attempt == in.attempt);
	assert_string_equal(out.peer, "db-host");
	assert_string_equal(out.candidates, in.candidates);
	assert_true(out.has_key);
	assert_memory_equal(out.key, in.key, 32);
	assert_int_equal(out.code, CTL_CODE_TIMEOUT);
	assert_string_equal(out.reason, "no answer");
	assert_string_equal(out.step, "");
	assert_int_equal(out.elapsed_ms, 0);
	assert_string_equal(ctl_type_name(CTL_DIRECT_GO), "DIRECT_GO");
}

static void direct_result(void **state)
{
	in.type = CTL_DIRECT_RESULT;
	direct_fill();
	round_trip();
	assert_true(out.attempt == in.attempt);
	assert_string_equal(out.peer, "db-host");
	assert_int_equal(out.code, CTL_CODE_TIMEOUT);
	assert_string_equal(out.step, "punch");
	assert_string_equal(out.reason, "no answer");
	assert_int_equal(out.elapsed_ms, 0x80001234);
	assert_string_equal(out.candidates, "");
	assert_false(out.has_key);
	assert_string_equal(ctl_type_name(CTL_DIRECT_RESULT), "DIRECT_RESULT");

	/* success: no code, step or reason */
	in.code = 0;
	in.step[0] = in.reason[0] = '\0';
	round_trip();
	assert_int_equal(out.code, 0);
	assert_string_equal(out.step, "");
	assert_int_equal(out.elapsed_ms, 0x80001234);

	/* the longest step; one more is refused both ways */
	memset(in.step, 's', 32);
	in.step[32] = '\0';
	round_trip();
	assert_int_equal(strlen(out.step), 32);
	char s[40];
	memset(s, 's', sizeof s);
	begin(CTL_DIRECT_RESULT);
	field(T_STEP, s, 33);
	expect_proto(end(), "step too long");
	begin(CTL_DIRECT_RESULT);
	field(T_STEP, "", 0);
	expect_proto(end(), "step empty");
}

static void direct_layout(void **state)
{
	in.type = CTL_DIRECT_REQUEST;
	strcpy(in.peer, "b");
	strcpy(in.candidates, "h 1.2.3.4:5");
	const uint8_t want[] = {0, 11, 0, 18,                           /* REQUEST, body 18 */
				25, 0, 1, 'b',                          /* peer */
				26, 0, 11, 'h', ' ', '1', '.', '2', '.', /* candidates */
				'3', '.', '4', ':', '5'};
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), sizeof want);
	assert_memory_equal(wire, want, sizeof want);
}

static void direct_refused(void **state)
{
	const uint8_t zeros[64] = {0};
	static const struct {
		uint8_t tag;
		uint8_t len;
		const char *why;
	} lens[] = {
		{T_KEY, 0, "key: bad field length"},
		{T_KEY, 31, "key: bad field length"},
		{T_KEY, 33, "key: bad field length"},
		{T_ATTEMPT, 0, "attempt: bad field length"},
		{T_ATTEMPT, 4, "attempt: bad field length"},
		{T_ATTEMPT, 9, "attempt: bad field length"},
		{T_ELAPSED, 0, "elapsed: bad field length"},
		{T_ELAPSED, 2, "elapsed: bad field length"},
		{T_ELAPSED, 8, "elapsed: bad field length"},
	};
	for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
		begin(CTL_DIRECT_GO);
		field(lens[i].tag, zeros, lens[i].len);
		expect_proto(end(), lens[i].why);
	}

	/* candidates: 512 bytes fit, 513 do not */
	char c[CTL_CANDIDATES_MAX + 2];
	memset(c, 'c', sizeof c);
	begin(CTL_DIRECT_REQUEST);
	field(T_CANDIDATES, c, CTL_CANDIDATES_MAX);
	assert_int_equal(ctl_decode(wire, end(), &out, &err), (int)blen);
	assert_int_equal(strlen(out.candidates), CTL_CANDIDATES_MAX);
	begin(CTL_DIRECT_REQUEST);
	field(T_CANDIDATES, c, CTL_CANDIDATES_MAX + 1);
	expect_proto(end(), "candidates too long");
	begin(CTL_DIRECT_REQUEST);
	field(T_CANDIDATES, "a\nb", 3);
	expect_proto(end(), "candidates is not valid UTF-8");
	begin(CTL_DIRECT_REQUEST);
	field(T_CANDIDATES, "", 0); /* empty is allowed */
	assert_int_equal(ctl_decode(wire, end(), &out, &err), (int)blen);

	/* peer: duplicate, empty, too long */
	begin(CTL_DIRECT_REQUEST);
	field(T_PEER, "a", 1);
	field(T_PEER, "b", 1);
	expect_proto(end(), "duplicate peer");
	begin(CTL_DIRECT_OFFER);
	field(T_PEER, "", 0);
	expect_proto(end(), "peer empty");
	begin(CTL_DIRECT_OFFER);
	field(T_PEER, c, 65);
	expect_proto(end(), "peer too long");

	/* the other DIRECT fields once each too */
	begin(CTL_DIRECT_GO);
	field(T_KEY, zeros, 32);
	field(T_KEY, zeros, 32);
	expect_proto(end(), "duplicate key");
	begin(CTL_DIRECT_OFFER);
	field(T_ATTEMPT, zeros, 8);
	field(T_ATTEMPT, zeros, 8);
	expect_proto(end(), "duplicate attempt");

	/* the encoder refuses what would not decode */
	memset(&in, 0, sizeof in);
	in.type = CTL_DIRECT_REQUEST;
	strcpy(in.peer, "p");
	memset(in.candidates, 'c', sizeof in.candidates); /* no terminator */
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
	strcpy(in.candidates, "tab\there");
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
	in.candidates[0] = '\0';
	memset(in.peer, 'p', sizeof in.peer);
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
	memset(&in, 0, sizeof in);
	in.type = CTL_DIRECT_RESULT;
	memset(in.step, 's', sizeof in.step);
	assert_int_equal(ctl_encode(&in, wire, sizeof wire), -EINVAL);
}

/* Tags 20..24 belong inside T_SERVICE and T_PORT; at the top level they are unknown tags,
 * skipped however often they come. So are tags this build does not know between the known
 * ones (17..19). */
static void nested_tags_at_top_level(void **state)
{
	static const uint16_t types[] = {CTL_HELLO, CTL_REGISTER, CTL_PORTS, CTL_DIRECT_REQUEST,
					 CTL_DIRECT_RESULT};
	for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
		begin(types[t]);
		for (uint8_t tag = 17; tag <= 24; tag++) {
			field(tag, "x", 1);
			field(tag, "\0\1", 2);
			field(tag, "", 0);
		}
		field(T_PEER, "p", 1);
		size_t n = end();
		err = NULL;
		int r = ctl_decode(wire, n, &out, &err);
		if (r != (int)n)
			fail_msg("type %u: expected %zu, got %d (%s)", types[t], n, r,
				 err ? err : "no error text");
		assert_int_equal(out.n_services, 0);
		assert_int_equal(out.n_ports, 0);
		assert_string_equal(out.peer, "p");
	}
}

/* ---- names and versions ---- */

static void names(void **state)
{
	assert_string_equal(ctl_type_name(CTL_HELLO), "HELLO");
	assert_string_equal(ctl_type_name(CTL_REGISTER_OK), "REGISTER_OK");
	assert_string_equal(ctl_type_name(CTL_ERROR), "ERROR");
	assert_string_equal(ctl_type_name(0), "unknown");
	assert_string_equal(ctl_code_name(CTL_CODE_VERSION), "no common protocol version");
	assert_string_equal(ctl_code_name(CTL_CODE_INTERNAL), "internal error");
	assert_string_equal(ctl_code_name(1000), "unknown");
}

static void version_pick(void **state)
{
	assert_int_equal(ctl_version_pick(1, 1, 1, 1), 1);
	assert_int_equal(ctl_version_pick(1, 3, 2, 5), 3);
	assert_int_equal(ctl_version_pick(2, 5, 1, 3), 3);
	assert_int_equal(ctl_version_pick(1, 1, 2, 3), -EPROTO);
	assert_int_equal(ctl_version_pick(1, 2, 3, 2), -EPROTO); /* empty range */
	assert_int_equal(ctl_version_pick(1, 2, 0, 0), -EPROTO); /* absent fields */
}

/* ---- token proof ---- */

static const uint8_t token[] = "secret-token";
static uint8_t sn[32], an[32];

static int auth_setup(void **state)
{
	for (int i = 0; i < 32; i++) {
		sn[i] = (uint8_t)i;
		an[i] = (uint8_t)(32 + i);
	}
	return 0;
}

static void proof_known_answer(void **state)
{
	/* python3: hmac.new(b"secret-token", b"proxyd-auth-v1" + bytes(range(32)) +
	 *                   bytes(range(32, 64)) + b"agent-1", hashlib.sha256).hexdigest() */
	const uint8_t want[32] = {0xb5, 0xa8, 0x30, 0xd1, 0x09, 0xf6, 0x05, 0xf0,
				  0xfe, 0x9b, 0xe3, 0x35, 0xa6, 0x63, 0x1b, 0x19,
				  0xf7, 0xc9, 0x30, 0x65, 0xc1, 0x9c, 0x90, 0x90,
				  0x97, 0xde, 0x27, 0x3e, 0x22, 0x9a, 0xe2, 0xed};
	uint8_t proof[32];
	assert_int_equal(ctl_auth_proof(token, sizeof token - 1, sn, an, "agent-1", proof), 0);
	assert_memory_equal(proof, want, 32);
}

static void proof_verifies(void **state)
{
	uint8_t proof[32];
	const size_t tl = sizeof token - 1;
	assert_int_equal(ctl_auth_proof(token, tl, sn, an, "agent-1", proof), 0);
	assert_int_equal(ctl_auth_verify(token, tl, sn, an, "agent-1", proof), 0);

	assert_int_equal(ctl_auth_verify((const uint8_t *)"secret-tokeN", tl, sn, an, "agent-1", proof),
			 -EACCES);
	assert_int_equal(ctl_auth_verify(token, tl - 1, sn, an, "agent-1", proof), -EACCES);
	assert_int_equal(ctl_auth_verify(token, tl, an, sn, "agent-1", proof), -EACCES); /* swapped */
	assert_int_equal(ctl_auth_verify(token, tl, sn, an, "agent-2", proof), -EACCES);
	assert_int_equal(ctl_auth_verify(token, tl, sn, an, "agent-1x", proof), -EACCES);
	uint8_t other[32];
	memcpy(other, sn, 32);
	other[31] ^= 1;
	assert_int_equal(ctl_auth_verify(token, tl, other, an, "agent-1", proof), -EACCES);
	proof[0] ^= 0x80;
	assert_int_equal(ctl_auth_verify(token, tl, sn, an, "agent-1", proof), -EACCES);
}

static void proof_empty_token_and_id(void **state)
{
	uint8_t p1[32], p2[32];
	assert_int_equal(ctl_auth_proof(NULL, 0, sn, an, NULL, p1), 0);
	assert_int_equal(ctl_auth_proof(token, 0, sn, an, "", p2), 0);
	assert_memory_equal(p1, p2, 32);
	assert_int_equal(ctl_auth_verify(token, 0, sn, an, NULL, p1), 0);
}

static void nonces_differ(void **state)
{
	uint8_t a[32], b[32];
	assert_int_equal(ctl_auth_nonce(a), 0);
	assert_int_equal(ctl_auth_nonce(b), 0);
	assert_memory_not_equal(a, b, 32);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(hello_agent, setup),
		cmocka_unit_test_setup(hello_server, setup),
		cmocka_unit_test_setup(hello_layout, setup),
		cmocka_unit_test_setup(auth_token_and_mtls, setup),
		cmocka_unit_test_setup(auth_ok, setup),
		cmocka_unit_test_setup(register_services, setup),
		cmocka_unit_test_setup(ports_report, setup),
		cmocka_unit_test_setup(ports_refused, setup),
		cmocka_unit_test_setup(register_max_services, setup),
		cmocka_unit_test_setup(ping_pong, setup),
		cmocka_unit_test_setup(goaway_and_error, setup),
		cmocka_unit_test_setup(truncated, setup),
		cmocka_unit_test_setup(oversize, setup),
		cmocka_unit_test_setup(unknown_type_skipped, setup),
		cmocka_unit_test_setup(unknown_tags_skipped, setup),
		cmocka_unit_test_setup(bad_field_lengths, setup),
		cmocka_unit_test_setup(duplicates, setup),
		cmocka_unit_test_setup(strings, setup),
		cmocka_unit_test_setup(role_values, setup),
		cmocka_unit_test_setup(service_errors, setup),
		cmocka_unit_test_setup(too_many_services, setup),
		cmocka_unit_test_setup(encode_no_space, setup),
		cmocka_unit_test_setup(encode_invalid, setup),
		cmocka_unit_test_setup(set_reason_always_encodes, setup),
		cmocka_unit_test_setup(direct_request, setup),
		cmocka_unit_test_setup(direct_offer, setup),
		cmocka_unit_test_setup(direct_answer, setup),
		cmocka_unit_test_setup(direct_go, setup),
		cmocka_unit_test_setup(direct_result, setup),
		cmocka_unit_test_setup(direct_layout, setup),
		cmocka_unit_test_setup(direct_refused, setup),
		cmocka_unit_test_setup(nested_tags_at_top_level, setup),
		cmocka_unit_test_setup(names, setup),
		cmocka_unit_test_setup(version_pick, setup),
		cmocka_unit_test_setup(proof_known_answer, auth_setup),
		cmocka_unit_test_setup(proof_verifies, auth_setup),
		cmocka_unit_test_setup(proof_empty_token_and_id, auth_setup),
		cmocka_unit_test_setup(nonces_differ, auth_setup),
	};
	return cmocka_run_group_tests_name("ctl", tests, NULL, NULL);
}
