/* The certificate store: certificates made at test time with OpenSSL (P-256, self-signed or
 * signed by a test CA) in a temporary directory; the names taken from each (SAN DNS, CN only
 * without SAN DNS); the pick for exact, wildcard, unknown and missing names; real handshakes
 * over a BIO pair (SNI, TLS 1.2 and 1.3, ALPN, a chain, a store freed mid-handshake); and
 * the load errors, each naming its file, with the OpenSSL error queue left empty. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "tls_certs.h"

static char dir[] = "/tmp/test_tls_certs.XXXXXX";
static char paths[32][256];
static int n_paths;

enum { C_DEFAULT, C_A, C_WILD, C_EXACT, C_CN, C_CNSAN, C_CHAIN, C_CA, N_CERTS };
static X509 *certs[N_CERTS];
static EVP_PKEY *keys[N_CERTS];
static long serial = 1;

static const char *path(const char *name, const char *ext)
{
	char *p = paths[n_paths++];
	snprintf(p, sizeof paths[0], "%s/%s.%s", dir, name, ext);
	return p;
}

/* A certificate for CN and SAN (OpenSSL config syntax, NULL for none), signed by issuer
 * (NULL: itself). */
static void make(int i, const char *cn, const char *san, int issuer)
{
	EVP_PKEY *key = EVP_EC_gen("P-256");
	assert_non_null(key);
	X509 *x = X509_new();
	assert_non_null(x);
	X509_set_version(x, 2);
	ASN1_INTEGER_set(X509_get_serialNumber(x), serial++);
	X509_gmtime_adj(X509_getm_notBefore(x), -60);
	X509_gmtime_adj(X509_getm_notAfter(x), 86400);
	X509_set_pubkey(x, key);
	X509_NAME *nm = X509_get_subject_name(x);
	X509_NAME_add_entry_by_txt(nm, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
	X509 *iss = issuer >= 0 ? certs[issuer] : x;
	X509_set_issuer_name(x, X509_get_subject_name(iss));
	X509V3_CTX ctx;
	X509V3_set_ctx_nodb(&ctx);
	X509V3_set_ctx(&ctx, iss, x, NULL, NULL, 0);
	const char *bc = i == C_CA ? "critical,CA:TRUE" : "CA:FALSE";
	X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, bc);
	assert_non_null(e);
	X509_add_ext(x, e, -1);
	X509_EXTENSION_free(e);
	if (san) {
		e = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, san);
		assert_non_null(e);
		X509_add_ext(x, e, -1);
		X509_EXTENSION_free(e);
	}
	assert_true(X509_sign(x, issuer >= 0 ? keys[issuer] : key, EVP_sha256()) > 0);
	certs[i] = x;
	keys[i] = key;
}

static const char *names[N_CERTS] = {"default", "a", "wild", "exact", "cn", "cnsan", "chain",
				     "ca"};
static struct tls_cert_files files[N_CERTS];

static void write_pair(int i, int with_issuer)
{
	files[i].cert = path(names[i], "crt");
	files[i].key = path(names[i], "key");
	FILE *f = fopen(files[i].cert, "w");
	assert_non_null(f);
	assert_true(PEM_write_X509(f, certs[i]));
	if (with_issuer >= 0)
		assert_true(PEM_write_X509(f, certs[with_issuer]));
	fclose(f);
	f = fopen(files[i].key, "w");
	assert_non_null(f);
	assert_true(PEM_write_PrivateKey(f, keys[i], NULL, NULL, 0, NULL, NULL));
	fclose(f);
}

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	make(C_DEFAULT, "default.example.com", "DNS:default.example.com", -1);
	make(C_A, "a.example.com", "DNS:a.example.com,IP:192.0.2.1", -1);
	make(C_WILD, "wild", "DNS:*.wild.example.com", -1);
	make(C_EXACT, "exact", "DNS:exact.wild.example.com", -1);
	make(C_CN, "cn.example.com", NULL, -1);
	make(C_CNSAN, "ignored.example.com", "DNS:san.example.com,DNS:bad..name,DNS:*.com", -1);
	make(C_CA, "test CA", NULL, -1);
	make(C_CHAIN, "chain.example.com", "DNS:chain.example.com", C_CA);
	for (int i = 0; i < N_CERTS; i++)
		if (i != C_CA)
			write_pair(i, i == C_CHAIN ? C_CA : -1);
	return 0;
}

