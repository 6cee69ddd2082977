/* The HTTPS edge's certificate store (see tls_certs.h). One SSL_CTX per certificate; the
 * first one's servername callback picks the context for each connection and moves the SSL
 * to it with SSL_set_SSL_CTX(), which brings that context's certificate and key along.
 *
 * Lifetime: the callback needs the store, and a reload may free the store while handshakes
 * made from it have not reached their ClientHello yet. So each SSL holds a reference in its
 * ex_data, dropped by OpenSSL's free callback when the SSL is freed; the store goes when
 * the last reference does. proxyd runs one thread, so the count is a plain int. */
#include "config.h"
#include "sni_match.h"
#include "tls_certs.h"

#include <assert.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct tls_cert {
	char *file;   /* the certificate file, as given */
	SSL_CTX *ctx;
	char **names; /* NULL-terminated */
};

struct tls_certs {
	int refs;
	int n;
	struct tls_cert *certs;
};

static int ssl_idx = -1;

/* ---- errors ---- */

/* The first queued error, the queue emptied (the rest are usually consequences of it). */
static unsigned long take_first_error(void)
{
	unsigned long first = ERR_get_error(), e;
	while ((e = ERR_get_error()) != 0)
		;
	return first;
}

static int is_reason(unsigned long e, int lib, int reason)
{
	return ERR_GET_LIB(e) == lib && ERR_GET_REASON(e) == reason;
}

/* err gets the formatted message, then ": <OpenSSL's reason>" when e is set. */
__attribute__((format(printf, 4, 5))) static void fail(char *err, size_t errlen, unsigned long e,
						       const char *fmt, ...)
{
	if (errlen == 0)
		return;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	if (!e || n < 0 || (size_t)n >= errlen)
		return;
	char why[256];
#ifdef ERR_SYSTEM_ERROR
	if (ERR_SYSTEM_ERROR(e))
		snprintf(why, sizeof why, "%s", strerror(ERR_GET_REASON(e)));
	else
#endif
	if (ERR_reason_error_string(e))
		snprintf(why, sizeof why, "%s", ERR_reason_error_string(e));
	else
		ERR_error_string_n(e, why, sizeof why);
	snprintf(err + n, errlen - (size_t)n, ": %s", why);
}

/* ---- names ---- */

static void free_names(char **names)
{
	if (!names)
		return;
	for (char **p = names; *p; p++)
		free(*p);
	free(names);
}

/* Append the lower-cased text of an IA5String or UTF8String if it is a valid pattern. A
 * name with a NUL inside (a classic forgery) fails the length comparison. */
static int add_name(char ***names, int *n, const ASN1_STRING *s)
{
	const unsigned char *d = ASN1_STRING_get0_data(s);
	int len = ASN1_STRING_length(s);
	if (len <= 0 || len > SNI_NAME_MAX || memchr(d, 0, (size_t)len))
		return 0;
	char *name = malloc((size_t)len + 1);
	if (!name)
		return -ENOMEM;
	for (int i = 0; i < len; i++)
		name[i] = (char)(d[i] >= 'A' && d[i] <= 'Z' ? d[i] + ('a' - 'A') : d[i]);
	name[len] = '\0';
	if (!sni_pattern_valid(name)) {
		free(name);
		return 0;
	}
	char **grown = realloc(*names, sizeof *grown * (size_t)(*n + 2));
	if (!grown) {
		free(name);
		return -ENOMEM;
	}
	grown[(*n)++] = name;
	grown[*n] = NULL;
	*names = grown;
	return 0;
}

