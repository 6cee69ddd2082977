/* libFuzzer harness for the PROXY protocol header (core/proxy_proto.c). The input is decoded
 * as a header; a decoded header with addresses re-encodes into one that decodes to the same
 * addresses. The same input is also split at its first NUL into a client and a local address
 * for the encoder (its first byte picks the version): whatever it writes must decode to
 * exactly its length, and a buffer one byte short must be refused. */
#include "config.h"
#include "proxy_proto.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#define CHECK(x)                                                                               \
	do {                                                                                   \
		if (!(x))                                                                      \
			__builtin_trap();                                                      \
	} while (0)

static void decode(const uint8_t *data, size_t size)
{
	struct proxy_proto_info info, again;
	const char *err = NULL;
	int n = proxy_proto_decode(data, size, &info, &err);
	CHECK(n == -EAGAIN || n == -EPROTO || (n > 0 && (size_t)n <= size));
	CHECK(n != -EPROTO || err != NULL);
	if (n <= 0)
		return;
	/* The last byte of a header is what completes it. */
	CHECK(proxy_proto_decode(data, (size_t)n - 1, &again, NULL) == -EAGAIN);
	CHECK(info.version == 1 || info.version == 2);
	if (info.family != AF_INET && info.family != AF_INET6) {
		CHECK(info.src[0] == '\0' && info.dst[0] == '\0');
		return;
	}
	CHECK(info.command == PROXY_PROTO_CMD_PROXY);
	uint8_t out[PROXY_PROTO_ENCODE_MAX];
	int m = proxy_proto_encode(info.version, info.src, info.dst, out, sizeof out);
	CHECK(m > 0);
	CHECK(proxy_proto_decode(out, (size_t)m, &again, NULL) == m);
	CHECK(again.version == info.version && again.family == info.family);
	CHECK(strcmp(again.src, info.src) == 0 && strcmp(again.dst, info.dst) == 0);
}

static void encode(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 256)
		return;
	int version = (data[0] & 1) + 1;
	char text[257];
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	const char *client = text;
	size_t cl = strlen(text);
	const char *local = cl < size - 1 ? text + cl + 1 : "";
	uint8_t *out = malloc(PROXY_PROTO_ENCODE_MAX);
	if (!out)
		return;
	int n = proxy_proto_encode(version, client, local, out, PROXY_PROTO_ENCODE_MAX);
	CHECK(n == -EINVAL || (n > 0 && n <= PROXY_PROTO_ENCODE_MAX));
	if (n > 0) {
		struct proxy_proto_info info;
		CHECK(proxy_proto_decode(out, (size_t)n, &info, NULL) == n);
		CHECK(info.version == version);
		CHECK((info.family == AF_UNSPEC) == (!client[0] || !local[0]));
		CHECK(proxy_proto_encode(version, client, local, out, (size_t)n - 1) == -ENOSPC);
	}
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode(data, size);
	encode(data, size);
	return 0;
}
