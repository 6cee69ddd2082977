/* The SNI of real ClientHellos, written by OpenSSL's own client into a memory BIO (TLS 1.3
 * and 1.2, with and without a server name, with a 12 KiB ALPN list split into 512-byte
 * records by the client itself), re-split into records of every size; every prefix asks
 * for more; and the refusals: plain HTTP, SSLv2, garbage, bad host names, malformed
 * lengths, a non-handshake record in the middle, too large, too many records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "tls_hello.h"

static char sni[TLS_SNI_MAX + 1];
static const char *err;

struct client {
	const char *sni;     /* NULL: none */
	int max_version;     /* 0: the library's */
	size_t alpn_bytes;   /* 0: no ALPN; else an ALPN list of about this size */
	unsigned max_frag;   /* 0: default record size */
};

/* What OpenSSL's client writes first: its ClientHello, in records. */
static size_t hello(const struct client *cl, uint8_t *out, size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(ctx);
	if (cl->max_version)
		assert_int_equal(SSL_CTX_set_max_proto_version(ctx, cl->max_version), 1);
	if (cl->max_frag)
		assert_int_equal(SSL_CTX_set_max_send_fragment(ctx, cl->max_frag), 1);
	SSL *ssl = SSL_new(ctx);
	assert_non_null(ssl);
	BIO *rb = BIO_new(BIO_s_mem()), *wb = BIO_new(BIO_s_mem());
	SSL_set_bio(ssl, rb, wb);
	if (cl->sni)
		assert_int_equal(SSL_set_tlsext_host_name(ssl, cl->sni), 1);
	if (cl->alpn_bytes) {
		size_t n = cl->alpn_bytes / 61 + 1;
		unsigned char *alpn = malloc(n * 61 + 1);
		assert_non_null(alpn);
		for (size_t i = 0; i < n; i++) {
			alpn[i * 61] = 60;
			snprintf((char *)alpn + i * 61 + 1, 61, "proto-%054zu", i);
		}
		assert_int_equal(SSL_set_alpn_protos(ssl, alpn, (unsigned)(n * 61)), 0);
		free(alpn);
	}
	int r = SSL_connect(ssl);
	assert_true(r <= 0);
	assert_int_equal(SSL_get_error(ssl, r), SSL_ERROR_WANT_READ);
	int n = BIO_read(wb, out, (int)cap);
	assert_true(n > 0);
	assert_int_equal(BIO_pending(wb), 0);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return (size_t)n;
}

static int parse(const uint8_t *b, size_t n)
{
	err = NULL;
	memset(sni, 'x', sizeof sni);
	/* A heap copy of exactly n bytes, so a sanitizer build sees a read past the end. */
	uint8_t *copy = malloc(n ? n : 1);
	assert_non_null(copy);
	if (n)
		memcpy(copy, b, n);
	int rc = tls_hello_sni(copy, n, sni, sizeof sni, &err);
	free(copy);
	if (rc != 1)
		assert_string_equal(sni, "");
	if (rc == -EPROTO || rc == -EMSGSIZE)
		assert_non_null(err);
	return rc;
}

static void expect_err(int rc, int want, const char *why)
{
	if (rc != want)
		fail_msg("rc %d, want %d (err %s, want %s)", rc, want, err ? err : "-", why);
	if (!err || !strstr(err, why))
		fail_msg("err '%s', want '%s'", err ? err : "-", why);
}

/* Every proper prefix of a whole hello of n bytes asks for more. */
static void prefixes_again(const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		int rc = parse(b, i);
		if (rc != -EAGAIN)
			fail_msg("prefix %zu of %zu: rc %d (%s), want -EAGAIN", i, n, rc,
				 err ? err : "-");
	}
}

/* The handshake payload of the records in b, joined (the records are assumed valid). */
static size_t payload(const uint8_t *b, size_t n, uint8_t *out)
{
	size_t m = 0;
	for (size_t off = 0; off + 5 <= n;) {
		size_t len = (size_t)b[off + 3] << 8 | b[off + 4];
		memcpy(out + m, b + off + 5, len);
		m += len;
		off += 5 + len;
	}
	return m;
}

/* The records in b re-cut into records of at most frag bytes of payload. */
static size_t refragment(const uint8_t *b, size_t n, size_t frag, uint8_t *out)
{
	static uint8_t p[64 * 1024];
	size_t m = payload(b, n, p), o = 0;
	for (size_t off = 0; off < m; off += frag) {
		size_t k = m - off < frag ? m - off : frag;
		out[o++] = 0x16, out[o++] = b[1], out[o++] = b[2];
		out[o++] = (uint8_t)(k >> 8), out[o++] = (uint8_t)k;
		memcpy(out + o, p + off, k);
		o += k;
	}
	return o;
}

