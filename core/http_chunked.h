/* The chunked transfer coding (RFC 9112 section 7.1) as an incremental state machine that
 * finds where a chunked body ends without buffering it. A proxy forwards the chunked bytes
 * unchanged (framing, extensions and trailers included) and feeds the same bytes here to know
 * when the message is over and the next head starts; a caller that wants the payload gets its
 * spans too. Pure: no allocation, no I/O, so it can be fuzzed. Payload bytes are skipped by
 * count, never read, so a large chunk costs one call. */
#ifndef PROXYD_CORE_HTTP_CHUNKED_H
#define PROXYD_CORE_HTTP_CHUNKED_H

#include <stddef.h>
#include <stdint.h>

#include "http_head.h"

/* A chunk-size line (size and extensions) longer than this is refused: -EMSGSIZE. */
#define HTTP_CHUNK_LINE_MAX 4096

struct http_chunked {
	/* private */
	int state;
	uint64_t size;    /* the chunk-size being read */
	uint64_t left;    /* payload bytes of the current chunk still to come */
	size_t line;      /* bytes of the current chunk-size line so far */
	size_t trailer;   /* bytes of the trailer section so far */
	unsigned fields;  /* trailer field lines so far */
	size_t max_trailer;
	unsigned max_fields;
	const char *err;  /* kept, with rc, for calls after an error */
	int rc;
};

/* Before each body. The trailer section (its field lines and the final CRLF) is bounded by
 * lim's max_head_bytes and max_headers; lim may be NULL for the defaults. */
void http_chunked_init(struct http_chunked *c, const struct http_head_limits *lim);

/* Feed the next len bytes of the body. *consumed is how many of them belong to it (and were
 * checked). Returns:
 *   1        the body ended at p + *consumed: the final chunk, the trailers and the last CRLF
 *            are complete; any bytes after are the next message's (calls after that return 1
 *            again and consume nothing);
 *   0        more is needed: all len bytes were consumed, unless a payload span was reported;
 *   -EPROTO  the bytes are not chunked coding (*err says why; *consumed is where), and the
 *            decoder stays failed; -EMSGSIZE for a chunk-size line over HTTP_CHUNK_LINE_MAX or
 *            trailers over the limits.
 * data_off and data_len: when both are given, the call stops after the first run of payload
 * bytes it meets, which is [p + *data_off, p + *data_off + *data_len) (length 0 when the bytes
 * consumed held none), so a caller loops until *consumed == len or the end. When both are
 * NULL the call runs through payload up to len or the end of the body: what a proxy that
 * forwards the raw bytes wants. err may be NULL. */
int http_chunked_feed(struct http_chunked *c, const uint8_t *p, size_t len, size_t *consumed,
		      size_t *data_off, size_t *data_len, const char **err);

/* Payload bytes of the current chunk that come next without any framing between them (0
 * when the decoder is not inside chunk data): a caller may move that many bytes on without
 * looking at them (splice) and then account for them with http_chunked_skip. */
uint64_t http_chunked_data_left(const struct http_chunked *c);
/* n must be at most http_chunked_data_left(c) (an assertion). */
void http_chunked_skip(struct http_chunked *c, uint64_t n);

/* 1 once the end of the body was fed. */
int http_chunked_done(const struct http_chunked *c);

#endif
