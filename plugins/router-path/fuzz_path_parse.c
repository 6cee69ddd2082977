/* libFuzzer harness for router-path's parsers (path_parse.c): no input may crash them, read
 * past len, or yield a result that breaks their own invariants. Built by fuzz/Makefile.inc
 * (./configure --enable-fuzzing CC=clang; make fuzz/fuzz_router_path), or by hand:
 *   clang -g -fsanitize=fuzzer,address,undefined -I. -Iplugins/router-path \
 *     plugins/router-path/fuzz_path_parse.c plugins/router-path/path_parse.c -o fuzz_router_path
 * (-I. for config.h of a configured tree). Seeds: fuzz/corpus/router_path. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "path_parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int inside(const char *p, size_t n, const char *buf, size_t len)
{
	return p >= buf && p + n <= buf + len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const prefixes[] = {"/proxy/", "/", "/a/b/", "/x:y@z/"};
	if (size == 0)
		return 0;
	const char *prefix = prefixes[data[0] % 4];
	data++, size--;
	/* A heap copy of exactly size bytes lets ASan catch any read past the end. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);

	const char *why = NULL;
	if (rp_prefix_valid(buf, size, &why) == 0)
		assert(size >= 1 && buf[0] == '/' && buf[size - 1] == '/' && size <= RP_PREFIX_MAX);
	else
		assert(why != NULL);

	char agent[RP_AGENT_MAX + 1], service[RP_SERVICE_MAX + 1];
	if (rp_spec_parse(buf, size, agent, service) == 0) {
		assert(rp_agent_valid(agent, strlen(agent)));
		assert(!service[0] || rp_service_valid(service, strlen(service)));
		assert(strlen(agent) + (service[0] ? 1 + strlen(service) : 0) == size);
	}

	const char *p;
	size_t n;
	if (rp_origin_path(buf, size, &p, &n) == 0) {
		assert(n >= 1 && p[0] == '/');
		assert(inside(p, n, buf, size) || (n == 1 && strcmp(p, "/") == 0));

		struct rp_split sp;
		switch (rp_split_path(prefix, strlen(prefix), p, n, &sp)) {
		case RP_MATCH:
			assert(inside(sp.rest, sp.rest_len, p, n) && sp.rest_len >= 1 &&
			       sp.rest[0] == '/');
			assert(rp_agent_valid(sp.agent, strlen(sp.agent)));
			break;
		case RP_REDIRECT:
			assert(memchr(p + strlen(prefix), '/', n - strlen(prefix)) == NULL);
			assert(rp_agent_valid(sp.agent, strlen(sp.agent)));
			break;
		case RP_BAD:
			assert(sp.why != NULL);
			break;
		case RP_OUTSIDE:
			assert(n < strlen(prefix) || memcmp(p, prefix, strlen(prefix)) != 0);
			break;
		}
	}

	const char *v;
	size_t vn;
	unsigned found = 0;
	while (found < 64 && rp_cookie_get(buf, size, "proxyd_agent", found, &v, &vn)) {
		assert(inside(v, vn, buf, size));
		assert(memchr(v, ';', vn) == NULL);
		found++;
	}
	rp_cookie_name_valid(buf, size);
	rp_visible_ascii(buf, size);
	free(buf);
	return 0;
}
