/* The agent's client TLS contexts, reused across redials. An agent redials the same server
 * after every network blip; parsing the CA bundle and key each time is wasted work on the
 * loop thread. An entry is keyed by the files' paths and their identity on disk (inode,
 * size, mtime), so a certificate renewed in place is picked up by the next dial without a
 * restart or reload. */
#ifndef PROXYD_TCP_CTX_CACHE_H
#define PROXYD_TCP_CTX_CACHE_H

#include <openssl/ssl.h>

#include "tcp_tls.h"

#define TCP_CTX_CACHE_SLOTS 8

struct tcp_ctx_cache {
	struct {
		char *key;
		SSL_CTX *ctx;
		unsigned long long used; /* for evicting the least recently used */
	} slot[TCP_CTX_CACHE_SLOTS];
	unsigned long long clock;
};

/* A client context for ep, from the cache or built now. Returns a reference the caller
 * releases with SSL_CTX_free, or NULL with *err filled. */
SSL_CTX *tcp_ctx_cache_get(struct tcp_ctx_cache *c, const struct tcp_endpoint *ep,
			   struct tcp_tls_error *err);
void tcp_ctx_cache_clear(struct tcp_ctx_cache *c);

#endif
