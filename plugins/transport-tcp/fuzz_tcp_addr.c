/* libFuzzer harness for the transport's configuration parsers (tcp_addr.c): no input may
 * crash them, read past len, or yield a result that breaks their own invariants. Build:
 *   clang -g -fsanitize=fuzzer,address,undefined -I. -Iplugins/transport-tcp \
 *     plugins/transport-tcp/fuzz_tcp_addr.c plugins/transport-tcp/tcp_addr.c -o fuzz_tcp_addr
 * (-I. for config.h of a configured tree). Seeds: any "host:port" and "sha256:" strings. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tcp_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A heap copy of exactly size bytes lets ASan catch any read past the end. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	struct tcp_hostport hp;
	const char *why = NULL;
	if (tcp_hostport_parse(buf, size, &hp, &why) == 0) {
		assert(hp.port != 0);
		assert(strlen(hp.host) <= TCP_HOST_MAX);
		enum tcp_host_kind kind;
		assert(tcp_host_classify(hp.host, strlen(hp.host), &kind) == 0 && kind == hp.kind);
	} else {
		assert(why != NULL);
	}

	uint8_t pin[TCP_PIN_LEN];
	if (tcp_pin_parse(buf, size, pin) == 0) {
		char text[TCP_PIN_TEXT_MAX];
		uint8_t again[TCP_PIN_LEN];
		tcp_pin_format(pin, text);
		assert(tcp_pin_parse(text, strlen(text), again) == 0);
		assert(memcmp(pin, again, sizeof pin) == 0);
	}
	free(buf);
	return 0;
}