static int teardown(void **state)
{
	for (int i = 0; i < n_paths; i++)
		unlink(paths[i]);
	rmdir(dir);
	for (int i = 0; i < N_CERTS; i++) {
		X509_free(certs[i]);
		EVP_PKEY_free(keys[i]);
	}
	return 0;
}

static char err[512];

/* The store of every certificate but the CA, default first, the wildcard before the exact
 * name under it. */
static struct tls_certs *store(void)
{
	struct tls_cert_files f[] = {files[C_DEFAULT], files[C_A],     files[C_WILD],
				     files[C_EXACT],   files[C_CN],    files[C_CNSAN],
				     files[C_CHAIN]};
	err[0] = '\0';
	struct tls_certs *c = tls_certs_new(f, (int)(sizeof f / sizeof *f), err, sizeof err);
	if (!c)
		fail_msg("tls_certs_new: %s", err);
	assert_int_equal(ERR_peek_error(), 0);
	return c;
}

static void expect_names(struct tls_certs *c, int i, const char *want)
{
	char got[512] = "";
	for (const char *const *p = tls_certs_names(c, i); *p; p++)
		snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", *got ? " " : "", *p);
	assert_string_equal(got, want);
}

static void names_taken(void **state)
{
	struct tls_certs *c = store();
	assert_int_equal(tls_certs_count(c), 7);
	expect_names(c, 0, "default.example.com");
	expect_names(c, 1, "a.example.com");
	expect_names(c, 2, "*.wild.example.com");
	expect_names(c, 3, "exact.wild.example.com");
	expect_names(c, 4, "cn.example.com");      /* no SAN: the CN */
	expect_names(c, 5, "san.example.com");     /* SAN DNS: no CN; invalid names left out */
	expect_names(c, 6, "chain.example.com");
	tls_certs_free(c);
}

static void pick(void **state)
{
	struct tls_certs *c = store();
	assert_string_equal(tls_certs_pick(c, "a.example.com"), files[C_A].cert);
	assert_string_equal(tls_certs_pick(c, "A.Example.COM"), files[C_A].cert);
	assert_string_equal(tls_certs_pick(c, "x.wild.example.com"), files[C_WILD].cert);
	/* Exact beats a wildcard given earlier. */
	assert_string_equal(tls_certs_pick(c, "exact.wild.example.com"), files[C_EXACT].cert);
	assert_string_equal(tls_certs_pick(c, "cn.example.com"), files[C_CN].cert);
	assert_string_equal(tls_certs_pick(c, "san.example.com"), files[C_CNSAN].cert);
	/* The default: unknown names, the wildcard's base, two labels under it, no SNI, and
	 * an IP (only SAN DNS entries count). */
	assert_string_equal(tls_certs_pick(c, "unknown.example.org"), files[C_DEFAULT].cert);
	assert_string_equal(tls_certs_pick(c, "wild.example.com"), files[C_DEFAULT].cert);
	assert_string_equal(tls_certs_pick(c, "a.b.wild.example.com"), files[C_DEFAULT].cert);
	assert_string_equal(tls_certs_pick(c, "ignored.example.com"), files[C_DEFAULT].cert);
	assert_string_equal(tls_certs_pick(c, "192.0.2.1"), files[C_DEFAULT].cert);
	assert_string_equal(tls_certs_pick(c, ""), files[C_DEFAULT].cert);
	assert_string_equal(tls_certs_pick(c, NULL), files[C_DEFAULT].cert);
	tls_certs_free(c);
}

