/* libFuzzer harness for the punch codec and the candidate list parser (punch_msg.c, cand.c):
 * no input may crash them or read past len; an accepted punch re-encodes to the same bytes;
 * an accepted candidate list formats and parses back to the same list. Build:
 *   clang -g -fsanitize=fuzzer,address,undefined -I. -Iplugins/transport-udp-punch \
 *     plugins/transport-udp-punch/fuzz_punch_msg.c plugins/transport-udp-punch/punch_msg.c \
 *     plugins/transport-udp-punch/cand.c $(pkg-config --cflags --libs gnutls) -o fuzz_punch_msg */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cand.h"
#include "punch_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t key[32] = {7};
	uint8_t *buf = malloc(size + 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct punch_msg m;
	if (punch_msg_decode(buf, size, key, sizeof key, 1, &m) == 0) {
		uint8_t again[PUNCH_MSG_LEN];
		assert(punch_msg_encode(again, &m, key, sizeof key) == 0);
		assert(size == PUNCH_MSG_LEN && memcmp(again, buf, size) == 0);
	}
	buf[size] = '\0';
	struct cand_list l, back;
	const char *why = NULL;
	if (memchr(buf, '\0', size) == NULL && cand_parse((char *)buf, &l, &why) == 0) {
		char text[1024];
		cand_format(&l, text, sizeof text);
		assert(cand_parse(text, &back, &why) == 0);
		assert(back.n == l.n);
	}
	free(buf);
	return 0;
}
