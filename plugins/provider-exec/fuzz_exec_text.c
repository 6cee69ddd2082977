/* libFuzzer harness for provider-exec's text functions (exec_text.c) and each preset's URL
 * expression: no program output may crash them, read past its length, or give a result that
 * breaks their invariants (a secret never survives cleaning; a URL has no blank). Built by
 * fuzz/Makefile.inc (./configure --enable-fuzzing CC=clang; make fuzz/fuzz_provider_exec), or:
 *   clang -g -fsanitize=fuzzer,address,undefined -Iplugins/provider-exec \
 *     plugins/provider-exec/fuzz_exec_text.c plugins/provider-exec/exec_text.c \
 *     plugins/provider-exec/exec_preset.c -o fuzz_provider_exec
 * Seeds: fuzz/corpus/provider_exec. */
#include <assert.h>
#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec_preset.h"
#include "exec_text.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const secret = "s3cret-TOKEN";

static void check_line(void *arg, const char *line, size_t len)
{
	static regex_t re[5];
	static int compiled;
	static const char *const names[] = {"cloudflared", "ngrok", "tailscale", "bore", "ssh"};
	if (!compiled) {
		for (int i = 0; i < 5; i++)
			assert(regcomp(&re[i], px_preset_find(names[i])->url_regex, REG_EXTENDED) == 0);
		compiled = 1;
	}
	assert(len <= PX_LINE_MAX);
	assert(memchr(line, '\n', len) == NULL);
	char clean[PX_LINE_MAX + 64];
	size_t n = px_clean_line(line, len, secret, clean, sizeof clean);
	assert(n == strlen(clean) && n < sizeof clean);
	assert(strstr(clean, secret) == NULL);
	for (size_t i = 0; i < n; i++)
		assert((unsigned char)clean[i] >= 0x20 || clean[i] == '\t');
	for (int i = 0; i < 5; i++) {
		char url[PX_URL_MAX];
		if (px_url_extract(&re[i], clean, "http://h:{}", url, sizeof url) == 1) {
			assert(strncmp(url, "http://h:", 9) == 0 && strlen(url) > 9);
			for (const char *p = url; *p; p++)
				assert(!isspace((unsigned char)*p));
		}
	}
	char scheme[8], host[256], path[512];
	int port;
	if (px_split_url(clean, scheme, sizeof scheme, host, sizeof host, &port, path, sizeof path) == 0)
		assert(port >= 1 && port <= 65535 && path[0] == '/');
	if (px_split_hostport(clean, host, sizeof host, &port) == 0)
		assert(port >= 1 && port <= 65535 && host[0]);
	int code = px_http_status(line, len);
	assert(code == -1 || (code >= 100 && code <= 999));
	(void)arg;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A heap copy of exactly size bytes lets ASan catch any read past the end. */
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct px_lines l = {0};
	/* Fed in two pieces, cut where the first byte says: lines cross reads. */
	size_t cut = size ? (unsigned char)buf[0] % (size + 1) : 0;
	px_lines_feed(&l, buf, cut, check_line, NULL);
	px_lines_feed(&l, buf + cut, size - cut, check_line, NULL);
	px_lines_flush(&l, check_line, NULL);
	free(buf);
	return 0;
}