/* The SAN DNS names, or the CN when there is no SAN DNS entry (RFC 6125 section 6.4.4). */
static int cert_names(X509 *x, char ***out)
{
	char **names = calloc(1, sizeof *names);
	int n = 0, dns = 0, rc = 0;
	if (!names)
		return -ENOMEM;
	GENERAL_NAMES *san = X509_get_ext_d2i(x, NID_subject_alt_name, NULL, NULL);
	for (int i = 0; rc == 0 && i < sk_GENERAL_NAME_num(san); i++) {
		const GENERAL_NAME *g = sk_GENERAL_NAME_value(san, i);
		if (g->type != GEN_DNS)
			continue;
		dns++;
		rc = add_name(&names, &n, g->d.dNSName);
	}
	GENERAL_NAMES_free(san);
	if (rc == 0 && dns == 0) {
		const X509_NAME *subj = X509_get_subject_name(x);
		int i = X509_NAME_get_index_by_NID(subj, NID_commonName, -1);
		if (i >= 0)
			rc = add_name(&names, &n,
				      X509_NAME_ENTRY_get_data(X509_NAME_get_entry(subj, i)));
	}
	ERR_clear_error(); /* X509_get_ext_d2i queues an error for a missing extension */
	if (rc != 0) {
		free_names(names);
		return rc;
	}
	*out = names;
	return 0;
}

/* ---- choosing ---- */

static int pick_index(const struct tls_certs *c, const char *sni)
{
	if (!sni || !*sni)
		return 0;
	for (int wild = 0; wild <= 1; wild++)
		for (int i = 0; i < c->n; i++)
			for (char **p = c->certs[i].names; *p; p++)
				if (sni_pattern_is_wildcard(*p) == wild && sni_pattern_match(*p, sni))
					return i;
	return 0;
}

const char *tls_certs_pick(const struct tls_certs *c, const char *sni)
{
	return c->certs[pick_index(c, sni)].file;
}

int tls_certs_count(const struct tls_certs *c)
{
	return c->n;
}

const char *const *tls_certs_names(const struct tls_certs *c, int i)
{
	assert(i >= 0 && i < c->n);
	return (const char *const *)c->certs[i].names;
}

static int servername_cb(SSL *ssl, int *alert, void *arg)
{
	const struct tls_certs *c = SSL_get_ex_data(ssl, ssl_idx);
	if (!c) /* an SSL not made by tls_certs_new_ssl(): leave it on its context */
		return SSL_TLSEXT_ERR_NOACK;
	int i = pick_index(c, SSL_get_servername(ssl, TLSEXT_NAMETYPE_host_name));
	if (i != 0 && SSL_set_SSL_CTX(ssl, c->certs[i].ctx) == NULL) {
		ERR_clear_error();
		*alert = SSL_AD_INTERNAL_ERROR;
		return SSL_TLSEXT_ERR_ALERT_FATAL;
	}
	return SSL_TLSEXT_ERR_OK;
}

static int alpn_cb(SSL *ssl, const unsigned char **out, unsigned char *outlen,
		   const unsigned char *in, unsigned int inlen, void *arg)
{
	static const unsigned char http11[] = "\x08http/1.1";
	unsigned char *sel;
	if (SSL_select_next_proto(&sel, outlen, http11, sizeof http11 - 1, in, inlen) !=
	    OPENSSL_NPN_NEGOTIATED)
		return SSL_TLSEXT_ERR_NOACK;
	*out = sel;
	return SSL_TLSEXT_ERR_OK;
}

/* ---- building ---- */

static void drop_ref(struct tls_certs *c)
{
	if (!c || --c->refs > 0)
		return;
	for (int i = 0; i < c->n; i++) {
		SSL_CTX_free(c->certs[i].ctx);
		free(c->certs[i].file);
		free_names(c->certs[i].names);
	}
	free(c->certs);
	free(c);
}

static void ssl_ex_free(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
			void *argp)
{
	drop_ref(ptr);
}

/* OpenSSL's default would prompt on the terminal for a passphrase and block the daemon. */
static int refuse_passphrase(char *buf, int size, int rwflag, void *arg)
{
	if (arg)
		*(int *)arg = 1;
	return 0;
}

