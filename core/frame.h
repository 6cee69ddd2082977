/* The multiplexer's wire format (doc/PROTOCOL.md, "Framing"): connection preface, the 9-byte
 * frame header, the WINDOW/RST/GOAWAY payloads and the stream-open header at the start of a
 * SYN. Pure functions over buffers: no allocation, no I/O, so they can be fuzzed. Decoders
 * return 0 (or bytes consumed), -EAGAIN when the buffer is too short to decide, -EMSGSIZE or
 * -EPROTO when the bytes are not a valid frame; err strings are static. */
#ifndef PROXYD_CORE_FRAME_H
#define PROXYD_CORE_FRAME_H

#include <stddef.h>
#include <stdint.h>

/* Each side sends this first: "PRXD", then the framing version as a u32 (1). */
#define FRAME_PREFACE "PRXD\x00\x00\x00\x01"
#define FRAME_PREFACE_LEN 8

/* 1 when buf starts with the whole preface, 0 when the len bytes so far are a prefix of it,
 * -EPROTO when they are not (not a proxyd peer, or another framing version). */
int frame_check_preface(const uint8_t *buf, size_t len);

#define FRAME_HEADER_LEN 9
#define FRAME_MAX_PAYLOAD (256 * 1024) /* the decoder rejects larger: -EMSGSIZE */
#define FRAME_STREAM_RESERVED 0x80000000u /* top bit of stream_id: must be 0 */
#define FRAME_REASON_MAX 256              /* RST and GOAWAY reason text */
#define FRAME_RST_MAX (4 + FRAME_REASON_MAX)
#define FRAME_GOAWAY_MAX (8 + FRAME_REASON_MAX)
#define FRAME_PING_LEN 8
#define FRAME_WINDOW_LEN 4

enum frame_type {
	FRAME_DATA = 0,
	FRAME_WINDOW = 1,
	FRAME_RST = 2,
	FRAME_PING = 3,
	FRAME_GOAWAY = 4,
};

#define FRAME_FLAG_SYN 0x01 /* DATA: opens the stream; the payload starts with an open header */
#define FRAME_FLAG_FIN 0x02 /* DATA: the sender's last frame on this stream (payload may be empty) */
#define FRAME_FLAG_ACK 0x04 /* PING: this is the reply */

/* RST error codes. */
enum frame_rst_code {
	RST_CANCEL = 1,      /* the sender no longer wants the stream */
	RST_REFUSED = 2,     /* the service refused the local connection, or too many streams */
	RST_NO_SERVICE = 3,  /* no such service on this node */
	RST_PROTOCOL = 4,    /* invalid open header, DATA after FIN, ... */
	RST_FLOW = 5,        /* the peer sent more than the window allowed */
	RST_INTERNAL = 6,    /* local failure (memory, ...) */
	RST_GOING_AWAY = 7,  /* the session is closing */
};
const char *frame_rst_name(uint32_t code);
/* "DATA", "WINDOW", ...; "unknown" for types this build does not know. */
const char *frame_type_name(uint8_t type);

struct frame_header {
	uint32_t length; /* payload length, <= FRAME_MAX_PAYLOAD */
	uint8_t type;
	uint8_t flags;
	uint32_t stream_id;
};

/* Asserts length <= FRAME_MAX_PAYLOAD and the reserved bit clear (programmer errors). */
void frame_encode_header(uint8_t out[FRAME_HEADER_LEN], const struct frame_header *h);

/* Decode and validate a header: 0 on success (*out filled), -EAGAIN if len < 9, -EMSGSIZE when
 * length > FRAME_MAX_PAYLOAD, -EPROTO (with *err) for a set reserved bit, flags not defined for
 * the type, a payload length invalid for the type, or a stream id the type may not use:
 *   DATA    any stream; flags SYN|FIN; stream 0 (control) never SYN or FIN; a SYN payload
 *           holds at least a minimal open header (OPEN_HEADER_MIN_LEN)
 *   WINDOW  stream != 0, no flags, payload exactly 4
 *   RST     stream != 0, no flags, payload 4..4+256
 *   PING    stream 0, flags ACK, payload exactly 8
 *   GOAWAY  stream 0, no flags, payload 8..8+256
 * Unknown types are not errors: 0, so the caller skips `length` bytes (forward compatibility).
 * err may be NULL. */
int frame_decode_header(const uint8_t *buf, size_t len, struct frame_header *out, const char **err);

/* Payload helpers; p/len is the whole payload. They return 0 or -EPROTO (wrong length, zero
 * increment, reserved bit in last_id). Reasons point into p and are NOT NUL-terminated; they
 * are peer-supplied text: escape before logging. */
int frame_decode_window(const uint8_t *p, size_t len, uint32_t *increment);
int frame_decode_rst(const uint8_t *p, size_t len, uint32_t *code, const char **reason,
		     size_t *reason_len);
int frame_decode_goaway(const uint8_t *p, size_t len, uint32_t *last_id, uint32_t *code,
			const char **reason, size_t *reason_len);
/* out holds FRAME_WINDOW_LEN bytes; returns 4. */
size_t frame_encode_window(uint8_t *out, uint32_t increment);
/* out holds FRAME_RST_MAX / FRAME_GOAWAY_MAX bytes. reason may be NULL; it is truncated to
 * FRAME_REASON_MAX bytes. Return the payload length. */
size_t frame_encode_rst(uint8_t *out, uint32_t code, const char *reason);
size_t frame_encode_goaway(uint8_t *out, uint32_t last_id, uint32_t code, const char *reason);

/* The stream-open header at the start of a SYN payload:
 *   u8 version (1) | u8 kind | u8 service_len | service (1..63 of [A-Za-z0-9._-])
 *   | u8 client_len | client address "ip:port" (0..63 printable ASCII, no space)
 * Stream data follows it in the same payload. */
#define OPEN_HEADER_VERSION 1
#define OPEN_HEADER_MIN_LEN 5   /* a one-byte service name, no client address */
#define OPEN_HEADER_MAX_LEN 130 /* 3 + 63 + 1 + 63 */
enum open_kind {
	OPEN_KIND_TCP = 1,
	OPEN_KIND_HTTP = 2,
	/* Agent to agent (doc/PROTOCOL.md, 11): a peer preamble (peer_wire.h) and leg frames
	 * follow the header. PEER carries a user's connection to `service`; PEER_PING only
	 * PING/PONG (proxyctl ping), its `service` is ignored. */
	OPEN_KIND_PEER = 3,
	OPEN_KIND_PEER_PING = 4,
};
struct open_header {
	uint8_t kind;
	char service[64]; /* NUL-terminated */
	char client[64];  /* NUL-terminated, may be empty */
};
/* Returns bytes consumed (> 0), -EAGAIN if p/len ends inside the header, -EPROTO (with *err)
 * for a wrong version, unknown kind, or bad name/address. Bytes present are validated before
 * -EAGAIN is returned, so garbage fails early. err may be NULL. */
int open_header_decode(const uint8_t *p, size_t len, struct open_header *out, const char **err);
/* Returns bytes written, -ENOSPC if cap is too small, -EINVAL if h would not decode (unknown
 * kind, bad service name or client address). */
int open_header_encode(uint8_t *out, size_t cap, const struct open_header *h);
/* Is name a valid service name (1..63 of [A-Za-z0-9._-])? Shared with the control protocol. */
int frame_service_name_valid(const char *name, size_t len);

#endif
