/* router-subdomain's pure parts: DNS labels, configured base domains, and which label of a
 * request's host names the agent. Functions over (pointer, length) slices, no allocation, no
 * I/O, so they are unit-tested and fuzzed apart from the plugin glue (subdomain_plugin.c). */
#ifndef PROXYD_ROUTER_SUBDOMAIN_MATCH_H
#define PROXYD_ROUTER_SUBDOMAIN_MATCH_H

#include <stddef.h>

#define SD_LABEL_MAX 63
#define SD_DOMAIN_MAX 253

/* A DNS label as a host name holds it after lower-casing: 1..63 of a-z 0-9 '-', not starting
 * or ending with '-'. */
int sd_label_valid(const char *p, size_t n);

/* A configured base domain: lower-cased into out, without a leading dot (tolerated) or a
 * trailing one; every label valid (as above), at most SD_DOMAIN_MAX bytes. Returns 0, or
 * -EINVAL with *why set. */
int sd_domain_normalize(const char *in, size_t n, char out[SD_DOMAIN_MAX + 1], const char **why);

enum sd_kind {
	SD_NONE,      /* under no base domain, or a base domain itself */
	SD_NAME,      /* exactly one valid label before the base: *label */
	SD_DEEP,      /* more than one label before the base ("a.b.base") */
	SD_BAD_LABEL, /* one label, not a valid one ("a_b.base", "-a.base", ".base") */
};

/* Which base domain the host (lower-case, without port; one trailing dot is ignored) is
 * under, and what is before it. bases are normalized domains; when several match, the
 * longest wins. *label is set for SD_NAME and SD_BAD_LABEL. */
enum sd_kind sd_match(const char *host, size_t n, const char *const *bases, size_t n_bases,
		      const char **label, size_t *label_len);

/* Is the label "<name>-<port>", name a valid label and port 1..65535 in decimal without
 * leading zeros? Returns 1 with *name_len and *port, or 0. */
int sd_split_port(const char *label, size_t n, size_t *name_len, unsigned *port);

#endif
