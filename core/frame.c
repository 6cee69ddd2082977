/* Multiplexer frame encoding and validation (see frame.h and doc/PROTOCOL.md). Every length
 * is checked against the buffer before a byte is read: the input is the peer's. */
#include "config.h"
#include "frame.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

int frame_check_preface(const uint8_t *buf, size_t len)
{
	size_t n = len < FRAME_PREFACE_LEN ? len : FRAME_PREFACE_LEN;
	if (n == 0)
		return 0;
	if (memcmp(buf, FRAME_PREFACE, n) != 0)
		return -EPROTO;
	return n == FRAME_PREFACE_LEN;
}

const char *frame_rst_name(uint32_t code)
{
	switch (code) {
	case RST_CANCEL:
		return "CANCEL";
	case RST_REFUSED:
		return "REFUSED";
	case RST_NO_SERVICE:
		return "NO_SERVICE";
	case RST_PROTOCOL:
		return "PROTOCOL";
	case RST_FLOW:
		return "FLOW";
	case RST_INTERNAL:
		return "INTERNAL";
	case RST_GOING_AWAY:
		return "GOING_AWAY";
	}
	return "UNKNOWN";
}

const char *frame_type_name(uint8_t type)
{
	switch (type) {
	case FRAME_DATA:
		return "DATA";
	case FRAME_WINDOW:
		return "WINDOW";
	case FRAME_RST:
		return "RST";
	case FRAME_PING:
		return "PING";
	case FRAME_GOAWAY:
		return "GOAWAY";
	}
	return "unknown";
}

void frame_encode_header(uint8_t out[FRAME_HEADER_LEN], const struct frame_header *h)
{
	assert(h->length <= FRAME_MAX_PAYLOAD);
	assert(!(h->stream_id & FRAME_STREAM_RESERVED));
	out[0] = (uint8_t)(h->length >> 16);
	out[1] = (uint8_t)(h->length >> 8);
	out[2] = (uint8_t)h->length;
	out[3] = h->type;
	out[4] = h->flags;
	put_u32(out + 5, h->stream_id);
}

static int fail(const char **err, const char *why)
{
	if (err)
		*err = why;
	return -EPROTO;
}

int frame_decode_header(const uint8_t *buf, size_t len, struct frame_header *out, const char **err)
{
	if (len < FRAME_HEADER_LEN)
		return -EAGAIN;
	struct frame_header h = {
		.length = (uint32_t)buf[0] << 16 | (uint32_t)buf[1] << 8 | buf[2],
		.type = buf[3],
		.flags = buf[4],
		.stream_id = get_u32(buf + 5),
	};
	if (h.length > FRAME_MAX_PAYLOAD) {
		if (err)
			*err = "frame payload larger than 256 KiB";
		return -EMSGSIZE;
	}
	if (h.stream_id & FRAME_STREAM_RESERVED)
		return fail(err, "reserved stream id bit set");

	switch (h.type) {
	case FRAME_DATA:
		if (h.flags & ~(FRAME_FLAG_SYN | FRAME_FLAG_FIN))
			return fail(err, "unknown DATA flags");
		/* The control stream is open for the whole session: it is never opened or
		 * half-closed; a session ends with GOAWAY and closing the connection. */
		if (h.stream_id == 0 && h.flags)
			return fail(err, "SYN or FIN on the control stream");
		if ((h.flags & FRAME_FLAG_SYN) && h.length < OPEN_HEADER_MIN_LEN)
			return fail(err, "SYN payload shorter than an open header");
		break;
	case FRAME_WINDOW:
		if (h.flags)
			return fail(err, "unknown WINDOW flags");
		if (h.stream_id == 0)
			return fail(err, "WINDOW on the control stream");
		if (h.length != FRAME_WINDOW_LEN)
			return fail(err, "WINDOW payload not 4 bytes");
		break;
	case FRAME_RST:
		if (h.flags)
			return fail(err, "unknown RST flags");
		if (h.stream_id == 0)
			return fail(err, "RST on the control stream");
		if (h.length < 4 || h.length > FRAME_RST_MAX)
			return fail(err, "RST payload not 4..260 bytes");
		break;
	case FRAME_PING:
		if (h.flags & ~FRAME_FLAG_ACK)
			return fail(err, "unknown PING flags");
		if (h.stream_id != 0)
			return fail(err, "PING not on stream 0");
		if (h.length != FRAME_PING_LEN)
			return fail(err, "PING payload not 8 bytes");
		break;
	case FRAME_GOAWAY:
		if (h.flags)
			return fail(err, "unknown GOAWAY flags");
		if (h.stream_id != 0)
			return fail(err, "GOAWAY not on stream 0");
		if (h.length < 8 || h.length > FRAME_GOAWAY_MAX)
			return fail(err, "GOAWAY payload not 8..264 bytes");
		break;
	default:
		break; /* a newer peer's frame: the caller skips the payload */
	}
	*out = h;
	return 0;
}

