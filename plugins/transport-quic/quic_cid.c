/* quic_cid.c: the table that routes a datagram to its connection by destination
 * connection id. Chained hashing over the id bytes (ids are random, so the first 8 bytes
 * are already a good hash); it grows when it gets full. */
#include "config.h"
#include "quic_internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct quic_cid_entry {
	struct quic_cid_entry *next;
	struct quic_conn *conn;
	size_t len;
	uint8_t cid[NGTCP2_MAX_CIDLEN];
};

static size_t cid_hash(const uint8_t *cid, size_t len)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */
	for (size_t i = 0; i < len; i++)
		h = (h ^ cid[i]) * 1099511628211ull;
	return (size_t)h;
}

static int cid_grow(struct quic_cid_table *t)
{
	size_t n = t->nslots ? t->nslots * 2 : 64;
	struct quic_cid_entry **slots = calloc(n, sizeof *slots);
	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->nslots; i++) {
		struct quic_cid_entry *e = t->slots[i], *next;
		for (; e; e = next) {
			next = e->next;
			size_t j = cid_hash(e->cid, e->len) & (n - 1);
			e->next = slots[j];
			slots[j] = e;
		}
	}
	free(t->slots);
	t->slots = slots;
	t->nslots = n;
	return 0;
}

int quic_cid_add(struct quic_cid_table *t, const uint8_t *cid, size_t len, struct quic_conn *c)
{
	if (len > NGTCP2_MAX_CIDLEN)
		return -EINVAL;
	if (t->count >= t->nslots && cid_grow(t) < 0)
		return -ENOMEM;
	struct quic_cid_entry *e = malloc(sizeof *e);
	if (!e)
		return -ENOMEM;
	e->conn = c;
	e->len = len;
	memcpy(e->cid, cid, len);
	size_t i = cid_hash(cid, len) & (t->nslots - 1);
	e->next = t->slots[i];
	t->slots[i] = e;
	t->count++;
	return 0;
}

void quic_cid_remove(struct quic_cid_table *t, const uint8_t *cid, size_t len)
{
	if (!t->nslots)
		return;
	struct quic_cid_entry **p = &t->slots[cid_hash(cid, len) & (t->nslots - 1)];
	for (; *p; p = &(*p)->next) {
		if ((*p)->len == len && memcmp((*p)->cid, cid, len) == 0) {
			struct quic_cid_entry *e = *p;
			*p = e->next;
			free(e);
			t->count--;
			return;
		}
	}
}

struct quic_conn *quic_cid_find(const struct quic_cid_table *t, const uint8_t *cid, size_t len)
{
	if (!t->nslots)
		return NULL;
	struct quic_cid_entry *e = t->slots[cid_hash(cid, len) & (t->nslots - 1)];
	for (; e; e = e->next)
		if (e->len == len && memcmp(e->cid, cid, len) == 0)
			return e->conn;
	return NULL;
}

/* A connection going away takes all its ids along (linear, but connections end rarely
 * compared to packets). */
void quic_cid_remove_conn(struct quic_cid_table *t, const struct quic_conn *c)
{
	for (size_t i = 0; i < t->nslots; i++) {
		struct quic_cid_entry **p = &t->slots[i];
		while (*p) {
			if ((*p)->conn == c) {
				struct quic_cid_entry *e = *p;
				*p = e->next;
				free(e);
				t->count--;
			} else {
				p = &(*p)->next;
			}
		}
	}
}

void quic_cid_table_fini(struct quic_cid_table *t)
{
	for (size_t i = 0; i < t->nslots; i++) {
		struct quic_cid_entry *e = t->slots[i], *next;
		for (; e; e = next) {
			next = e->next;
			free(e);
		}
	}
	free(t->slots);
	t->slots = NULL;
	t->nslots = t->count = 0;
}
