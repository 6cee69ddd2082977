/* Core-level configuration keys and the shape checks of the role sections. */
#include "config.h"
#include "conf.h"
#include "plugins.h"
#include "provider.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_DRAIN_TIMEOUT_MS 10000

static void add_dir(struct conf *c, const char *dir, int copy)
{
	if (c->n_plugin_dirs >= CONF_MAX_PLUGIN_DIRS || !dir[0])
		return;
	if (copy) {
		char *d = strdup(dir);
		if (!d)
			return;
		c->owned_dirs[c->n_plugin_dirs] = d;
		dir = d;
	}
	c->plugin_dirs[c->n_plugin_dirs++] = dir;
}

static void add_path_list(struct conf *c, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	if (!copy)
		return;
	for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
		add_dir(c, d, 1);
	free(copy);
}

static void read_log(struct conf *c, const proxyd_cfg *root)
{
	const proxyd_cfg *log = cfg_get_child(root, "log");
	if (!log)
		return;
	if (!cfg_is_group(log)) {
		cfg_error(log, "'log' must be a group: log = { level = \"info\"; };");
		return;
	}
	const char *s;
	if (cfg_get_string(log, "level", &s) == 0) {
		int lvl = log_level_parse(s);
		if (lvl < 0)
			cfg_error(cfg_get_child(log, "level"),
				  "log.level: expected one of error, warn, info, debug, got \"%s\"", s);
		else
			c->log_level = lvl;
	}
	if (cfg_get_string(log, "target", &s) == 0) {
		if (strcmp(s, "stderr") == 0)
			c->log_target = LOG_TO_STDERR;
		else if (strcmp(s, "syslog") == 0)
			c->log_target = LOG_TO_SYSLOG;
		else
			cfg_error(cfg_get_child(log, "target"),
				  "log.target: expected \"stderr\" or \"syslog\", got \"%s\"", s);
		c->log_target_set = 1;
	}
}

static void read_plugin_path(struct conf *c, const proxyd_cfg *root)
{
	const proxyd_cfg *pp = cfg_get_child(root, "plugin_path");
	if (!pp)
		return;
	const char *single = cfg_elem_string(pp);
	if (single) {
		char buf[4096];
		if (cfg_path(pp, single, buf, sizeof buf))
			add_dir(c, buf, 1);
		return;
	}
	if (!cfg_is_list(pp)) {
		cfg_error(pp, "plugin_path: expected a string or a list of strings");
		return;
	}
	for (int i = 0; i < cfg_count(pp); i++) {
		const proxyd_cfg *e = cfg_elem(pp, i);
		const char *dir = cfg_elem_string(e);
		char buf[4096];
		if (!dir)
			cfg_error(e, "plugin_path[%d]: expected a string", i);
		else if (cfg_path(e, dir, buf, sizeof buf))
			add_dir(c, buf, 1);
	}
}

static void add_default_dirs(struct conf *c)
{
	const char *env = getenv("PROXYD_PLUGIN_PATH");
	if (env)
		add_path_list(c, env);
	add_dir(c, plugins_builtin_dir(), 0);
}

void conf_init_without_file(struct conf *c, const char *const *extra_dirs, int n_extra)
{
	memset(c, 0, sizeof *c);
	c->log_level = PROXYD_LOG_INFO;
	c->log_target = LOG_TO_STDERR;
	c->drain_timeout_ms = DEFAULT_DRAIN_TIMEOUT_MS;
	for (int i = 0; i < n_extra; i++)
		add_dir(c, extra_dirs[i], 1);
}

int conf_load(struct conf *c, const char *path, const char *const *extra_dirs, int n_extra)
{
	conf_init_without_file(c, extra_dirs, n_extra);
	if (cfg_file_load(&c->file, path) < 0) {
		add_default_dirs(c);
		return c->file.n_errors;
	}
	const proxyd_cfg *root = cfg_root(&c->file);
	read_log(c, root);
	read_plugin_path(c, root);
	add_default_dirs(c);

	long long secs;
	if (cfg_get_int(root, "drain_timeout", &secs) == 0) {
		if (secs < 0 || secs > 3600)
			cfg_error(cfg_get_child(root, "drain_timeout"),
				  "drain_timeout: expected 0 to 3600 seconds, got %lld", secs);
		else
			c->drain_timeout_ms = secs * 1000;
	}
	c->server = cfg_get_child(root, "server");
	c->agent = cfg_get_child(root, "agent");
	c->tcp = cfg_get_child(root, "tcp");
	c->http = cfg_get_child(root, "http");
	c->provider = cfg_get_child(root, "provider");
	return c->file.n_errors;
}

