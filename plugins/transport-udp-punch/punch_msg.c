/* The punch codec (see punch_msg.h). The MAC is GnuTLS's HMAC-SHA256, already linked for
 * QUIC. */
#include "config.h"
#include "punch_msg.h"

#include <gnutls/crypto.h>
#include <string.h>

static const uint8_t magic[4] = {0x3f, 'P', 'X', 'P'};
#define BODY_LEN (PUNCH_MSG_LEN - PUNCH_MAC_LEN)

static void put64(uint8_t *p, uint64_t v)
{
	for (int i = 7; i >= 0; i--) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int mac(const uint8_t *body, const uint8_t *key, size_t keylen,
	       uint8_t out[PUNCH_MAC_LEN])
{
	uint8_t full[32];
	if (gnutls_hmac_fast(GNUTLS_MAC_SHA256, key, keylen, body, BODY_LEN, full) < 0)
		return -1;
	memcpy(out, full, PUNCH_MAC_LEN);
	return 0;
}

int punch_msg_looks_like(const uint8_t *buf, size_t len)
{
	return len >= sizeof magic && memcmp(buf, magic, sizeof magic) == 0;
}

int punch_msg_encode(uint8_t buf[PUNCH_MSG_LEN], const struct punch_msg *m, const uint8_t *key,
		     size_t keylen)
{
	memcpy(buf, magic, sizeof magic);
	buf[4] = PUNCH_VERSION;
	buf[5] = m->type;
	put64(buf + 6, m->attempt_id);
	put64(buf + 14, m->nonce);
	return mac(buf, key, keylen, buf + BODY_LEN);
}

int punch_msg_decode(const uint8_t *buf, size_t len, const uint8_t *key, size_t keylen,
		     uint64_t attempt_id, struct punch_msg *out)
{
	if (len != PUNCH_MSG_LEN || !punch_msg_looks_like(buf, len) || buf[4] != PUNCH_VERSION)
		return PUNCH_NOT_PUNCH;
	uint8_t want[PUNCH_MAC_LEN];
	if (mac(buf, key, keylen, want) < 0)
		return PUNCH_BAD_MAC;
	/* constant time: a forger learns nothing from how long the answer takes */
	uint8_t diff = 0;
	for (size_t i = 0; i < PUNCH_MAC_LEN; i++)
		diff |= (uint8_t)(want[i] ^ buf[BODY_LEN + i]);
	if (diff)
		return PUNCH_BAD_MAC;
	uint8_t type = buf[5];
	uint64_t id = get64(buf + 6);
	if (id != attempt_id)
		return PUNCH_BAD_ATTEMPT;
	if (type != PUNCH_PUNCH && type != PUNCH_ACK)
		return PUNCH_BAD_TYPE;
	out->type = type;
	out->attempt_id = id;
	out->nonce = get64(buf + 14);
	return 0;
}
