/* Running the daemon: the loop, signals (SIGTERM/SIGINT drain, a second one exits at once,
 * SIGHUP reloads), and the hooks through which roles take part in drain and reload. */
#ifndef PROXYD_CORE_DAEMON_H
#define PROXYD_CORE_DAEMON_H

#include "conf.h"

/* A part of the daemon that has work in flight at shutdown (sessions, streams). */
struct drain_client {
	void (*begin)(void *arg);  /* stop taking new work; finish what is open */
	int (*busy)(void *arg);    /* still has work in flight? */
	void *arg;
	struct drain_client *next;
};
void daemon_drain_register(struct drain_client *c);
void daemon_drain_unregister(struct drain_client *c);
/* Call when work finished while draining, so the daemon can exit as soon as all is idle. */
void daemon_drain_poke(void);
int daemon_draining(void);

/* Roles: started after the config passed its checks, re-applied on reload, stopped at exit.
 * apply() gets the new conf; returning non-zero keeps the old one running. */
struct role_hooks {
	int (*start)(struct conf *c);
	int (*apply)(struct conf *c);
	void (*stop)(void);
};
void daemon_set_roles(const struct role_hooks *h);

/* Takes ownership of *c (moved). Returns the process exit code. */
int daemon_run(struct conf *c, const char *const *extra_dirs, int n_extra);
/* The configuration in force. */
struct conf *daemon_conf(void);

#endif
