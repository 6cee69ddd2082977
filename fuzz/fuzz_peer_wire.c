/* libFuzzer harness for the agent-to-agent wire format (core/peer_wire.c): the peer preamble,
 * then a run of leg frames. A preamble that decodes re-encodes to the same bytes and is
 * incomplete one byte shorter; encoder and decoder agree on which agent ids are valid. Every
 * frame that decodes has a length its type allows, re-encodes to the same bytes (an RST reason
 * with a NUL aside) and decodes again to the same fields; each is incomplete one byte shorter,
 * and the 4 header bytes alone already answer -EAGAIN (header fine) or the very error of the
 * whole. Each preamble and frame is copied into a heap buffer of exactly its size so ASan sees
 * any read past it. */
#include "config.h"
#include "peer_wire.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                               \
	do {                                                                                   \
		if (!(x))                                                                      \
			__builtin_trap();                                                      \
	} while (0)

static int valid_id_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

/* The preamble at the start of data: returns the bytes it takes, 0 when there is none. */
static size_t preamble(const uint8_t *data, size_t size)
{
	size_t want = size;
	if (size >= 1 && (size_t)1 + data[0] < size)
		want = (size_t)1 + data[0];
	uint8_t *p = malloc(want ? want : 1);
	if (!p)
		return 0;
	memcpy(p, data, want);
	char agent[PEER_AGENT_MAX + 1];
	const char *err = NULL;
	int n = peer_preamble_decode(p, want, agent, sizeof agent, &err);
	CHECK(n == -EAGAIN || n == -EPROTO || (n >= 2 && n <= PEER_PREAMBLE_MAX));
	CHECK(n != -EPROTO || err != NULL);
	if (n == -EAGAIN)
		CHECK(want == 0 || (data[0] >= 1 && data[0] <= PEER_AGENT_MAX && want < 1u + data[0]));
	if (n > 0) {
		CHECK((size_t)n == want && strlen(agent) == (size_t)n - 1);
		for (size_t i = 0; agent[i]; i++)
			CHECK(valid_id_char((uint8_t)agent[i]));
		uint8_t again[PEER_PREAMBLE_MAX];
		CHECK(peer_preamble_encode(agent, again, sizeof again) == n);
		CHECK(memcmp(again, p, (size_t)n) == 0);
		CHECK(peer_preamble_encode(agent, again, (size_t)n - 1) == -ENOSPC);
		char a2[PEER_AGENT_MAX + 1];
		CHECK(peer_preamble_decode(p, (size_t)n - 1, a2, sizeof a2, &err) == -EAGAIN);
	}
	free(p);
	return n > 0 ? (size_t)n : 0;
}

/* The encoder refuses exactly the ids the decoder refuses. */
static void encoder_agrees(const uint8_t *data, size_t size)
{
	char id[100];
	size_t n = 0;
	while (n < size && n < sizeof id - 1 && data[n])
		n++;
	memcpy(id, data, n);
	id[n] = '\0';
	uint8_t enc[PEER_PREAMBLE_MAX];
	int e = peer_preamble_encode(id, enc, sizeof enc);
	CHECK(e == -EINVAL || e == (int)(1 + n));
	uint8_t raw[sizeof id];
	raw[0] = (uint8_t)n;
	memcpy(raw + 1, id, n);
	char agent[PEER_AGENT_MAX + 1];
	const char *err = NULL;
	int d = peer_preamble_decode(raw, 1 + n, agent, sizeof agent, &err);
	CHECK((e > 0) == (d > 0));
	if (d > 0)
		CHECK(d == e && strcmp(agent, id) == 0);
	else
		CHECK(d == -EPROTO && err != NULL);
}

static int length_ok(uint8_t type, uint32_t length)
{
	switch (type) {
	case PF_LEG:
		return length == 24;
	case PF_DATA:
		return length >= 1 && length <= PEER_DATA_MAX;
	case PF_ACK:
	case PF_FIN:
	case PF_PING:
	case PF_PONG:
		return length == 8;
	case PF_RST:
		return length >= 4 && length <= 4 + PEER_REASON_MAX;
	}
	return 0;
}

