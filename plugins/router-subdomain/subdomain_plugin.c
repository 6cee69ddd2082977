/* router-subdomain (`router = "subdomain"`): <name>.<base> goes to agent <name> and
 * <name>-<port>.<base> to its service "<port>", unless an override maps the name elsewhere;
 * or, in direct mode (a `vms` table, `resolve_cmd` or `resolve_url`), to port <port> of the
 * VM <name> on a local bridge, no tunnel (sd_direct.c).
 * This file is the plugin's face to the core: descriptor, the entry's keys, the verdict; the
 * matching is in subdomain_match.c. */
#include "config.h"
#include "subdomain_match.h"
#include "sd_direct.h"
#include "sd_host.h"
#include "sd_resolve.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/plugin.h>

/* As the core checks agent.id and service names: 1-64 (1-63) of A-Z a-z 0-9 . _ - */
#define SD_AGENT_MAX 64
#define SD_SERVICE_MAX 63

/* Shared with the direct mode's files (sd_host.h). */
const struct proxyd_host *sd_host;
proxyd_plugin *sd_plugin;

struct sd_override {
	char name[SD_LABEL_MAX + 1];
	char agent[SD_AGENT_MAX + 1];
	char service[SD_SERVICE_MAX + 1]; /* "" for the route's default_service */
};

struct sd_route {
	char **bases; /* normalized, lower-case */
	size_t n_bases;
	char default_service[SD_SERVICE_MAX + 1];
	struct sd_override *overrides;
	size_t n_overrides;
	struct sd_direct *direct; /* NULL: names are agents */
};

static int sd_init(const struct proxyd_host *h, proxyd_plugin *self, void **state)
{
	if (!PROXYD_HOST_HAS(h, req_header)) {
		h->log(self, PROXYD_LOG_ERROR, 0, "needs a host with ABI 1.1 (the request view)");
		return -ENOTSUP;
	}
	sd_host = h;
	sd_plugin = self;
	*state = NULL;
	return 0;
}

static void sd_fini(void *state)
{
	sd_cmd_reap_all();
}

static int id_valid(const char *p, size_t max)
{
	size_t n = strlen(p);
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '_' || c == '-'))
			return 0;
	}
	return 1;
}

static const proxyd_cfg *key_node(const proxyd_cfg *entry, const char *key)
{
	const proxyd_cfg *n = sd_host->cfg_child(entry, key);
	return n ? n : entry;
}

static void route_free(struct sd_route *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_bases; i++)
		free(r->bases[i]);
	free(r->bases);
	free(r->overrides);
	sd_direct_free(r->direct);
	free(r);
}

/* Add one configured base domain; at reports a problem. 0, -EINVAL or -ENOMEM. */
static int add_base(struct sd_route *r, const proxyd_cfg *at, const char *key, const char *text)
{
	char norm[SD_DOMAIN_MAX + 1];
	const char *why;
	if (sd_domain_normalize(text, strlen(text), norm, &why) < 0) {
		sd_host->cfg_error(at, "%s \"%s\": %s", key, text, why);
		return -EINVAL;
	}
	for (size_t i = 0; i < r->n_bases; i++) {
		if (strcmp(r->bases[i], norm) == 0) {
			sd_host->cfg_error(at, "%s \"%s\": base domain given twice", key, text);
			return -EINVAL;
		}
	}
	char **grown = realloc(r->bases, (r->n_bases + 1) * sizeof *grown);
	if (!grown)
		return -ENOMEM;
	r->bases = grown;
	if (!(r->bases[r->n_bases] = strdup(norm)))
		return -ENOMEM;
	r->n_bases++;
	return 0;
}

static int read_bases(struct sd_route *r, const proxyd_cfg *entry)
{
	int rc = 0, err;
	const char *s;
	err = sd_host->cfg_string(entry, "base_domain", &s);
	if (err == 0)
		err = add_base(r, key_node(entry, "base_domain"), "base_domain", s);
	if (err != -ENOENT && err < 0)
		rc = err;

	const proxyd_cfg *list = sd_host->cfg_child(entry, "base_domains");
	if (list) {
		/* A lone string is taken as a list of one; anything else must be a non-empty
		 * array (or list) of strings. */
		int n = sd_host->cfg_count(list);
		if ((s = sd_host->cfg_elem_string(list)) != NULL) {
			err = add_base(r, list, "base_domains", s);
			if (err < 0)
				rc = err;
		} else if (n == 0) {
			sd_host->cfg_error(list, "base_domains: expected a non-empty list of strings, "
					      "such as [ \"example.com\" ]");
			rc = -EINVAL;
		}
		for (int i = 0; i < n; i++) {
			const proxyd_cfg *e = sd_host->cfg_elem(list, i);
			s = sd_host->cfg_elem_string(e);
			if (!s) {
				sd_host->cfg_error(e ? e : list, "base_domains[%d]: expected a string", i);
				rc = -EINVAL;
				continue;
			}
			err = add_base(r, e, "base_domains", s);
			if (err < 0)
				rc = err;
		}
	}
	if (rc == 0 && r->n_bases == 0) {
		sd_host->cfg_error(entry, "router subdomain: base_domain or base_domains is required");
		rc = -EINVAL;
	}
	return rc;
}