int frame_decode_window(const uint8_t *p, size_t len, uint32_t *increment)
{
	if (len != FRAME_WINDOW_LEN)
		return -EPROTO;
	uint32_t inc = get_u32(p);
	if (inc == 0)
		return -EPROTO;
	*increment = inc;
	return 0;
}

int frame_decode_rst(const uint8_t *p, size_t len, uint32_t *code, const char **reason,
		     size_t *reason_len)
{
	if (len < 4 || len > FRAME_RST_MAX)
		return -EPROTO;
	*code = get_u32(p);
	*reason = (const char *)p + 4;
	*reason_len = len - 4;
	return 0;
}

int frame_decode_goaway(const uint8_t *p, size_t len, uint32_t *last_id, uint32_t *code,
			const char **reason, size_t *reason_len)
{
	if (len < 8 || len > FRAME_GOAWAY_MAX)
		return -EPROTO;
	uint32_t id = get_u32(p);
	if (id & FRAME_STREAM_RESERVED)
		return -EPROTO;
	*last_id = id;
	*code = get_u32(p + 4);
	*reason = (const char *)p + 8;
	*reason_len = len - 8;
	return 0;
}

size_t frame_encode_window(uint8_t *out, uint32_t increment)
{
	assert(increment != 0);
	put_u32(out, increment);
	return FRAME_WINDOW_LEN;
}

static size_t put_reason(uint8_t *out, const char *reason)
{
	size_t n = reason ? strnlen(reason, FRAME_REASON_MAX) : 0;
	memcpy(out, reason ? reason : "", n);
	return n;
}

size_t frame_encode_rst(uint8_t *out, uint32_t code, const char *reason)
{
	put_u32(out, code);
	return 4 + put_reason(out + 4, reason);
}

size_t frame_encode_goaway(uint8_t *out, uint32_t last_id, uint32_t code, const char *reason)
{
	assert(!(last_id & FRAME_STREAM_RESERVED));
	put_u32(out, last_id);
	put_u32(out + 4, code);
	return 8 + put_reason(out + 8, reason);
}

/* ---- the stream-open header ---- */

static int service_char(uint8_t c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

/* Client addresses are for logs and X-Forwarded-For: printable ASCII, no space, so a peer
 * cannot inject line breaks or header syntax. */
static int client_char(uint8_t c)
{
	return c > 0x20 && c < 0x7f && c != ',';
}

int frame_service_name_valid(const char *name, size_t len)
{
	if (len < 1 || len > 63)
		return 0;
	for (size_t i = 0; i < len; i++)
		if (!service_char((uint8_t)name[i]))
			return 0;
	return 1;
}

static int kind_valid(uint8_t kind)
{
	return kind >= OPEN_KIND_TCP && kind <= OPEN_KIND_PEER_PING;
}

int open_header_decode(const uint8_t *p, size_t len, struct open_header *out, const char **err)
{
	size_t off = 0;
	if (len < 1)
		return -EAGAIN;
	if (p[0] != OPEN_HEADER_VERSION)
		return fail(err, "unsupported open header version");
	if (len < 2)
		return -EAGAIN;
	if (!kind_valid(p[1]))
		return fail(err, "unknown stream kind");
	if (len < 3)
		return -EAGAIN;
	size_t slen = p[2];
	if (slen < 1 || slen > 63)
		return fail(err, "service name length not 1..63");
	off = 3;
	for (size_t i = 0; i < slen; i++) {
		if (off + i >= len)
			return -EAGAIN;
		if (!service_char(p[off + i]))
			return fail(err, "invalid character in service name");
	}
	off += slen;
	if (off >= len)
		return -EAGAIN;
	size_t clen = p[off++];
	if (clen > 63)
		return fail(err, "client address longer than 63");
	for (size_t i = 0; i < clen; i++) {
		if (off + i >= len)
			return -EAGAIN;
		if (!client_char(p[off + i]))
			return fail(err, "invalid character in client address");
	}
	out->kind = p[1];
	memcpy(out->service, p + 3, slen);
	out->service[slen] = '\0';
	memcpy(out->client, p + off, clen);
	out->client[clen] = '\0';
	return (int)(off + clen);
}

int open_header_encode(uint8_t *out, size_t cap, const struct open_header *h)
{
	size_t slen = strnlen(h->service, sizeof h->service);
	size_t clen = strnlen(h->client, sizeof h->client);
	if (!kind_valid(h->kind) || !frame_service_name_valid(h->service, slen) || clen > 63)
		return -EINVAL;
	for (size_t i = 0; i < clen; i++)
		if (!client_char((uint8_t)h->client[i]))
			return -EINVAL;
	size_t total = 3 + slen + 1 + clen;
	if (cap < total)
		return -ENOSPC;
	out[0] = OPEN_HEADER_VERSION;
	out[1] = h->kind;
	out[2] = (uint8_t)slen;
	memcpy(out + 3, h->service, slen);
	out[3 + slen] = (uint8_t)clen;
	memcpy(out + 4 + slen, h->client, clen);
	return (int)total;
}
