/* PROXY protocol v1/v2 encoding and validation (see proxy_proto.h). The decoder's input is a
 * peer's: every length is checked against the buffer before a byte is read. */
#include "config.h"
#include "proxy_proto.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
				   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
static const char v1_sig[] = "PROXY ";
#define V1_SIG_LEN 6

#define V2_VERSION 0x20
#define V2_FAM_UNSPEC 0x0
#define V2_FAM_INET 0x1
#define V2_FAM_INET6 0x2
#define V2_FAM_UNIX 0x3
#define V2_PROTO_STREAM 0x1
#define V2_PROTO_DGRAM 0x2
#define V2_ADDR_INET 12   /* two IPv4 addresses, two ports */
#define V2_ADDR_INET6 36  /* two IPv6 addresses, two ports */
#define V2_ADDR_UNIX 216  /* two 108-byte paths */

struct pp_addr {
	int family;
	uint8_t ip[16];
	unsigned port;
};

static int fail(const char **err, const char *why)
{
	if (err)
		*err = why;
	return -EPROTO;
}

/* A decimal port as the spec writes it: 0..65535, no sign, no leading zero. */
static int parse_port(const char *p, size_t n, unsigned *out)
{
	if (n < 1 || n > 5 || (n > 1 && p[0] == '0'))
		return -1;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(p[i] - '0');
	}
	if (v > 65535)
		return -1;
	*out = v;
	return 0;
}

/* Numeric text of one family into a->ip; n bytes of p, not NUL-terminated. */
static int parse_ip(int family, const char *p, size_t n, struct pp_addr *a)
{
	char text[INET6_ADDRSTRLEN];
	if (n == 0 || n >= sizeof text)
		return -1;
	memcpy(text, p, n);
	text[n] = '\0';
	if (inet_pton(family, text, a->ip) != 1)
		return -1;
	a->family = family;
	return 0;
}

/* "a.b.c.d:port" or "[v6]:port". */
static int parse_addr(const char *s, struct pp_addr *a)
{
	const char *host, *port;
	size_t hl;
	int family;
	if (s[0] == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		host = s + 1;
		hl = (size_t)(close - host);
		port = close + 2;
		family = AF_INET6;
	} else {
		const char *colon = strrchr(s, ':');
		if (!colon)
			return -1;
		host = s;
		hl = (size_t)(colon - s);
		port = colon + 1;
		family = AF_INET;
	}
	if (parse_ip(family, host, hl, a) < 0)
		return -1;
	return parse_port(port, strlen(port), &a->port);
}

static void map_v4_to_v6(struct pp_addr *a)
{
	uint8_t v4[4];
	memcpy(v4, a->ip, 4);
	memset(a->ip, 0, 10);
	a->ip[10] = a->ip[11] = 0xff;
	memcpy(a->ip + 12, v4, 4);
	a->family = AF_INET6;
}

static void format_addr(const struct pp_addr *a, char *out, size_t cap)
{
	char text[INET6_ADDRSTRLEN] = "?";
	inet_ntop(a->family, a->ip, text, sizeof text);
	if (a->family == AF_INET6)
		snprintf(out, cap, "[%s]:%u", text, a->port);
	else
		snprintf(out, cap, "%s:%u", text, a->port);
}

