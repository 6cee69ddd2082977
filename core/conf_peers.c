/* Agent-to-agent keys: server.relay.allow, agent.allow, agent.connect and agent.direct
 * (doc/DIRECT-PATHS.md). Rules point into the configuration tree, which lives as long as
 * the struct conf. */
#include "config.h"
#include "conf.h"
#include "plugins.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "*" or an agent id. */
static int valid_agent_pattern(const char *s)
{
	return strcmp(s, "*") == 0 || conf_valid_id(s);
}

/* One rule group { from = "a"; [to = "b";] [services = ( "ssh", "web" );] }. */
static int read_rule(const proxyd_cfg *e, const char *where, int i, int with_to,
		     struct peer_rule *r)
{
	memset(r, 0, sizeof *r);
	if (!cfg_is_group(e)) {
		cfg_error(e, "%s[%d]: expected a group { from = \"agent-a\";%s services = ( \"ssh\" ); }",
			  where, i, with_to ? " to = \"agent-b\";" : "");
		return -1;
	}
	/* Every key is read before any is judged, so one mistake is one error, not also
	 * "unknown key" for the keys after it. */
	int has_from = cfg_get_string(e, "from", &r->from) == 0;
	int has_to = with_to && cfg_get_string(e, "to", &r->to) == 0;
	const proxyd_cfg *svcs = cfg_get_child(e, "services");
	int bad = 0;
	if (!has_from) {
		cfg_error(e, "%s[%d]: 'from' (an agent id, or \"*\" for any agent) is required", where, i);
		bad = 1;
	} else if (!valid_agent_pattern(r->from)) {
		cfg_error(cfg_get_child(e, "from"), "%s[%d]: from '%s': expected an agent id or \"*\"",
			  where, i, r->from);
		bad = 1;
	}
	if (with_to && !has_to) {
		cfg_error(e, "%s[%d]: 'to' (an agent id, or \"*\" for any agent) is required", where, i);
		bad = 1;
	} else if (with_to && !valid_agent_pattern(r->to)) {
		cfg_error(cfg_get_child(e, "to"), "%s[%d]: to '%s': expected an agent id or \"*\"", where,
			  i, r->to);
		bad = 1;
	}
	if (bad)
		return -1;
	if (!svcs)
		return 0; /* every service */
	if (!cfg_is_list(svcs) || cfg_count(svcs) == 0) {
		cfg_error(svcs, "%s[%d]: services: expected a non-empty list ( \"ssh\", \"web\" ), or "
				"leave it out for every service",
			  where, i);
		return -1;
	}
	r->services = calloc((size_t)cfg_count(svcs), sizeof *r->services);
	if (!r->services)
		return -1;
	for (int k = 0; k < cfg_count(svcs); k++) {
		const char *name = cfg_elem_string(cfg_elem(svcs, k));
		if (!name || (strcmp(name, "*") != 0 && (!conf_valid_id(name) || strlen(name) > 63))) {
			cfg_error(cfg_elem(svcs, k), "%s[%d]: services[%d]: expected a service name or \"*\"",
				  where, i, k);
			free(r->services);
			r->services = NULL;
			return -1;
		}
		r->services[r->n_services++] = name;
	}
	return 0;
}

static void read_rules(const proxyd_cfg *list, const char *where, int with_to,
		       struct peer_rule **out, int *n_out)
{
	if (!cfg_is_list(list)) {
		cfg_error(list, "%s: expected a list ( { from = ...; %sservices = ( ... ); } )", where,
			  with_to ? "to = ...; " : "");
		return;
	}
	int n = cfg_count(list);
	*out = calloc((size_t)n + 1, sizeof **out);
	if (!*out)
		return;
	for (int i = 0; i < n; i++)
		if (read_rule(cfg_elem(list, i), where, i, with_to, &(*out)[*n_out]) == 0)
			(*n_out)++;
}

