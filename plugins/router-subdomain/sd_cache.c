/* router-subdomain's cache of resolver answers (see sd_cache.h). */
#include "config.h"
#include "sd_cache.h"
#include "sd_host.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define BUCKETS 256

struct sd_cache {
	struct sd_entry *bucket[BUCKETS];
	size_t n, max;
};

static unsigned hash(const char *s)
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 16777619u;
	return h % BUCKETS;
}

struct sd_cache *sd_cache_new(size_t max_entries)
{
	struct sd_cache *c = calloc(1, sizeof *c);
	if (c)
		c->max = max_entries;
	return c;
}

static void resume_all(struct sd_entry *e)
{
	/* Taken out first: a resume never runs the router at once, but keep the list ours. */
	proxyd_route_wait **w = e->waits;
	size_t n = e->n_waits;
	e->waits = NULL;
	e->n_waits = e->cap_waits = 0;
	for (size_t i = 0; i < n; i++)
		sd_host->route_resume(w[i]);
	free(w);
}

static void entry_free(struct sd_entry *e, void (*cancel)(void *lookup))
{
	if (e->lookup && cancel)
		cancel(e->lookup);
	resume_all(e);
	free(e);
}

static void unlink_entry(struct sd_cache *c, struct sd_entry *e)
{
	for (struct sd_entry **p = &c->bucket[hash(e->name)]; *p; p = &(*p)->next)
		if (*p == e) {
			*p = e->next;
			c->n--;
			return;
		}
}

void sd_cache_free(struct sd_cache *c, void (*cancel)(void *lookup))
{
	if (!c)
		return;
	for (size_t b = 0; b < BUCKETS; b++)
		while (c->bucket[b]) {
			struct sd_entry *e = c->bucket[b];
			c->bucket[b] = e->next;
			entry_free(e, cancel);
		}
	free(c);
}

struct sd_entry *sd_cache_get(struct sd_cache *c, const char *name)
{
	for (struct sd_entry *e = c->bucket[hash(name)]; e; e = e->next)
		if (strcmp(e->name, name) == 0)
			return e;
	return NULL;
}

/* Room for one more: the answered entry that expires first goes. */
static int make_room(struct sd_cache *c)
{
	if (c->n < c->max)
		return 0;
	struct sd_entry *victim = NULL;
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct sd_entry *e = c->bucket[b]; e; e = e->next)
			if (e->state != SD_E_RESOLVING &&
			    (!victim || e->expires_ms < victim->expires_ms))
				victim = e;
	if (!victim)
		return -ENOSPC;
	unlink_entry(c, victim);
	entry_free(victim, NULL);
	return 0;
}

struct sd_entry *sd_cache_resolving(struct sd_cache *c, const char *name)
{
	struct sd_entry *old = sd_cache_get(c, name);
	if (old) {
		if (old->state == SD_E_RESOLVING)
			return NULL; /* the caller should have waited on it */
		unlink_entry(c, old);
		entry_free(old, NULL);
	}
	if (make_room(c) < 0)
		return NULL;
	struct sd_entry *e = calloc(1, sizeof *e);
	if (!e)
		return NULL;
	strncpy(e->name, name, sizeof e->name - 1);
	e->state = SD_E_RESOLVING;
	unsigned h = hash(e->name);
	e->next = c->bucket[h];
	c->bucket[h] = e;
	c->n++;
	return e;
}

int sd_cache_wait(struct sd_entry *e, proxyd_route_wait *wait)
{
	if (e->n_waits == e->cap_waits) {
		size_t cap = e->cap_waits ? e->cap_waits * 2 : 4;
		proxyd_route_wait **grown = realloc(e->waits, cap * sizeof *grown);
		if (!grown)
			return -ENOMEM;
		e->waits = grown;
		e->cap_waits = cap;
	}
	e->waits[e->n_waits++] = wait;
	return 0;
}

void sd_cache_resolved(struct sd_entry *e)
{
	e->lookup = NULL;
	resume_all(e);
}

void sd_cache_address_failed(struct sd_cache *c, const char *address, uint64_t now, uint64_t ttl_ms)
{
	for (size_t b = 0; b < BUCKETS; b++)
		for (struct sd_entry *e = c->bucket[b]; e; e = e->next)
			if (e->state == SD_E_FOUND && strcmp(e->ans.address, address) == 0 &&
			    e->expires_ms > now + ttl_ms)
				e->expires_ms = now + ttl_ms;
}

size_t sd_cache_count(const struct sd_cache *c)
{
	return c->n;
}
