/* provider-exec: a provider's life on the event loop. Launch the program; read its output
 * into the log and, until it is found, look for the URL in it (startup_timeout); publish the
 * URL (the log, once per new URL; the state file; the core, for `proxyctl status`; the on_url
 * command); check its health every health_interval and restart it after health_failures
 * failed checks in a row; restart it when it ends, after a backoff that doubles from
 * restart_min to restart_max and starts over once a health check passes; on stop, SIGTERM
 * to its process group and SIGKILL after stop_timeout. */
#include "config.h"
#include "exec_health.h"
#include "exec_plugin.h"
#include "exec_proc.h"

#include <errno.h>
#include <event2/dns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

extern char **environ;

#define LOG(p, lvl, ...) px_host->log(px_plugin, (lvl), 0, __VA_ARGS__)

static const char *const state_names[] = {"idle", "starting", "running", "restarting", "stopping",
					  "stopped"};

static void report(struct px_inst *p)
{
	struct proxyd_provider_status st = {
		.size = sizeof st,
		.state = state_names[p->state],
		.url = p->url[0] ? p->url : NULL,
		.program = p->preset && p->preset->program ? p->preset->program
			   : p->command			      ? p->command
							      : NULL,
		.pid = p->child ? (int)px_child_pid(p->child) : 0,
		.restarts = p->restarts,
	};
	px_host->provider_report(p->handle, &st);
}

static void set_state(struct px_inst *p, enum px_state s)
{
	p->state = s;
	report(p);
}

static void spawn(struct px_inst *p);

/* ---- the state file and on_url ---- */

static void mkdir_parent(const char *path)
{
	char dir[4096];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		LOG(p, PROXYD_LOG_WARN, "%s: cannot create %s: %s", "state_file", dir, strerror(errno));
}

static void state_file_write(struct px_inst *p)
{
	if (!p->state_file)
		return;
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", p->state_file);
	mkdir_parent(p->state_file);
	/* Written beside and renamed over: a reader never sees half a URL. */
	FILE *f = fopen(tmp, "w");
	if (!f || fprintf(f, "%s\n", p->url) < 0 || fclose(f) != 0 || rename(tmp, p->state_file) != 0) {
		LOG(p, PROXYD_LOG_WARN, "%s: cannot write the state file %s: %s", p->name,
		    p->state_file, strerror(errno));
		if (f)
			unlink(tmp);
	}
}

static void state_file_remove(struct px_inst *p)
{
	if (p->state_file && unlink(p->state_file) != 0 && errno != ENOENT)
		LOG(p, PROXYD_LOG_WARN, "%s: cannot remove %s: %s", p->name, p->state_file,
		    strerror(errno));
}

/* The environment of a launched program: proxyd's own, without proxyd's secrets and the
 * overrides meant for proxyd, plus the given extra entries. Secrets go here, never in argv. */
static char **child_env(struct px_inst *p, const char *const *extra, int n_extra)
{
	int n = 0;
	while (environ && environ[n])
		n++;
	char **env = calloc((size_t)(n + n_extra + 1), sizeof *env);
	if (!env)
		return NULL;
	int k = 0;
	for (int i = 0; i < n; i++) {
		const char *e = environ[i];
		const char *eq = strchr(e, '=');
		if (strncmp(e, "PROXYD_TOKEN=", 13) == 0 || strncmp(e, "PROXYD_AGENT_TOKENS=", 20) == 0 ||
		    strncmp(e, "PROXYD_PROVIDER_", 16) == 0)
			continue;
		if (p->token && eq && strcmp(eq + 1, p->token) == 0)
			continue; /* wherever the token came from, only its own variable carries it */
		env[k++] = strdup(e);
	}
	for (int i = 0; i < n_extra; i++)
		env[k++] = strdup(extra[i]);
	env[k] = NULL;
	return env;
}

static void env_free(char **env)
{
	for (char **e = env; e && *e; e++) {
		explicit_bzero(*e, strlen(*e));
		free(*e);
	}
	free(env);
}

static void maybe_stopped(struct px_inst *p);

static void hook_line(void *arg, struct px_child *c, int stream, const char *line, size_t len)
{
	struct px_inst *p = arg;
	char clean[PX_LINE_MAX + 64];
	px_clean_line(line, len, p->token, clean, sizeof clean);
	LOG(p, PROXYD_LOG_INFO, "%s on_url: %s", p->name, clean);
}

static void hook_exited(void *arg, struct px_child *c, int status)
{
	struct px_inst *p = arg;
	char text[96];
	px_exit_text(status, text, sizeof text);
	LOG(p, status == 0 ? PROXYD_LOG_INFO : PROXYD_LOG_WARN, "%s: on_url command %s", p->name,
	    text);
	px_child_free(c);
	if (p->hook == c)
		p->hook = NULL;
	maybe_stopped(p);
}

