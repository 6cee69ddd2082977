/* Control protocol messages (doc/PROTOCOL.md, "Control protocol"): the byte stream of
 * stream 0 on multiplexed transports, the first stream on QUIC. Pure encode/decode over
 * buffers; the handshake and its state live in the session code.
 *
 * Message: u16 type | u16 body_length | body (<= CTL_MAX_BODY)
 * Body:    fields, each u8 tag | u16 length | value; integers big-endian.
 * Unknown tags are skipped by the decoder; unknown message types decode with only ->type set
 * and the caller ignores them: that is how older and newer nodes interoperate. */
#ifndef PROXYD_CORE_CTL_H
#define PROXYD_CORE_CTL_H

#include <stddef.h>
#include <stdint.h>

#define CTL_HEADER_LEN 4
#define CTL_MAX_BODY 16384
#define CTL_MAX_MSG (CTL_HEADER_LEN + CTL_MAX_BODY)
#define CTL_MAX_SERVICES 64
#define CTL_MAX_PORTS 128
#define CTL_PORT_LABEL_MAX 31
#define CTL_CANDIDATES_MAX 512
#define CTL_ALLOWED_MAX 2048

/* Control protocol versions this build speaks. */
#define CTL_VERSION_MIN 1
#define CTL_VERSION_MAX 1

enum ctl_type {
	CTL_HELLO = 1,
	CTL_AUTH = 2,
	CTL_AUTH_OK = 3,
	CTL_REGISTER = 4,
	CTL_REGISTER_OK = 5,
	CTL_PING = 6,
	CTL_PONG = 7,
	CTL_GOAWAY = 8,
	CTL_ERROR = 9,
	/* The agent's listening TCP ports and their labels (agent.report_ports), sent after
	 * REGISTER_OK and whenever they change; no answer. Each replaces the last. */
	CTL_PORTS = 10,
	/* Direct paths between agents (doc/PROTOCOL.md 8.7): the agent that wants one sends
	 * REQUEST with its candidates; the server sends the other agent OFFER (attempt, key,
	 * the first one's candidates); it answers ANSWER with its own, or a code; the server
	 * sends the first GO (attempt, key, the other's candidates) or GO with a code when it
	 * cannot arrange one. Each agent reports the outcome with RESULT. */
	CTL_DIRECT_REQUEST = 11,
	CTL_DIRECT_OFFER = 12,
	CTL_DIRECT_ANSWER = 13,
	CTL_DIRECT_GO = 14,
	CTL_DIRECT_RESULT = 15,
};

/* Field tags. str = UTF-8 without NUL or control characters; integers big-endian. */
enum ctl_tag {
	T_VERSION_MIN = 1, /* u16 */
	T_VERSION_MAX = 2, /* u16 */
	T_VERSION = 3,     /* u16, the version the server chose */
	T_NODE_ID = 4,     /* str, 1..64 bytes */
	T_ROLE = 5,        /* u8, enum ctl_role */
	T_CAPS = 6,        /* u32, capability bits (none defined in version 1) */
	T_NONCE = 7,       /* 32 bytes */
	T_PROOF = 8,       /* 32 bytes, HMAC-SHA256 (ctl_auth.h) */
	T_AGENT_ID = 9,    /* str, 1..64 bytes */
	T_SERVICE = 10,    /* nested field list: T_SVC_*; repeatable up to CTL_MAX_SERVICES */
	T_SEQ = 11,        /* u64 */
	T_TIME = 12,       /* u64, nanoseconds of the PING sender's clock */
	T_CODE = 13,       /* u32, enum ctl_code */
	T_REASON = 14,     /* str, 0..256 bytes */
	T_GROUP = 15,      /* str, 1..64 bytes */
	T_PORT = 16,       /* nested field list: T_PORT_*; repeatable up to CTL_MAX_PORTS */
	T_PEER = 25,       /* str, 1..64 bytes: the other agent of a direct path */
	T_CANDIDATES = 26, /* str, 0..512 bytes: "host ip:port,srflx ip:port" */
	T_ATTEMPT = 27,    /* u64, the server's direct-attempt id */
	T_KEY = 28,        /* 32 bytes: the attempt's punch key */
	T_STEP = 29,       /* str, 1..32 bytes: where an attempt failed ("punch", ...) */
	T_ELAPSED = 30,    /* u32, milliseconds */
	T_ALLOWED = 31,    /* str, 0..2048 bytes: service names, comma-separated, that the other
	                    * agent may reach over a direct path (server.relay.allow) */
	/* inside T_SERVICE only: */
	T_SVC_NAME = 20,    /* str, 1..63 of [A-Za-z0-9._-] */
	T_SVC_KIND = 21,    /* u8, OPEN_KIND_TCP (1) or OPEN_KIND_HTTP (2) */
	T_SVC_DEFAULT = 22, /* u8, 0 or 1; at most one service is the default */
	/* inside T_PORT only: */
	T_PORT_NUMBER = 23, /* u16, 1..65535; each port at most once per message */
	T_PORT_LABEL = 24,  /* str, 1..31 of [A-Za-z0-9._-]; absent when the port has none */
};