void conf_search_path(const struct conf *c, char *buf, size_t len)
{
	size_t used = 0;
	buf[0] = '\0';
	for (int i = 0; i < c->n_plugin_dirs && used < len; i++) {
		int w = snprintf(buf + used, len - used, "%s%s", i ? ":" : "", c->plugin_dirs[i]);
		if (w > 0)
			used += (size_t)w;
	}
}

/* One endpoint entry (server.listen[i] or agent.servers[i]): its transport must be loaded,
 * and the transport checks the rest of its keys. */
void conf_check_endpoint(struct conf *c, const proxyd_cfg *e, const char *where, int role)
{
	if (!cfg_is_group(e)) {
		cfg_error(e, "%s: each entry must be a group { transport = \"tcp\"; address = ...; }",
			  where);
		return;
	}
	const char *name = "tcp";
	int rc = cfg_get_string(e, "transport", &name);
	if (rc == -EINVAL)
		return;
	struct proxyd_plugin *t = plugins_find(PROXYD_KIND_TRANSPORT, name);
	if (!t) {
		char dirs[1024];
		conf_search_path(c, dirs, sizeof dirs);
		cfg_error(rc == 0 ? cfg_get_child(e, "transport") : e,
			  "%s: transport '%s' is not available: no plugin transport-%s loaded from %s",
			  where, name, name, dirs);
		return;
	}
	t->ops.transport.check(t->state, e, role);
}

static void check_list_of_endpoints(struct conf *c, const proxyd_cfg *section, const char *key,
				    const char *where, int role)
{
	const proxyd_cfg *list = cfg_get_child(section, key);
	if (!list) {
		cfg_error(section, "%s: '%s' is required (a list of endpoints)", where, key);
		return;
	}
	if (!cfg_is_list(list) || cfg_count(list) == 0) {
		cfg_error(list, "%s.%s: expected a non-empty list ( { ... }, { ... } )", where, key);
		return;
	}
	for (int i = 0; i < cfg_count(list); i++) {
		char w[64];
		snprintf(w, sizeof w, "%s.%s[%d]", where, key, i);
		conf_check_endpoint(c, cfg_elem(list, i), w, role);
	}
}

int conf_check(struct conf *c)
{
	if (c->server) {
		if (!cfg_is_group(c->server))
			cfg_error(c->server, "'server' must be a group: server = { listen = ( ... ); };");
		else
			check_list_of_endpoints(c, c->server, "listen", "server", PROXYD_ROLE_SERVER);
	}
	if (c->agent) {
		if (!cfg_is_group(c->agent)) {
			cfg_error(c->agent, "'agent' must be a group: agent = { id = ...; servers = ( ... ); };");
		} else {
			const char *id;
			if (cfg_get_string(c->agent, "id", &id) == -ENOENT)
				cfg_error(c->agent, "agent: 'id' is required");
			check_list_of_endpoints(c, c->agent, "servers", "agent", PROXYD_ROLE_AGENT);
		}
	}
	conf_roles_check(c);
	conf_peers_check(c);
	conf_http_check(c);
	conf_provider_check(c);
	cfg_report_unknown(&c->file);
	return c->file.n_errors;
}

void conf_fini(struct conf *c)
{
	conf_provider_fini(c);
	conf_http_fini(c);
	conf_peers_fini(c);
	conf_roles_fini(c);
	if (c->file.path)
		cfg_file_fini(&c->file);
	for (int i = 0; i < CONF_MAX_PLUGIN_DIRS; i++)
		free(c->owned_dirs[i]);
	memset(c, 0, sizeof *c);
}

void conf_print_errors(const struct conf *c, int to_log)
{
	for (int i = 0; i < c->file.n_errors; i++) {
		if (to_log)
			log_err("config", "%s", c->file.errors[i]);
		else
			fprintf(stderr, "%s\n", c->file.errors[i]);
	}
}
