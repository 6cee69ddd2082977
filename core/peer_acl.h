/* Who may reach which agent's services (agent-to-agent connections): deny unless a rule
 * allows. The server checks server.relay.allow (from, to, services) before it relays or
 * arranges a direct path; the provider agent checks its own agent.allow (from, services)
 * before it connects anything, whichever path the connection came by. Pure. */
#ifndef PROXYD_CORE_PEER_ACL_H
#define PROXYD_CORE_PEER_ACL_H

/* One rule. "*" matches any agent; services NULL (n_services 0) means every service. The
 * strings belong to whoever built the rule (the configuration). */
struct peer_rule {
	const char *from;
	const char *to; /* NULL in an agent's own rules: they are about itself */
	const char **services;
	int n_services;
};

/* 1 when some rule allows agent `from` to reach `service` on agent `to` (to NULL: skip that
 * test). service NULL asks whether any service at all is allowed (proxyctl ping). */
int peer_acl_allows(const struct peer_rule *rules, int n, const char *from, const char *to,
		    const char *service);

#endif