struct hs {
	const char *sni;
	int max_version;
	const char *alpn; /* wire format */
	size_t alpn_len;
	X509 *trust; /* verify the chain against this CA */
};

struct hs_result {
	X509 *peer;
	int version;
	char alpn[32];
	int chain_len;
	long verify;
};

/* A client and the server SSL (from the store, or srv when given) over a BIO pair. */
static struct hs_result handshake(struct tls_certs *c, SSL *srv, const struct hs *h)
{
	struct hs_result r = {0};
	SSL_CTX *cctx = SSL_CTX_new(TLS_client_method());
	assert_non_null(cctx);
	if (h->max_version)
		SSL_CTX_set_max_proto_version(cctx, h->max_version);
	if (h->trust) {
		X509_STORE_add_cert(SSL_CTX_get_cert_store(cctx), h->trust);
		SSL_CTX_set_verify(cctx, SSL_VERIFY_PEER, NULL);
	}
	SSL *cl = SSL_new(cctx);
	SSL *sv = srv ? srv : tls_certs_new_ssl(c);
	assert_non_null(cl);
	assert_non_null(sv);
	BIO *bc, *bs;
	assert_int_equal(BIO_new_bio_pair(&bc, 0, &bs, 0), 1);
	SSL_set_bio(cl, bc, bc);
	SSL_set_bio(sv, bs, bs);
	SSL_set_connect_state(cl);
	if (h->sni)
		SSL_set_tlsext_host_name(cl, h->sni);
	if (h->alpn)
		SSL_set_alpn_protos(cl, (const unsigned char *)h->alpn, (unsigned)h->alpn_len);
	int done_c = 0, done_s = 0;
	for (int i = 0; i < 20 && !(done_c && done_s); i++) {
		int rc = SSL_do_handshake(cl);
		if (rc == 1)
			done_c = 1;
		else
			assert_int_equal(SSL_get_error(cl, rc), SSL_ERROR_WANT_READ);
		rc = SSL_do_handshake(sv);
		if (rc == 1)
			done_s = 1;
		else
			assert_int_equal(SSL_get_error(sv, rc), SSL_ERROR_WANT_READ);
	}
	assert_true(done_c && done_s);
	r.peer = SSL_get1_peer_certificate(cl);
	r.version = SSL_version(cl);
	const unsigned char *a;
	unsigned al;
	SSL_get0_alpn_selected(cl, &a, &al);
	snprintf(r.alpn, sizeof r.alpn, "%.*s", (int)al, a);
	r.chain_len = sk_X509_num(SSL_get_peer_cert_chain(cl));
	r.verify = SSL_get_verify_result(cl);
	SSL_free(cl);
	SSL_free(sv);
	SSL_CTX_free(cctx);
	assert_int_equal(ERR_peek_error(), 0);
	return r;
}

static void expect_peer(struct hs_result r, int want)
{
	assert_non_null(r.peer);
	assert_int_equal(X509_cmp(r.peer, certs[want]), 0);
	X509_free(r.peer);
}