static void put_u16(uint8_t *p, unsigned v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

int proxy_proto_encode(int version, const char *client, const char *local, uint8_t *out,
		       size_t cap)
{
	if (version != 1 && version != 2)
		return -EINVAL;
	struct pp_addr src, dst;
	int known = client && client[0] && local && local[0];
	if (known) {
		if (parse_addr(client, &src) < 0 || parse_addr(local, &dst) < 0)
			return -EINVAL;
		if (src.family != dst.family) {
			if (src.family == AF_INET)
				map_v4_to_v6(&src);
			else
				map_v4_to_v6(&dst);
		}
	}
	if (version == 1) {
		char line[PROXY_PROTO_V1_MAX + 1];
		int n;
		if (!known) {
			n = snprintf(line, sizeof line, "PROXY UNKNOWN\r\n");
		} else {
			char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
			inet_ntop(src.family, src.ip, s, sizeof s);
			inet_ntop(dst.family, dst.ip, d, sizeof d);
			n = snprintf(line, sizeof line, "PROXY %s %s %s %u %u\r\n",
				     src.family == AF_INET ? "TCP4" : "TCP6", s, d, src.port, dst.port);
		}
		if ((size_t)n > cap)
			return -ENOSPC;
		memcpy(out, line, (size_t)n);
		return n;
	}
	size_t iplen = !known ? 0 : src.family == AF_INET ? 4 : 16;
	size_t alen = 2 * iplen + (known ? 4 : 0);
	if (cap < PROXY_PROTO_V2_FIXED + alen)
		return -ENOSPC;
	memcpy(out, v2_sig, sizeof v2_sig);
	out[12] = V2_VERSION | PROXY_PROTO_CMD_PROXY;
	out[13] = !known ? V2_FAM_UNSPEC << 4
			 : (src.family == AF_INET ? V2_FAM_INET : V2_FAM_INET6) << 4 | V2_PROTO_STREAM;
	put_u16(out + 14, (unsigned)alen);
	if (known) {
		uint8_t *p = out + PROXY_PROTO_V2_FIXED;
		memcpy(p, src.ip, iplen);
		memcpy(p + iplen, dst.ip, iplen);
		put_u16(p + 2 * iplen, src.port);
		put_u16(p + 2 * iplen + 2, dst.port);
	}
	return (int)(PROXY_PROTO_V2_FIXED + alen);
}

/* The next space-separated field of [*p, end): fields are separated by exactly one space. */
static int next_field(const char **p, const char *end, const char **f, size_t *n)
{
	const char *s = *p;
	if (s >= end)
		return -1;
	const char *sp = memchr(s, ' ', (size_t)(end - s));
	const char *e = sp ? sp : end;
	if (e == s)
		return -1;
	*f = s;
	*n = (size_t)(e - s);
	*p = sp ? sp + 1 : end;
	if (sp && *p == end)
		return -1; /* a trailing space */
	return 0;
}

static int decode_v1(const uint8_t *buf, size_t len, struct proxy_proto_info *out,
		     const char **err)
{
	size_t n = len < V1_SIG_LEN ? len : V1_SIG_LEN;
	if (memcmp(buf, v1_sig, n) != 0)
		return fail(err, "not a PROXY protocol header");
	/* The CR may be at most at index 105, so CRLF ends within 107 bytes. */
	size_t cr = 0, lim = len < PROXY_PROTO_V1_MAX - 1 ? len : PROXY_PROTO_V1_MAX - 1;
	for (size_t i = V1_SIG_LEN; i < lim; i++) {
		if (buf[i] == '\r') {
			cr = i;
			break;
		}
		if (buf[i] < 0x20 || buf[i] > 0x7e)
			return fail(err, "v1: control character or non-ASCII byte in the line");
	}
	if (!cr)
		return len >= PROXY_PROTO_V1_MAX - 1 ? fail(err, "v1: line longer than 107 bytes")
						     : -EAGAIN;
	if (cr + 1 >= len)
		return -EAGAIN;
	if (buf[cr + 1] != '\n')
		return fail(err, "v1: CR not followed by LF");

	struct proxy_proto_info info = {.version = 1, .command = PROXY_PROTO_CMD_PROXY};
	const char *p = (const char *)buf + V1_SIG_LEN, *end = (const char *)buf + cr, *f;
	size_t fl;
	if (next_field(&p, end, &f, &fl) < 0)
		return fail(err, "v1: no protocol after PROXY");
	if (fl == 7 && memcmp(f, "UNKNOWN", 7) == 0) {
		/* The rest of the line is to be ignored. */
		info.family = AF_UNSPEC;
		*out = info;
		return (int)(cr + 2);
	}
	int family;
	if (fl == 4 && memcmp(f, "TCP4", 4) == 0)
		family = AF_INET;
	else if (fl == 4 && memcmp(f, "TCP6", 4) == 0)
		family = AF_INET6;
	else
		return fail(err, "v1: protocol is not TCP4, TCP6 or UNKNOWN");
	struct pp_addr src, dst;
	if (next_field(&p, end, &f, &fl) < 0 || parse_ip(family, f, fl, &src) < 0)
		return fail(err, "v1: bad source address");
	if (next_field(&p, end, &f, &fl) < 0 || parse_ip(family, f, fl, &dst) < 0)
		return fail(err, "v1: bad destination address");
	if (next_field(&p, end, &f, &fl) < 0 || parse_port(f, fl, &src.port) < 0)
		return fail(err, "v1: bad source port");
	if (next_field(&p, end, &f, &fl) < 0 || parse_port(f, fl, &dst.port) < 0)
		return fail(err, "v1: bad destination port");
	if (p != end)
		return fail(err, "v1: extra fields after the destination port");
	info.family = family;
	info.socktype = SOCK_STREAM;
	format_addr(&src, info.src, sizeof info.src);
	format_addr(&dst, info.dst, sizeof info.dst);
	*out = info;
	return (int)(cr + 2);
}

static int decode_v2(const uint8_t *buf, size_t len, struct proxy_proto_info *out,
		     const char **err)
{
	size_t n = len < sizeof v2_sig ? len : sizeof v2_sig;
	if (memcmp(buf, v2_sig, n) != 0)
		return fail(err, "not a PROXY protocol header");
	if (len < 13)
		return -EAGAIN;
	if ((buf[12] & 0xf0) != V2_VERSION)
		return fail(err, "v2: version is not 2");
	int cmd = buf[12] & 0x0f;
	if (cmd != PROXY_PROTO_CMD_LOCAL && cmd != PROXY_PROTO_CMD_PROXY)
		return fail(err, "v2: unknown command");
	if (len < 14)
		return -EAGAIN;
	unsigned fam = buf[13] >> 4, proto = buf[13] & 0x0f;
	if (fam > V2_FAM_UNIX)
		return fail(err, "v2: unknown address family");
	if (proto > V2_PROTO_DGRAM)
		return fail(err, "v2: unknown transport protocol");
	if (len < PROXY_PROTO_V2_FIXED)
		return -EAGAIN;
	size_t alen = (size_t)buf[14] << 8 | buf[15];
	size_t need = fam == V2_FAM_INET ? V2_ADDR_INET
		      : fam == V2_FAM_INET6 ? V2_ADDR_INET6
		      : fam == V2_FAM_UNIX ? V2_ADDR_UNIX
					   : 0;
	if (alen < need)
		return fail(err, "v2: address block shorter than its family needs");
	if (len < PROXY_PROTO_V2_FIXED + alen)
		return -EAGAIN;

	struct proxy_proto_info info = {.version = 2, .command = cmd, .family = AF_UNSPEC};
	info.socktype = proto == V2_PROTO_STREAM ? SOCK_STREAM : proto == V2_PROTO_DGRAM ? SOCK_DGRAM : 0;
	/* LOCAL: the receiver must ignore the addresses; UNIX paths are not "ip:port". */
	if (cmd == PROXY_PROTO_CMD_PROXY && (fam == V2_FAM_INET || fam == V2_FAM_INET6)) {
		const uint8_t *p = buf + PROXY_PROTO_V2_FIXED;
		size_t iplen = fam == V2_FAM_INET ? 4 : 16;
		struct pp_addr src = {.family = fam == V2_FAM_INET ? AF_INET : AF_INET6};
		struct pp_addr dst = src;
		memcpy(src.ip, p, iplen);
		memcpy(dst.ip, p + iplen, iplen);
		src.port = (unsigned)p[2 * iplen] << 8 | p[2 * iplen + 1];
		dst.port = (unsigned)p[2 * iplen + 2] << 8 | p[2 * iplen + 3];
		info.family = src.family;
		format_addr(&src, info.src, sizeof info.src);
		format_addr(&dst, info.dst, sizeof info.dst);
	} else if (cmd == PROXY_PROTO_CMD_PROXY && fam == V2_FAM_UNIX) {
		info.family = AF_UNIX;
	}
	*out = info;
	return (int)(PROXY_PROTO_V2_FIXED + alen);
}

int proxy_proto_decode(const uint8_t *buf, size_t len, struct proxy_proto_info *out,
		       const char **err)
{
	if (len == 0)
		return -EAGAIN;
	if (buf[0] == (uint8_t)v1_sig[0])
		return decode_v1(buf, len, out, err);
	if (buf[0] == v2_sig[0])
		return decode_v2(buf, len, out, err);
	return fail(err, "not a PROXY protocol header");
}
