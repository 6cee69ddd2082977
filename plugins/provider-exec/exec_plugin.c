/* provider-exec (`plugin = "exec"`, the default provider plugin): public URLs from external
 * tunnel programs (cloudflared, ngrok, tailscale funnel, bore, ssh -R, or any command). This
 * file is the plugin's face to the core: descriptor, the keys of one `provider` entry and the
 * environment overrides; presets are in exec_preset.c, the lifecycle in exec_run.c. */
#include "config.h"
#include "exec_plugin.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const struct proxyd_host *px_host;
proxyd_plugin *px_plugin;

#define DEFAULT_STATE_DIR "/run/proxyd"

static int px_init(const struct proxyd_host *h, proxyd_plugin *self, void **state)
{
	if (!PROXYD_HOST_HAS(h, provider_stopped)) {
		h->log(self, PROXYD_LOG_ERROR, 0, "needs a host with ABI 1.2 (provider reports)");
		return -ENOTSUP;
	}
	px_host = h;
	px_plugin = self;
	*state = NULL;
	return 0;
}

static void px_fini(void *state)
{
}

static const proxyd_cfg *key_node(const proxyd_cfg *e, const char *key)
{
	const proxyd_cfg *n = px_host->cfg_child(e, key);
	return n ? n : e;
}

/* A string key copied: 1 set, 0 absent, -1 after a recorded error. */
static int read_str(const proxyd_cfg *e, const char *key, char **out)
{
	const char *s;
	int rc = px_host->cfg_string(e, key, &s);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return -1;
	free(*out);
	*out = strdup(s);
	return *out ? 1 : -1;
}

static int read_secs(const proxyd_cfg *e, const char *key, unsigned dflt, long long min,
		     long long max, unsigned *out_ms)
{
	long long v;
	int rc = px_host->cfg_int(e, key, &v);
	*out_ms = dflt * 1000;
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return -1;
	if (v < min || v > max) {
		px_host->cfg_error(key_node(e, key), "%s: expected %lld to %lld seconds, got %lld", key,
				   min, max, v);
		return -1;
	}
	*out_ms = (unsigned)(v * 1000);
	return 0;
}

/* A list of strings copied into a NULL-terminated array. */
static int read_list(const proxyd_cfg *e, const char *key, char ***out, int *n)
{
	const proxyd_cfg *l = px_host->cfg_child(e, key);
	if (!l)
		return 0;
	int count = px_host->cfg_count(l);
	char **v = calloc((size_t)count + 1, sizeof *v);
	if (!v)
		return -1;
	for (int i = 0; i < count; i++) {
		const char *s = px_host->cfg_elem_string(px_host->cfg_elem(l, i));
		if (!s) {
			px_host->cfg_error(px_host->cfg_elem(l, i), "%s[%d]: expected a string", key, i);
			for (int k = 0; k < i; k++)
				free(v[k]);
			free(v);
			return -1;
		}
		v[i] = strdup(s);
	}
	*out = v;
	*n = count;
	return 1;
}

/* PROXYD_PROVIDER_<NAME>_<KEY>, else PROXYD_PROVIDER_<KEY>. */
static const char *env_override(const char *name, const char *key, char *which, size_t len)
{
	char var[160];
	if (px_env_name(name, key, var, sizeof var) == 0 && getenv(var)) {
		snprintf(which, len, "%s", var);
		return getenv(var);
	}
	snprintf(var, sizeof var, "PROXYD_PROVIDER_%s", key);
	if (getenv(var)) {
		snprintf(which, len, "%s", var);
		return getenv(var);
	}
	return NULL;
}

static char *read_token_file(const proxyd_cfg *e, const char *path)
{
	char full[4096];
	FILE *f = px_host->cfg_path(e, path, full, sizeof full) ? fopen(full, "r") : NULL;
	if (!f) {
		px_host->cfg_error(key_node(e, "token_file"), "token_file: cannot open %s: %s", path,
				   strerror(errno));
		return NULL;
	}
	char line[4096] = "";
	if (!fgets(line, sizeof line, f))
		line[0] = '\0';
	fclose(f);
	/* A token file written by hand often ends in spaces or a newline. */
	size_t n = strcspn(line, "\r\n");
	while (n > 0 && isspace((unsigned char)line[n - 1]))
		n--;
	line[n] = '\0';
	char *t = line[0] ? strdup(line) : NULL;
	if (!line[0])
		px_host->cfg_error(key_node(e, "token_file"), "token_file %s is empty", path);
	explicit_bzero(line, sizeof line);
	return t;
}

