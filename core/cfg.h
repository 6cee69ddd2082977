/* The configuration tree: libconfig underneath, with two additions the daemon needs.
 * Every key read through these getters is marked known, so keys nobody reads can be reported
 * as unknown; and every problem is collected as "file:line: message" instead of printed, so
 * `proxyd -t` can list all of them at once. proxyd_cfg (the ABI's opaque handle) is a
 * libconfig setting; no libconfig type crosses the plugin ABI. */
#ifndef PROXYD_CORE_CFG_H
#define PROXYD_CORE_CFG_H

#include <libconfig.h>
#include "proxyd/plugin.h"

struct cfg_file {
	config_t lc; /* first: a setting's ->config leads back to its cfg_file */
	char *path;
	char *dir;
	char **errors;
	int n_errors;
	int parsed; /* the text parsed: the tree is whole, so its values can all be checked */
};

/* Parse path. Returns 0, or -1 with the parse error recorded (file:line: message). The
 * struct must be released with cfg_file_fini either way. */
int cfg_file_load(struct cfg_file *f, const char *path);
/* Parse a buffer (tests and fuzzing); name is used in messages. */
int cfg_file_load_string(struct cfg_file *f, const char *name, const char *text);
void cfg_file_fini(struct cfg_file *f);

const proxyd_cfg *cfg_root(const struct cfg_file *f);
/* After everything that knows keys has read them: record an error for each key no one read. */
void cfg_report_unknown(struct cfg_file *f);
/* Record an error with file and line of node (or the file alone when node is NULL). */
void cfg_file_error(struct cfg_file *f, const proxyd_cfg *node, const char *fmt, ...)
	PROXYD_PRINTF(3, 4);

/* The getters behind the host table (see plugin.h for their contract). */
int cfg_get_string(const proxyd_cfg *group, const char *key, const char **out);
int cfg_get_int(const proxyd_cfg *group, const char *key, long long *out);
int cfg_get_bool(const proxyd_cfg *group, const char *key, int *out);
const proxyd_cfg *cfg_get_child(const proxyd_cfg *group, const char *key);
int cfg_count(const proxyd_cfg *node);
const proxyd_cfg *cfg_elem(const proxyd_cfg *node, int index);
const char *cfg_elem_string(const proxyd_cfg *node);
/* The integer value of an element itself (for arrays of integers): 0, or -EINVAL when it is
 * not an integer (nothing recorded). */
int cfg_elem_int(const proxyd_cfg *node, long long *out);
void cfg_error(const proxyd_cfg *node, const char *fmt, ...) PROXYD_PRINTF(2, 3);
void cfg_verror(const proxyd_cfg *node, const char *fmt, va_list ap) PROXYD_PRINTF(2, 0);
const char *cfg_path(const proxyd_cfg *node, const char *path, char *buf, size_t len);
/* Name and line of a node, for messages. */
const char *cfg_name(const proxyd_cfg *node);
int cfg_line(const proxyd_cfg *node);
/* Is the node a group, list, array, or scalar? */
int cfg_is_group(const proxyd_cfg *node);
int cfg_is_list(const proxyd_cfg *node);

#endif
