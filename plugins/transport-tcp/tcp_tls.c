/* TLS contexts, server verification, peer identity and failure reasons (see tcp_tls.h). */
#include "config.h"
#include "tcp_tls.h"

#include <errno.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The SSL ex_data slot where a client connection keeps its struct tcp_tls_verify. */
static int verify_idx = -1;

int tcp_tls_init(void)
{
	verify_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
	return verify_idx < 0 ? -ENOMEM : 0;
}

void tcp_tls_fini(void)
{
	if (verify_idx >= 0)
		CRYPTO_free_ex_index(CRYPTO_EX_INDEX_SSL, verify_idx);
	verify_idx = -1;
}

/* ---- the error queue ---- */

/* Codes without a library (SSL_get_error()'s small numbers, which some callers queue) say
 * nothing an operator can use. */
static int meaningful(unsigned long e)
{
#ifdef ERR_SYSTEM_ERROR
	if (ERR_SYSTEM_ERROR(e))
		return 1;
#endif
	return ERR_GET_LIB(e) != 0;
}

/* The first useful error, with this thread's queue emptied. */
static unsigned long take_first_error(void)
{
	unsigned long first = 0, e;
	while ((e = ERR_get_error()) != 0)
		if (!first && meaningful(e))
			first = e;
	return first;
}

unsigned long tcp_tls_take_error(void)
{
	return take_first_error();
}

static void error_text(unsigned long e, char *buf, size_t len)
{
#ifdef ERR_SYSTEM_ERROR
	if (ERR_SYSTEM_ERROR(e)) {
		snprintf(buf, len, "%s", strerror(ERR_GET_REASON(e)));
		return;
	}
#endif
	const char *r = ERR_reason_error_string(e);
	if (r)
		snprintf(buf, len, "%s", r);
	else
		ERR_error_string_n(e, buf, len);
}

static int is_reason(unsigned long e, int lib, int reason)
{
	return ERR_GET_LIB(e) == lib && ERR_GET_REASON(e) == reason;
}

__attribute__((format(printf, 4, 5))) static SSL_CTX *
fail(struct tcp_tls_error *err, const char *key, unsigned long e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	if (e && n > 0 && (size_t)n < sizeof err->msg) {
		char why[256];
		error_text(e, why, sizeof why);
		snprintf(err->msg + n, sizeof err->msg - (size_t)n, ": %s", why);
	}
	err->key = key;
	return NULL;
}

/* ---- building contexts ---- */

/* OpenSSL's default would prompt on the terminal for a passphrase and block the daemon. */
static int refuse_passphrase(char *buf, int size, int rwflag, void *arg)
{
	if (arg)
		*(int *)arg = 1;
	return 0;
}

static int openable(const char *path, const char *key, struct tcp_tls_error *err)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		fail(err, key, 0, "%s: cannot open %s: %s", key, path, strerror(errno));
		return -1;
	}
	fclose(f);
	return 0;
}

static SSL_CTX *ctx_new(const SSL_METHOD *method, struct tcp_tls_error *err)
{
	ERR_clear_error();
	SSL_CTX *ctx = SSL_CTX_new(method);
	if (!ctx)
		return fail(err, NULL, take_first_error(), "cannot create a TLS context");
	/* Both ends are proxyd; there is no older peer to be compatible with. */
	if (SSL_CTX_set_min_proto_version(ctx, TLS1_3_VERSION) != 1) {
		SSL_CTX_free(ctx);
		return fail(err, NULL, take_first_error(), "this OpenSSL has no TLS 1.3");
	}
	/* A server holds thousands of mostly idle agent links; don't keep ~70 KiB of record
	 * buffers per idle connection. */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_default_passwd_cb(ctx, refuse_passphrase);
	return ctx;
}

static int load_cert_key(SSL_CTX *ctx, const struct tcp_endpoint *ep, struct tcp_tls_error *err)
{
	if (openable(ep->cert, "cert", err) < 0 || openable(ep->key, "key", err) < 0)
		return -1;
	ERR_clear_error();
	if (SSL_CTX_use_certificate_chain_file(ctx, ep->cert) != 1) {
		fail(err, "cert", take_first_error(),
		     "cert: cannot load a PEM certificate chain from %s", ep->cert);
		return -1;
	}
	int asked = 0;
	SSL_CTX_set_default_passwd_cb_userdata(ctx, &asked);
	int ok = SSL_CTX_use_PrivateKey_file(ctx, ep->key, SSL_FILETYPE_PEM) == 1 &&
		 SSL_CTX_check_private_key(ctx) == 1;
	SSL_CTX_set_default_passwd_cb_userdata(ctx, NULL);
	if (ok)
		return 0;
	unsigned long e = take_first_error();
	if (asked)
		fail(err, "key", 0,
		     "key: %s is encrypted and proxyd cannot ask for a passphrase; use an "
		     "unencrypted key readable only by proxyd's user",
		     ep->key);
	else if (is_reason(e, ERR_LIB_X509, X509_R_KEY_VALUES_MISMATCH) ||
		 is_reason(e, ERR_LIB_X509, X509_R_KEY_TYPE_MISMATCH) ||
		 is_reason(e, ERR_LIB_SSL, SSL_R_PRIVATE_KEY_MISMATCH))
		fail(err, "key", 0, "key: %s does not belong to the certificate in %s", ep->key,
		     ep->cert);
	else
		fail(err, "key", e, "key: cannot load a PEM private key from %s", ep->key);
	return -1;
}

