/* The STUN codec (see stun.h). Every read is checked against len before it happens. */
#include "config.h"
#include "stun.h"

#include <errno.h>
#include <string.h>

#define FINGERPRINT_XOR 0x5354554eu

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

uint32_t stun_crc32(const uint8_t *buf, size_t len)
{
	/* bitwise: a few dozen bytes per message do not need a table */
	uint32_t crc = 0xffffffffu;
	for (size_t i = 0; i < len; i++) {
		crc ^= buf[i];
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0xedb88320u & (0u - (crc & 1u)));
	}
	return ~crc;
}

int stun_looks_like(const uint8_t *buf, size_t len)
{
	return len >= STUN_HEADER_LEN && (buf[0] & 0xc0) == 0 && get32(buf + 4) == STUN_MAGIC;
}

/* An address attribute's value; xor: XOR-MAPPED-ADDRESS (with the cookie and txid). */
static int parse_addr(const uint8_t *v, size_t vlen, const uint8_t *hdr, int xor,
		      struct stun_addr *out)
{
	if (vlen < 4)
		return -EINVAL;
	uint8_t family = v[1];
	size_t alen = family == 1 ? 4 : family == 2 ? 16 : 0;
	if (!alen || vlen != 4 + alen)
		return -EINVAL;
	memset(out, 0, sizeof *out);
	out->family = family == 1 ? 4 : 6;
	out->port = get16(v + 2);
	memcpy(out->ip, v + 4, alen);
	if (xor) {
		/* the port with the cookie's top half, the address with cookie + txid */
		out->port ^= (uint16_t)(STUN_MAGIC >> 16);
		for (size_t i = 0; i < alen; i++)
			out->ip[i] ^= hdr[4 + i]; /* bytes 4..19 of the header: cookie, txid */
	}
	return 0;
}

int stun_decode(const uint8_t *buf, size_t len, struct stun_msg *out, const char **why)
{
	memset(out, 0, sizeof *out);
	if (len < STUN_HEADER_LEN) {
		*why = "shorter than a STUN header";
		return -EINVAL;
	}
	if (buf[0] & 0xc0) {
		*why = "first two bits are not zero";
		return -EINVAL;
	}
	if (get32(buf + 4) != STUN_MAGIC) {
		*why = "no magic cookie";
		return -EINVAL;
	}
	size_t mlen = get16(buf + 2);
	if (mlen % 4 != 0) {
		*why = "message length is not a multiple of 4";
		return -EINVAL;
	}
	if (STUN_HEADER_LEN + mlen != len) {
		*why = "message length does not match the datagram";
		return -EINVAL;
	}
	out->type = get16(buf);
	memcpy(out->txid, buf + 8, STUN_TXID_LEN);
	size_t off = STUN_HEADER_LEN;
	while (off < len) {
		if (out->has_fingerprint) {
			*why = "attribute after FINGERPRINT";
			return -EINVAL;
		}
		if (len - off < 4) {
			*why = "truncated attribute header";
			return -EINVAL;
		}
		uint16_t type = get16(buf + off), vlen = get16(buf + off + 2);
		size_t padded = ((size_t)vlen + 3) & ~(size_t)3;
		if (padded > len - off - 4) {
			*why = "attribute runs past the end";
			return -EINVAL;
		}
		const uint8_t *v = buf + off + 4;
		switch (type) {
		case STUN_ATTR_XOR_MAPPED_ADDRESS:
			if (parse_addr(v, vlen, buf, 1, &out->xor_mapped) < 0) {
				*why = "bad XOR-MAPPED-ADDRESS";
				return -EINVAL;
			}
			out->has_xor_mapped = 1;
			break;
		case STUN_ATTR_MAPPED_ADDRESS:
			if (parse_addr(v, vlen, buf, 0, &out->mapped) < 0) {
				*why = "bad MAPPED-ADDRESS";
				return -EINVAL;
			}
			out->has_mapped = 1;
			break;
		case STUN_ATTR_SOFTWARE:
			out->software = v;
			out->software_len = vlen;
			break;
		case STUN_ATTR_MESSAGE_INTEGRITY:
			out->has_integrity = 1; /* not checked: see stun.h */
			break;
		case STUN_ATTR_FINGERPRINT: {
			if (vlen != 4) {
				*why = "bad FINGERPRINT length";
				return -EINVAL;
			}
			/* over everything before it, with the length field as received (which
			 * counts the FINGERPRINT itself) */
			uint32_t want = stun_crc32(buf, off) ^ FINGERPRINT_XOR;
			if (get32(v) != want) {
				*why = "FINGERPRINT does not match";
				return -EINVAL;
			}
			out->has_fingerprint = 1;
			break;
		}
		default:
			/* 0x0000-0x7fff must be understood; the rest may be skipped */
			if (type < 0x8000 && out->n_unknown < STUN_UNKNOWN_MAX)
				out->unknown[out->n_unknown++] = type;
			break;
		}
		off += 4 + padded;
	}
	return 0;
}

