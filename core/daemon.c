/* The daemon's run loop: signals, graceful drain with a deadline, and configuration reload
 * that keeps the old configuration when the new one fails the same checks as `proxyd -t`. */
#include "config.h"
#include "daemon.h"
#include "loop.h"
#include "plugins.h"

#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct conf *current;
static struct drain_client *drain_clients;
static int draining;
static const struct role_hooks *roles;
static struct event *deadline_ev;
static const char *const *reload_extra_dirs;
static int reload_n_extra;

struct conf *daemon_conf(void)
{
	return current;
}

void daemon_set_roles(const struct role_hooks *h)
{
	roles = h;
}

void daemon_drain_register(struct drain_client *c)
{
	c->next = drain_clients;
	drain_clients = c;
}

void daemon_drain_unregister(struct drain_client *c)
{
	for (struct drain_client **p = &drain_clients; *p; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			return;
		}
}

int daemon_draining(void)
{
	return draining;
}

void daemon_drain_poke(void)
{
	if (!draining)
		return;
	for (struct drain_client *c = drain_clients; c; c = c->next)
		if (c->busy(c->arg))
			return;
	log_info("core", "drained; exiting");
	event_base_loopbreak(loop_base());
}

static void deadline_passed(evutil_socket_t fd, short what, void *arg)
{
	log_warn("core", "drain deadline of %lld ms passed; exiting with work in flight",
		 current->drain_timeout_ms);
	event_base_loopbreak(loop_base());
}

static void on_stop_signal(evutil_socket_t sig, short what, void *arg)
{
	if (draining) {
		log_warn("core", "second %s: exiting now", strsignal((int)sig));
		event_base_loopbreak(loop_base());
		return;
	}
	draining = 1;
	log_info("core", "%s: draining (deadline %lld ms; signal again to exit now)",
		 strsignal((int)sig), current->drain_timeout_ms);
	for (struct drain_client *c = drain_clients; c; c = c->next)
		c->begin(c->arg);
	struct timeval tv = {.tv_sec = (time_t)(current->drain_timeout_ms / 1000),
			     .tv_usec = (suseconds_t)(current->drain_timeout_ms % 1000) * 1000};
	deadline_ev = evtimer_new(loop_base(), deadline_passed, NULL);
	evtimer_add(deadline_ev, &tv);
	daemon_drain_poke();
}

static void on_reload_signal(evutil_socket_t sig, short what, void *arg)
{
	const char *path = current->file.path;
	log_info("core", "SIGHUP: reloading %s", path);
	struct conf *next = calloc(1, sizeof *next);
	if (!next)
		return;
	conf_load(next, path, reload_extra_dirs, reload_n_extra);
	/* Plugins are not rescanned on reload: a plugin's code cannot be swapped under live
	 * connections. A new plugin_path takes effect on restart. */
	if (next->file.parsed)
		conf_check(next);
	if (next->file.n_errors > 0) {
		conf_print_errors(next, 1);
		log_err("core", "reload failed with %d error(s); keeping the running configuration",
			next->file.n_errors);
		conf_fini(next);
		free(next);
		return;
	}
	if (roles && roles->apply && roles->apply(next) != 0) {
		log_err("core", "reload could not be applied; keeping the running configuration");
		conf_fini(next);
		free(next);
		return;
	}
	log_setup(next->log_level, next->log_target);
	conf_fini(current);
	free(current);
	current = next;
	log_info("core", "configuration reloaded");
}

int daemon_run(struct conf *c, const char *const *extra_dirs, int n_extra)
{
	current = c;
	reload_extra_dirs = extra_dirs;
	reload_n_extra = n_extra;
	struct event *sigterm = evsignal_new(loop_base(), SIGTERM, on_stop_signal, NULL);
	struct event *sigint = evsignal_new(loop_base(), SIGINT, on_stop_signal, NULL);
	struct event *sighup = evsignal_new(loop_base(), SIGHUP, on_reload_signal, NULL);
	evsignal_add(sigterm, NULL);
	evsignal_add(sigint, NULL);
	evsignal_add(sighup, NULL);
	signal(SIGPIPE, SIG_IGN);

	int code = 0;
	if (roles && roles->start && roles->start(current) != 0) {
		log_err("core", "start-up failed");
		code = 1;
	} else {
		log_info("core", "proxyd %s running (pid %d)", PACKAGE_VERSION, (int)getpid());
		event_base_dispatch(loop_base());
	}
	if (roles && roles->stop)
		roles->stop();
	event_free(sigterm);
	event_free(sigint);
	event_free(sighup);
	if (deadline_ev)
		event_free(deadline_ev);
	return code;
}