static void read_connect(struct conf *c, const proxyd_cfg *list)
{
	struct conf_agent *agt = &c->agt;
	if (!cfg_is_list(list)) {
		cfg_error(list, "agent.connect: expected a list ( { agent = \"agent-b\"; service = \"ssh\"; "
				"listen = \"127.0.0.1:2222\"; } )");
		return;
	}
	int n = cfg_count(list);
	agt->connect = calloc((size_t)n + 1, sizeof *agt->connect);
	if (!agt->connect)
		return;
	for (int i = 0; i < n; i++) {
		const proxyd_cfg *e = cfg_elem(list, i);
		struct conf_connect *cc = &agt->connect[agt->n_connect];
		memset(cc, 0, sizeof *cc);
		cc->node = e;
		cc->index = i;
		cc->direct = 1;
		if (!cfg_is_group(e)) {
			cfg_error(e, "agent.connect[%d]: expected a group { agent = ...; service = ...; "
				     "listen = ...; }",
				  i);
			continue;
		}
		int bad = 0;
		if (cfg_get_string(e, "agent", &cc->agent) != 0) {
			cfg_error(e, "agent.connect[%d]: 'agent' (the agent to reach) is required", i);
			bad = 1;
		} else if (!conf_valid_id(cc->agent)) {
			cfg_error(cfg_get_child(e, "agent"), "agent.connect[%d]: agent '%s': expected 1-64 "
							     "of A-Z a-z 0-9 . _ -",
				  i, cc->agent);
			bad = 1;
		} else if (agt->id && strcmp(cc->agent, agt->id) == 0) {
			cfg_error(cfg_get_child(e, "agent"),
				  "agent.connect[%d]: agent '%s' is this agent itself", i, cc->agent);
			bad = 1;
		}
		if (cfg_get_string(e, "service", &cc->service) != 0) {
			cfg_error(e, "agent.connect[%d]: 'service' (a service of that agent) is required", i);
			bad = 1;
		} else if (!conf_valid_id(cc->service) || strlen(cc->service) > 63) {
			cfg_error(cfg_get_child(e, "service"),
				  "agent.connect[%d]: service '%s': expected 1-63 of A-Z a-z 0-9 . _ -", i,
				  cc->service);
			bad = 1;
		}
		if (cfg_get_string(e, "listen", &cc->listen) != 0) {
			cfg_error(e, "agent.connect[%d]: 'listen' (\"127.0.0.1:2222\") is required", i);
			bad = 1;
		} else if (conf_parse_address(cc->listen, cc->resolved, sizeof cc->resolved) < 0) {
			cfg_error(cfg_get_child(e, "listen"), "agent.connect[%d]: listen '%s': expected "
							      "host:port",
				  i, cc->listen);
			bad = 1;
		}
		cfg_get_bool(e, "direct", &cc->direct);
		for (int j = 0; !bad && j < agt->n_connect; j++)
			if (strcmp(agt->connect[j].resolved, cc->resolved) == 0) {
				cfg_error(cfg_get_child(e, "listen"),
					  "agent.connect[%d]: listen %s is used by agent.connect[%d] too", i,
					  cc->listen, agt->connect[j].index);
				bad = 1;
			}
		if (!bad)
			agt->n_connect++;
	}
}

static void read_direct(struct conf *c, const proxyd_cfg *d)
{
	struct conf_agent *agt = &c->agt;
	if (!cfg_is_group(d)) {
		cfg_error(d, "agent.direct: expected a group { transport = \"udp-punch\"; stun = ( ... ); "
			     "cert = ...; key = ...; ca = ...; }");
		return;
	}
	const char *name = "udp-punch";
	if (cfg_get_string(d, "transport", &name) == -EINVAL)
		return;
	struct proxyd_plugin *t = plugins_find(PROXYD_KIND_TRANSPORT, name);
	if (t && !t->ops.transport.direct_prepare) {
		cfg_error(cfg_get_child(d, "transport") ? cfg_get_child(d, "transport") : d,
			  "agent.direct: transport '%s' makes no direct paths (use \"udp-punch\")", name);
		return;
	}
	conf_check_endpoint(c, d, "agent.direct", PROXYD_ROLE_DIRECT);
	agt->direct = d;
	agt->direct_transport = t;
	agt->direct_retry_ms = conf_read_seconds(d, "retry", 30, 1, 86400);
}

void conf_peers_check(struct conf *c)
{
	if (cfg_is_group(c->server)) {
		const proxyd_cfg *relay = cfg_get_child(c->server, "relay");
		if (relay && !cfg_is_group(relay)) {
			cfg_error(relay, "server.relay: expected a group { allow = ( { from = ...; to = ...; "
					 "} ); }");
		} else if (relay) {
			const proxyd_cfg *allow = cfg_get_child(relay, "allow");
			if (allow)
				read_rules(allow, "server.relay.allow", 1, &c->srv.relay_allow,
					   &c->srv.n_relay_allow);
		}
	}
	if (!cfg_is_group(c->agent))
		return;
	const proxyd_cfg *allow = cfg_get_child(c->agent, "allow");
	if (allow)
		read_rules(allow, "agent.allow", 0, &c->agt.allow, &c->agt.n_allow);
	const proxyd_cfg *list = cfg_get_child(c->agent, "connect");
	if (list)
		read_connect(c, list);
	c->agt.resume_timeout_ms = conf_read_seconds(c->agent, "resume_timeout", 30, 1, 3600);
	const proxyd_cfg *d = cfg_get_child(c->agent, "direct");
	if (d)
		read_direct(c, d);
}

static void free_rules(struct peer_rule *r, int n)
{
	for (int i = 0; i < n; i++)
		free(r[i].services);
	free(r);
}

void conf_peers_fini(struct conf *c)
{
	free_rules(c->srv.relay_allow, c->srv.n_relay_allow);
	c->srv.relay_allow = NULL;
	c->srv.n_relay_allow = 0;
	free_rules(c->agt.allow, c->agt.n_allow);
	c->agt.allow = NULL;
	c->agt.n_allow = 0;
	free(c->agt.connect);
	c->agt.connect = NULL;
	c->agt.n_connect = 0;
}
