/* The SNI of a TLS ClientHello (see tls_hello.h). Two steps: the handshake message is
 * gathered out of the records that carry it (RFC 8446 section 5.1: a handshake message may
 * span records, a record may not be empty), then the ClientHello body is walked with a
 * cursor that checks every length against what is left, so no length from the peer is ever
 * trusted. The message is copied into a buffer on the stack (at most 16 KiB): the common
 * one-record hello could be read in place, but one code path for both is worth the copy. */
#include "config.h"
#include "tls_hello.h"

#include <assert.h>
#include <errno.h>
#include <string.h>

#define REC_HEADER 5
#define REC_HANDSHAKE 0x16
#define REC_MAX_PAYLOAD 16384 /* TLSPlaintext.length <= 2^14 */
#define HS_HEADER 4
#define HS_CLIENT_HELLO 1
/* legacy_version, random, and the length bytes of session id, cipher suites (one suite) and
 * compression methods (one method). */
#define HELLO_MIN_BODY (2 + 32 + 1 + 2 + 2 + 1 + 1)
#define EXT_SERVER_NAME 0
#define SNI_HOST_NAME 0

static int fail(const char **err, int rc, const char *why)
{
	if (err)
		*err = why;
	return rc;
}

/* What the first byte says when it is not a handshake record. */
static const char *not_tls(uint8_t first)
{
	if (first & 0x80) /* SSLv2 record header: 2-byte length with the top bit set */
		return "SSLv2-style ClientHello: not supported";
	if (first >= 'A' && first <= 'Z') /* GET, POST, PRI (h2c), CONNECT ... */
		return "not TLS (plain HTTP?)";
	return "not TLS (not a handshake record)";
}

/* ---- step 1: the handshake message out of its records ---- */

static int gather(const uint8_t *buf, size_t len, uint8_t *msg, size_t *msg_len,
		  const char **err)
{
	size_t off = 0, have = 0, need = HS_HEADER;
	unsigned records = 0;

	for (;;) {
		if (records == TLS_HELLO_MAX_RECORDS)
			return fail(err, -EMSGSIZE, "ClientHello split into too many records");
		/* The record header, checked byte by byte as it arrives. */
		const uint8_t *r = buf + off;
		size_t avail = len - off;
		if (avail >= 1 && r[0] != REC_HANDSHAKE)
			return fail(err, -EPROTO,
				    records == 0 ? not_tls(r[0])
						 : "non-handshake record inside the ClientHello");
		if (avail >= 2 && r[1] != 3)
			return fail(err, -EPROTO, "not TLS (record version is not 3.x)");
		if (avail < REC_HEADER)
			return -EAGAIN;
		size_t rec_len = (size_t)r[3] << 8 | r[4];
		if (rec_len == 0)
			return fail(err, -EPROTO, "empty handshake record");
		if (rec_len > REC_MAX_PAYLOAD)
			return fail(err, -EPROTO, "record longer than 16 KiB");
		records++;
		off += REC_HEADER;

		/* Its payload, as far as it has arrived and as far as the message needs it. */
		while (rec_len > 0) {
			size_t take = need - have;
			if (take > rec_len)
				take = rec_len;
			if (take > len - off)
				take = len - off;
			memcpy(msg + have, buf + off, take);
			have += take;
			off += take;
			rec_len -= take;
			if (have >= 1 && msg[0] != HS_CLIENT_HELLO)
				return fail(err, -EPROTO,
					    "first handshake message is not a ClientHello");
			if (have == HS_HEADER && need == HS_HEADER) {
				size_t body = (size_t)msg[1] << 16 | (size_t)msg[2] << 8 | msg[3];
				if (body > TLS_HELLO_MAX_MSG - HS_HEADER)
					return fail(err, -EMSGSIZE, "ClientHello larger than 16 KiB");
				if (body < HELLO_MIN_BODY)
					return fail(err, -EPROTO, "ClientHello too short");
				need = HS_HEADER + body;
				continue;
			}
			if (have == need) {
				*msg_len = have;
				return 0;
			}
			if (off == len)
				return -EAGAIN;
		}
	}
}

/* ---- step 2: the ClientHello body ---- */

struct cur {
	const uint8_t *p;
	size_t n;
};

static int skip(struct cur *c, size_t k)
{
	if (c->n < k)
		return 0;
	c->p += k;
	c->n -= k;
	return 1;
}

static int u8(struct cur *c, unsigned *v)
{
	if (c->n < 1)
		return 0;
	*v = c->p[0];
	return skip(c, 1);
}

static int u16(struct cur *c, unsigned *v)
{
	if (c->n < 2)
		return 0;
	*v = (unsigned)c->p[0] << 8 | c->p[1];
	return skip(c, 2);
}

