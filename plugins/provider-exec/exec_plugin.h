/* provider-exec: one provider instance, as read from its `provider` entry (exec_plugin.c)
 * and run on the event loop (exec_run.c). */
#ifndef PX_EXEC_PLUGIN_H
#define PX_EXEC_PLUGIN_H

#include <proxyd/plugin.h>
#include <regex.h>

#include "exec_preset.h"
#include "exec_text.h"

extern const struct proxyd_host *px_host;
extern proxyd_plugin *px_plugin;

struct px_child;
struct px_health;
struct evdns_base;

enum px_state {
	PX_IDLE,       /* not started, or auto found no program */
	PX_STARTING,   /* the program runs; no URL yet */
	PX_RUNNING,    /* the program runs and the URL is known (or there is none to know) */
	PX_RESTARTING, /* ended or being ended; a new launch follows after the backoff */
	PX_STOPPING,
	PX_STOPPED,
};

struct px_inst {
	proxyd_provider *handle;
	char name[65];
	/* Configuration, owned copies. */
	const struct px_preset *preset; /* PX_AUTO until start resolves it */
	char *local, local_host[256];
	int local_port;
	char *fixed_url;    /* `url`: known in advance, nothing to extract */
	char *override_url; /* PROXYD_PROVIDER_URL: nothing is launched */
	char *command, **args;
	int n_args;
	char *url_regex, *url_tmpl;
	char *token;     /* secret: never logged, never in argv */
	char *token_var; /* the child's environment variable for it */
	char *ssh_host, *ssh_user, *ssh_identity, *ssh_known_hosts, *ssh_strict, *url_host;
	char **ssh_options;
	int n_ssh_options, ssh_port;
	char *bore_server;
	char *health_path;
	char *state_file; /* NULL: none */
	char *on_url;     /* a /bin/sh command line, or NULL */
	unsigned startup_timeout_ms, health_interval_ms, health_timeout_ms, stop_timeout_ms;
	unsigned health_failures;
	unsigned restart_min_ms, restart_max_ms;

	/* Running. */
	enum px_state state;
	regex_t re;
	int have_re;
	char url[PX_URL_MAX];      /* the current public URL, "" for none */
	char last_url[PX_URL_MAX]; /* the last one logged and handed to on_url */
	struct px_child *child;
	struct px_child *hook; /* the on_url command while it runs */
	struct px_health *check;
	struct evdns_base *dns;
	proxyd_timer *t_startup, *t_health, *t_restart;
	unsigned attempt; /* consecutive failures, for the backoff */
	unsigned fails;   /* consecutive failed health checks */
	int healthy;      /* a check passed since the last launch (logged once) */
	unsigned restarts;
	int stop_reported;
};

/* exec_run.c */
int px_run_start(struct px_inst *p);
void px_run_stop(struct px_inst *p);
void px_run_free(struct px_inst *p); /* ends what still runs, frees the running parts */

#endif