static int load_ca(SSL_CTX *ctx, const char *path, const char *key, struct tcp_tls_error *err)
{
	if (openable(path, key, err) < 0)
		return -1;
	ERR_clear_error();
	if (SSL_CTX_load_verify_locations(ctx, path, NULL) != 1) {
		fail(err, key, take_first_error(), "%s: cannot load PEM CA certificates from %s",
		     key, path);
		return -1;
	}
	return 0;
}

SSL_CTX *tcp_tls_server_ctx_new(const struct tcp_endpoint *ep, struct tcp_tls_error *err)
{
	SSL_CTX *ctx = ctx_new(TLS_server_method(), err);
	if (!ctx)
		return NULL;
	if (load_cert_key(ctx, ep, err) < 0)
		goto fail;
	/* Our agents never resume (each dial is a fresh session), so tickets would only cost
	 * bytes and a session cache memory. */
	SSL_CTX_set_num_tickets(ctx, 0);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	if (ep->client_ca) {
		if (load_ca(ctx, ep->client_ca, "client_ca", err) < 0)
			goto fail;
		/* Sent in CertificateRequest so an agent holding several certificates picks
		 * the one this server accepts. */
		STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ep->client_ca);
		if (!names) {
			fail(err, "client_ca", take_first_error(),
			     "client_ca: no CA certificate found in %s", ep->client_ca);
			goto fail;
		}
		SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

/* ---- the agent's check of the server ---- */

static int spki_sha256(X509 *cert, uint8_t out[TCP_PIN_LEN])
{
	unsigned char *der = NULL;
	int n = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(cert), &der);
	if (n <= 0)
		return -EINVAL;
	unsigned int md_len = 0;
	int ok = EVP_Digest(der, (size_t)n, out, &md_len, EVP_sha256(), NULL);
	OPENSSL_free(der);
	return ok == 1 && md_len == TCP_PIN_LEN ? 0 : -EINVAL;
}

/* Replaces OpenSSL's chain verification for client connections, so that a pin can stand in
 * for a CA (a self-signed server) or be required on top of it. */
static int verify_server(X509_STORE_CTX *sc, void *unused)
{
	SSL *ssl = X509_STORE_CTX_get_ex_data(sc, SSL_get_ex_data_X509_STORE_CTX_idx());
	struct tcp_tls_verify *v = ssl ? SSL_get_ex_data(ssl, verify_idx) : NULL;
	if (!v) {
		/* Fail closed: a handshake we no longer track must not pass unverified. */
		X509_STORE_CTX_set_error(sc, X509_V_ERR_APPLICATION_VERIFICATION);
		return 0;
	}
	if (v->use_ca && X509_verify_cert(sc) <= 0)
		return 0;
	if (v->use_pin) {
		X509 *leaf = X509_STORE_CTX_get0_cert(sc);
		if (!leaf || spki_sha256(leaf, v->seen) < 0 ||
		    CRYPTO_memcmp(v->seen, v->pin, TCP_PIN_LEN) != 0) {
			v->pin_mismatch = 1;
			X509_STORE_CTX_set_error(sc, X509_V_ERR_APPLICATION_VERIFICATION);
			return 0;
		}
	}
	return 1;
}

SSL_CTX *tcp_tls_client_ctx_new(const struct tcp_endpoint *ep, struct tcp_tls_error *err)
{
	SSL_CTX *ctx = ctx_new(TLS_client_method(), err);
	if (!ctx)
		return NULL;
	if (ep->ca && load_ca(ctx, ep->ca, "ca", err) < 0)
		goto fail;
	if (ep->cert && load_cert_key(ctx, ep, err) < 0)
		goto fail;
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	SSL_CTX_set_cert_verify_callback(ctx, verify_server, NULL);
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

SSL *tcp_tls_client_ssl_new(SSL_CTX *ctx, const struct tcp_endpoint *ep,
			    struct tcp_tls_verify *v)
{
	SSL *ssl = SSL_new(ctx);
	if (!ssl)
		return NULL;
	memset(v, 0, sizeof *v);
	v->use_ca = ep->ca != NULL;
	v->use_pin = ep->has_pin;
	memcpy(v->pin, ep->pin, sizeof v->pin);
	v->expected_name = ep->server_name;
	/* With a pin alone the key itself is the identity; a name check without a CA would
	 * prove nothing more, so names are only checked against a CA. */
	int ok = 1;
	if (ep->server_name_kind == TCP_HOST_NAME) {
		/* RFC 6066: SNI carries names only, never address literals. */
		ok = SSL_set_tlsext_host_name(ssl, ep->server_name) == 1;
		if (ok && v->use_ca) {
			SSL_set_hostflags(ssl, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
			ok = SSL_set1_host(ssl, ep->server_name) == 1;
		}
	} else if (v->use_ca) {
		ok = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), ep->server_name) == 1;
	}
	if (!ok || SSL_set_ex_data(ssl, verify_idx, v) != 1) {
		SSL_free(ssl);
		ERR_clear_error();
		return NULL;
	}
	return ssl;
}