/* A vector with a length prefix of prefix_len (1 or 2) bytes, taken out of c into sub. */
static int vec(struct cur *c, int prefix_len, struct cur *sub)
{
	unsigned n;
	if (!(prefix_len == 1 ? u8(c, &n) : u16(c, &n)))
		return 0;
	sub->p = c->p;
	sub->n = n;
	return skip(c, n);
}

/* RFC 6066 section 3: "HostName" is the ASCII name without a trailing dot. Letters, digits,
 * '-' and '_' (private zones use it), labels of 1..63. */
static int host_name(const uint8_t *p, size_t n, char *out, const char **err)
{
	if (n > TLS_SNI_MAX)
		return fail(err, -EPROTO, "server name longer than 253");
	if (p[n - 1] == '.')
		return fail(err, -EPROTO, "server name ends with a dot");
	size_t label = 0;
	for (size_t i = 0; i < n; i++) {
		uint8_t ch = p[i];
		if (ch == '.') {
			if (label == 0)
				return fail(err, -EPROTO, "empty label in server name");
			label = 0;
		} else if ((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' ||
			   ch == '_') {
			label++;
		} else if (ch >= 'A' && ch <= 'Z') {
			ch = (uint8_t)(ch + ('a' - 'A'));
			label++;
		} else {
			return fail(err, -EPROTO, "invalid character in server name");
		}
		if (label > 63)
			return fail(err, -EPROTO, "label longer than 63 in server name");
		out[i] = (char)ch;
	}
	out[n] = '\0';
	return 0;
}

/* The server_name extension: a non-empty ServerNameList with at most one host_name. Entries
 * of other types are skipped: RFC 6066 makes every future type start with a 16-bit length. */
static int server_name_ext(struct cur ext, char *out, int *found, const char **err)
{
	struct cur list;
	if (!vec(&ext, 2, &list) || ext.n != 0)
		return fail(err, -EPROTO, "malformed server_name extension");
	if (list.n == 0)
		return fail(err, -EPROTO, "empty server_name list");
	while (list.n > 0) {
		unsigned type;
		struct cur name;
		if (!u8(&list, &type) || !vec(&list, 2, &name))
			return fail(err, -EPROTO, "malformed server_name list");
		if (type != SNI_HOST_NAME)
			continue;
		if (*found)
			return fail(err, -EPROTO, "two host names in server_name");
		if (name.n == 0)
			return fail(err, -EPROTO, "empty server name");
		int rc = host_name(name.p, name.n, out, err);
		if (rc < 0)
			return rc;
		*found = 1;
	}
	return 0;
}

static int client_hello(const uint8_t *body, size_t n, char *out, const char **err)
{
	struct cur c = {body, n}, v, exts;
	unsigned version;

	if (!u16(&c, &version) || version >> 8 != 3)
		return fail(err, -EPROTO, "ClientHello version is not 3.x");
	if (!skip(&c, 32)) /* random */
		return fail(err, -EPROTO, "ClientHello too short");
	if (!vec(&c, 1, &v) || v.n > 32)
		return fail(err, -EPROTO, "malformed session id");
	if (!vec(&c, 2, &v) || v.n == 0 || v.n % 2 != 0)
		return fail(err, -EPROTO, "malformed cipher suites");
	if (!vec(&c, 1, &v) || v.n == 0)
		return fail(err, -EPROTO, "malformed compression methods");
	if (c.n == 0)
		return 0; /* no extensions at all (SSL 3.0 style): no SNI */
	if (!vec(&c, 2, &exts) || c.n != 0)
		return fail(err, -EPROTO, "malformed extensions block");

	int found = 0, seen = 0;
	while (exts.n > 0) {
		unsigned type;
		struct cur ext;
		if (!u16(&exts, &type) || !vec(&exts, 2, &ext))
			return fail(err, -EPROTO, "malformed extension");
		if (type != EXT_SERVER_NAME)
			continue;
		if (seen) /* RFC 8446 section 4.2: one extension of each type */
			return fail(err, -EPROTO, "two server_name extensions");
		seen = 1;
		int rc = server_name_ext(ext, out, &found, err);
		if (rc < 0)
			return rc;
	}
	return found;
}

int tls_hello_sni(const uint8_t *buf, size_t len, char *sni, size_t sni_cap, const char **err)
{
	assert(sni && sni_cap >= TLS_SNI_MAX + 1);
	assert(buf || len == 0);
	uint8_t msg[TLS_HELLO_MAX_MSG];
	char name[TLS_SNI_MAX + 1] = "";
	size_t msg_len = 0;

	sni[0] = '\0';
	if (len == 0)
		return -EAGAIN;
	int rc = gather(buf, len, msg, &msg_len, err);
	if (rc < 0)
		return rc;
	rc = client_hello(msg + HS_HEADER, msg_len - HS_HEADER, name, err);
	if (rc == 1)
		memcpy(sni, name, strlen(name) + 1);
	return rc;
}
