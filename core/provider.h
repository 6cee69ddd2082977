/* Providers: the instances of the `provider` list (made when the file is read, so
 * `proxyd -t` checks a provider's own keys), started with the roles, stopped in the drain,
 * and what they report (state, public URL) for `proxyctl status` and the rest of proxyd.
 * struct proxyd_provider is the ABI's opaque `proxyd_provider`. */
#ifndef PROXYD_CORE_PROVIDER_H
#define PROXYD_CORE_PROVIDER_H

#include "proxyd/plugin.h"

struct conf;
struct evbuffer;

struct proxyd_provider {
	char name[65];
	struct proxyd_plugin *plugin;
	void *state; /* the plugin's instance; provider_free when the handle goes */
	int started;
	int stopping; /* stop() called, provider_stopped not yet */
	/* The last report (host->provider_report), owned copies. */
	char *status;
	char *url;
	char *program;
	int pid;
	unsigned restarts;
	struct proxyd_provider *next;
};

/* conf_provider.c: read the `provider` list into c->providers (instances made, not started). */
void conf_provider_check(struct conf *c);
void conf_provider_fini(struct conf *c);

/* Start every provider of c; the instances move out of c into the running set. */
int providers_start(struct conf *c);
/* Reload: running providers carry on (a changed `provider` section needs a restart). */
void providers_apply(const struct conf *c);
int providers_running(void);
void providers_drain_begin(void);
int providers_busy(void);
/* At exit, after the loop: free every instance (the plugin ends what still runs). */
void providers_stop(void);
/* "providers":[...] for the status JSON (without the key). */
void providers_status(struct evbuffer *out);
/* The public URL of the provider called name, or NULL. */
const char *providers_url(const char *name);

/* Behind host->provider_report and host->provider_stopped. */
void provider_host_report(proxyd_provider *p, const struct proxyd_provider_status *st);
void provider_host_stopped(proxyd_provider *p);
/* Free one handle and its instance. */
void provider_handle_free(struct proxyd_provider *p);

#endif