static int read_override(struct sd_route *r, const proxyd_cfg *e, int i)
{
	struct sd_override *o = &r->overrides[r->n_overrides];
	memset(o, 0, sizeof *o);
	const char *name, *agent, *service;
	int rc_name = sd_host->cfg_string(e, "name", &name);
	int rc_agent = sd_host->cfg_string(e, "agent", &agent);
	int rc_service = sd_host->cfg_string(e, "service", &service);
	int bad = 0;
	if (rc_name == -ENOENT || rc_agent == -ENOENT) {
		sd_host->cfg_error(e, "overrides[%d]: expected a group { name = ...; agent = ...; } "
				   "(service optional)",
				i);
		return -EINVAL;
	}
	if (rc_name < 0 || rc_agent < 0 || (rc_service < 0 && rc_service != -ENOENT))
		return -EINVAL;
	if (!sd_label_valid(name, strlen(name))) {
		sd_host->cfg_error(key_node(e, "name"),
				"overrides[%d]: name \"%s\": expected a DNS label, 1-63 of a-z 0-9 - "
				"not starting or ending with '-'",
				i, name);
		bad = 1;
	}
	if (!id_valid(agent, SD_AGENT_MAX)) {
		sd_host->cfg_error(key_node(e, "agent"),
				"overrides[%d]: agent \"%s\": expected 1-64 of A-Z a-z 0-9 . _ -", i,
				agent);
		bad = 1;
	}
	if (rc_service == 0 && *service && !id_valid(service, SD_SERVICE_MAX)) {
		sd_host->cfg_error(key_node(e, "service"),
				"overrides[%d]: service \"%s\": expected 1-63 of A-Z a-z 0-9 . _ -", i,
				service);
		bad = 1;
	}
	if (bad)
		return -EINVAL;
	for (size_t j = 0; j < r->n_overrides; j++) {
		if (strcmp(r->overrides[j].name, name) == 0) {
			sd_host->cfg_error(key_node(e, "name"), "overrides[%d]: name \"%s\" is given twice",
					i, name);
			return -EINVAL;
		}
	}
	snprintf(o->name, sizeof o->name, "%s", name);
	snprintf(o->agent, sizeof o->agent, "%s", agent);
	if (rc_service == 0)
		snprintf(o->service, sizeof o->service, "%s", service);
	r->n_overrides++;
	return 0;
}

static int read_overrides(struct sd_route *r, const proxyd_cfg *entry)
{
	const proxyd_cfg *list = sd_host->cfg_child(entry, "overrides");
	if (!list)
		return 0;
	int n = sd_host->cfg_count(list);
	if (n == 0 && sd_host->cfg_elem_string(list)) {
		sd_host->cfg_error(list, "overrides: expected a list ( { name = ...; agent = ...; } )");
		return -EINVAL;
	}
	r->overrides = calloc(n > 0 ? (size_t)n : 1, sizeof *r->overrides);
	if (!r->overrides)
		return -ENOMEM;
	int rc = 0;
	for (int i = 0; i < n; i++) {
		int err = read_override(r, sd_host->cfg_elem(list, i), i);
		if (err < 0)
			rc = err;
	}
	return rc;
}

