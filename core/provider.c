/* The running providers: start, drain, stop, and what they report (provider.h). */
#include "config.h"
#include "provider.h"
#include "conf.h"
#include "daemon.h"
#include "json_out.h"
#include "log.h"
#include "plugins.h"

#include <event2/buffer.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

static struct proxyd_provider *running;
static int in_drain_begin; /* the daemon asks whether the drain is done right after */

static void set_str(char **dst, const char *src)
{
	free(*dst);
	*dst = src ? strdup(src) : NULL;
}

void provider_host_report(proxyd_provider *p, const struct proxyd_provider_status *st)
{
	if (!p || !st)
		return;
	/* A status struct from an older plugin is shorter: read only what it has. */
#define HAS(f) (st->size >= offsetof(struct proxyd_provider_status, f) + sizeof st->f)
	if (HAS(state))
		set_str(&p->status, st->state);
	if (HAS(url))
		set_str(&p->url, st->url);
	if (HAS(program))
		set_str(&p->program, st->program);
	if (HAS(pid))
		p->pid = st->pid;
	if (HAS(restarts))
		p->restarts = st->restarts;
#undef HAS
}

void provider_host_stopped(proxyd_provider *p)
{
	if (!p || !p->stopping)
		return;
	p->stopping = 0;
	p->started = 0;
	if (!in_drain_begin)
		daemon_drain_poke();
}

void provider_handle_free(struct proxyd_provider *p)
{
	if (!p)
		return;
	if (p->state)
		p->plugin->ops.provider.provider_free(p->state);
	free(p->status);
	free(p->url);
	free(p->program);
	free(p);
}

int providers_start(struct conf *c)
{
	struct proxyd_provider **tail = &running;
	while (*tail)
		tail = &(*tail)->next;
	*tail = c->providers;
	c->providers = NULL;
	c->n_providers = 0;
	for (struct proxyd_provider *p = *tail; p; p = p->next) {
		if (p->plugin->ops.provider.start(p->state) != 0) {
			log_err("core", "provider '%s' could not start; see above", p->name);
			continue;
		}
		p->started = 1;
	}
	return 0;
}

void providers_apply(const struct conf *c)
{
	if (running || c->n_providers)
		log_info("core", "providers keep running; changes to the 'provider' section take "
				 "effect at the next start");
}

int providers_running(void)
{
	return running != NULL;
}

void providers_drain_begin(void)
{
	in_drain_begin = 1;
	for (struct proxyd_provider *p = running; p; p = p->next) {
		if (!p->started || p->stopping)
			continue;
		p->stopping = 1;
		p->plugin->ops.provider.stop(p->state); /* may call provider_stopped at once */
	}
	in_drain_begin = 0;
}

int providers_busy(void)
{
	for (struct proxyd_provider *p = running; p; p = p->next)
		if (p->stopping)
			return 1;
	return 0;
}

void providers_stop(void)
{
	while (running) {
		struct proxyd_provider *p = running;
		running = p->next;
		provider_handle_free(p);
	}
}

const char *providers_url(const char *name)
{
	for (struct proxyd_provider *p = running; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p->url;
	return NULL;
}

static void json_str_or_null(struct evbuffer *out, const char *s)
{
	if (s)
		json_str(out, s);
	else
		evbuffer_add_printf(out, "null");
}

void providers_status(struct evbuffer *out)
{
	int first = 1;
	for (struct proxyd_provider *p = running; p; p = p->next) {
		json_sep(out, &first);
		evbuffer_add_printf(out, "{\"name\":");
		json_str(out, p->name);
		evbuffer_add_printf(out, ",\"plugin\":");
		json_str(out, p->plugin->desc->name);
		evbuffer_add_printf(out, ",\"program\":");
		json_str_or_null(out, p->program);
		evbuffer_add_printf(out, ",\"state\":");
		json_str(out, p->status ? p->status : (p->started ? "starting" : "stopped"));
		evbuffer_add_printf(out, ",\"url\":");
		json_str_or_null(out, p->url);
		evbuffer_add_printf(out, ",\"pid\":%d,\"restarts\":%u}", p->pid, p->restarts);
	}
}
