/* Finding, opening and checking plugin files: the only file in proxyd that includes ltdl.h.
 * Each file is opened with local symbol scope, so two plugins' internal symbols never clash,
 * and only the descriptor symbol is looked up. */
#include "config.h"
#include "plugins.h"
#include "plugin_check.h"
#include "host_api.h"
#include "log.h"

#include <dirent.h>
#include <errno.h>
#include <ltdl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static struct proxyd_plugin *registry;
static int ltdl_ready;

const char *plugins_builtin_dir(void)
{
	return PKGLIBDIR;
}

struct proxyd_plugin *plugins_first(void)
{
	return registry;
}

struct proxyd_plugin *plugins_find(uint32_t kind, const char *name)
{
	for (struct proxyd_plugin *p = registry; p; p = p->next)
		if (p->desc->kind == kind && strcmp(p->desc->name, name) == 0)
			return p;
	return NULL;
}

static struct proxyd_plugin *find_by_name(const char *name)
{
	for (struct proxyd_plugin *p = registry; p; p = p->next)
		if (strcmp(p->desc->name, name) == 0)
			return p;
	return NULL;
}

static void record(struct plugin_report **report, const char *path, const char *label,
		   const char *error)
{
	if (error)
		log_warn("plugin", "%s: refused: %s", path, error);
	if (!report)
		return;
	struct plugin_report *r = calloc(1, sizeof *r);
	if (!r)
		return;
	r->path = strdup(path);
	r->label = label ? strdup(label) : NULL;
	r->error = error ? strdup(error) : NULL;
	struct plugin_report **tail = report;
	while (*tail)
		tail = &(*tail)->next;
	*tail = r;
}

void plugin_report_free(struct plugin_report *r)
{
	while (r) {
		struct plugin_report *next = r->next;
		free(r->path);
		free(r->label);
		free(r->error);
		free(r);
		r = next;
	}
}

static int load_one(const char *path, struct plugin_report **report)
{
	char err[512];
	lt_dladvise advise;
	if (lt_dladvise_init(&advise) || lt_dladvise_local(&advise)) {
		record(report, path, NULL, lt_dlerror());
		return -1;
	}
	lt_dlhandle h = lt_dlopenadvise(path, advise);
	lt_dladvise_destroy(&advise);
	if (!h) {
		snprintf(err, sizeof err, "cannot open: %s", lt_dlerror());
		record(report, path, NULL, err);
		return -1;
	}
	const struct proxyd_plugin_descriptor *d = lt_dlsym(h, PROXYD_PLUGIN_SYMBOL);
	if (!d) {
		snprintf(err, sizeof err, "entry symbol missing: expected '%s', not exported",
			 PROXYD_PLUGIN_SYMBOL);
		record(report, path, NULL, err);
		lt_dlclose(h);
		return -1;
	}
	if (plugin_check_descriptor(d, err, sizeof err) < 0) {
		record(report, path, NULL, err);
		lt_dlclose(h);
		return -1;
	}
	char label[128];
	snprintf(label, sizeof label, "%s-%s", plugin_kind_name(d->kind), d->name);
	struct proxyd_plugin *dup = find_by_name(d->name);
	if (dup) {
		snprintf(err, sizeof err, "duplicate name: '%s' is already loaded from %s", d->name,
			 dup->path);
		record(report, path, label, err);
		lt_dlclose(h);
		return -1;
	}
	struct proxyd_plugin *p = calloc(1, sizeof *p);
	if (!p || !(p->path = strdup(path)) || !(p->label = strdup(label))) {
		if (p)
			free(p->path);
		free(p);
		lt_dlclose(h);
		return -ENOMEM;
	}
	p->desc = d;
	p->handle = h;
	memcpy(&p->ops, d->ops, d->ops_size);
	struct proxyd_plugin **tail = &registry;
	while (*tail)
		tail = &(*tail)->next;
	*tail = p;
	record(report, path, label, NULL);
	log_debug("plugin", "loaded %s %s from %s", label, d->version ? d->version : "?", path);
	return 0;
}

static int is_plugin_file(const char *name)
{
	size_t n = strlen(name);
	return n > 3 && strcmp(name + n - 3, ".so") == 0 && name[0] != '.';
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

int plugins_load(const char *const *dirs, int n_dirs, struct plugin_report **report)
{
	if (!ltdl_ready) {
		if (lt_dlinit() != 0) {
			log_err("plugin", "cannot initialise libltdl: %s", lt_dlerror());
			return 0;
		}
		ltdl_ready = 1;
	}
	int loaded = 0;
	for (int i = 0; i < n_dirs; i++) {
		struct dirent **names;
		/* Sorted, so which of two same-named files wins does not depend on the fs. */
		int n = scandir(dirs[i], &names, NULL, by_name);
		if (n < 0) {
			log_debug("plugin", "%s: %s", dirs[i], strerror(errno));
			continue;
		}
		for (int j = 0; j < n; j++) {
			if (is_plugin_file(names[j]->d_name)) {
				char path[4096];
				snprintf(path, sizeof path, "%s/%s", dirs[i], names[j]->d_name);
				if (load_one(path, report) == 0)
					loaded++;
			}
			free(names[j]);
		}
		free(names);
	}
	return loaded;
}

void plugins_init_all(void)
{
	struct proxyd_plugin **pp = &registry;
	while (*pp) {
		struct proxyd_plugin *p = *pp;
		if (!p->initialized) {
			int rc = p->desc->init(host_table(), p, &p->state);
			if (rc != 0) {
				log_warn("plugin", "%s: init failed (%s); not used", p->label,
					 strerror(rc < 0 ? -rc : rc));
				*pp = p->next;
				lt_dlclose(p->handle);
				free(p->path);
				free(p->label);
				free(p);
				continue;
			}
			p->initialized = 1;
		}
		pp = &p->next;
	}
}

void plugins_fini_all(void)
{
	for (struct proxyd_plugin *p = registry; p; p = p->next)
		if (p->initialized) {
			p->desc->fini(p->state);
			p->initialized = 0;
		}
}

void plugins_unload_all(void)
{
	while (registry) {
		struct proxyd_plugin *p = registry;
		registry = p->next;
		if (p->initialized)
			p->desc->fini(p->state);
		lt_dlclose(p->handle);
		free(p->path);
		free(p->label);
		free(p);
	}
	if (ltdl_ready) {
		lt_dlexit();
		ltdl_ready = 0;
	}
}