static const struct px_child_cbs hook_cbs = {hook_line, hook_exited};

static void run_hook(struct px_inst *p)
{
	if (!p->on_url)
		return;
	if (p->hook) /* still busy with an older URL: that one is out of date */
		px_child_free(p->hook);
	p->hook = NULL;
	char url_var[PX_URL_MAX + 32], name_var[128];
	snprintf(url_var, sizeof url_var, "PROXYD_PROVIDER_URL=%s", p->url);
	snprintf(name_var, sizeof name_var, "PROXYD_PROVIDER_NAME=%s", p->name);
	const char *extra[] = {url_var, name_var};
	char **env = child_env(p, extra, 2);
	/* The URL is also $1, for commands such as `on_url = "notify-send \"$1\""`. */
	char *argv[] = {"/bin/sh", "-c", p->on_url, "sh", p->url, NULL};
	char err[160];
	p->hook = env ? px_child_spawn(argv, env, &hook_cbs, p, err, sizeof err) : NULL;
	if (!p->hook)
		LOG(p, PROXYD_LOG_WARN, "%s: cannot run the on_url command: %s", p->name,
		    env ? err : "out of memory");
	env_free(env);
}

/* The URL is known (again): tell everyone who looks for it. */
static void publish(struct px_inst *p)
{
	report(p);
	if (!p->url[0])
		return;
	state_file_write(p);
	if (strcmp(p->url, p->last_url) == 0)
		return;
	snprintf(p->last_url, sizeof p->last_url, "%s", p->url);
	LOG(p, PROXYD_LOG_INFO, "%s: public URL %s", p->name, p->url);
	run_hook(p);
}

/* ---- the program ---- */

static void on_health_tick(void *arg);

static void became_ready(struct px_inst *p)
{
	px_host->timer_stop(p->t_startup);
	set_state(p, PX_RUNNING);
	publish(p);
	if (p->health_interval_ms > 0)
		px_host->timer_start(p->t_health, p->health_interval_ms, 1);
}

static void stop_checks(struct px_inst *p)
{
	px_host->timer_stop(p->t_startup);
	px_host->timer_stop(p->t_health);
	if (p->check) {
		px_health_cancel(p->check);
		p->check = NULL;
	}
}

static void schedule_restart(struct px_inst *p)
{
	uint64_t delay = px_backoff_ms(p->attempt, p->restart_min_ms, p->restart_max_ms);
	p->attempt++;
	set_state(p, PX_RESTARTING);
	LOG(p, PROXYD_LOG_WARN, "%s: restarting in %llu ms (failure %u in a row)", p->name,
	    (unsigned long long)delay, p->attempt);
	px_host->timer_start(p->t_restart, delay, 0);
}

static void child_line(void *arg, struct px_child *c, int stream, const char *line, size_t len)
{
	struct px_inst *p = arg;
	char clean[PX_LINE_MAX + 64];
	px_clean_line(line, len, p->token, clean, sizeof clean);
	LOG(p, PROXYD_LOG_INFO, "%s[%d]: %s", p->name, (int)px_child_pid(c), clean);
	if (p->state != PX_STARTING || !p->have_re || c != p->child)
		return;
	const char *tmpl = p->url_tmpl ? p->url_tmpl : p->preset->url_tmpl;
	if (px_url_extract(&p->re, clean, tmpl, p->url, sizeof p->url) == 1)
		became_ready(p);
}

static void child_exited(void *arg, struct px_child *c, int status)
{
	struct px_inst *p = arg;
	char text[96];
	px_exit_text(status, text, sizeof text);
	px_child_free(c);
	p->child = NULL;
	p->url[0] = '\0';
	stop_checks(p);
	if (p->state == PX_STOPPING) {
		LOG(p, PROXYD_LOG_INFO, "%s: program %s", p->name, text);
		maybe_stopped(p);
		return;
	}
	/* The URL is gone with the program: no one must find a stale one. */
	state_file_remove(p);
	if (p->state == PX_RESTARTING) {
		LOG(p, PROXYD_LOG_INFO, "%s: program %s", p->name, text);
	} else {
		LOG(p, PROXYD_LOG_WARN, "%s: program %s", p->name, text);
	}
	schedule_restart(p);
}

static const struct px_child_cbs child_cbs = {child_line, child_exited};

