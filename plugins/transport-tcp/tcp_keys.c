/* The endpoint key reader shared by the transports (see tcp_keys.h). */
#include "config.h"
#include "tcp_keys.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* Errors point at the key's own line when it is present, else at the entry. */
const proxyd_cfg *node_of(struct reader *r, const char *key)
{
	const proxyd_cfg *n = r->host->cfg_child(r->entry, key);
	return n ? n : r->entry;
}

int read_int(struct reader *r, const char *key, long long min, long long max, const char *what,
	     long long *out)
{
	long long v;
	int rc = r->host->cfg_int(r->entry, key, &v);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		r->errors++;
		return -1;
	}
	if (v < min || v > max) {
		ERR_AT(r, key, "%s: expected %s (%lld to %lld), got %lld", key, what, min, max, v);
		return -1;
	}
	*out = v;
	return 1;
}

/* 1 when set, 0 when absent, -1 after an error was recorded. */
int read_string(struct reader *r, const char *key, const char **out)
{
	int rc = r->host->cfg_string(r->entry, key, out);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0) {
		r->errors++;
		return -1;
	}
	return 1;
}

int read_file(struct reader *r, const char *key, char **out)
{
	const char *v;
	int rc = read_string(r, key, &v);
	if (rc <= 0)
		return rc;
	if (!v[0]) {
		ERR_AT(r, key, "%s: expected a file name, got \"\"", key);
		return -1;
	}
	char buf[PATH_MAX];
	if (!r->host->cfg_path(r->entry, v, buf, sizeof buf)) {
		ERR_AT(r, key, "%s: path is too long", key);
		return -1;
	}
	*out = strdup(buf);
	if (!*out) {
		r->nomem = 1;
		return -1;
	}
	return 1;
}
