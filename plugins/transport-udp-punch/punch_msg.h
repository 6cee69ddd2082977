/* punch_msg.h: the hole-punching datagrams of a direct attempt, a pure codec (no I/O, no
 * state) with its unit test (test_punch_msg.c) and fuzz harness (fuzz_punch_msg.c).
 *
 * Layout (PUNCH_MSG_LEN = 38 bytes, integers big-endian):
 *   0   0x3f 'P' 'X' 'P'   magic: the first byte has neither 0x80 nor 0x40 (no QUIC long
 *                          header, and no QUIC v1 short one unless greased), and bytes 4-7
 *                          can never be STUN's magic cookie since byte 4 is the version
 *   4   version (1)
 *   5   type: 1 punch, 2 ack
 *   6   attempt id (u64): the server's id of this attempt
 *   14  nonce (u64): punch: the sender's random nonce for this attempt; ack: the nonce of
 *       the punch it answers, so an ack proves our punch went through
 *   22  HMAC-SHA256(key, bytes 0..21), the first 16 bytes; key: the attempt's 32-byte key
 *       from the server, which only the two agents have */
#ifndef PROXYD_PUNCH_MSG_H
#define PROXYD_PUNCH_MSG_H

#include <stddef.h>
#include <stdint.h>

#define PUNCH_MSG_LEN 38
#define PUNCH_MAC_LEN 16
#define PUNCH_VERSION 1

enum punch_type { PUNCH_PUNCH = 1, PUNCH_ACK = 2 };

struct punch_msg {
	uint8_t type; /* enum punch_type */
	uint64_t attempt_id;
	uint64_t nonce;
};

/* Results of punch_msg_decode besides 0. */
#define PUNCH_NOT_PUNCH (-1) /* not ours at all (no magic, wrong size or version): ignore */
#define PUNCH_BAD_MAC (-2)   /* ours but forged, or another key: drop and count */
#define PUNCH_BAD_ATTEMPT (-3) /* authentic (key and MAC right) but another attempt id */
#define PUNCH_BAD_TYPE (-4)  /* authentic, unknown type */

/* 1 when the datagram starts like a punch (the magic); the cheap demultiplexing test. */
int punch_msg_looks_like(const uint8_t *buf, size_t len);

/* Writes m into buf (PUNCH_MSG_LEN bytes) with its MAC. 0, or -1 if the MAC failed. */
int punch_msg_encode(uint8_t buf[PUNCH_MSG_LEN], const struct punch_msg *m, const uint8_t *key,
		     size_t keylen);

/* Checks the layout, then the MAC (in constant time), then the attempt id; fills *out on 0.
 * Returns 0 or one of the PUNCH_* errors above. */
int punch_msg_decode(const uint8_t *buf, size_t len, const uint8_t *key, size_t keylen,
		     uint64_t attempt_id, struct punch_msg *out);

#endif