static void spawn(struct px_inst *p)
{
	struct px_params pp = {
		.local = p->local,
		.local_host = p->local_host,
		.local_port = p->local_port,
		.ssh_host = p->ssh_host,
		.ssh_user = p->ssh_user,
		.ssh_identity = p->ssh_identity,
		.ssh_known_hosts = p->ssh_known_hosts,
		.ssh_strict = p->ssh_strict,
		.ssh_port = p->ssh_port,
		.ssh_options = (const char *const *)p->ssh_options,
		.n_ssh_options = p->n_ssh_options,
		.bore_server = p->bore_server,
		.command = p->command,
		.args = (const char *const *)p->args,
		.n_args = p->n_args,
	};
	const char *why;
	char **argv = px_build_argv(p->preset, &pp, &why);
	if (!argv) {
		LOG(p, PROXYD_LOG_ERROR, "%s: cannot launch: %s", p->name, why);
		schedule_restart(p);
		return;
	}
	char tokvar[300] = "";
	const char *var = p->token_var		     ? p->token_var
			  : p->preset->token_var     ? p->preset->token_var
			  : p->preset->id == PX_CUSTOM ? "PROXYD_PROVIDER_TOKEN"
						     : NULL;
	char *tokentry = NULL;
	if (p->token && var) {
		size_t n = strlen(var) + strlen(p->token) + 2;
		tokentry = malloc(n);
		if (tokentry)
			snprintf(tokentry, n, "%s=%s", var, p->token);
		snprintf(tokvar, sizeof tokvar, " (secret in $%s)", var);
	}
	const char *extra[] = {tokentry};
	char **env = child_env(p, extra, tokentry ? 1 : 0);
	if (tokentry) {
		explicit_bzero(tokentry, strlen(tokentry));
		free(tokentry);
	}
	char err[160], cmd[1024];
	px_argv_text(argv, cmd, sizeof cmd);
	p->child = env ? px_child_spawn(argv, env, &child_cbs, p, err, sizeof err) : NULL;
	env_free(env);
	px_argv_free(argv);
	if (!p->child) {
		LOG(p, PROXYD_LOG_ERROR, "%s: cannot launch %s: %s", p->name, cmd,
		    env ? err : "out of memory");
		schedule_restart(p);
		return;
	}
	LOG(p, PROXYD_LOG_INFO, "%s: started %s%s (pid %d)", p->name, cmd, tokvar,
	    (int)px_child_pid(p->child));
	p->healthy = 0;
	p->url[0] = '\0';
	set_state(p, PX_STARTING);
	if (p->fixed_url || !p->have_re) {
		/* Nothing to wait for: the URL is known (or there is none), health checks tell
		 * whether the program works. */
		if (p->fixed_url)
			snprintf(p->url, sizeof p->url, "%s", p->fixed_url);
		became_ready(p);
		return;
	}
	px_host->timer_start(p->t_startup, p->startup_timeout_ms, 0);
}

static void on_restart_timer(void *arg)
{
	struct px_inst *p = arg;
	if (p->state != PX_RESTARTING)
		return;
	p->restarts++;
	spawn(p);
}

static void on_startup_timeout(void *arg)
{
	struct px_inst *p = arg;
	if (p->state != PX_STARTING || !p->child)
		return;
	LOG(p, PROXYD_LOG_WARN, "%s: no URL within %u s (startup_timeout); stopping the program",
	    p->name, p->startup_timeout_ms / 1000);
	set_state(p, PX_RESTARTING);
	px_child_terminate(p->child, p->stop_timeout_ms);
}

static void on_health(void *arg, int ok, const char *why)
{
	struct px_inst *p = arg;
	p->check = NULL;
	if (p->state != PX_RUNNING || !p->child)
		return;
	if (ok) {
		if (p->fails > 0)
			LOG(p, PROXYD_LOG_INFO, "%s: health check passes again", p->name);
		else if (!p->healthy)
			LOG(p, PROXYD_LOG_INFO, "%s: health check passed", p->name);
		p->healthy = 1;
		p->fails = 0;
		p->attempt = 0; /* it works: the next failure starts the backoff over */
		return;
	}
	p->fails++;
	LOG(p, PROXYD_LOG_WARN, "%s: health check failed (%u of %u): %s", p->name, p->fails,
	    p->health_failures, why);
	if (p->fails < p->health_failures)
		return;
	LOG(p, PROXYD_LOG_WARN, "%s: %u health checks failed in a row; restarting the program",
	    p->name, p->fails);
	p->fails = 0;
	stop_checks(p);
	set_state(p, PX_RESTARTING);
	px_child_terminate(p->child, p->stop_timeout_ms);
}

static void on_health_tick(void *arg)
{
	struct px_inst *p = arg;
	if (p->state != PX_RUNNING || !p->child || p->check)
		return;
	/* With a URL, through it; without one, the program is alive (it is: an exit would
	 * have been seen) and its local service answers. */
	p->check = px_health_start(px_host->event_base(), p->dns, p->url[0] ? p->url : NULL,
				   p->health_path, p->local_host, p->local_port,
				   p->health_timeout_ms, on_health, p);
}

