/* libFuzzer harness for the chunked decoder (core/http_chunked.c). The first input byte
 * seeds how the rest is cut into pieces and picks the trailer limits; the rest is a body.
 * It is fed three ways, each piece a heap copy of exactly its size so ASan sees any read past
 * it: whole in raw-forwarding mode, whole with payload spans, and in pseudo-random pieces with
 * spans (byte by byte for short inputs). All three must agree on the outcome, on where the
 * body ends (or where the error is) and on the payload. */
#include "config.h"
#include "http_chunked.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                               \
	do {                                                                                   \
		if (!(x))                                                                      \
			__builtin_trap();                                                      \
	} while (0)

struct outcome {
	int rc;
	size_t end;
	uint64_t payload; /* bytes */
	uint64_t hash;	  /* FNV-1a of the payload */
};

/* Feed data cut at the offsets that next_cut gives; spans: collect the payload. */
static void feed(const uint8_t *data, size_t size, uint32_t seed, int mode, int spans,
		 const struct http_head_limits *lim, struct outcome *o)
{
	struct http_chunked c;
	http_chunked_init(&c, lim);
	memset(o, 0, sizeof *o);
	o->hash = 1469598103934665603ull;
	size_t pos = 0;
	uint32_t x = seed | 1;
	while (pos < size && o->rc == 0) {
		size_t n = size - pos;
		if (mode == 1) {
			n = 1;
		} else if (mode == 2) {
			x ^= x << 13;
			x ^= x >> 17;
			x ^= x << 5;
			n = 1 + x % (n < 64 ? n : 64);
		}
		uint8_t *p = malloc(n);
		if (!p)
			abort();
		memcpy(p, data + pos, n);
		size_t off = 0;
		do {
			size_t used = 0, doff = 0, dlen = 0;
			const char *err = NULL;
			int rc = spans ? http_chunked_feed(&c, p + off, n - off, &used, &doff, &dlen,
							   &err)
				       : http_chunked_feed(&c, p + off, n - off, &used, NULL, NULL, &err);
			CHECK(rc == 0 || rc == 1 || rc == -EPROTO || rc == -EMSGSIZE);
			CHECK(used <= n - off);
			CHECK(rc >= 0 || err != NULL);
			CHECK(rc != 1 || http_chunked_done(&c));
			if (spans) {
				CHECK(doff + dlen <= used);
				for (size_t i = 0; i < dlen; i++)
					o->hash = (o->hash ^ p[off + doff + i]) * 1099511628211ull;
				o->payload += dlen;
				CHECK(rc != 0 || off + used == n || dlen > 0);
			} else {
				CHECK(rc != 0 || used == n - off);
			}
			off += used;
			o->rc = rc;
		} while (o->rc == 0 && off < n);
		free(p);
		o->end = pos + off;
		pos += n;
	}
	if (o->rc == 1) {
		/* The body ends with the last CRLF, and stays ended. */
		CHECK(o->end >= 5 && data[o->end - 2] == '\r' && data[o->end - 1] == '\n');
		size_t used = 99;
		CHECK(http_chunked_feed(&c, data, size, &used, NULL, NULL, NULL) == 1 && used == 0);
	}
	if (o->rc == 0)
		CHECK(o->end == size && !http_chunked_done(&c));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1)
		return 0;
	uint8_t sel = data[0];
	data++;
	size--;
	struct http_head_limits lim = {
		.max_head_bytes = sel & 1 ? 32 : 0,
		.max_headers = sel & 2 ? 2 : 0,
	};
	struct outcome raw, whole, pieces;
	feed(data, size, sel, 0, 0, &lim, &raw);
	feed(data, size, sel, 0, 1, &lim, &whole);
	feed(data, size, (uint32_t)sel * 2654435761u, size < 256 ? 1 : 2, 1, &lim, &pieces);
	CHECK(raw.rc == whole.rc && raw.end == whole.end);
	CHECK(pieces.rc == whole.rc && pieces.end == whole.end);
	CHECK(pieces.payload == whole.payload && pieces.hash == whole.hash);
	return 0;
}