enum ctl_role {
	CTL_ROLE_AGENT = 1,
	CTL_ROLE_SERVER = 2,
};

/* T_CODE values of ERROR and GOAWAY (also the code of a GOAWAY frame). */
enum ctl_code {
	CTL_CODE_NONE = 0,      /* graceful: shutdown, reload, drain */
	CTL_CODE_PROTOCOL = 1,  /* malformed or unexpected message */
	CTL_CODE_VERSION = 2,   /* no common protocol version */
	CTL_CODE_AUTH = 3,      /* authentication failed */
	CTL_CODE_IDENTITY = 4,  /* mTLS: agent_id differs from the certificate's identity */
	CTL_CODE_REGISTER = 5,  /* services rejected */
	CTL_CODE_REPLACED = 6,  /* the same agent connected again; this session is superseded */
	CTL_CODE_TIMEOUT = 7,   /* handshake or keepalive timeout */
	CTL_CODE_LIMIT = 8,     /* too many sessions, or another resource limit */
	CTL_CODE_INTERNAL = 9,  /* local failure */
};

struct ctl_service {
	char name[64];
	uint8_t kind;       /* OPEN_KIND_TCP or OPEN_KIND_HTTP */
	uint8_t is_default; /* 0 or 1 */
};

struct ctl_port {
	uint16_t port;
	char label[CTL_PORT_LABEL_MAX + 1]; /* "" when none */
};

struct ctl_msg {
	uint16_t type;
	uint16_t version_min, version_max, version;
	char node_id[65];
	uint8_t role;
	uint32_t caps;
	uint8_t nonce[32];
	int has_nonce;
	uint8_t proof[32];
	int has_proof;
	char agent_id[65];
	char group[65];
	struct ctl_service services[CTL_MAX_SERVICES];
	int n_services;
	uint64_t seq, time_ns;
	uint32_t code;
	char reason[257];
	struct ctl_port ports[CTL_MAX_PORTS];
	int n_ports;
	char peer[65];
	char candidates[CTL_CANDIDATES_MAX + 1];
	uint64_t attempt;
	uint8_t key[32];
	int has_key;
	char step[33];
	uint32_t elapsed_ms;
	char allowed[CTL_ALLOWED_MAX + 1];
};

/* Is s[0..n) a port label: 1..CTL_PORT_LABEL_MAX of [A-Za-z0-9._-]? */
int ctl_port_label_valid(const char *s, size_t n);

/* Decode one message from buf. Returns bytes consumed (> 0), -EAGAIN when buf holds less than
 * the whole message, -EMSGSIZE when the body length exceeds CTL_MAX_BODY (known from the
 * first 4 bytes), -EPROTO with *err naming the problem ("node_id too long", "bad field
 * length", "duplicate agent_id", "too many services", ...). *out is zeroed first, so absent
 * fields read as 0 / "" / has_* = 0. Any known field is accepted in any known message type
 * (the session code checks what it needs); a known field appearing twice is an error, except
 * T_SERVICE and T_PORT. Services are checked: name and kind present, names unique, at most one
 * default; ports: a number present, each number once.
 * Messages of unknown type decode with only ->type set. err may be NULL. */
int ctl_decode(const uint8_t *buf, size_t len, struct ctl_msg *out, const char **err);

/* Encode m. Fields written per type; a zero integer, empty string or has_* == 0 is omitted
 * (the decoder reads an absent field as zero):
 *   HELLO        version_min, version_max (agent), version (server), node_id, role, caps,
 *                nonce
 *   AUTH         agent_id, proof
 *   AUTH_OK      agent_id (the identity the server accepted)
 *   REGISTER     group, services[0..n_services)
 *   REGISTER_OK  none
 *   PING, PONG   seq, time_ns
 *   GOAWAY       code, reason
 *   ERROR        code, reason
 *   PORTS        ports[0..n_ports)
 *   DIRECT_REQUEST  peer, candidates
 *   DIRECT_OFFER    attempt, peer, candidates, key, allowed
 *   DIRECT_ANSWER   attempt, candidates, code, reason
 *   DIRECT_GO       attempt, peer, candidates, key, code, reason, allowed
 *   DIRECT_RESULT   attempt, peer, code, step, reason, elapsed_ms
 *   other types  none (an empty body)
 * Returns the message length, -ENOSPC when cap is too small, -EINVAL when a field would not
 * decode (string not terminated or too long, invalid text or service, role, n_services). */
int ctl_encode(const struct ctl_msg *m, uint8_t *buf, size_t cap);

/* Set m->reason (ERROR, GOAWAY) from any text, so that the message always encodes: cut to
 * 256 bytes at a character boundary, every byte that is not valid text (control characters,
 * invalid UTF-8) replaced by '?'. text may be NULL. */
void ctl_set_reason(struct ctl_msg *m, const char *text);

const char *ctl_type_name(uint16_t type);
const char *ctl_code_name(uint32_t code);

/* The highest version in both [our_min, our_max] and [peer_min, peer_max], or -EPROTO when
 * the ranges do not overlap (or a range is empty or starts at 0). */
int ctl_version_pick(uint16_t our_min, uint16_t our_max, uint16_t peer_min, uint16_t peer_max);

#endif