static uint8_t h[64 * 1024], h2[256 * 1024];

static size_t get16(const uint8_t *p)
{
	return (size_t)p[0] << 8 | p[1];
}

static void put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8), p[1] = (uint8_t)v;
}

static void sni_present(void **state)
{
	size_t n = hello(&(struct client){.sni = "Www.Example.COM"}, h, sizeof h);
	assert_int_equal(parse(h, n), 1);
	assert_string_equal(sni, "www.example.com");
	prefixes_again(h, n);
	/* Bytes after the hello (the client's next records) are not looked at. */
	memcpy(h + n, "\x14\x03\x03\x00\x01\x01junk", 10);
	assert_int_equal(parse(h, n + 10), 1);

	n = hello(&(struct client){.sni = "a-b_c.d9.example", .max_version = TLS1_2_VERSION}, h,
		  sizeof h);
	assert_int_equal(parse(h, n), 1);
	assert_string_equal(sni, "a-b_c.d9.example");
	prefixes_again(h, n);
}

static void sni_absent(void **state)
{
	size_t n = hello(&(struct client){0}, h, sizeof h);
	assert_int_equal(parse(h, n), 0);
	prefixes_again(h, n);
	n = hello(&(struct client){.max_version = TLS1_2_VERSION}, h, sizeof h);
	assert_int_equal(parse(h, n), 0);
}

/* Clients leave SNI out when they connect to an IP address (RFC 6066 forbids literals),
 * which is the case above; a client that sends one anyway gets it back as written. */
static void ip_literal(void **state)
{
	size_t n = hello(&(struct client){.sni = "192.0.2.1"}, h, sizeof h);
	assert_int_equal(parse(h, n), 1);
	assert_string_equal(sni, "192.0.2.1");
	n = hello(&(struct client){.sni = "2001:db8::1"}, h, sizeof h);
	expect_err(parse(h, n), -EPROTO, "invalid character in server name");
}

static void split_records(void **state)
{
	size_t n = hello(&(struct client){.sni = "split.example.com"}, h, sizeof h);
	uint8_t p[4096];
	size_t m = payload(h, n, p);
	/* Every fragment size from one that makes exactly 64 records up to a single record. */
	for (size_t frag = (m + 63) / 64; frag <= m; frag++) {
		size_t k = refragment(h, n, frag, h2);
		int rc = parse(h2, k);
		if (rc != 1)
			fail_msg("fragments of %zu: rc %d (%s)", frag, rc, err ? err : "-");
		assert_string_equal(sni, "split.example.com");
		if (frag % 37 == 0)
			prefixes_again(h2, k);
	}
	/* One more record than allowed. */
	size_t k = refragment(h, n, m / 65, h2);
	expect_err(parse(h2, k), -EMSGSIZE, "too many records");

	/* OpenSSL itself splitting a 12 KiB hello into 512-byte records. */
	n = hello(&(struct client){.sni = "big.example.com", .alpn_bytes = 12000, .max_frag = 512},
		  h, sizeof h);
	assert_true(n > 12000 && h[3] == 0x02 && h[4] == 0x00);
	assert_int_equal(parse(h, n), 1);
	assert_string_equal(sni, "big.example.com");
	prefixes_again(h, n);
}

static void too_large(void **state)
{
	size_t n = hello(&(struct client){.sni = "big.example.com", .alpn_bytes = 17000}, h,
			 sizeof h);
	/* Known from the handshake header, long before the body arrives. */
	expect_err(parse(h, 9), -EMSGSIZE, "larger than 16 KiB");
	expect_err(parse(h, n), -EMSGSIZE, "larger than 16 KiB");
	/* The largest hello taken: just under TLS_HELLO_MAX_MSG, in as many records as allowed,
	 * and then TLS_HELLO_MAX_INPUT bytes are enough. */
	size_t lo = 15000, hi = 16400;
	for (int i = 0; i < 20 && lo < hi; i++) {
		size_t mid = (lo + hi) / 2;
		n = hello(&(struct client){.sni = "max.example.com", .alpn_bytes = mid}, h,
			  sizeof h);
		uint8_t p[20000];
		size_t m = payload(h, n, p);
		if (m > TLS_HELLO_MAX_MSG) {
			hi = mid;
			continue;
		}
		lo = mid + 1;
		size_t k = refragment(h, n, (m + 63) / 64, h2);
		assert_true(k <= TLS_HELLO_MAX_INPUT);
		assert_int_equal(parse(h2, k), 1);
	}
	assert_true(lo > 16000);
}