static size_t put_header(uint8_t *buf, uint16_t type, const uint8_t txid[STUN_TXID_LEN])
{
	put16(buf, type);
	put16(buf + 2, 0);
	put32(buf + 4, STUN_MAGIC);
	memcpy(buf + 8, txid, STUN_TXID_LEN);
	return STUN_HEADER_LEN;
}

/* Appends FINGERPRINT after setting the length to include it. */
static size_t put_fingerprint(uint8_t *buf, size_t off)
{
	put16(buf + 2, (uint16_t)(off + 8 - STUN_HEADER_LEN));
	put16(buf + off, STUN_ATTR_FINGERPRINT);
	put16(buf + off + 2, 4);
	put32(buf + off + 4, stun_crc32(buf, off) ^ FINGERPRINT_XOR);
	return off + 8;
}

size_t stun_encode_binding_request(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
				   int fingerprint)
{
	if (cap < STUN_HEADER_LEN + (fingerprint ? 8 : 0))
		return 0;
	size_t off = put_header(buf, STUN_BINDING_REQUEST, txid);
	if (fingerprint)
		off = put_fingerprint(buf, off);
	return off;
}

static size_t put_addr(uint8_t *buf, size_t off, uint16_t type, const struct stun_addr *a, int xor)
{
	size_t alen = a->family == 4 ? 4 : 16;
	put16(buf + off, type);
	put16(buf + off + 2, (uint16_t)(4 + alen));
	buf[off + 4] = 0;
	buf[off + 5] = a->family == 4 ? 1 : 2;
	put16(buf + off + 6, xor ? (uint16_t)(a->port ^ (STUN_MAGIC >> 16)) : a->port);
	for (size_t i = 0; i < alen; i++)
		buf[off + 8 + i] = xor ? (uint8_t)(a->ip[i] ^ buf[4 + i]) : a->ip[i];
	return off + 8 + alen;
}

size_t stun_encode_binding_success(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
				   const struct stun_addr *source, const char *software,
				   int fingerprint)
{
	if (source->family != 4 && source->family != 6)
		return 0;
	size_t alen = source->family == 4 ? 4 : 16;
	size_t slen = software ? strnlen(software, 64) : 0;
	size_t spad = (slen + 3) & ~(size_t)3;
	size_t need = STUN_HEADER_LEN + 2 * (8 + alen) + (software ? 4 + spad : 0) +
		      (fingerprint ? 8 : 0);
	if (cap < need)
		return 0;
	size_t off = put_header(buf, STUN_BINDING_SUCCESS, txid);
	off = put_addr(buf, off, STUN_ATTR_XOR_MAPPED_ADDRESS, source, 1);
	off = put_addr(buf, off, STUN_ATTR_MAPPED_ADDRESS, source, 0);
	if (software) {
		put16(buf + off, STUN_ATTR_SOFTWARE);
		put16(buf + off + 2, (uint16_t)slen);
		memcpy(buf + off + 4, software, slen);
		memset(buf + off + 4 + slen, 0, spad - slen);
		off += 4 + spad;
	}
	put16(buf + 2, (uint16_t)(off - STUN_HEADER_LEN));
	if (fingerprint)
		off = put_fingerprint(buf, off);
	return off;
}
