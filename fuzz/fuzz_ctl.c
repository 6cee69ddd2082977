/* libFuzzer harness for control messages (core/ctl.c): decode a run of messages; each one
 * that decodes must encode again, and decoding that encoding must give a message that encodes
 * to the very same bytes (the encoder drops fields a type does not carry, so the first
 * re-encoding may be shorter than the input, never different after that). */
#include "config.h"
#include "ctl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                               \
	do {                                                                                   \
		if (!(x))                                                                      \
			__builtin_trap();                                                      \
	} while (0)

static struct ctl_msg m1, m2;
static uint8_t enc1[CTL_MAX_MSG], enc2[CTL_MAX_MSG];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* Any text made a reason must encode. */
	char text[600];
	size_t tl = size < sizeof text - 1 ? size : sizeof text - 1;
	memcpy(text, data, tl);
	text[tl] = '\0';
	memset(&m1, 0, sizeof m1);
	m1.type = CTL_ERROR;
	ctl_set_reason(&m1, text);
	CHECK(ctl_encode(&m1, enc1, sizeof enc1) > 0);

	size_t off = 0;
	while (off < size) {
		/* Copy the message into a buffer of exactly its claimed size, so ASan sees any
		 * read past the body. */
		size_t avail = size - off;
		size_t want = avail;
		if (avail >= CTL_HEADER_LEN) {
			size_t body = (size_t)data[off + 2] << 8 | data[off + 3];
			if (CTL_HEADER_LEN + body < avail)
				want = CTL_HEADER_LEN + body;
		}
		uint8_t *msg = malloc(want ? want : 1);
		if (!msg)
			return 0;
		memcpy(msg, data + off, want);
		const char *err = NULL;
		int n = ctl_decode(msg, want, &m1, &err);
		free(msg);
		if (n == -EAGAIN)
			break;
		if (n < 0) {
			CHECK((n == -EPROTO || n == -EMSGSIZE) && err != NULL);
			break;
		}
		CHECK((size_t)n == want);
		CHECK(m1.n_services >= 0 && m1.n_services <= CTL_MAX_SERVICES);
		CHECK(m1.n_ports >= 0 && m1.n_ports <= CTL_MAX_PORTS);

		int l1 = ctl_encode(&m1, enc1, sizeof enc1);
		CHECK(l1 >= CTL_HEADER_LEN && l1 <= n);
		CHECK(ctl_decode(enc1, (size_t)l1, &m2, &err) == l1);
		int l2 = ctl_encode(&m2, enc2, sizeof enc2);
		CHECK(l2 == l1 && memcmp(enc1, enc2, (size_t)l1) == 0);
		/* Too little room is refused, never overrun. */
		CHECK(ctl_encode(&m2, enc2, (size_t)l1 - 1) == -ENOSPC);
		off += (size_t)n;
	}
	return 0;
}
