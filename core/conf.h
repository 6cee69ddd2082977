/* The daemon's configuration: the libconfig tree plus the core-level values read from it.
 * Loading happens in two steps because plugin-specific keys can only be checked once the
 * plugins named by the core-level keys (plugin_path) are loaded. */
#ifndef PROXYD_CORE_CONF_H
#define PROXYD_CORE_CONF_H

#include "cfg.h"
#include "log.h"
#include "peer_acl.h"

#define CONF_MAX_PLUGIN_DIRS 16
#define CONF_MAX_SERVICES 64
#define CONF_ID_MAX 64

struct conf_token {
	char id[CONF_ID_MAX + 1];
	char *token; /* secret: never logged */
};

struct conf_tcp_edge {
	const char *listen; /* "host:port" as written */
	char resolved[128]; /* numeric "ip:port", resolved when the file was read */
	const char *agent;
	const char *service;
	const proxyd_cfg *node;
};

/* http = { listen = ( ... ); routes = ( ... ); limits }: the public HTTP(S) edge. */
struct conf_http_cert {
	char *cert, *key; /* resolved paths */
	const proxyd_cfg *node;
};

struct conf_http_passthrough {
	const char *sni; /* an exact name or "*.domain" */
	const char *agent;
	const char *service;
};

struct conf_http_listener {
	const char *address;
	char resolved[128];
	struct conf_http_cert *certs; /* TLS is ended here when n_certs > 0 */
	int n_certs;
	struct conf_http_passthrough *passthrough;
	int n_passthrough;
	const proxyd_cfg *node;
};

struct conf_http_route {
	struct proxyd_plugin *router;
	void *state; /* the router's instance, made by route_new; route_free at conf_fini */
	const char *name;
	const char *host_rewrite; /* NULL: keep the client's Host */
	char *basic_auth;         /* "Basic <base64(user:password)>" expected, or NULL; secret */
	const char *realm;
	int line;
};

struct conf_http {
	struct conf_http_listener *listeners;
	int n_listeners;
	struct conf_http_route *routes;
	int n_routes;
	size_t max_header_bytes;
	unsigned max_headers;
	long long header_timeout_ms, idle_timeout_ms, response_timeout_ms;
};

struct conf_server {
	struct conf_token *tokens;
	int n_tokens;
	const char **load_balanced; /* agent ids that may hold several sessions at once */
	int n_load_balanced;
	long long handshake_timeout_ms;
	long long idle_timeout_ms;
	struct conf_tcp_edge *tcp;
	int n_tcp;
	/* server.relay.allow: which agent may reach which agent's services (conf_peers.c). */
	struct peer_rule *relay_allow;
	int n_relay_allow;
};

/* agent.connect[i]: a local listener whose connections go to another agent's service. */
struct conf_connect {
	const char *agent;
	const char *service;
	const char *listen;  /* as written */
	char resolved[128];  /* numeric ip:port */
	int direct;          /* try a direct path to that agent (needs agent.direct) */
	int index;           /* its place in agent.connect, for messages */
	const proxyd_cfg *node;
};

struct conf_service {
	const char *name; /* into the configuration, or own_name */
	char own_name[8];  /* "<port>" for a service made from agent.expose_ports */
	int kind; /* OPEN_KIND_TCP or OPEN_KIND_HTTP */
	int is_default;
	int proxy_protocol; /* 0, or the PROXY protocol version (1, 2) to send the service */
	char address[128]; /* "host:port" to connect to */
};

struct conf_agent {
	const char *id;
	char *token; /* secret: never logged */
	struct conf_service services[CONF_MAX_SERVICES];
	int n_services;
	long long ping_interval_ms;
	long long reconnect_min_ms, reconnect_max_ms;
	/* agent.report_ports: tell the server which TCP ports listen here (an agent inside a
	 * VM, for the VM-host proxy). */
	int report_ports;
	char *report_labels; /* the labels file, resolved; NULL for none */
	long long report_interval_ms;
	/* Agent to agent (conf_peers.c). */
	struct peer_rule *allow; /* agent.allow: who may reach our services */
	int n_allow;
	struct conf_connect *connect;
	int n_connect;
	const proxyd_cfg *direct;               /* agent.direct, checked by its transport */
	struct proxyd_plugin *direct_transport; /* NULL: no direct paths */
	long long direct_retry_ms;              /* after a failed attempt, wait this long */
	long long resume_timeout_ms;            /* a connection whose path died waits this long */
};

struct conf_admin {
	char socket[256];
	unsigned mode;
};

struct conf {
	struct cfg_file file;
	int log_level;
	enum log_target log_target;
	int log_target_set;
	const char *plugin_dirs[CONF_MAX_PLUGIN_DIRS];
	int n_plugin_dirs;
	char *owned_dirs[CONF_MAX_PLUGIN_DIRS];
	long long drain_timeout_ms;
	/* Role sections, NULL when absent. */
	const proxyd_cfg *server;
	const proxyd_cfg *agent;
	const proxyd_cfg *tcp;
	const proxyd_cfg *http;
	const proxyd_cfg *provider;
	/* Filled by conf_check. */
	struct conf_server srv;
	struct conf_agent agt;
	struct conf_admin admin;
	struct conf_http http_edge;
	/* The provider instances (provider.h), made by conf_check; providers_start moves them
	 * out, conf_fini frees those never started. */
	struct proxyd_provider *providers;
	int n_providers;
};

/* conf_roles.c: read the role keys (server auth, tcp edges, agent services, admin). */
void conf_roles_check(struct conf *c);
void conf_roles_fini(struct conf *c);
/* conf_peers.c: agent-to-agent keys (server.relay, agent.allow, agent.connect, agent.direct). */
void conf_peers_check(struct conf *c);
void conf_peers_fini(struct conf *c);
/* conf.c: one endpoint group checked by its transport (role: enum proxyd_role). */
void conf_check_endpoint(struct conf *c, const proxyd_cfg *e, const char *where, int role);
/* conf_http.c: the http section; makes the route instances (so -t checks routers' keys). */
void conf_http_check(struct conf *c);
void conf_http_fini(struct conf *c);
/* Shared key readers (conf_roles.c). */
int conf_valid_id(const char *id);
int conf_parse_address(const char *text, char *out, size_t len);
long long conf_read_seconds(const proxyd_cfg *g, const char *key, long long dflt, long long min,
			    long long max);

/* Step 1: parse the file and the core-level keys. extra_dirs (--plugin-dir) come first in the
 * search path, then the file's plugin_path, then PROXYD_PLUGIN_PATH, then the built-in dir.
 * Returns the number of errors so far (in c->file.errors). */
int conf_load(struct conf *c, const char *path, const char *const *extra_dirs, int n_extra);
/* Only the plugin search path (for `proxyd -V` without -c). Release with conf_fini. */
void conf_init_without_file(struct conf *c, const char *const *extra_dirs, int n_extra);
/* Step 2, with plugins loaded: check the role sections (asking transports about their
 * endpoints) and report unknown keys. Returns the total number of errors. */
int conf_check(struct conf *c);
void conf_fini(struct conf *c);

/* The plugin search path as "dir:dir:...", for messages about a plugin that is missing. */
void conf_search_path(const struct conf *c, char *buf, size_t len);

/* Print every error as "file:line: message" to stderr (for -t) or the log. */
void conf_print_errors(const struct conf *c, int to_log);

#endif
