/* quic_tls.c: GnuTLS for the engine. Credentials from PEM files, one session per
 * connection wired to ngtcp2 by ngtcp2_crypto_gnutls (ngtcp2 drives the handshake; we never
 * call gnutls_handshake), the peer's identity (its certificate's CN), and the sentences an
 * operator reads when a handshake fails. */
#include "config.h"
#include "quic_internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/x509.h>
#include <ngtcp2/ngtcp2_crypto_gnutls.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* TLS 1.3 only, the QUIC cipher suites, and no middlebox-compatibility ChangeCipherSpec,
 * which QUIC forbids (notes P6). */
static const char PRIORITY[] =
	"%DISABLE_TLS13_COMPAT_MODE:NORMAL:-VERS-ALL:+VERS-TLS1.3:"
	"-CIPHER-ALL:+AES-128-GCM:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-CCM:"
	"-GROUP-ALL:+GROUP-X25519:+GROUP-SECP256R1:+GROUP-SECP384R1";

int quic_tls_new(const struct quic_config *cfg, struct quic_tls **out, const char **which,
		 char *err, size_t errlen)
{
	int server = cfg->role == QUIC_SERVER;
	/* a server that asks for no client certificate has nothing to verify with a CA */
	int no_client_cert = server && cfg->no_client_cert;
	*which = "ca";
	struct quic_tls *t = calloc(1, sizeof *t);
	if (!t) {
		snprintf(err, errlen, "out of memory");
		return -ENOMEM;
	}
	t->refs = 1;
	t->server = server;
	t->no_client_cert = no_client_cert;
	int rv = gnutls_certificate_allocate_credentials(&t->cred);
	if (rv < 0) {
		snprintf(err, errlen, "gnutls: %s", gnutls_strerror(rv));
		free(t);
		return -ENOMEM;
	}
	if (cfg->ca_file) {
		/* returns the number of certificates loaded, not 0 */
		rv = gnutls_certificate_set_x509_trust_file(t->cred, cfg->ca_file,
							    GNUTLS_X509_FMT_PEM);
		if (rv <= 0) {
			snprintf(err, errlen, "%s: %s", cfg->ca_file,
				 rv == 0 ? "no certificate in the file" : gnutls_strerror(rv));
			goto fail;
		}
	} else if (!no_client_cert) {
		snprintf(err, errlen, "no CA file: the peer's certificate cannot be verified");
		goto fail;
	}
	*which = "cert";
	if (cfg->cert_file || cfg->key_file) {
		if (!cfg->cert_file || !cfg->key_file) {
			snprintf(err, errlen, "a certificate needs both its file and its key file");
			goto fail;
		}
		rv = gnutls_certificate_set_x509_key_file2(
			t->cred, cfg->cert_file, cfg->key_file, GNUTLS_X509_FMT_PEM,
			cfg->key_password, cfg->key_password ? 0 : GNUTLS_PKCS_PLAIN);
		if (rv < 0) {
			snprintf(err, errlen, "%s / %s: %s", cfg->cert_file, cfg->key_file,
				 gnutls_strerror(rv));
			goto fail;
		}
	} else if (server) {
		snprintf(err, errlen, "a QUIC server needs a certificate and a key");
		goto fail;
	}
	t->alpn = strdup(cfg->alpn ? cfg->alpn : QUIC_ALPN);
	if (cfg->server_name)
		t->server_name = strdup(cfg->server_name);
	if (!t->alpn || (cfg->server_name && !t->server_name)) {
		snprintf(err, errlen, "out of memory");
		quic_tls_unref(t);
		return -ENOMEM;
	}
	*out = t;
	return 0;
fail:
	quic_tls_unref(t);
	return -EINVAL;
}

void quic_tls_unref(struct quic_tls *t)
{
	if (!t || --t->refs > 0)
		return;
	if (t->cred)
		gnutls_certificate_free_credentials(t->cred);
	free(t->server_name);
	free(t->alpn);
	free(t);
}

static int is_ip_literal(const char *name)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, name, buf) == 1 || inet_pton(AF_INET6, name, buf) == 1;
}

static struct quic_conn *session_conn(gnutls_session_t s)
{
	ngtcp2_crypto_conn_ref *ref = gnutls_session_get_ptr(s);
	return ref->user_data;
}

/* GNUTLS_ALPN_MANDATORY refuses a mismatch but lets a ClientHello without ALPN through
 * (notes P5): refuse that here. */