static int sd_new(void *state, const proxyd_cfg *entry, void **route_state)
{
	struct sd_route *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	/* Read every key before giving up, so -t reports every problem at once. */
	int rc = read_bases(r, entry);
	const char *s;
	int err = sd_host->cfg_string(entry, "default_service", &s);
	if (err == 0 && *s && !id_valid(s, SD_SERVICE_MAX)) {
		sd_host->cfg_error(key_node(entry, "default_service"),
				"default_service \"%s\": expected 1-63 of A-Z a-z 0-9 . _ -", s);
		err = -EINVAL;
	} else if (err == 0) {
		snprintf(r->default_service, sizeof r->default_service, "%s", s);
	}
	if (err < 0 && err != -ENOENT && rc == 0)
		rc = err;
	err = read_overrides(r, entry);
	if (err < 0 && rc == 0)
		rc = err;
	err = sd_direct_new(entry, &r->direct);
	if (err < 0 && rc == 0)
		rc = err;
	if (rc < 0) {
		route_free(r);
		return rc == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	*route_state = r;
	return 0;
}

static void sd_free(void *route_state)
{
	route_free(route_state);
}

static const struct sd_override *find_override(const struct sd_route *r, const char *name,
					       size_t n)
{
	for (size_t i = 0; i < r->n_overrides; i++)
		if (strlen(r->overrides[i].name) == n && memcmp(r->overrides[i].name, name, n) == 0)
			return &r->overrides[i];
	return NULL;
}

static int reject(struct proxyd_route_result *out, int status, const char *message)
{
	out->status = status;
	if (PROXYD_ROUTE_RESULT_HAS(out, message) && out->message_len > 0)
		snprintf(out->message, out->message_len, "%s", message);
	return PROXYD_ROUTE_REJECT;
}

static int match(struct proxyd_route_result *out, const char *agent, size_t agent_len,
		 const char *service)
{
	int a = snprintf(out->agent, out->agent_len, "%.*s", (int)agent_len, agent);
	int s = snprintf(out->service, out->service_len, "%s", service);
	if (a < 0 || (size_t)a >= out->agent_len || s < 0 || (size_t)s >= out->service_len) {
		sd_host->log(sd_plugin, PROXYD_LOG_ERROR, 0, "the core's result buffers are too small");
		out->agent[0] = out->service[0] = '\0';
		return reject(out, 500, "router error");
	}
	return PROXYD_ROUTE_MATCH;
}

static int sd_route(void *route_state, const proxyd_request *req, struct proxyd_route_result *out)
{
	const struct sd_route *r = route_state;
	const char *h, *label;
	size_t n, label_len;
	if (!sd_host->req_field(req, PROXYD_REQ_HOST, &h, &n))
		return PROXYD_ROUTE_NEXT;
	switch (sd_match(h, n, (const char *const *)r->bases, r->n_bases, &label, &label_len)) {
	case SD_NONE:
		return PROXYD_ROUTE_NEXT;
	case SD_DEEP:
		return reject(out, 404, "no such name");
	case SD_BAD_LABEL:
		return reject(out, 400, "invalid name: expected 1-63 of a-z 0-9 - before the domain, "
					"not starting or ending with '-'");
	case SD_NAME:
		break;
	}
	const struct sd_override *o = find_override(r, label, label_len);
	if (o)
		return match(out, o->agent, strlen(o->agent),
			     o->service[0] ? o->service : r->default_service);
	size_t name_len;
	unsigned port;
	if (r->direct) {
		/* Overrides still name agents, for their ports too; the rest are VMs. */
		if (sd_split_port(label, label_len, &name_len, &port) &&
		    (o = find_override(r, label, name_len))) {
			char service[8];
			snprintf(service, sizeof service, "%u", port);
			return match(out, o->agent, strlen(o->agent), service);
		}
		return sd_direct_route(r->direct, label, label_len, out);
	}
	/* "agent-1" could be agent "agent", port 1: an agent connected under the whole label
	 * wins (a host of ABI 1.2 or later can tell). */
	char whole[64];
	if (label_len < sizeof whole && PROXYD_HOST_HAS(sd_host, agent_online)) {
		memcpy(whole, label, label_len);
		whole[label_len] = '\0';
		if (sd_host->agent_online(whole))
			return match(out, label, label_len, r->default_service);
	}
	if (sd_split_port(label, label_len, &name_len, &port)) {
		char service[8];
		snprintf(service, sizeof service, "%u", port);
		/* An override renames the agent for its ports too. */
		o = find_override(r, label, name_len);
		if (o)
			return match(out, o->agent, strlen(o->agent), service);
		return match(out, label, name_len, service);
	}
	return match(out, label, label_len, r->default_service);
}

static void sd_target_failed(void *route_state, const char *address, const char *reason)
{
	const struct sd_route *r = route_state;
	if (r->direct)
		sd_direct_target_failed(r->direct, address);
}

static const struct proxyd_router_ops ops = {
	.route_new = sd_new,
	.route_free = sd_free,
	.route = sd_route,
	.target_failed = sd_target_failed,
};

PROXYD_PLUGIN_DECLARE(PROXYD_KIND_ROUTER, "subdomain", PACKAGE_VERSION, sd_init, sd_fini, &ops);