/* TLS 1.3 hello: record header, handshake header, version, random, then the session id. */
static size_t fresh(void)
{
	return hello(&(struct client){.sni = "host.example.com"}, h, sizeof h);
}

/* Where the host name's bytes are in h. */
static size_t find_name(size_t n, const char *name)
{
	for (size_t i = 0; i + strlen(name) <= n; i++)
		if (memcmp(h + i, name, strlen(name)) == 0)
			return i;
	fail_msg("%s not in the hello", name);
	return 0;
}

static void bad_names(void **state)
{
	size_t n = hello(&(struct client){.sni = "example.com."}, h, sizeof h);
	expect_err(parse(h, n), -EPROTO, "ends with a dot");
	n = hello(&(struct client){.sni = "a..example.com"}, h, sizeof h);
	expect_err(parse(h, n), -EPROTO, "empty label");
	n = hello(&(struct client){.sni = ".example.com"}, h, sizeof h);
	expect_err(parse(h, n), -EPROTO, "empty label");
	n = hello(&(struct client){.sni = "sp ace.example.com"}, h, sizeof h);
	expect_err(parse(h, n), -EPROTO, "invalid character");
	char label[80];
	memset(label, 'a', 64);
	strcpy(label + 64, ".com");
	n = hello(&(struct client){.sni = label}, h, sizeof h);
	expect_err(parse(h, n), -EPROTO, "label longer than 63");
	label[1] = '.'; /* "a" "." and a 62-letter label: fine */
	n = hello(&(struct client){.sni = label}, h, sizeof h);
	assert_int_equal(parse(h, n), 1);

	char longest[300];
	for (int i = 0; i < 254; i++)
		longest[i] = i % 2 ? '.' : 'a' + i % 26;
	longest[253] = '\0'; /* 253 characters, ends with a letter */
	n = hello(&(struct client){.sni = longest}, h, sizeof h);
	assert_int_equal(parse(h, n), 1);
	assert_string_equal(sni, longest);
	longest[253] = '.', longest[254] = 'z', longest[255] = '\0';
	n = hello(&(struct client){.sni = longest}, h, sizeof h);
	expect_err(parse(h, n), -EPROTO, "longer than 253");

	/* A NUL and a high byte inside the name, patched in (OpenSSL's client won't send
	 * them). */
	n = fresh();
	size_t at = find_name(n, "host.example.com");
	h[at + 4] = 0;
	expect_err(parse(h, n), -EPROTO, "invalid character");
	h[at + 4] = 0xc3;
	expect_err(parse(h, n), -EPROTO, "invalid character");
}

static void not_tls(void **state)
{
	const char *http = "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n";
	expect_err(parse((const uint8_t *)http, strlen(http)), -EPROTO, "not TLS (plain HTTP?)");
	expect_err(parse((const uint8_t *)"P", 1), -EPROTO, "not TLS (plain HTTP?)");
	expect_err(parse((const uint8_t *)"PRI * HTTP/2.0\r\n", 16), -EPROTO, "plain HTTP");
	/* SSLv2-style hello, as old clients sent for compatibility: msg type 1, version 3.1. */
	static const uint8_t v2[] = {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00,
				     0x00, 0x00, 0x10, 0x00, 0x00, 0x35, 0x00, 0x00, 0x2f};
	expect_err(parse(v2, sizeof v2), -EPROTO, "SSLv2-style ClientHello");
	expect_err(parse(v2, 1), -EPROTO, "SSLv2-style ClientHello");
	expect_err(parse((const uint8_t *)"\x17\x03\x03\x00\x10", 5), -EPROTO, "not TLS");
	expect_err(parse((const uint8_t *)"\x16\x02", 2), -EPROTO, "record version");
	expect_err(parse((const uint8_t *)"\x16\x03\x01\x00\x00", 5), -EPROTO,
		   "empty handshake record");
	expect_err(parse((const uint8_t *)"\x16\x03\x01\x40\x01", 5), -EPROTO,
		   "record longer than 16 KiB");
	/* A ServerHello where a ClientHello belongs. */
	expect_err(parse((const uint8_t *)"\x16\x03\x03\x00\x30\x02", 6), -EPROTO,
		   "not a ClientHello");
	expect_err(parse((const uint8_t *)"\x16\x03\x03\x00\x30\x01\x00\x00\x05", 9), -EPROTO,
		   "too short");
	assert_int_equal(parse((const uint8_t *)"\x16\x03\x01", 3), -EAGAIN);
	assert_int_equal(parse(NULL, 0), -EAGAIN);
}