static int alpn_hook(gnutls_session_t s, unsigned htype, unsigned when, unsigned incoming,
		     const gnutls_datum_t *msg)
{
	gnutls_datum_t sel;
	if (gnutls_alpn_get_selected_protocol(s, &sel) == 0)
		return 0;
	struct quic_conn *c = session_conn(s);
	snprintf(c->alpn_error, sizeof c->alpn_error,
		 "the client offered no ALPN \"%s\" (not a proxyd QUIC client?)", c->tls_cfg->alpn);
	return GNUTLS_E_NO_APPLICATION_PROTOCOL;
}

int quic_tls_session_new(struct quic_conn *c)
{
	struct quic_tls *t = c->ep->tls;
	int server = t->server;
	gnutls_session_t s;
	unsigned flags = server ? GNUTLS_SERVER | GNUTLS_NO_AUTO_SEND_TICKET : GNUTLS_CLIENT;
	if (gnutls_init(&s, flags | GNUTLS_NO_END_OF_EARLY_DATA) < 0)
		return -ENOMEM;
	if (gnutls_priority_set_direct(s, PRIORITY, NULL) < 0)
		goto fail;
	if ((server ? ngtcp2_crypto_gnutls_configure_server_session(s)
		    : ngtcp2_crypto_gnutls_configure_client_session(s)) != 0)
		goto fail;
	c->conn_ref.user_data = c;
	gnutls_session_set_ptr(s, &c->conn_ref); /* must be the conn_ref (notes P7) */
	if (gnutls_credentials_set(s, GNUTLS_CRD_CERTIFICATE, t->cred) < 0)
		goto fail;
	gnutls_datum_t alpn = {(unsigned char *)t->alpn, (unsigned)strlen(t->alpn)};
	if (gnutls_alpn_set_protocols(s, &alpn, 1, GNUTLS_ALPN_MANDATORY) < 0)
		goto fail;
	if (server) {
		gnutls_handshake_set_hook_function(s, GNUTLS_HANDSHAKE_CLIENT_HELLO, GNUTLS_HOOK_POST,
						   alpn_hook);
		if (t->no_client_cert) {
			/* clients prove who they are some other way (proxyd's token) */
			gnutls_certificate_server_set_request(s, GNUTLS_CERT_IGNORE);
		} else {
			gnutls_certificate_server_set_request(s, GNUTLS_CERT_REQUIRE);
			/* No CA names in CertificateRequest: a client whose certificate is from
			 * another CA then still sends it and we can say why it is refused (notes
			 * P4). */
			gnutls_certificate_send_x509_rdn_sequence(s, 1);
			gnutls_session_set_verify_cert(s, NULL, 0);
		}
	} else {
		const char *name = t->server_name;
		/* SNI carries host names only (RFC 6066 3); an address is still verified against
		 * the certificate's IP SANs below */
		if (name && !is_ip_literal(name)) {
			if (gnutls_server_name_set(s, GNUTLS_NAME_DNS, name, strlen(name)) < 0)
				goto fail;
		}
		gnutls_session_set_verify_cert(s, name, 0);
	}
	c->tls = s;
	c->tls_cfg = t;
	t->refs++;
	return 0;
fail:
	gnutls_deinit(s);
	return -EINVAL;
}

void quic_tls_peer_identity(struct quic_conn *c)
{
	unsigned n = 0;
	const gnutls_datum_t *certs = gnutls_certificate_get_peers(c->tls, &n);
	snprintf(c->security, sizeof c->security, "%s %s",
		 gnutls_protocol_get_name(gnutls_protocol_get_version(c->tls)),
		 gnutls_cipher_get_name(gnutls_cipher_get(c->tls)));
	if (!certs || n == 0 || c->peer_identity)
		return;
	gnutls_x509_crt_t crt;
	if (gnutls_x509_crt_init(&crt) < 0)
		return;
	char cn[256];
	size_t len = sizeof cn;
	if (gnutls_x509_crt_import(crt, &certs[0], GNUTLS_X509_FMT_DER) == 0 &&
	    gnutls_x509_crt_get_dn_by_oid(crt, GNUTLS_OID_X520_COMMON_NAME, 0, 0, cn, &len) == 0)
		c->peer_identity = strdup(cn);
	gnutls_x509_crt_deinit(crt);
}

static const char *alert_name(uint8_t alert)
{
	const char *n = gnutls_alert_get_strname((gnutls_alert_description_t)alert);
	return n ? n : "unknown alert";
}

/* The first reason in a failed verification's status, in the words transport tcp (OpenSSL)
 * uses for it, so an operator reads the same sentence whichever transport failed; NULL for a
 * status without one. The order is OpenSSL's: the chain before the certificate's own dates. */
