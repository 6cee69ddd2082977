/* router-path's pure parts: the request path under the prefix, agent and service names, and
 * the sticky cookie. Functions over (pointer, length) slices of peer text, no allocation, no
 * I/O, so they are unit-tested and fuzzed apart from the plugin glue (path_plugin.c). */
#ifndef PROXYD_ROUTER_PATH_PARSE_H
#define PROXYD_ROUTER_PATH_PARSE_H

#include <stddef.h>

/* An agent id as the core accepts it (agent.id): 1..64 of A-Z a-z 0-9 . _ - */
#define RP_AGENT_MAX 64
/* A service name travels in the stream-open header: 1..63 of the same characters. */
#define RP_SERVICE_MAX 63
#define RP_PREFIX_MAX 256
#define RP_COOKIE_NAME_MAX 128

int rp_agent_valid(const char *p, size_t n);
int rp_service_valid(const char *p, size_t n);

/* "agent" or "agent:service". On success returns 0 with agent and service NUL-terminated
 * (service "" when none is named); -EINVAL when either part is not valid. */
int rp_spec_parse(const char *p, size_t n, char agent[RP_AGENT_MAX + 1],
		  char service[RP_SERVICE_MAX + 1]);

/* A configured prefix: starts and ends with '/', at most RP_PREFIX_MAX bytes, only bytes a
 * path may hold unescaped (no '?', '#', '%', spaces or controls). Sets *why on failure. */
int rp_prefix_valid(const char *p, size_t n, const char **why);

/* A cookie name is an RFC 6265 token; at most RP_COOKIE_NAME_MAX bytes. */
int rp_cookie_name_valid(const char *p, size_t n);

/* The path part of a request-target in origin form: the path itself for "/a/b", the part
 * from the first '/' after the authority for an absolute-form "http://h:1/a/b" ("/" when it
 * has none). Returns 0, or -EINVAL for any other form ("*", "host:port"). */
int rp_origin_path(const char *path, size_t n, const char **out, size_t *out_len);

enum rp_verdict {
	RP_OUTSIDE,  /* the path is not under the prefix */
	RP_MATCH,    /* agent, service and rest are set */
	RP_REDIRECT, /* the path is the prefix and an agent without the trailing '/' */
	RP_BAD,      /* under the prefix, but no valid agent[:service]; why is set */
};

struct rp_split {
	char agent[RP_AGENT_MAX + 1];
	char service[RP_SERVICE_MAX + 1]; /* "" when the path names none */
	const char *rest;                /* RP_MATCH: from the '/' after the agent segment */
	size_t rest_len;                 /* >= 1 */
	const char *why;                 /* RP_BAD: a static phrase for the response */
};

/* Split an origin-form path (no query) against prefix (valid as above). */
enum rp_verdict rp_split_path(const char *prefix, size_t prefix_len, const char *path, size_t n,
			      struct rp_split *out);

/* Find the cookie called name (case-sensitive, as browsers send it) in the value of one
 * Cookie field line: pairs "name=value" separated by ';' with optional whitespace, a value
 * possibly in double quotes (removed). nth counts matches from 0, so a line holding the
 * name twice yields both. Returns 1 with the value's slice, or 0. */
int rp_cookie_get(const char *line, size_t n, const char *name, unsigned nth, const char **value,
		  size_t *value_len);

/* Is every byte printable ASCII without space (a query string safe to echo in Location)? */
int rp_visible_ascii(const char *p, size_t n);

#endif
