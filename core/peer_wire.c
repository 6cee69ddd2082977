/* Agent-to-agent wire format: see peer_wire.h. */
#include "config.h"
#include "peer_wire.h"
#include <ctype.h>
#include <errno.h>
#include <string.h>

static uint64_t get_u64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static void put_u64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static void put_header(uint8_t *p, uint8_t type, size_t len)
{
	p[0] = type;
	p[1] = (uint8_t)(len >> 16);
	p[2] = (uint8_t)(len >> 8);
	p[3] = (uint8_t)len;
}

/* An agent id as the configuration allows it (conf_valid_id), checked here without the
 * configuration code so the codec stays pure. */
static int id_valid(const char *id, size_t n)
{
	if (n == 0 || n > PEER_AGENT_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_' && id[i] != '.')
			return 0;
	return 1;
}

#define FAIL(msg)                                                                                  \
	do {                                                                                       \
		if (err)                                                                           \
			*err = (msg);                                                              \
		return -EPROTO;                                                                    \
	} while (0)

int peer_preamble_decode(const uint8_t *buf, size_t len, char *agent, size_t cap,
			 const char **err)
{
	if (len < 1)
		return -EAGAIN;
	size_t n = buf[0];
	if (n == 0 || n > PEER_AGENT_MAX)
		FAIL("peer preamble: agent id length must be 1..64");
	if (len < 1 + n)
		return -EAGAIN;
	if (cap < n + 1)
		FAIL("peer preamble: agent id too long");
	memcpy(agent, buf + 1, n);
	agent[n] = '\0';
	if (!id_valid(agent, n))
		FAIL("peer preamble: invalid agent id");
	return (int)(1 + n);
}

int peer_preamble_encode(const char *agent, uint8_t *out, size_t cap)
{
	size_t n = strlen(agent);
	if (!id_valid(agent, n))
		return -EINVAL;
	if (cap < 1 + n)
		return -ENOSPC;
	out[0] = (uint8_t)n;
	memcpy(out + 1, agent, n);
	return (int)(1 + n);
}

int peer_frame_decode(const uint8_t *buf, size_t len, struct peer_frame *f, const char **err)
{
	memset(f, 0, sizeof *f);
	if (len < PEER_FRAME_HEADER)
		return -EAGAIN;
	f->type = buf[0];
	f->length = (uint32_t)buf[1] << 16 | (uint32_t)buf[2] << 8 | buf[3];
	switch (f->type) {
	case PF_LEG:
		if (f->length != 24)
			FAIL("LEG frame: length must be 24");
		break;
	case PF_DATA:
		if (f->length == 0 || f->length > PEER_DATA_MAX)
			FAIL("DATA frame: length must be 1..65536");
		break;
	case PF_ACK:
	case PF_FIN:
	case PF_PING:
	case PF_PONG:
		if (f->length != 8)
			FAIL("ACK/FIN/PING/PONG frame: length must be 8");
		break;
	case PF_RST:
		if (f->length < 4 || f->length > 4 + PEER_REASON_MAX)
			FAIL("RST frame: length must be 4..260");
		break;
	default:
		FAIL("unknown peer frame type");
	}
	if (len - PEER_FRAME_HEADER < f->length)
		return -EAGAIN;
	const uint8_t *p = buf + PEER_FRAME_HEADER;
	switch (f->type) {
	case PF_LEG:
		f->conn_id = get_u64(p);
		f->value = get_u64(p + 8);
		f->flags = get_u64(p + 16);
		if (f->flags & ~(uint64_t)PEER_LEG_RESUME)
			FAIL("LEG frame: unknown flags");
		if (f->conn_id == 0)
			FAIL("LEG frame: connection id 0");
		break;
	case PF_DATA:
		f->data = p;
		f->data_len = f->length;
		break;
	case PF_RST:
		f->code = (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
		f->data = p + 4;
		f->data_len = f->length - 4;
		break;
	default:
		f->value = get_u64(p);
		break;
	}
	return (int)(PEER_FRAME_HEADER + f->length);
}

size_t peer_encode_leg(uint8_t *out, uint64_t conn_id, uint64_t delivered, uint64_t flags)
{
	put_header(out, PF_LEG, 24);
	put_u64(out + 4, conn_id);
	put_u64(out + 12, delivered);
	put_u64(out + 20, flags);
	return PEER_FRAME_HEADER + 24;
}

size_t peer_encode_u64(uint8_t *out, uint8_t type, uint64_t value)
{
	put_header(out, type, 8);
	put_u64(out + 4, value);
	return PEER_FRAME_HEADER + 8;
}

size_t peer_encode_rst(uint8_t *out, uint32_t code, const char *reason)
{
	size_t n = reason ? strlen(reason) : 0;
	if (n > PEER_REASON_MAX)
		n = PEER_REASON_MAX;
	put_header(out, PF_RST, 4 + n);
	out[4] = (uint8_t)(code >> 24);
	out[5] = (uint8_t)(code >> 16);
	out[6] = (uint8_t)(code >> 8);
	out[7] = (uint8_t)code;
	if (n)
		memcpy(out + 8, reason, n);
	return PEER_FRAME_HEADER + 4 + n;
}

void peer_encode_data_header(uint8_t out[PEER_FRAME_HEADER], size_t len)
{
	put_header(out, PF_DATA, len);
}

size_t peer_frame_size(const uint8_t hdr[PEER_FRAME_HEADER])
{
	return PEER_FRAME_HEADER + ((size_t)hdr[1] << 16 | (size_t)hdr[2] << 8 | hdr[3]);
}

void peer_rst_reason(const struct peer_frame *f, char *out)
{
	size_t n = f->type == PF_RST && f->data_len <= PEER_REASON_MAX ? f->data_len : 0;
	for (size_t k = 0; k < n; k++)
		out[k] = f->data[k] >= 0x20 && f->data[k] < 0x7f ? (char)f->data[k] : '?';
	out[n] = '\0';
}

const char *peer_frame_name(uint8_t type)
{
	static const char *const names[] = {"?", "LEG", "DATA", "ACK", "FIN", "RST", "PING", "PONG"};
	return type < sizeof names / sizeof names[0] ? names[type] : "unknown";
}
