/* Reuse of client TLS contexts across dials (see tcp_ctx_cache.h). */
#include "config.h"
#include "tcp_ctx_cache.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int describe_file(char *buf, size_t len, const char *path)
{
	struct stat st;
	if (!path)
		return snprintf(buf, len, "-\n");
	if (stat(path, &st) != 0)
		return snprintf(buf, len, "%s ?\n", path);
	return snprintf(buf, len, "%s %llu:%llu %lld %lld.%09ld\n", path,
			(unsigned long long)st.st_dev, (unsigned long long)st.st_ino,
			(long long)st.st_size, (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec);
}

/* Everything the client context is built from, as one string. NULL when out of memory. */
static char *cache_key(const struct tcp_endpoint *ep)
{
	const char *files[] = {ep->ca, ep->cert, ep->key};
	size_t len = 1;
	char part[3][PATH_MAX + 96];
	for (int i = 0; i < 3; i++) {
		int n = describe_file(part[i], sizeof part[i], files[i]);
		if (n < 0 || (size_t)n >= sizeof part[i])
			return NULL;
		len += (size_t)n;
	}
	char *key = malloc(len);
	if (!key)
		return NULL;
	snprintf(key, len, "%s%s%s", part[0], part[1], part[2]);
	return key;
}

SSL_CTX *tcp_ctx_cache_get(struct tcp_ctx_cache *c, const struct tcp_endpoint *ep,
			   struct tcp_tls_error *err)
{
	char *key = cache_key(ep);
	if (key) {
		for (int i = 0; i < TCP_CTX_CACHE_SLOTS; i++)
			if (c->slot[i].key && strcmp(c->slot[i].key, key) == 0) {
				free(key);
				c->slot[i].used = ++c->clock;
				SSL_CTX_up_ref(c->slot[i].ctx);
				return c->slot[i].ctx;
			}
	}
	SSL_CTX *ctx = tcp_tls_client_ctx_new(ep, err);
	if (!ctx || !key) {
		free(key);
		return ctx; /* uncached when out of memory: correct, only slower */
	}
	int victim = 0;
	for (int i = 1; i < TCP_CTX_CACHE_SLOTS; i++)
		if (c->slot[i].used < c->slot[victim].used)
			victim = i;
	/* Connections still using the evicted context hold their own references. */
	free(c->slot[victim].key);
	SSL_CTX_free(c->slot[victim].ctx);
	c->slot[victim].key = key;
	c->slot[victim].ctx = ctx;
	c->slot[victim].used = ++c->clock;
	SSL_CTX_up_ref(ctx);
	return ctx;
}

void tcp_ctx_cache_clear(struct tcp_ctx_cache *c)
{
	for (int i = 0; i < TCP_CTX_CACHE_SLOTS; i++) {
		free(c->slot[i].key);
		SSL_CTX_free(c->slot[i].ctx);
	}
	memset(c, 0, sizeof *c);
}
