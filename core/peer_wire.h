/* Agent-to-agent wire format (doc/PROTOCOL.md, section 11): the peer preamble that follows an
 * open header of kind PEER or PEER_PING, and the leg frames that carry one user connection
 * end to end between two agents, over the relay or a direct path, and let it move between
 * them without losing a byte. Pure functions over buffers, fuzzed by fuzz/fuzz_peer_wire.c.
 *
 * Preamble: u8 agent_len (1..64) | agent id (text).
 *   consumer -> server: the agent to reach; server -> provider and direct: the agent it
 *   comes from.
 * Frame:    u8 type | u24 length | payload (length bytes)
 *   LEG   24  conn_id u64 | delivered u64 | flags u64   first frame each way on a leg;
 *             flags: PEER_LEG_RESUME (the sender had a leg for this connection before), others 0
 *   DATA  1..PEER_DATA_MAX bytes of the user's stream, in order from where the leg starts
 *   ACK   8   delivered u64: bytes of the peer's stream written to our local socket
 *   FIN   8   final u64: the sender's stream ends after this many bytes
 *   RST   4..260  code u32 | reason (text): the connection is aborted both ways
 *   PING  8 / PONG 8   opaque u64, echoed (RTT) */
#ifndef PROXYD_CORE_PEER_WIRE_H
#define PROXYD_CORE_PEER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#define PEER_AGENT_MAX 64
#define PEER_PREAMBLE_MAX (1 + PEER_AGENT_MAX)
#define PEER_FRAME_HEADER 4
#define PEER_DATA_MAX (64 * 1024)
#define PEER_REASON_MAX 256
#define PEER_FRAME_MAX (PEER_FRAME_HEADER + PEER_DATA_MAX)

/* LEG flags. A provider that no longer knows a connection refuses a LEG with RESUME instead
 * of taking it for a new one: the service must not see bytes twice. */
#define PEER_LEG_RESUME 1u

enum peer_frame_type {
	PF_LEG = 1,
	PF_DATA = 2,
	PF_ACK = 3,
	PF_FIN = 4,
	PF_RST = 5,
	PF_PING = 6,
	PF_PONG = 7,
};

struct peer_frame {
	uint8_t type;
	uint32_t length;       /* payload bytes */
	uint64_t conn_id;      /* LEG */
	uint64_t flags;        /* LEG */
	uint64_t value;        /* LEG: delivered; ACK: delivered; FIN: final; PING/PONG: opaque */
	uint32_t code;         /* RST */
	const uint8_t *data;   /* DATA: the payload; RST: the reason (not NUL-terminated) */
	size_t data_len;
};

/* Decode the preamble: bytes consumed (> 0), -EAGAIN when buf ends inside it, -EPROTO (with
 * *err) when the length is 0 or above 64 or the id is not a valid agent id. agent gets the
 * id NUL-terminated (cap >= PEER_AGENT_MAX + 1). */
int peer_preamble_decode(const uint8_t *buf, size_t len, char *agent, size_t cap,
			 const char **err);
/* Returns bytes written, or -EINVAL for an id that would not decode, -ENOSPC. */
int peer_preamble_encode(const char *agent, uint8_t *out, size_t cap);

/* Decode one whole frame: bytes consumed (> 0), -EAGAIN when buf holds less than the whole
 * frame (the header alone is validated first, so garbage fails early), -EPROTO (with *err)
 * for an unknown type, a length wrong for the type, or a LEG with an unknown flag. */
int peer_frame_decode(const uint8_t *buf, size_t len, struct peer_frame *f, const char **err);

/* Encoders write a whole frame into out and return its length. out must hold
 * PEER_FRAME_HEADER + 24 bytes (LEG), + 8 (ACK, FIN, PING, PONG), + 4 + 256 (RST). */
size_t peer_encode_leg(uint8_t *out, uint64_t conn_id, uint64_t delivered, uint64_t flags);
size_t peer_encode_u64(uint8_t *out, uint8_t type, uint64_t value);
size_t peer_encode_rst(uint8_t *out, uint32_t code, const char *reason);
/* Only the 4-byte header of a DATA frame of len (1..PEER_DATA_MAX) bytes. */
void peer_encode_data_header(uint8_t out[PEER_FRAME_HEADER], size_t len);

/* The whole frame's length from its 4 header bytes (to know when it has all arrived; it may
 * exceed PEER_FRAME_MAX, which the decoder then refuses). */
size_t peer_frame_size(const uint8_t hdr[PEER_FRAME_HEADER]);

/* An RST frame's reason as printable ASCII for a log line, NUL-terminated (out holds
 * PEER_REASON_MAX + 1 bytes): the other agent's text, every other byte shown as '?'. */
void peer_rst_reason(const struct peer_frame *f, char *out);

const char *peer_frame_name(uint8_t type);

#endif
