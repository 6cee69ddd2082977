/* router-subdomain's direct mode: what the resolvers answered, per name, until it expires;
 * and, while a lookup runs, the requests waiting for it. Bounded: when full, the entry that
 * expires first makes room (never one whose lookup runs). */
#ifndef PROXYD_ROUTER_SUBDOMAIN_SD_CACHE_H
#define PROXYD_ROUTER_SUBDOMAIN_SD_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include <proxyd/plugin.h>

#include "sd_answer.h"

enum sd_entry_state {
	SD_E_RESOLVING, /* a lookup runs; requests wait */
	SD_E_FOUND,
	SD_E_NOT_FOUND,
	SD_E_FAILED,
};

struct sd_entry {
	struct sd_entry *next; /* hash chain */
	char name[64];
	enum sd_entry_state state;
	struct sd_answer ans; /* FOUND */
	char why[300];        /* FAILED */
	uint64_t expires_ms;  /* all but RESOLVING */
	void *lookup;         /* RESOLVING: the resolver's handle */
	void *owner;          /* whose lookup it is (sd_direct.c) */
	proxyd_route_wait **waits;
	size_t n_waits, cap_waits;
};

struct sd_cache;

struct sd_cache *sd_cache_new(size_t max_entries);
/* Frees every entry; requests still waiting are resumed (the core routes them again), and
 * cancel(lookup) is called for each lookup that runs. */
void sd_cache_free(struct sd_cache *c, void (*cancel)(void *lookup));
/* The entry for name, or NULL. */
struct sd_entry *sd_cache_get(struct sd_cache *c, const char *name);
/* A new RESOLVING entry for name (which has none, or an expired one that is replaced), or
 * NULL when the cache is full of running lookups or memory is short. */
struct sd_entry *sd_cache_resolving(struct sd_cache *c, const char *name);
/* Keep wait for when the entry's lookup ends. -ENOMEM. */
int sd_cache_wait(struct sd_entry *e, proxyd_route_wait *wait);
/* The lookup ended: state and expiry are set by the caller first; every waiting request is
 * resumed. */
void sd_cache_resolved(struct sd_entry *e);
/* A connection to address failed: entries found with it expire within ttl_ms from now. */
void sd_cache_address_failed(struct sd_cache *c, const char *address, uint64_t now, uint64_t ttl_ms);
size_t sd_cache_count(const struct sd_cache *c);

#endif
