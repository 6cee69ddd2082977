/* libFuzzer harness for router-subdomain's matching (subdomain_match.c): no input may crash
 * it, read past len, or yield a result that breaks its own invariants. Built by
 * fuzz/Makefile.inc (./configure --enable-fuzzing CC=clang; make fuzz/fuzz_router_subdomain),
 * or by hand:
 *   clang -g -fsanitize=fuzzer,address,undefined -I. -Iplugins/router-subdomain \
 *     plugins/router-subdomain/fuzz_subdomain_match.c \
 *     plugins/router-subdomain/subdomain_match.c -o fuzz_router_subdomain
 * (-I. for config.h of a configured tree). Seeds: fuzz/corpus/router_subdomain. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "subdomain_match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	/* As a configured base domain: normalized once is normalized for good. */
	char norm[SD_DOMAIN_MAX + 1], again[SD_DOMAIN_MAX + 1];
	const char *why = NULL;
	if (sd_domain_normalize(buf, size, norm, &why) == 0) {
		assert(sd_domain_normalize(norm, strlen(norm), again, &why) == 0);
		assert(strcmp(norm, again) == 0);
		/* the domain itself is bare, one valid label under it is a name */
		const char *const bases[] = {"example.com", norm};
		const char *l;
		size_t ln;
		assert(sd_match(norm, strlen(norm), bases, 2, &l, &ln) == SD_NONE);
		char host[SD_DOMAIN_MAX + 8];
		memcpy(host, "abc.", 4);
		memcpy(host + 4, norm, strlen(norm) + 1);
		assert(sd_match(host, strlen(host), bases + 1, 1, &l, &ln) == SD_NAME);
		assert(ln == 3 && l == host);
	} else {
		assert(why != NULL);
	}

	/* As a request's host. */
	static const char *const bases[] = {"example.com", "dev.example.com", "a", "b.c"};
	const char *label = NULL;
	size_t label_len = 0;
	switch (sd_match(buf, size, bases, 4, &label, &label_len)) {
	case SD_NAME: {
		assert(label == buf && label_len < size);
		assert(sd_label_valid(label, label_len));
		size_t name_len;
		unsigned port;
		if (sd_split_port(label, label_len, &name_len, &port)) {
			assert(port >= 1 && port <= 65535);
			assert(name_len + 2 <= label_len && label[name_len] == '-');
			assert(sd_label_valid(label, name_len));
		}
		break;
	}
	case SD_BAD_LABEL:
		assert(label == buf && label_len < size && !sd_label_valid(label, label_len));
		break;
	case SD_DEEP:
	case SD_NONE:
		break;
	}
	size_t nl;
	unsigned port;
	if (sd_split_port(buf, size, &nl, &port))
		assert(port >= 1 && port <= 65535 && nl < size);
	free(buf);
	return 0;
}
