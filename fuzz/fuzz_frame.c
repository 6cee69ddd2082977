/* libFuzzer harness for the multiplexer's wire format (core/frame.c): the preface, a run of
 * frames with each payload decoded by its helper, and the stream-open header. Every payload is
 * copied into a buffer of exactly its size so ASan sees any read past it. Decoded values are
 * re-encoded and must give back the same bytes. */
#include "config.h"
#include "frame.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                               \
	do {                                                                                   \
		if (!(x))                                                                      \
			__builtin_trap();                                                      \
	} while (0)

static void open_header(const uint8_t *p, size_t len)
{
	struct open_header oh;
	const char *err = NULL;
	int n = open_header_decode(p, len, &oh, &err);
	CHECK(n == -EAGAIN || n == -EPROTO || (n >= OPEN_HEADER_MIN_LEN && (size_t)n <= len));
	CHECK(n != -EPROTO || err != NULL);
	if (n <= 0)
		return;
	uint8_t again[OPEN_HEADER_MAX_LEN];
	CHECK(open_header_encode(again, sizeof again, &oh) == n);
	CHECK(memcmp(again, p, (size_t)n) == 0);
}

static void payload(const struct frame_header *h, const uint8_t *p, size_t len)
{
	uint32_t a, b;
	const char *reason;
	size_t rlen;
	uint8_t again[FRAME_GOAWAY_MAX];
	switch (h->type) {
	case FRAME_DATA:
		if (h->flags & FRAME_FLAG_SYN)
			open_header(p, len);
		break;
	case FRAME_WINDOW:
		if (frame_decode_window(p, len, &a) == 0) {
			CHECK(frame_encode_window(again, a) == len);
			CHECK(memcmp(again, p, len) == 0);
		}
		break;
	case FRAME_RST:
		if (frame_decode_rst(p, len, &a, &reason, &rlen) == 0) {
			CHECK(reason + rlen == (const char *)p + len);
			/* A reason with a NUL is cut there on encoding; compare only clean ones. */
			if (!memchr(reason, 0, rlen)) {
				char text[FRAME_REASON_MAX + 1];
				memcpy(text, reason, rlen);
				text[rlen] = '\0';
				CHECK(frame_encode_rst(again, a, text) == len);
				CHECK(memcmp(again, p, len) == 0);
			}
		}
		break;
	case FRAME_PING:
		break; /* opaque */
	case FRAME_GOAWAY:
		if (frame_decode_goaway(p, len, &a, &b, &reason, &rlen) == 0) {
			CHECK(reason + rlen == (const char *)p + len);
			if (!memchr(reason, 0, rlen)) {
				char text[FRAME_REASON_MAX + 1];
				memcpy(text, reason, rlen);
				text[rlen] = '\0';
				CHECK(frame_encode_goaway(again, a, b, text) == len);
				CHECK(memcmp(again, p, len) == 0);
			}
		}
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* The preface check must agree with a plain prefix comparison. */
	int pre = frame_check_preface(data, size);
	size_t n = size < FRAME_PREFACE_LEN ? size : FRAME_PREFACE_LEN;
	CHECK(pre == (n && memcmp(data, FRAME_PREFACE, n) ? -EPROTO : n == FRAME_PREFACE_LEN));
	size_t off = pre == 1 ? FRAME_PREFACE_LEN : 0;

	/* The helpers must also survive being handed anything at all. */
	uint32_t a, b;
	const char *reason;
	size_t rlen;
	(void)frame_decode_window(data, size, &a);
	(void)frame_decode_rst(data, size, &a, &reason, &rlen);
	(void)frame_decode_goaway(data, size, &a, &b, &reason, &rlen);
	open_header(data, size);

	while (off < size) {
		struct frame_header h;
		const char *err = NULL;
		int r = frame_decode_header(data + off, size - off, &h, &err);
		if (r == -EAGAIN) {
			CHECK(size - off < FRAME_HEADER_LEN);
			break;
		}
		if (r < 0) {
			CHECK((r == -EPROTO || r == -EMSGSIZE) && err != NULL);
			break;
		}
		CHECK(r == 0 && h.length <= FRAME_MAX_PAYLOAD);
		CHECK(!(h.stream_id & FRAME_STREAM_RESERVED));
		uint8_t hdr[FRAME_HEADER_LEN];
		frame_encode_header(hdr, &h);
		CHECK(memcmp(hdr, data + off, FRAME_HEADER_LEN) == 0);
		off += FRAME_HEADER_LEN;
		if (h.length > size - off)
			break; /* the rest of the payload has not arrived */
		uint8_t *p = malloc(h.length ? h.length : 1);
		if (!p)
			return 0;
		memcpy(p, data + off, h.length);
		payload(&h, p, h.length);
		free(p);
		off += h.length;
	}
	return 0;
}
