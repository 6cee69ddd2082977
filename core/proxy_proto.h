/* The PROXY protocol header (HAProxy's proxy-protocol.txt, versions 1 and 2) that an agent
 * writes to a local service before the user's bytes, so the service sees the user's address
 * instead of the agent's. Pure functions over buffers: no allocation, no I/O, so they can be
 * fuzzed. Addresses are text, as they travel in the stream-open header: "ip:port" for IPv4,
 * "[ip]:port" for IPv6. */
#ifndef PROXYD_CORE_PROXY_PROTO_H
#define PROXYD_CORE_PROXY_PROTO_H

#include <stddef.h>
#include <stdint.h>

#define PROXY_PROTO_V1_MAX 107 /* the longest v1 line the spec allows, CRLF included */
#define PROXY_PROTO_V2_FIXED 16 /* signature, version/command, family, length */
/* Room for any header proxy_proto_encode writes (v1 TCP6 is at most 104 bytes; v2 TCP6 52). */
#define PROXY_PROTO_ENCODE_MAX PROXY_PROTO_V1_MAX

enum proxy_proto_cmd {
	PROXY_PROTO_CMD_LOCAL = 0, /* v2 only: the proxy's own connection (a health check) */
	PROXY_PROTO_CMD_PROXY = 1,
};

struct proxy_proto_info {
	int version;  /* 1 or 2 */
	int command;  /* enum proxy_proto_cmd; always PROXY for v1 */
	int family;   /* AF_INET or AF_INET6 with addresses; AF_UNSPEC (v1 UNKNOWN, v2 LOCAL or
		       * UNSPEC) or AF_UNIX (v2) without */
	int socktype; /* SOCK_STREAM, SOCK_DGRAM (v2 only), or 0 when unspecified */
	char src[64], dst[64]; /* "ip:port" or "[ip]:port"; empty without addresses */
};

/* Write a header saying the connection came from client and was made to local. version is 1
 * or 2. When client or local is NULL or empty, the header says the source is unknown (v1
 * "PROXY UNKNOWN", v2 PROXY with AF_UNSPEC), and the service falls back on the real
 * connection's addresses. When the two are of different families, the IPv4 one is written as
 * an IPv4-mapped IPv6 address (both must be the same family on the wire). Returns the header's
 * length, -EINVAL for a bad version or an address that is not a numeric "ip:port" /
 * "[ip]:port", or -ENOSPC when cap is too small (PROXY_PROTO_ENCODE_MAX always suffices). */
int proxy_proto_encode(int version, const char *client, const char *local, uint8_t *out,
		       size_t cap);

/* Read a v1 or v2 header at the start of buf. Returns the bytes it takes up (TLVs of v2
 * included, and skipped), -EAGAIN when buf ends inside a header that is valid so far, or
 * -EPROTO (with *err, a static string) when the bytes are not a valid header. err may be
 * NULL. */
int proxy_proto_decode(const uint8_t *buf, size_t len, struct proxy_proto_info *out,
		       const char **err);

#endif