static void inst_free(struct px_inst *p)
{
	if (!p)
		return;
	px_run_free(p);
	if (p->token) {
		explicit_bzero(p->token, strlen(p->token));
		free(p->token);
	}
	char **lists[] = {p->args, p->ssh_options};
	for (size_t l = 0; l < 2; l++) {
		for (char **a = lists[l]; a && *a; a++)
			free(*a);
		free(lists[l]);
	}
	char *strs[] = {p->local, p->fixed_url, p->override_url, p->command, p->url_regex,
			p->url_tmpl, p->token_var, p->ssh_host, p->ssh_user, p->ssh_identity,
			p->ssh_known_hosts, p->ssh_strict, p->url_host, p->bore_server,
			p->health_path, p->state_file, p->on_url};
	for (size_t i = 0; i < sizeof strs / sizeof strs[0]; i++)
		free(strs[i]);
	free(p);
}

static int valid_url(const char *u)
{
	char scheme[8], host[256], path[512];
	int port;
	return px_split_url(u, scheme, sizeof scheme, host, sizeof host, &port, path, sizeof path) == 0;
}

static int px_new(void *state, const proxyd_cfg *e, proxyd_provider *handle, void **out)
{
	struct px_inst *p = calloc(1, sizeof *p);
	if (!p)
		return -ENOMEM;
	p->handle = handle;
	int bad = 0;
	char which[160];
	const char *s, *env;

	if (px_host->cfg_string(e, "name", &s) == 0)
		snprintf(p->name, sizeof p->name, "%s", s);
	px_host->cfg_string(e, "plugin", &s); /* the core's key */

	/* preset (PROXYD_PROVIDER_PRESET wins) */
	char *preset = NULL;
	if (read_str(e, "preset", &preset) < 0)
		bad = 1;
	if (read_str(e, "command", &p->command) < 0)
		bad = 1;
	const proxyd_cfg *preset_node = key_node(e, "preset");
	if ((env = env_override(p->name, "PRESET", which, sizeof which))) {
		free(preset);
		preset = strdup(env);
		preset_node = e;
	}
	if (!preset)
		preset = strdup(p->command ? "custom" : "auto");
	if (preset) {
		p->preset = px_preset_find(preset);
		if (!p->preset) {
			px_host->cfg_error(preset_node,
					   "%s%spreset '%s': expected auto, cloudflared, cloudflared-named, "
					   "ngrok, tailscale, bore, ssh or custom",
					   preset_node == e ? which : "", preset_node == e ? ": " : "",
					   preset);
			bad = 1;
		}
	}
	free(preset);

	/* local (PROXYD_PROVIDER_LOCAL wins) */
	int rc = read_str(e, "local", &p->local);
	if (rc < 0)
		bad = 1;
	const proxyd_cfg *local_node = key_node(e, "local");
	if ((env = env_override(p->name, "LOCAL", which, sizeof which))) {
		free(p->local);
		p->local = strdup(env);
		local_node = e;
	}
	if (!p->local && rc == 0) {
		px_host->cfg_error(e, "provider '%s': 'local' (the \"host:port\" to make public) is required",
				   p->name);
		bad = 1;
	} else if (p->local &&
		   px_split_hostport(p->local, p->local_host, sizeof p->local_host, &p->local_port) < 0) {
		px_host->cfg_error(local_node, "%s%slocal '%s': expected host:port",
				   local_node == e ? which : "", local_node == e ? ": " : "", p->local);
		bad = 1;
	}

	if (read_str(e, "url", &p->fixed_url) < 0)
		bad = 1;
	else if (p->fixed_url && !valid_url(p->fixed_url)) {
		px_host->cfg_error(key_node(e, "url"), "url '%s': expected http://... or https://...",
				   p->fixed_url);
		bad = 1;
	}
	if ((env = env_override(p->name, "URL", which, sizeof which))) {
		if (!valid_url(env)) {
			px_host->cfg_error(e, "%s '%s': expected http://... or https://...", which, env);
			bad = 1;
		} else {
			p->override_url = strdup(env);
		}
	}

	/* custom */
	if (read_list(e, "args", &p->args, &p->n_args) < 0)
		bad = 1;
	if (read_str(e, "url_regex", &p->url_regex) < 0)
		bad = 1;

	/* secrets */
	char *token_env = NULL, *token_file = NULL;
	if (read_str(e, "token_env", &token_env) < 0 || read_str(e, "token_file", &token_file) < 0)
		bad = 1;
	if (token_env && token_file) {
		px_host->cfg_error(e, "provider '%s': give at most one of token_env and token_file",
				   p->name);
		bad = 1;
	} else if (token_env) {
		const char *t = getenv(token_env);
		if (!t || !*t) {
			px_host->cfg_error(key_node(e, "token_env"),
					   "token_env: the environment variable %s is not set", token_env);
			bad = 1;
		} else {
			p->token = strdup(t);
		}
	} else if (token_file) {
		p->token = read_token_file(e, token_file);
		if (!p->token)
			bad = 1;
	}
	free(token_env);
	free(token_file);
	if (read_str(e, "token_var", &p->token_var) < 0)
		bad = 1;

	/* ssh */
	long long v;
	if (read_str(e, "ssh_host", &p->ssh_host) < 0 || read_str(e, "ssh_user", &p->ssh_user) < 0 ||
	    read_str(e, "url_host", &p->url_host) < 0 ||
	    read_list(e, "ssh_options", &p->ssh_options, &p->n_ssh_options) < 0)
		bad = 1;
	char *ident = NULL, *known = NULL;
	char full[4096];
	if (read_str(e, "ssh_identity", &ident) < 0 || read_str(e, "ssh_known_hosts", &known) < 0)
		bad = 1;
	if (ident && px_host->cfg_path(e, ident, full, sizeof full))
		p->ssh_identity = strdup(full);
	if (known && px_host->cfg_path(e, known, full, sizeof full))
		p->ssh_known_hosts = strdup(full);
	free(ident);
	free(known);
	p->ssh_port = 22;
	if ((rc = px_host->cfg_int(e, "ssh_port", &v)) == 0) {
		if (v < 1 || v > 65535) {
			px_host->cfg_error(key_node(e, "ssh_port"), "ssh_port: expected 1 to 65535, got %lld", v);
			bad = 1;
		} else {
			p->ssh_port = (int)v;
		}
	} else if (rc == -EINVAL) {
		bad = 1;
	}
	if (read_str(e, "ssh_strict_host_key_checking", &p->ssh_strict) < 0)
		bad = 1;
	else if (p->ssh_strict && strcmp(p->ssh_strict, "yes") != 0 && strcmp(p->ssh_strict, "no") != 0 &&
		 strcmp(p->ssh_strict, "accept-new") != 0) {
		px_host->cfg_error(key_node(e, "ssh_strict_host_key_checking"),
				   "ssh_strict_host_key_checking: expected yes, no or accept-new, got '%s'",
				   p->ssh_strict);
		bad = 1;
	}
	if (read_str(e, "bore_server", &p->bore_server) < 0)
		bad = 1;

	/* timers */
	bad |= read_secs(e, "startup_timeout", 30, 1, 3600, &p->startup_timeout_ms) < 0;
	bad |= read_secs(e, "health_interval", 30, 0, 86400, &p->health_interval_ms) < 0;
	bad |= read_secs(e, "health_timeout", 5, 1, 300, &p->health_timeout_ms) < 0;
	bad |= read_secs(e, "restart_min", 1, 1, 3600, &p->restart_min_ms) < 0;
	bad |= read_secs(e, "restart_max", 60, 1, 86400, &p->restart_max_ms) < 0;
	bad |= read_secs(e, "stop_timeout", 5, 1, 300, &p->stop_timeout_ms) < 0;
	if (p->restart_max_ms < p->restart_min_ms) {
		px_host->cfg_error(e, "provider '%s': restart_max must not be less than restart_min",
				   p->name);
		bad = 1;
	}
	p->health_failures = 3;
	if ((rc = px_host->cfg_int(e, "health_failures", &v)) == 0) {
		if (v < 1 || v > 1000) {
			px_host->cfg_error(key_node(e, "health_failures"),
					   "health_failures: expected 1 to 1000, got %lld", v);
			bad = 1;
		} else {
			p->health_failures = (unsigned)v;
		}
	} else if (rc == -EINVAL) {
		bad = 1;
	}
	if (read_str(e, "health_path", &p->health_path) < 0)
		bad = 1;
	else if (p->health_path && p->health_path[0] != '/') {
		px_host->cfg_error(key_node(e, "health_path"), "health_path '%s': expected a path starting with /",
				   p->health_path);
		bad = 1;
	}

	/* where the URL goes */
	char *state_file = NULL;
	if ((rc = read_str(e, "state_file", &state_file)) < 0) {
		bad = 1;
	} else if (rc > 0) {
		if (state_file[0] && px_host->cfg_path(e, state_file, full, sizeof full))
			p->state_file = strdup(full);
	} else if (px_state_path(DEFAULT_STATE_DIR, p->name, full, sizeof full) == 0) {
		p->state_file = strdup(full);
	}
	free(state_file);
	if (read_str(e, "on_url", &p->on_url) < 0)
		bad = 1;

	/* What the preset needs. */
	if (p->preset && !bad) {
		switch (p->preset->id) {
		case PX_CUSTOM:
			if (!p->command) {
				px_host->cfg_error(e, "provider '%s': preset custom needs 'command'", p->name);
				bad = 1;
			}
			break;
		case PX_CLOUDFLARED_NAMED:
			if (!p->token && !p->override_url) {
				px_host->cfg_error(e,
						   "provider '%s': preset cloudflared-named needs the tunnel "
						   "token (token_env or token_file)",
						   p->name);
				bad = 1;
			}
			break;
		case PX_SSH:
			if (!p->ssh_host && !p->override_url) {
				px_host->cfg_error(e, "provider '%s': preset ssh needs 'ssh_host'", p->name);
				bad = 1;
			}
			break;
		default:
			break;
		}
		if (p->preset->id != PX_CUSTOM && p->preset->id != PX_AUTO && (p->command || p->args)) {
			px_host->cfg_error(e, "provider '%s': 'command' and 'args' are for preset custom",
					   p->name);
			bad = 1;
		}
		if (p->url_regex && p->preset->id != PX_CUSTOM) {
			px_host->cfg_error(key_node(e, "url_regex"),
					   "url_regex is for preset custom (preset %s knows its URL)",
					   p->preset->name);
			bad = 1;
		}
	}
	if (p->url_regex && !bad) {
		regex_t re;
		int err = regcomp(&re, p->url_regex, REG_EXTENDED);
		if (err != 0) {
			char msg[200];
			regerror(err, &re, msg, sizeof msg);
			px_host->cfg_error(key_node(e, "url_regex"), "url_regex: %s", msg);
			bad = 1;
		} else {
			if (re.re_nsub < 1) {
				px_host->cfg_error(key_node(e, "url_regex"),
						   "url_regex: needs a group ( ... ) around the URL");
				bad = 1;
			}
			regfree(&re);
		}
	}
	if (bad) {
		inst_free(p);
		return -EINVAL;
	}
	*out = p;
	return 0;
}

static void px_free(void *st)
{
	inst_free(st);
}

static int px_start(void *st)
{
	return px_run_start(st);
}

static void px_stop(void *st)
{
	px_run_stop(st);
}

static const struct proxyd_provider_ops ops = {
	.provider_new = px_new,
	.provider_free = px_free,
	.start = px_start,
	.stop = px_stop,
};

PROXYD_PLUGIN_DECLARE(PROXYD_KIND_PROVIDER, "exec", PACKAGE_VERSION, px_init, px_fini, &ops);