static const char *verify_phrase(unsigned status)
{
	static const struct {
		unsigned bit;
		const char *phrase;
	} phrases[] = {
		{GNUTLS_CERT_SIGNER_NOT_FOUND, "unable to get local issuer certificate"},
		{GNUTLS_CERT_SIGNER_NOT_CA, "invalid CA certificate"},
		{GNUTLS_CERT_SIGNATURE_FAILURE, "certificate signature failure"},
		{GNUTLS_CERT_REVOKED, "certificate revoked"},
		{GNUTLS_CERT_EXPIRED, "certificate has expired"},
		{GNUTLS_CERT_NOT_ACTIVATED, "certificate is not yet valid"},
		{GNUTLS_CERT_UNEXPECTED_OWNER, "hostname mismatch"},
		{GNUTLS_CERT_PURPOSE_MISMATCH, "unsupported certificate purpose"},
		{GNUTLS_CERT_INSECURE_ALGORITHM, "insecure signature algorithm"},
	};
	for (size_t i = 0; i < sizeof phrases / sizeof phrases[0]; i++)
		if (status & phrases[i].bit)
			return phrases[i].phrase;
	return NULL;
}

int quic_tls_failure_reason(struct quic_conn *c, char *buf, size_t len)
{
	int server = c->tls_cfg->server;
	const char *peer = server ? "client" : "server";
	uint8_t alert = ngtcp2_conn_get_tls_alert(c->conn);
	unsigned status = gnutls_session_get_verify_cert_status(c->tls);
	unsigned n = 0;
	if (c->alpn_error[0]) {
		snprintf(buf, len, "TLS handshake refused: %s", c->alpn_error);
	} else if (server && alert == GNUTLS_A_CERTIFICATE_REQUIRED &&
		   !gnutls_certificate_get_peers(c->tls, &n)) {
		/* checked before the status, which is meaningless without a certificate */
		snprintf(buf, len,
			 "TLS handshake refused: the client presented no certificate (mutual TLS "
			 "is required)");
		return 1;
	} else if (status && status != (unsigned)-1) {
		const char *why = verify_phrase(status);
		const char *name = server ? NULL : c->tls_cfg->server_name;
		if (why && (status & GNUTLS_CERT_UNEXPECTED_OWNER) && name) {
			snprintf(buf, len,
				 "TLS handshake refused: certificate verify failed: %s (the %s's "
				 "certificate, expected '%s')",
				 why, peer, name);
		} else if (why) {
			snprintf(buf, len,
				 "TLS handshake refused: certificate verify failed: %s (the %s's "
				 "certificate)",
				 why, peer);
		} else {
			gnutls_datum_t out = {0};
			int ok = gnutls_certificate_verification_status_print(status, GNUTLS_CRT_X509,
									      &out, 0) == 0;
			snprintf(buf, len,
				 "TLS handshake refused: certificate verify failed: the %s's "
				 "certificate is not valid%s%s",
				 peer, ok ? ": " : "", ok ? (const char *)out.data : "");
			if (ok)
				gnutls_free(out.data);
		}
		return 1;
	} else if (alert == GNUTLS_A_NO_APPLICATION_PROTOCOL) {
		snprintf(buf, len, "TLS handshake refused: no common ALPN (we want \"%s\")",
			 c->tls_cfg->alpn);
	} else {
		snprintf(buf, len, "TLS handshake failed: we sent alert %u (%s)", alert,
			 alert_name(alert));
	}
	return 0;
}

int quic_tls_alert_reason(int server, uint8_t alert, char *buf, size_t len)
{
	const char *why;
	int cert = 1;
	switch (alert) {
	case GNUTLS_A_CERTIFICATE_REQUIRED:
		why = "the server requires a client certificate and got none";
		break;
	case GNUTLS_A_BAD_CERTIFICATE:
	case GNUTLS_A_UNSUPPORTED_CERTIFICATE:
	case GNUTLS_A_CERTIFICATE_UNKNOWN:
	case GNUTLS_A_UNKNOWN_CA:
		why = "the peer does not accept our certificate (another CA, expired, or not "
		      "for this use: the peer's log says which)";
		break;
	case GNUTLS_A_CERTIFICATE_EXPIRED:
		why = "the peer says our certificate has expired";
		break;
	case GNUTLS_A_CERTIFICATE_REVOKED:
		why = "the peer says our certificate is revoked";
		break;
	case GNUTLS_A_NO_APPLICATION_PROTOCOL:
		why = "no common ALPN protocol (the peer is not proxyd, or another version)";
		cert = 0;
		break;
	default:
		why = "the peer refused the TLS handshake";
		cert = 0;
		break;
	}
	snprintf(buf, len, "TLS handshake refused by the %s: %s (alert %u %s)",
		 server ? "client" : "server", why, alert, alert_name(alert));
	return cert;
}
