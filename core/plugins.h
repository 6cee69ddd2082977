/* The plugin registry: plugins found on the search path, checked, initialised, and looked up
 * by kind and name. struct proxyd_plugin is the ABI's opaque `proxyd_plugin`. */
#ifndef PROXYD_CORE_PLUGINS_H
#define PROXYD_CORE_PLUGINS_H

#include "proxyd/plugin.h"

struct proxyd_plugin {
	char *path;
	char *label; /* "<kind>-<name>", used in log lines */
	const struct proxyd_plugin_descriptor *desc;
	/* The plugin's ops copied into a zero-filled table of the host's size, so fields an
	 * older plugin lacks read as NULL. */
	union {
		struct proxyd_transport_ops transport;
		struct proxyd_router_ops router;
		struct proxyd_provider_ops provider;
	} ops;
	void *state;
	void *handle;
	int initialized;
	struct proxyd_plugin *next;
};

/* What happened to each file on the search path, for `proxyd -V` and the log. */
struct plugin_report {
	char *path;
	char *label;  /* set when the descriptor was readable */
	char *error;  /* NULL when loaded */
	struct plugin_report *next;
};

/* Load every plugin file in dirs (searched in order; a name found twice is refused the second
 * time). Failures are recorded in the report list (if wanted) and logged at warn; they are
 * not fatal: the daemon starts with what loads. Returns the number loaded. */
int plugins_load(const char *const *dirs, int n_dirs, struct plugin_report **report);
/* init() every loaded plugin not yet initialised; a plugin whose init fails is unloaded. */
void plugins_init_all(void);
/* fini() every plugin; their code stays mapped, so libevent finalizers that still point
 * into a plugin can run when the loop is freed afterwards. */
void plugins_fini_all(void);
void plugins_unload_all(void);
void plugin_report_free(struct plugin_report *r);

struct proxyd_plugin *plugins_find(uint32_t kind, const char *name);
struct proxyd_plugin *plugins_first(void);

/* The directory built into the binary (PKGLIBDIR). */
const char *plugins_builtin_dir(void);

#endif
