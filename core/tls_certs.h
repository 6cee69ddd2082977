/* The certificates the HTTPS edge ends TLS with: one SSL_CTX per (certificate, key) pair,
 * the host names each serves, and the choice among them by the ClientHello's server name.
 *
 * Every context is a TLS 1.2 and 1.3 server with ECDHE AEAD ciphers for 1.2 (OpenSSL's
 * defaults for 1.3), no renegotiation, released idle buffers, no read-ahead (see
 * tls_certs.c), and ALPN limited to "http/1.1": a browser that offers h2 and http/1.1 gets
 * http/1.1, one offering neither gets no ALPN answer and carries on (RFC 7301 would allow a
 * fatal alert; leniency costs nothing here, as the HTTP/1.1 parser refuses anything else).
 *
 * The names of a certificate are its subjectAltName DNS entries, or its subject CN when it
 * has no DNS entry at all; each must pass sni_pattern_valid() ("*.example.com" wildcards
 * included); names that do not are ignored, so a certificate may serve no name and still be
 * the default. The choice for a server name: the first certificate (in the order given)
 * with an exact name for it, else the first with a wildcard matching it, else the first
 * certificate, which is also what a client without SNI gets. */
#ifndef PROXYD_CORE_TLS_CERTS_H
#define PROXYD_CORE_TLS_CERTS_H

#include <openssl/ssl.h>
#include <stddef.h>

/* PEM files: cert holds the leaf certificate first, then any intermediates; key holds its
 * private key, unencrypted (a daemon cannot ask for a passphrase). */
struct tls_cert_files {
	const char *cert;
	const char *key;
};

struct tls_certs;

/* Build a store from n >= 1 pairs; files[0] is the default. Returns NULL with a message in
 * err naming the file and the reason ("site.crt: cannot open: No such file or directory",
 * "site.key: does not belong to the certificate in site.crt", "site.crt: cannot load a PEM
 * certificate chain: no start line", ...); the OpenSSL error queue is empty on return either
 * way. Reads the files now and never again: a reload builds a new store. */
struct tls_certs *tls_certs_new(const struct tls_cert_files *files, int n, char *err,
				size_t errlen);

/* Drop the caller's reference. The store itself lives on until every SSL made by
 * tls_certs_new_ssl() from it is freed, so a reload may free the old store while its
 * handshakes are still running. NULL is allowed. */
void tls_certs_free(struct tls_certs *c);

/* A server-side SSL for one accepted connection (SSL_set_accept_state() done), on the
 * default context; its servername callback moves it to the chosen certificate's context
 * when the ClientHello arrives. NULL on allocation failure (error queue drained). The
 * caller owns it (SSL_free, or hand it to bufferevent_openssl_*_new with
 * BEV_OPT_CLOSE_ON_FREE). */
SSL *tls_certs_new_ssl(struct tls_certs *c);

/* The certificate file (as given to tls_certs_new) that a ClientHello naming sni gets; sni
 * NULL or "" for none. For tests and log lines; the handshake makes the same choice. */
const char *tls_certs_pick(const struct tls_certs *c, const char *sni);

/* The host names certificate i (0 .. count-1) serves, NULL-terminated, lower-case. */
int tls_certs_count(const struct tls_certs *c);
const char *const *tls_certs_names(const struct tls_certs *c, int i);

#endif
