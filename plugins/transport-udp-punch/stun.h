/* stun.h: a pure STUN codec (RFC 8489, compatible with RFC 5389), only what candidate
 * gathering needs: Binding requests, Binding success responses, XOR-MAPPED-ADDRESS and
 * MAPPED-ADDRESS, FINGERPRINT. No I/O and no allocation, so it is fuzzed (fuzz_stun.c) and
 * unit-tested against RFC 5769's vectors (test_stun.c) on its own. MESSAGE-INTEGRITY is
 * skipped: the servers we ask need no credentials, and an answer is only a hint (the punches
 * that follow are authenticated). */
#ifndef PROXYD_STUN_H
#define PROXYD_STUN_H

#include <stddef.h>
#include <stdint.h>

#define STUN_HEADER_LEN 20
#define STUN_MAGIC 0x2112A442u
#define STUN_TXID_LEN 12
/* Large enough for any message this codec writes. */
#define STUN_MSG_MAX 128

#define STUN_BINDING_REQUEST 0x0001
#define STUN_BINDING_SUCCESS 0x0101
#define STUN_BINDING_ERROR 0x0111

#define STUN_ATTR_MAPPED_ADDRESS 0x0001
#define STUN_ATTR_MESSAGE_INTEGRITY 0x0008
#define STUN_ATTR_XOR_MAPPED_ADDRESS 0x0020
#define STUN_ATTR_SOFTWARE 0x8022
#define STUN_ATTR_FINGERPRINT 0x8028

/* Comprehension-required attributes we do not know, kept (up to this many) so a server
 * could answer 420; we only log them. */
#define STUN_UNKNOWN_MAX 8

/* An address as STUN carries it: IPv4 (family 4, ip[0..3]) or IPv6 (family 6), network
 * byte order in ip, host order in port. */
struct stun_addr {
	int family;
	uint8_t ip[16];
	uint16_t port;
};

struct stun_msg {
	uint16_t type;
	uint8_t txid[STUN_TXID_LEN];
	unsigned has_fingerprint : 1, has_xor_mapped : 1, has_mapped : 1, has_integrity : 1;
	struct stun_addr xor_mapped; /* decoded (un-XORed) */
	struct stun_addr mapped;
	const uint8_t *software;     /* into the decoded buffer, not NUL-terminated */
	size_t software_len;
	uint16_t unknown[STUN_UNKNOWN_MAX];
	size_t n_unknown;
};

/* The cheap test a socket shared with other traffic uses first: 20 bytes or more, the first
 * two bits zero, the magic cookie. 1 or 0. */
int stun_looks_like(const uint8_t *buf, size_t len);

/* Decode and validate one message: header, length, every attribute's bounds and padding,
 * FINGERPRINT (last, CRC right) when present; address attributes parsed; unknown
 * comprehension-optional attributes skipped, unknown comprehension-required ones listed.
 * 0, or -EINVAL with *why a static phrase (for a debug log). */
int stun_decode(const uint8_t *buf, size_t len, struct stun_msg *out, const char **why);

/* A Binding request with this transaction id, with FINGERPRINT when asked. Returns its
 * length, or 0 when cap is too small. */
size_t stun_encode_binding_request(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
				   int fingerprint);

/* A Binding success response for a request's txid telling source (the request's address as we
 * saw it): XOR-MAPPED-ADDRESS and MAPPED-ADDRESS, SOFTWARE when software is not NULL (at most
 * 64 bytes are used), FINGERPRINT when asked. Length, or 0 when it does not fit. */
size_t stun_encode_binding_success(uint8_t *buf, size_t cap, const uint8_t txid[STUN_TXID_LEN],
				   const struct stun_addr *source, const char *software,
				   int fingerprint);

/* CRC-32 (ISO 3309, as FINGERPRINT uses before its XOR). */
uint32_t stun_crc32(const uint8_t *buf, size_t len);

#endif