void tcp_tls_client_ssl_detach(SSL *ssl)
{
	SSL_set_ex_data(ssl, verify_idx, NULL);
}

/* ---- what the core and the operator are told ---- */

/* The subject CN as printable UTF-8. Several CNs, embedded NULs or control characters make
 * the identity ambiguous or dangerous in log lines and registries: treat them as none. */
static void cert_cn(X509 *cert, char *buf, size_t len)
{
	buf[0] = '\0';
	X509_NAME *name = X509_get_subject_name(cert);
	int i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i < 0 || X509_NAME_get_index_by_NID(name, NID_commonName, i) >= 0)
		return;
	unsigned char *utf8 = NULL;
	int n = ASN1_STRING_to_UTF8(&utf8, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n <= 0 || (size_t)n >= len) {
		OPENSSL_free(utf8);
		return;
	}
	for (int j = 0; j < n; j++)
		if (utf8[j] < 0x20 || utf8[j] == 0x7f) {
			OPENSSL_free(utf8);
			return;
		}
	memcpy(buf, utf8, (size_t)n);
	buf[n] = '\0';
	OPENSSL_free(utf8);
}

void tcp_tls_peer_describe(SSL *ssl, struct tcp_tls_peer *out)
{
	memset(out, 0, sizeof *out);
	snprintf(out->security, sizeof out->security, "%s %s", SSL_get_version(ssl),
		 SSL_CIPHER_get_name(SSL_get_current_cipher(ssl)));
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
	X509 *cert = SSL_get1_peer_certificate(ssl);
#else
	X509 *cert = SSL_get_peer_certificate(ssl);
#endif
	if (!cert)
		return;
	out->verified = SSL_get_verify_result(ssl) == X509_V_OK;
	cert_cn(cert, out->identity, sizeof out->identity);
	X509_free(cert);
}

void tcp_tls_cert_validity(SSL_CTX *ctx, char *msg, size_t len)
{
	msg[0] = '\0';
	X509 *cert = SSL_CTX_get0_certificate(ctx);
	if (!cert)
		return;
	const ASN1_TIME *t;
	const char *what;
	if (X509_cmp_current_time(X509_get0_notAfter(cert)) < 0) {
		t = X509_get0_notAfter(cert);
		what = "expired on";
	} else if (X509_cmp_current_time(X509_get0_notBefore(cert)) > 0) {
		t = X509_get0_notBefore(cert);
		what = "is not valid before";
	} else {
		return;
	}
	char when[64] = "?";
	BIO *b = BIO_new(BIO_s_mem());
	if (b && ASN1_TIME_print(b, t) == 1) {
		int n = BIO_read(b, when, (int)sizeof when - 1);
		when[n > 0 ? n : 0] = '\0';
	}
	BIO_free(b);
	snprintf(msg, len, "%s %s", what, when);
}

int tcp_tls_failure(SSL *ssl, unsigned long e, const struct tcp_tls_verify *v, int sock_err,
		    char *buf, size_t len)
{
	unsigned long queued = take_first_error();
	if (!e)
		e = queued;
	long vr = ssl ? SSL_get_verify_result(ssl) : X509_V_OK;

	if (v && v->pin_mismatch) {
		char seen[TCP_PIN_TEXT_MAX];
		tcp_pin_format(v->seen, seen);
		snprintf(buf, len, "certificate pin mismatch: the server's public key is %s", seen);
		return -EACCES;
	}
	if (e && is_reason(e, ERR_LIB_SSL, SSL_R_CERTIFICATE_VERIFY_FAILED) && vr != X509_V_OK) {
		const char *why = X509_verify_cert_error_string(vr);
		int name = vr == X509_V_ERR_HOSTNAME_MISMATCH ||
			   vr == X509_V_ERR_IP_ADDRESS_MISMATCH;
		if (v && name)
			snprintf(buf, len, "certificate verify failed: %s (expected '%s')", why,
				 v->expected_name);
		else
			snprintf(buf, len, "certificate verify failed: %s", why);
		return -EACCES;
	}
#ifdef SSL_R_UNEXPECTED_EOF_WHILE_READING
	if (e && is_reason(e, ERR_LIB_SSL, SSL_R_UNEXPECTED_EOF_WHILE_READING)) {
		snprintf(buf, len, "connection closed by the peer during the TLS handshake");
		return -ECONNRESET;
	}
#endif
	if (e) {
		error_text(e, buf, len);
		return -EPROTO;
	}
	if (sock_err && sock_err != EAGAIN && sock_err != EWOULDBLOCK && sock_err != EINPROGRESS) {
		snprintf(buf, len, "%s", strerror(sock_err));
		return -sock_err;
	}
	/* A FIN with nothing queued: the peer hung up without a TLS alert. */
	snprintf(buf, len, "connection closed by the peer during the TLS handshake");
	return -ECONNRESET;
}
