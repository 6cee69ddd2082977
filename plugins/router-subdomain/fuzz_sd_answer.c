/* libFuzzer harness for router-subdomain's direct mode parsers (sd_answer.c): what a
 * resolver command prints, what the HTTP lookup service answers (status line, head, body, and
 * the JSON in it), the networks, URLs and JSON paths of the configuration. Built by
 * fuzz/Makefile.inc (./configure --enable-fuzzing CC=clang; make fuzz/fuzz_sd_answer).
 * The first byte picks the JSON paths and the network; the rest is the input, read every way.
 * Besides no crash and no read past the input: a found address is canonical (it parses to
 * itself) and in no refused range, ports are 1..65535 and distinct, a found HTTP body lies
 * inside the input, a network contains its own address, a URL's path lies inside it, and an
 * expansion either fits or says so. Seeds: fuzz/corpus/sd_answer. */
#include "config.h"
#include "sd_answer.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                               \
	do {                                                                                   \
		if (!(x))                                                                      \
			__builtin_trap();                                                      \
	} while (0)

static void check_answer(const struct sd_answer *a)
{
	char again[SD_ADDR_MAX];
	int v6;
	const char *why;
	CHECK(sd_addr_parse(a->address, strlen(a->address), again, &v6, &why) == 0);
	CHECK(strcmp(again, a->address) == 0 && v6 == a->v6);
	CHECK(a->n_ports <= SD_VM_PORTS_MAX);
	for (size_t i = 0; i < a->n_ports; i++) {
		CHECK(a->ports[i] >= 1);
		for (size_t k = 0; k < i; k++)
			CHECK(a->ports[k] != a->ports[i]);
	}
}

static const char *const addr_paths[] = {"network.ip", "ip", "0", "a.0.b", "ifaces.1.addr"};
static const char *const ports_paths[] = {"ports", "p", "0", "a.1"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size == 0)
		return 0;
	uint8_t pick = data[0];
	data++, size--;
	char *buf = malloc(size ? size : 1);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	struct sd_answer a;
	const char *why = NULL;

	enum sd_result r = sd_parse_cmd_output(buf, size, &a, &why);
	if (r == SD_FOUND)
		check_answer(&a);
	else if (r == SD_BAD)
		CHECK(why != NULL);

	int status = 0;
	const char *body = NULL;
	size_t body_len = 0;
	r = sd_parse_http_response(buf, size, &status, &body, &body_len, &why);
	if (r == SD_FOUND) {
		CHECK(status == 200 && body >= buf && body + body_len <= buf + size);
		char jwhy[300];
		const char *ap = addr_paths[pick % 5];
		const char *pp = pick & 0x80 ? NULL : ports_paths[(pick >> 3) % 4];
		enum sd_result j = sd_parse_json_answer(body, body_len, ap, pp, &a, jwhy, sizeof jwhy);
		if (j == SD_FOUND)
			check_answer(&a);
	} else if (r == SD_NOT_FOUND) {
		CHECK(status == 404 || status == 410);
	}

	/* The whole input as JSON too (the body of a response without a head). */
	char jwhy[300];
	if (sd_parse_json_answer(buf, size, addr_paths[pick % 5], ports_paths[pick % 4], &a, jwhy,
				 sizeof jwhy) == SD_FOUND)
		check_answer(&a);

	/* As configuration values: a network, a URL, a JSON path, a template. */
	char *text = malloc(size + 1);
	if (text) {
		memcpy(text, buf, size);
		text[size] = '\0';
		struct sd_net net;
		if (sd_net_parse(buf, size, &net, &why) == 0) {
			CHECK(net.bits <= 128);
			/* the network's first address is in it (when it is an address at all) */
			char addr[SD_ADDR_MAX];
			int v6;
			char *slash = memchr(text, '/', size);
			if (slash)
				*slash = '\0';
			if (sd_addr_parse(text, strlen(text), addr, &v6, &why) == 0)
				CHECK(sd_net_contains(&net, addr));
			memcpy(text, buf, size);
		}
		char host[64];
		uint16_t port;
		const char *path;
		if (sd_url_parse(text, host, sizeof host, &port, &path, &why) == 0) {
			CHECK(port >= 1 && host[0] && path >= text && path <= text + size);
			CHECK(!strchr(host, '{') && !strchr(host, '@'));
		}
		if (sd_json_path_valid(text, &why) == 0)
			CHECK(text[0] != '.' && strstr(text, "..") == NULL);
		char out[64];
		int e = sd_expand(text, "web1", out, sizeof out);
		CHECK(e == 0 || e == -ENOSPC);
		if (e == 0)
			CHECK(strlen(out) < sizeof out);
		free(text);
	}
	free(buf);
	return 0;
}