static void malformed(void **state)
{
	size_t n = fresh();
	assert_int_equal(parse(h, n), 1);

	/* The hello split in two records, the second turned into an alert. */
	size_t k = refragment(h, n, 100, h2);
	h2[105] = 0x15;
	expect_err(parse(h2, k), -EPROTO, "non-handshake record inside the ClientHello");

	/* Legacy version 2.0. */
	h[9] = 2;
	expect_err(parse(h, n), -EPROTO, "version is not 3.x");
	h[9] = 3;
	/* A session id of 33 bytes. */
	uint8_t sid = h[5 + 4 + 2 + 32];
	h[5 + 4 + 2 + 32] = 33;
	expect_err(parse(h, n), -EPROTO, "session id");
	h[5 + 4 + 2 + 32] = sid;
	assert_int_equal(parse(h, n), 1);

	/* The server_name extension's lengths, one at a time. The name's length is at -2,
	 * its type at -3, the list's length at -5, the extension's length at -7. */
	size_t at = find_name(n, "host.example.com");
	h[at - 1]++; /* name longer than the list */
	expect_err(parse(h, n), -EPROTO, "malformed server_name list");
	h[at - 1]--;
	h[at - 4]--; /* list shorter than the extension */
	expect_err(parse(h, n), -EPROTO, "malformed server_name");
	h[at - 4]++;
	h[at - 3] = 7; /* an unknown name type: skipped, so no host name */
	assert_int_equal(parse(h, n), 0);
	h[at - 3] = 0;
	h[at - 6]++; /* the extension longer than its list */
	expect_err(parse(h, n), -EPROTO, "malformed server_name extension");
	h[at - 6]--;
	h[at - 7] = 0xff; /* the extension longer than the extensions block */
	expect_err(parse(h, n), -EPROTO, "malformed extension");
	h[at - 7] = 0;
	assert_int_equal(parse(h, n), 1);

	/* Record and handshake lengths one byte short: the extensions block no longer fits. */
	put16(h + 3, get16(h + 3) - 1);
	put16(h + 7, get16(h + 7) - 1);
	expect_err(parse(h, n - 1), -EPROTO, "extensions");
	put16(h + 3, get16(h + 3) + 1);
	put16(h + 7, get16(h + 7) + 1);
	assert_int_equal(parse(h, n), 1);

	/* Two server_name extensions: the last extension retyped to 0 (the hello is in one
	 * record, so payload offset o is h[5 + o]). */
	uint8_t p[4096];
	size_t m = payload(h, n, p);
	size_t o = 4 + 2 + 32;          /* the session id's length */
	o += 1 + p[o];                  /* cipher suites */
	o += 2 + get16(p + o);          /* compression methods */
	o += 1 + p[o];                  /* the extensions block */
	size_t end = o + 2 + get16(p + o), last = 0;
	assert_int_equal(end, m);
	for (o += 2; o < end; o += 4 + get16(p + o + 2))
		last = o;
	assert_int_not_equal(get16(p + last), 0);
	put16(h + 5 + last, 0);
	expect_err(parse(h, n), -EPROTO, "two server_name extensions");
}

/* Random bytes behind a valid record header, and random bytes alone: any answer but a
 * crash, and the same answer for the same bytes. */
static void garbage(void **state)
{
	srand(7);
	for (int i = 0; i < 20000; i++) {
		size_t n = (size_t)rand() % 600;
		for (size_t j = 0; j < n; j++)
			h[j] = (uint8_t)rand();
		if (i % 2 && n >= 9) {
			memcpy(h, "\x16\x03\x01", 3);
			h[3] = (uint8_t)((n - 5) >> 8), h[4] = (uint8_t)(n - 5);
			h[5] = 1, h[6] = 0, h[7] = (uint8_t)((n - 9) >> 8), h[8] = (uint8_t)(n - 9);
		}
		int rc = parse(h, n);
		assert_true(rc == 1 || rc == 0 || rc == -EAGAIN || rc == -EPROTO ||
			    rc == -EMSGSIZE);
		assert_int_equal(parse(h, n), rc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sni_present),	 cmocka_unit_test(sni_absent),
		cmocka_unit_test(ip_literal),	 cmocka_unit_test(split_records),
		cmocka_unit_test(too_large),	 cmocka_unit_test(bad_names),
		cmocka_unit_test(not_tls),	 cmocka_unit_test(malformed),
		cmocka_unit_test(garbage),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
