/* Everything OpenSSL: building the SSL_CTX of an endpoint (and saying which key's file is
 * wrong when that fails), the agent's server verification (CA and/or public-key pin, name
 * or IP check), the peer's identity for the core, and one-line reasons for failed
 * handshakes. No OpenSSL type leaves the plugin. */
#ifndef PROXYD_TCP_TLS_H
#define PROXYD_TCP_TLS_H

#include <openssl/ssl.h>

#include "tcp_config.h"

/* A failure while building a context: which configuration key it is about, and why. */
struct tcp_tls_error {
	const char *key;
	char msg[512];
};

/* Process-wide set-up of the per-connection verification slot; 0 or -ENOMEM. */
int tcp_tls_init(void);
void tcp_tls_fini(void);

/* TLS 1.3 contexts for one endpoint. NULL with *err filled on failure. Free with
 * SSL_CTX_free. The client context depends only on ep's ca, cert and key; the name to verify
 * and the pin are per connection (tcp_tls_client_ssl_new). */
SSL_CTX *tcp_tls_server_ctx_new(const struct tcp_endpoint *ep, struct tcp_tls_error *err);
SSL_CTX *tcp_tls_client_ctx_new(const struct tcp_endpoint *ep, struct tcp_tls_error *err);

/* Fills msg with why ctx's own certificate should not be served today (expired or not yet
 * valid), or "" when it is fine. */
void tcp_tls_cert_validity(SSL_CTX *ctx, char *msg, size_t len);

/* What the agent checks of the server, and what it found; lives as long as the handshake. */
struct tcp_tls_verify {
	int use_ca;
	int use_pin;
	uint8_t pin[TCP_PIN_LEN];
	int pin_mismatch;            /* set by the check: the server's key was not the pin */
	uint8_t seen[TCP_PIN_LEN];   /* the server's key, when pin_mismatch */
	const char *expected_name;   /* for messages */
};

/* A client SSL for one dial: SNI and name/IP check from ep->server_name, verification state
 * v (which must outlive the handshake; detach it before the connection changes hands). */
SSL *tcp_tls_client_ssl_new(SSL_CTX *ctx, const struct tcp_endpoint *ep,
			    struct tcp_tls_verify *v);
void tcp_tls_client_ssl_detach(SSL *ssl);

/* What the core learns about a finished handshake. */
struct tcp_tls_peer {
	char identity[256]; /* certificate CN, "" when none or unusable */
	char security[96];  /* "TLSv1.3 TLS_AES_256_GCM_SHA384" */
	int verified;       /* the peer presented a certificate that passed verification */
};
void tcp_tls_peer_describe(SSL *ssl, struct tcp_tls_peer *out);

/* The first useful error on this thread's OpenSSL queue, which is emptied: taken at the
 * failure site, before another connection's work can clear it. 0 when none. */
unsigned long tcp_tls_take_error(void);

/* One line on why the handshake on ssl failed, for the operator. e is the error taken when
 * it failed (tcp_link_error), or 0 to look at this thread's queue, which is drained either
 * way so nothing leaks into the next connection's report. v may be NULL (server side);
 * sock_err is the socket error the event callback saw (taken first thing, before anything
 * can overwrite errno). Returns -EACCES when the peer's certificate or key was refused,
 * -EPROTO for other TLS failures, -errno for socket ones. */
int tcp_tls_failure(SSL *ssl, unsigned long e, const struct tcp_tls_verify *v, int sock_err,
		    char *buf, size_t len);

#endif