/* Re-encode a decoded frame; returns its length, or 0 when it cannot be (RST reason with NUL). */
static size_t reencode(const struct peer_frame *f, uint8_t *out)
{
	switch (f->type) {
	case PF_LEG:
		return peer_encode_leg(out, f->conn_id, f->value, f->flags);
	case PF_DATA:
		peer_encode_data_header(out, f->data_len);
		memcpy(out + PEER_FRAME_HEADER, f->data, f->data_len);
		return PEER_FRAME_HEADER + f->data_len;
	case PF_RST: {
		if (memchr(f->data, 0, f->data_len))
			return 0;
		char reason[PEER_REASON_MAX + 1];
		memcpy(reason, f->data, f->data_len);
		reason[f->data_len] = '\0';
		return peer_encode_rst(out, f->code, reason);
	}
	default:
		return peer_encode_u64(out, f->type, f->value);
	}
}

static uint8_t again[PEER_FRAME_MAX];

/* One frame at the start of data[0..avail): returns the bytes it takes, 0 to stop. */
static size_t frame(const uint8_t *data, size_t avail)
{
	size_t want = avail;
	if (avail >= PEER_FRAME_HEADER) {
		size_t len = (size_t)data[1] << 16 | (size_t)data[2] << 8 | data[3];
		if (PEER_FRAME_HEADER + len < avail)
			want = PEER_FRAME_HEADER + len;
	}
	uint8_t *p = malloc(want ? want : 1);
	if (!p)
		return 0;
	memcpy(p, data, want);
	struct peer_frame f, g;
	const char *err = NULL, *herr = NULL;
	int r = peer_frame_decode(p, want, &f, &err);
	CHECK(r == -EAGAIN || r == -EPROTO || r > 0);
	CHECK(r != -EPROTO || err != NULL);
	if (want)
		CHECK(peer_frame_name(p[0]) != NULL);

	/* The header alone: -EAGAIN when it is fine (and a payload follows), else the same
	 * error as the whole frame. */
	if (want >= PEER_FRAME_HEADER) {
		int h = peer_frame_decode(p, PEER_FRAME_HEADER, &g, &herr);
		uint32_t len = (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		if (!length_ok(p[0], len)) {
			CHECK(h == -EPROTO && r == -EPROTO && herr && strcmp(herr, err) == 0);
		} else {
			CHECK(h == -EAGAIN); /* every allowed length is > 0 */
			if (r == -EAGAIN)
				CHECK(want < PEER_FRAME_HEADER + len);
		}
	} else {
		CHECK(r == -EAGAIN);
	}

	size_t used = 0;
	if (r > 0) {
		CHECK((size_t)r == want && (size_t)r == PEER_FRAME_HEADER + f.length);
		CHECK(f.type == p[0] && length_ok(f.type, f.length));
		if (f.type == PF_LEG)
			CHECK(f.conn_id != 0);
		if (f.type == PF_DATA || f.type == PF_RST)
			CHECK(f.data + f.data_len == p + want);
		else
			CHECK(f.data == NULL && f.data_len == 0);
		size_t n = reencode(&f, again);
		if (n) {
			CHECK(n == (size_t)r && memcmp(again, p, n) == 0);
			CHECK(peer_frame_decode(again, n, &g, &err) == r);
			CHECK(g.type == f.type && g.length == f.length && g.conn_id == f.conn_id &&
			      g.value == f.value && g.code == f.code && g.data_len == f.data_len);
			CHECK(g.data_len == 0 || memcmp(g.data, f.data, f.data_len) == 0);
		}
		/* one byte short asks for more */
		CHECK(peer_frame_decode(p, want - 1, &g, &err) == -EAGAIN);
		used = (size_t)r;
	}
	free(p);
	return used;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	encoder_agrees(data, size);
	/* Frames follow a preamble that decodes, else start at the first byte. */
	size_t off = preamble(data, size);
	while (off < size) {
		size_t n = frame(data + off, size - off);
		if (n == 0)
			break;
		off += n;
	}
	return 0;
}