static int openable(const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fail(err, errlen, 0, "%s: cannot open: %s", path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

/* TLS 1.2 suites with forward secrecy and an AEAD, ECDSA and RSA keys alike. */
#define TLS12_CIPHERS                                                                          \
	"ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:"                           \
	"ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:"                           \
	"ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305"

static SSL_CTX *ctx_new(const struct tls_cert_files *f, char *err, size_t errlen)
{
	if (openable(f->cert, err, errlen) < 0 || openable(f->key, err, errlen) < 0)
		return NULL;
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		fail(err, errlen, take_first_error(), "cannot create a TLS context");
		return NULL;
	}
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION) != 1 ||
	    SSL_CTX_set_cipher_list(ctx, TLS12_CIPHERS) != 1) {
		fail(err, errlen, take_first_error(), "cannot set TLS versions and ciphers");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	/* Many idle keep-alive connections: no ~70 KiB of record buffers each. No read-ahead:
	 * libevent's TLS bufferevents ask SSL_pending(), which does not count read-ahead
	 * bytes, so data would wait in OpenSSL for the next socket event. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_alpn_select_cb(ctx, alpn_cb, NULL);
	SSL_CTX_set_default_passwd_cb(ctx, refuse_passphrase);

	if (SSL_CTX_use_certificate_chain_file(ctx, f->cert) != 1) {
		fail(err, errlen, take_first_error(), "%s: cannot load a PEM certificate chain",
		     f->cert);
		goto fail;
	}
	int asked = 0;
	SSL_CTX_set_default_passwd_cb_userdata(ctx, &asked);
	int ok = SSL_CTX_use_PrivateKey_file(ctx, f->key, SSL_FILETYPE_PEM) == 1 &&
		 SSL_CTX_check_private_key(ctx) == 1;
	SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
	if (!ok) {
		unsigned long e = take_first_error();
		if (asked)
			fail(err, errlen, 0,
			     "%s: the key is encrypted and proxyd cannot ask for a passphrase", f->key);
		else if (is_reason(e, ERR_LIB_X509, X509_R_KEY_VALUES_MISMATCH) ||
			 is_reason(e, ERR_LIB_X509, X509_R_KEY_TYPE_MISMATCH) ||
			 is_reason(e, ERR_LIB_SSL, SSL_R_PRIVATE_KEY_MISMATCH))
			fail(err, errlen, 0, "%s: does not belong to the certificate in %s", f->key,
			     f->cert);
		else
			fail(err, errlen, e, "%s: cannot load a PEM private key", f->key);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return NULL;
}

struct tls_certs *tls_certs_new(const struct tls_cert_files *files, int n, char *err,
				size_t errlen)
{
	assert(n >= 1);
	if (ssl_idx < 0) {
		ssl_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, ssl_ex_free);
		if (ssl_idx < 0) {
			fail(err, errlen, take_first_error(), "cannot register SSL ex_data");
			return NULL;
		}
	}
	struct tls_certs *c = calloc(1, sizeof *c);
	if (!c || !(c->certs = calloc((size_t)n, sizeof *c->certs))) {
		free(c);
		fail(err, errlen, 0, "%s", strerror(ENOMEM));
		return NULL;
	}
	c->refs = 1;
	for (int i = 0; i < n; i++, c->n++) {
		struct tls_cert *t = &c->certs[i];
		if (!(t->ctx = ctx_new(&files[i], err, errlen)))
			goto fail;
		if (!(t->file = strdup(files[i].cert)) ||
		    cert_names(SSL_CTX_get0_certificate(t->ctx), &t->names) != 0) {
			c->n++; /* free this one too */
			fail(err, errlen, 0, "%s: %s", files[i].cert, strerror(ENOMEM));
			goto fail;
		}
	}
	SSL_CTX_set_tlsext_servername_callback(c->certs[0].ctx, servername_cb);
	return c;
fail:
	drop_ref(c);
	ERR_clear_error();
	return NULL;
}

void tls_certs_free(struct tls_certs *c)
{
	drop_ref(c);
}

SSL *tls_certs_new_ssl(struct tls_certs *c)
{
	SSL *ssl = SSL_new(c->certs[0].ctx);
	if (!ssl) {
		ERR_clear_error();
		return NULL;
	}
	if (SSL_set_ex_data(ssl, ssl_idx, c) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	c->refs++;
	SSL_set_accept_state(ssl);
	return ssl;
}