/* ---- start and stop ---- */

static int on_path_cb(const char *program, void *arg)
{
	return px_on_path(program, arg);
}

int px_run_start(struct px_inst *p)
{
	p->stop_reported = 0;
	if (!p->t_startup) {
		p->t_startup = px_host->timer_new(on_startup_timeout, p);
		p->t_health = px_host->timer_new(on_health_tick, p);
		p->t_restart = px_host->timer_new(on_restart_timer, p);
		if (!p->t_startup || !p->t_health || !p->t_restart)
			return -ENOMEM;
	}
	if (p->override_url) {
		LOG(p, PROXYD_LOG_INFO, "%s: URL given by the environment (PROXYD_PROVIDER_URL); "
					"nothing to launch",
		    p->name);
		snprintf(p->url, sizeof p->url, "%s", p->override_url);
		set_state(p, PX_RUNNING);
		publish(p);
		return 0;
	}
	if (p->preset->id == PX_AUTO) {
		const struct px_preset *pick = px_auto_pick(on_path_cb, getenv("PATH"), p->ssh_host != NULL);
		if (!pick) {
			LOG(p, PROXYD_LOG_WARN,
			    "%s: preset auto: none of %s is on PATH; this provider stays idle (install "
			    "one, or set preset)",
			    p->name, px_auto_order_text());
			set_state(p, PX_IDLE);
			return 0;
		}
		LOG(p, PROXYD_LOG_INFO, "%s: preset auto: using %s (the first of %s on PATH)", p->name,
		    pick->name, px_auto_order_text());
		p->preset = pick;
	}
	if (p->token && !p->token_var && !p->preset->token_var && p->preset->id != PX_CUSTOM)
		LOG(p, PROXYD_LOG_WARN, "%s: preset %s takes no token; it is not passed on", p->name,
		    p->preset->name);
	const char *regex = p->preset->id == PX_CUSTOM ? p->url_regex : p->preset->url_regex;
	if (regex && !p->have_re) {
		if (regcomp(&p->re, regex, REG_EXTENDED) != 0) {
			LOG(p, PROXYD_LOG_ERROR, "%s: cannot compile the URL expression", p->name);
			return -EINVAL;
		}
		p->have_re = 1;
	}
	if (p->preset->id == PX_SSH && !p->url_tmpl) {
		char t[400];
		const char *h = p->url_host ? p->url_host : p->ssh_host;
		snprintf(t, sizeof t, strchr(h, ':') ? "http://[%s]:{}" : "http://%s:{}", h);
		p->url_tmpl = strdup(t);
	}
	if (!p->dns) {
		p->dns = evdns_base_new(px_host->event_base(), EVDNS_BASE_INITIALIZE_NAMESERVERS);
		if (!p->dns) /* no resolv.conf: names in /etc/hosts and literals still work */
			p->dns = evdns_base_new(px_host->event_base(), 0);
	}
	p->attempt = 0;
	spawn(p);
	return 0;
}

static void maybe_stopped(struct px_inst *p)
{
	if (p->state != PX_STOPPING || p->child || p->hook || p->stop_reported)
		return;
	state_file_remove(p);
	p->url[0] = '\0';
	set_state(p, PX_STOPPED);
	p->stop_reported = 1;
	LOG(p, PROXYD_LOG_INFO, "%s: stopped", p->name);
	px_host->provider_stopped(p->handle);
}

void px_run_stop(struct px_inst *p)
{
	stop_checks(p);
	if (p->t_restart)
		px_host->timer_stop(p->t_restart);
	p->stop_reported = 0;
	set_state(p, PX_STOPPING);
	if (p->child)
		px_child_terminate(p->child, p->stop_timeout_ms);
	if (p->hook)
		px_child_terminate(p->hook, p->stop_timeout_ms);
	maybe_stopped(p);
}

void px_run_free(struct px_inst *p)
{
	if (p->check)
		px_health_cancel(p->check);
	p->check = NULL;
	/* Started (it has timers) and not stopped cleanly: its URL goes with it. An instance
	 * made only for `proxyd -t` must not touch a running daemon's file. */
	if (p->t_startup && p->state != PX_STOPPED)
		state_file_remove(p);
	px_child_free(p->child);
	px_child_free(p->hook);
	p->child = p->hook = NULL;
	px_host->timer_free(p->t_startup);
	px_host->timer_free(p->t_health);
	px_host->timer_free(p->t_restart);
	p->t_startup = p->t_health = p->t_restart = NULL;
	if (p->dns)
		evdns_base_free(p->dns, 0);
	p->dns = NULL;
	if (p->have_re)
		regfree(&p->re);
	p->have_re = 0;
}
