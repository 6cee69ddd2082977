/* libFuzzer harness for the ClientHello reader (core/tls_hello.c). The input is read twice:
 * as the bytes a client sent, and as a handshake payload that the harness cuts into
 * well-formed records (fragment size from the first byte), so mutations reach the
 * ClientHello body without having to keep record lengths right. Each answer is checked:
 * a known result code, a reason with every error, a returned name that is a valid
 * lower-case DNS name, and a prefix of the input that answers either -EAGAIN or exactly
 * what the whole input did. */
#include "config.h"
#include "tls_hello.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                               \
	do {                                                                                   \
		if (!(x))                                                                      \
			__builtin_trap();                                                      \
	} while (0)

static int name_ok(const char *s)
{
	size_t n = strlen(s), label = 0;
	if (n == 0 || n > TLS_SNI_MAX || s[n - 1] == '.')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				return 0;
			label = 0;
		} else if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
			   c == '_') {
			if (++label > 63)
				return 0;
		} else {
			return 0;
		}
	}
	return 1;
}

/* One call on an exact-size heap copy, so ASan sees a read one byte past the end. */
static int one(const uint8_t *data, size_t size, char *sni, const char **err)
{
	uint8_t *copy = malloc(size ? size : 1);
	CHECK(copy);
	if (size)
		memcpy(copy, data, size);
	*err = NULL;
	int rc = tls_hello_sni(size ? copy : NULL, size, sni, TLS_SNI_MAX + 1, err);
	free(copy);
	CHECK(rc == 1 || rc == 0 || rc == -EAGAIN || rc == -EPROTO || rc == -EMSGSIZE);
	CHECK(rc == 1 ? name_ok(sni) : sni[0] == '\0');
	CHECK((rc != -EPROTO && rc != -EMSGSIZE) || *err != NULL);
	if (size >= TLS_HELLO_MAX_INPUT)
		CHECK(rc != -EAGAIN);
	return rc;
}

static void check(const uint8_t *data, size_t size)
{
	char sni[TLS_SNI_MAX + 1], again[TLS_SNI_MAX + 1];
	const char *err, *err2;
	int rc = one(data, size, sni, &err);
	if (size == 0)
		return;
	/* Two prefixes: one byte short, and one picked by the data. */
	size_t cuts[2] = {size - 1, (data[size / 2] * 257u + data[size - 1]) % size};
	for (int i = 0; i < 2; i++) {
		int r = one(data, cuts[i], again, &err2);
		if (r == -EAGAIN)
			continue;
		CHECK(r == rc);
		CHECK(rc != 1 || strcmp(sni, again) == 0);
		CHECK(rc >= 0 || strcmp(err, err2) == 0);
	}
}

static uint8_t wrapped[TLS_HELLO_MAX_INPUT * 8];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	check(data, size);
	if (size < 2)
		return 0;
	/* data[0] the fragment size (0: the largest), data[1..] the handshake payload. */
	size_t frag = data[0] ? data[0] : 16384, o = 0;
	for (size_t off = 1; off < size && o + 5 + frag <= sizeof wrapped; off += frag) {
		size_t k = size - off < frag ? size - off : frag;
		wrapped[o++] = 0x16, wrapped[o++] = 3, wrapped[o++] = 1;
		wrapped[o++] = (uint8_t)(k >> 8), wrapped[o++] = (uint8_t)k;
		memcpy(wrapped + o, data + off, k);
		o += k;
	}
	check(wrapped, o);
	return 0;
}
