/* libFuzzer harness for the STUN codec (stun.c): no datagram may crash the decoder or make it
 * read past len, and whatever it accepts must survive being answered and decoded again.
 * Build:
 *   clang -g -fsanitize=fuzzer,address,undefined -I. -Iplugins/transport-udp-punch \
 *     plugins/transport-udp-punch/fuzz_stun.c plugins/transport-udp-punch/stun.c -o fuzz_stun
 * (-I. for config.h of a configured tree). Seeds: the RFC 5769 vectors of test_stun.c. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stun.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* a heap copy of exactly size bytes lets ASan catch any read past the end */
	uint8_t *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct stun_msg m;
	const char *why = NULL;
	if (stun_decode(buf, size, &m, &why) == 0) {
		assert(stun_looks_like(buf, size));
		assert(m.n_unknown <= STUN_UNKNOWN_MAX);
		if (m.software)
			assert(m.software >= buf && m.software + m.software_len <= buf + size);
		/* answer it as the listener would, and read the answer back */
		struct stun_addr a = m.has_xor_mapped ? m.xor_mapped
				     : m.has_mapped	  ? m.mapped
							  : (struct stun_addr){.family = 4, .port = 1};
		uint8_t out[STUN_MSG_MAX];
		size_t n = stun_encode_binding_success(out, sizeof out, m.txid, &a, "fuzz", 1);
		assert(n > 0);
		struct stun_msg back;
		assert(stun_decode(out, n, &back, &why) == 0);
		assert(back.has_xor_mapped && back.xor_mapped.port == a.port);
	} else {
		assert(why != NULL);
	}
	free(buf);
	return 0;
}
