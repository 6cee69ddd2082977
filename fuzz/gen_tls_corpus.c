/* Writes the seed corpus of fuzz/corpus/tls_hello: ClientHellos as OpenSSL's client sends
 * them (taken from a memory BIO, no network), a few re-cut into small records, and the
 * non-TLS openings the reader must refuse. Not built by make:
 *   cc -std=gnu11 -o /tmp/gen_tls_corpus fuzz/gen_tls_corpus.c -lssl -lcrypto &&
 *   /tmp/gen_tls_corpus fuzz/corpus/tls_hello
 * The harness also reads each input as a bare handshake payload behind its first byte;
 * the "payload-" seeds are made for that reading. */
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *dir;

static void save(const char *name, const void *p, size_t n)
{
	char path[512];
	snprintf(path, sizeof path, "%s/%s", dir, name);
	FILE *f = fopen(path, "wb");
	if (!f || fwrite(p, 1, n, f) != n || fclose(f) != 0) {
		perror(path);
		exit(1);
	}
}

static size_t hello(const char *sni, int max_version, const char *alpn, uint8_t *out,
		    size_t cap)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	if (max_version)
		SSL_CTX_set_max_proto_version(ctx, max_version);
	SSL *ssl = SSL_new(ctx);
	SSL_set_bio(ssl, BIO_new(BIO_s_mem()), BIO_new(BIO_s_mem()));
	if (sni)
		SSL_set_tlsext_host_name(ssl, sni);
	if (alpn)
		SSL_set_alpn_protos(ssl, (const unsigned char *)alpn, (unsigned)strlen(alpn));
	SSL_connect(ssl);
	int n = BIO_read(SSL_get_wbio(ssl), out, (int)cap);
	SSL_free(ssl);
	SSL_CTX_free(ctx);
	if (n <= 0)
		exit(1);
	return (size_t)n;
}

/* The single record's payload re-cut into records of frag bytes. */
static size_t recut(const uint8_t *in, size_t n, size_t frag, uint8_t *out)
{
	size_t o = 0;
	for (size_t off = 5; off < n; off += frag) {
		size_t k = n - off < frag ? n - off : frag;
		memcpy(out + o, in, 3);
		out[o + 3] = (uint8_t)(k >> 8), out[o + 4] = (uint8_t)k;
		memcpy(out + o + 5, in + off, k);
		o += 5 + k;
	}
	return o;
}

int main(int argc, char **argv)
{
	static uint8_t h[20000], r[40000];
	size_t n;
	dir = argc > 1 ? argv[1] : "fuzz/corpus/tls_hello";
	n = hello("www.example.com", 0, "\x02h2\x08http/1.1", h, sizeof h);
	save("00-tls13-sni-alpn", h, n);
	save("10-split-64", r, recut(h, n, 64, r));
	r[0] = 0; /* payload reading: one record of the largest size */
	memcpy(r + 1, h + 5, n - 5);
	save("20-payload-tls13", r, n - 4);
	n = hello("a.b.example.org", TLS1_2_VERSION, NULL, h, sizeof h);
	save("01-tls12-sni", h, n);
	save("11-split-7", r, recut(h, n, 7, r));
	n = hello(NULL, 0, NULL, h, sizeof h);
	save("02-no-sni", h, n);
	save("03-http", "GET / HTTP/1.1\r\nHost: example.com\r\n\r\n", 37);
	static const uint8_t v2[] = {0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00,
				     0x00, 0x10, 0x00, 0x00, 0x35, 0x00, 0x00, 0x2f};
	save("04-sslv2", v2, sizeof v2);
	return 0;
}