static void handshakes(void **state)
{
	struct tls_certs *c = store();
	struct hs_result r = handshake(c, NULL, &(struct hs){.sni = "x.wild.example.com"});
	assert_int_equal(r.version, TLS1_3_VERSION);
	assert_string_equal(r.alpn, "");
	expect_peer(r, C_WILD);

	r = handshake(c, NULL, &(struct hs){.sni = "a.example.com"});
	expect_peer(r, C_A);
	r = handshake(c, NULL, &(struct hs){.sni = "exact.wild.example.com"});
	expect_peer(r, C_EXACT);
	r = handshake(c, NULL, &(struct hs){.sni = "nobody.example.net"});
	expect_peer(r, C_DEFAULT);
	r = handshake(c, NULL, &(struct hs){0});
	expect_peer(r, C_DEFAULT);

	/* TLS 1.2, and ALPN: http/1.1 chosen over h2; a client offering only h2 gets none. */
	r = handshake(c, NULL,
		      &(struct hs){.sni = "y.wild.example.com", .max_version = TLS1_2_VERSION,
				   .alpn = "\x02h2\x08http/1.1", .alpn_len = 12});
	assert_int_equal(r.version, TLS1_2_VERSION);
	assert_string_equal(r.alpn, "http/1.1");
	expect_peer(r, C_WILD);
	r = handshake(c, NULL, &(struct hs){.sni = "a.example.com", .alpn = "\x02h2", .alpn_len = 3});
	assert_string_equal(r.alpn, "");
	expect_peer(r, C_A);

	/* The chain in the certificate file reaches the client, which verifies it. */
	r = handshake(c, NULL, &(struct hs){.sni = "chain.example.com", .trust = certs[C_CA]});
	assert_int_equal(r.chain_len, 2);
	assert_int_equal(r.verify, X509_V_OK);
	expect_peer(r, C_CHAIN);

	/* A store freed (a reload) while a connection made from it has not seen the
	 * ClientHello: the SSL keeps it alive and still picks by SNI. */
	SSL *sv = tls_certs_new_ssl(c);
	assert_non_null(sv);
	tls_certs_free(c);
	r = handshake(NULL, sv, &(struct hs){.sni = "x.wild.example.com"});
	expect_peer(r, C_WILD);
}

static void expect_fail(const struct tls_cert_files *f, int n, const char *want)
{
	err[0] = '\0';
	struct tls_certs *c = tls_certs_new(f, n, err, sizeof err);
	if (c) {
		tls_certs_free(c);
		fail_msg("loaded, want '%s'", want);
	}
	if (!strstr(err, want))
		fail_msg("err '%s', want '%s'", err, want);
	assert_int_equal(ERR_peek_error(), 0);
}

static void load_errors(void **state)
{
	char want[512];
	const char *missing = path("missing", "crt");
	struct tls_cert_files f[2] = {files[C_DEFAULT], {missing, files[C_A].key}};
	snprintf(want, sizeof want, "%s: cannot open: No such file or directory", missing);
	expect_fail(f, 2, want);
	f[1] = (struct tls_cert_files){files[C_A].cert, missing};
	expect_fail(f, 2, want);

	/* Not PEM. */
	const char *junk = path("junk", "crt");
	FILE *fp = fopen(junk, "w");
	assert_non_null(fp);
	fputs("hello\n", fp);
	fclose(fp);
	f[1] = (struct tls_cert_files){junk, files[C_A].key};
	snprintf(want, sizeof want, "%s: cannot load a PEM certificate chain: no start line", junk);
	expect_fail(f, 2, want);
	f[1] = (struct tls_cert_files){files[C_A].cert, junk};
	snprintf(want, sizeof want, "%s: cannot load a PEM private key", junk);
	expect_fail(f, 2, want);

	/* Another certificate's key. */
	f[1] = (struct tls_cert_files){files[C_A].cert, files[C_WILD].key};
	snprintf(want, sizeof want, "%s: does not belong to the certificate in %s",
		 files[C_WILD].key, files[C_A].cert);
	expect_fail(f, 2, want);

	/* An encrypted key: refused without asking. */
	const char *enc = path("enc", "key");
	fp = fopen(enc, "w");
	assert_non_null(fp);
	assert_true(PEM_write_PrivateKey(fp, keys[C_A], EVP_aes_128_cbc(),
					 (unsigned char *)"secret", 6, NULL, NULL));
	fclose(fp);
	f[0] = (struct tls_cert_files){files[C_A].cert, enc};
	snprintf(want, sizeof want, "%s: the key is encrypted", enc);
	expect_fail(f, 1, want);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(names_taken),
		cmocka_unit_test(pick),
		cmocka_unit_test(handshakes),
		cmocka_unit_test(load_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
