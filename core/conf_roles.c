/* The role keys: server authentication (tokens, load-balanced ids, timeouts), raw TCP edges,
 * agent identity, token and services, and the admin socket. Read once by conf_check, so
 * `proxyd -t` and a reload see exactly what a start would. */
#include "config.h"
#include "conf.h"
#include "frame.h"

#include <ctype.h>
#include <errno.h>
#include <event2/util.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#define DEFAULT_ADMIN_SOCKET "/run/proxyd/admin.sock"

int conf_valid_id(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > CONF_ID_MAX)
		return 0;
	for (const char *p = id; *p; p++)
		if (!isalnum((unsigned char)*p) && *p != '-' && *p != '_' && *p != '.')
			return 0;
	return 1;
}

long long conf_read_seconds(const proxyd_cfg *g, const char *key, long long dflt, long long min,
			      long long max)
{
	long long v;
	int rc = cfg_get_int(g, key, &v);
	if (rc == -ENOENT)
		return dflt * 1000;
	if (rc < 0)
		return dflt * 1000;
	if (v < min || v > max) {
		cfg_error(cfg_get_child(g, key), "%s: expected %lld to %lld seconds, got %lld", key, min,
			  max, v);
		return dflt * 1000;
	}
	return v * 1000;
}

static void add_token(struct conf_server *srv, const proxyd_cfg *at, const char *id,
		      const char *token)
{
	if (!conf_valid_id(id)) {
		cfg_error(at, "token for '%s': agent ids are 1-64 of A-Z a-z 0-9 . _ -", id);
		return;
	}
	if (strlen(token) < 16) {
		cfg_error(at, "token for agent '%s' is too short: expected at least 16 characters", id);
		return;
	}
	for (int i = 0; i < srv->n_tokens; i++)
		if (strcmp(srv->tokens[i].id, id) == 0) {
			cfg_error(at, "token for agent '%s' is given twice", id);
			return;
		}
	struct conf_token *grown = realloc(srv->tokens, (size_t)(srv->n_tokens + 1) * sizeof *grown);
	if (!grown)
		return;
	srv->tokens = grown;
	snprintf(grown[srv->n_tokens].id, sizeof grown[0].id, "%s", id);
	grown[srv->n_tokens].token = strdup(token);
	srv->n_tokens++;
}

/* A tokens file: one "<agent-id> <token>" per line; blank lines and '#' comments ignored. */
static void read_tokens_file(struct conf_server *srv, const proxyd_cfg *at, const char *path)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		cfg_error(at, "tokens_file: cannot open %s: %s", path, strerror(errno));
		return;
	}
	char line[1024];
	int lineno = 0;
	while (fgets(line, sizeof line, f)) {
		lineno++;
		char *p = line;
		while (isspace((unsigned char)*p))
			p++;
		if (!*p || *p == '#')
			continue;
		char id[128], token[512];
		if (sscanf(p, "%127s %511s", id, token) != 2) {
			cfg_error(at, "tokens_file %s:%d: expected '<agent-id> <token>'", path, lineno);
			continue;
		}
		add_token(srv, at, id, token);
	}
	fclose(f);
}

/* PROXYD_AGENT_TOKENS="agent-1=token,agent-2=token" for servers configured from the
 * environment (containers). */
static void read_tokens_env(struct conf_server *srv, const proxyd_cfg *at)
{
	const char *env = getenv("PROXYD_AGENT_TOKENS");
	if (!env)
		return;
	char *copy = strdup(env), *save = NULL;
	for (char *pair = copy ? strtok_r(copy, ",", &save) : NULL; pair;
	     pair = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(pair, '=');
		if (!eq) {
			cfg_error(at, "PROXYD_AGENT_TOKENS: expected id=token pairs separated by commas");
			break;
		}
		*eq = '\0';
		add_token(srv, at, pair, eq + 1);
	}
	free(copy);
}

int conf_parse_address(const char *text, char *out, size_t len)
{
	/* Checked now so a typo is a -t error; resolved to numeric now so connecting never
	 * blocks the loop on DNS. */
	char host[256];
	const char *colon = strrchr(text, ':');
	if (!colon || colon == text || !colon[1])
		return -1;
	size_t hl = (size_t)(colon - text);
	if (hl >= sizeof host)
		return -1;
	memcpy(host, text, hl);
	host[hl] = '\0';
	if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
		memmove(host, host + 1, hl - 2);
		host[hl - 2] = '\0';
	}
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	if (getaddrinfo(host, colon + 1, &hints, &res) != 0 || !res)
		return -1;
	char ip[64];
	int port = atoi(colon + 1);
	if (res->ai_family == AF_INET6) {
		evutil_inet_ntop(AF_INET6, &((struct sockaddr_in6 *)res->ai_addr)->sin6_addr, ip, sizeof ip);
		snprintf(out, len, "[%s]:%d", ip, port);
	} else {
		evutil_inet_ntop(AF_INET, &((struct sockaddr_in *)res->ai_addr)->sin_addr, ip, sizeof ip);
		snprintf(out, len, "%s:%d", ip, port);
	}
	freeaddrinfo(res);
	return port > 0 && port < 65536 ? 0 : -1;
}

static void read_service(struct conf_agent *agt, const proxyd_cfg *s, int i)
{
	if (!cfg_is_group(s)) {
		cfg_error(s, "agent.services[%d]: expected a group { name = ...; url = ...; }", i);
		return;
	}
	struct conf_service *svc = &agt->services[agt->n_services];
	memset(svc, 0, sizeof *svc);
	const char *name = NULL, *url = NULL, *addr = NULL;
	int rc_name = cfg_get_string(s, "name", &name);
	int has_url = cfg_get_string(s, "url", &url) == 0;
	int has_addr = cfg_get_string(s, "address", &addr) == 0;
	cfg_get_bool(s, "default", &svc->is_default);
	if (rc_name == -ENOENT) {
		cfg_error(s, "agent.services[%d]: 'name' is required", i);
		return;
	}
	if (rc_name < 0)
		return;
	/* Service names travel in the stream-open header, which holds 63 bytes. */
	if (!conf_valid_id(name) || strlen(name) > 63) {
		cfg_error(cfg_get_child(s, "name"),
			  "agent.services[%d]: name '%s': expected 1-63 of A-Z a-z 0-9 . _ -", i, name);
		return;
	}
	if (has_url == has_addr) {
		cfg_error(s, "agent.services[%d]: give exactly one of 'url' (HTTP) or 'address' (TCP)", i);
		return;
	}
	const char *target = addr;
	char hostport[200];
	svc->kind = OPEN_KIND_TCP;
	if (has_url) {
		svc->kind = OPEN_KIND_HTTP;
		if (strncmp(url, "http://", 7) != 0) {
			cfg_error(cfg_get_child(s, "url"),
				  "agent.services[%d]: url '%s': expected http://host:port", i, url);
			return;
		}
		const char *hp = url + 7;
		size_t n = strcspn(hp, "/");
		if (n >= sizeof hostport - 4) {
			cfg_error(cfg_get_child(s, "url"), "agent.services[%d]: url too long", i);
			return;
		}
		memcpy(hostport, hp, n);
		hostport[n] = '\0';
		if (!strrchr(hostport, ':') || hostport[n - 1] == ']')
			strcat(hostport, ":80");
		target = hostport;
	}
	long long pp;
	if (cfg_get_int(s, "proxy_protocol", &pp) == 0) {
		if (pp != 1 && pp != 2) {
			cfg_error(cfg_get_child(s, "proxy_protocol"),
				  "agent.services[%d]: proxy_protocol: expected 1 or 2 (the PROXY protocol "
				  "version), got %lld",
				  i, pp);
			return;
		}
		svc->proxy_protocol = (int)pp;
	}
	if (conf_parse_address(target, svc->address, sizeof svc->address) < 0) {
		cfg_error(cfg_get_child(s, has_url ? "url" : "address"),
			  "agent.services[%d]: cannot resolve '%s': expected host:port", i, target);
		return;
	}
	for (int j = 0; j < agt->n_services; j++) {
		if (strcmp(agt->services[j].name, name) == 0) {
			cfg_error(s, "agent.services[%d]: service '%s' is defined twice", i, name);
			return;
		}
		if (svc->is_default && agt->services[j].is_default) {
			cfg_error(s, "agent.services[%d]: only one service can be the default", i);
			return;
		}
	}
	svc->name = name;
	agt->n_services++;
}

/* agent.expose_ports: each local port becomes an HTTP service named by its number, so a
 * router can reach any port of the agent (router-subdomain's <name>-<port>). A configured
 * service of the same name is the operator's own choice and stays. */
static void read_expose_ports(struct conf_agent *agt, const proxyd_cfg *list)
{
	if (!cfg_is_list(list)) {
		cfg_error(list, "agent.expose_ports: expected a list of ports, such as [ 3000, 5173 ]");
		return;
	}
	int configured = agt->n_services;
	for (int i = 0; i < cfg_count(list); i++) {
		const proxyd_cfg *e = cfg_elem(list, i);
		long long port;
		if (cfg_elem_int(e, &port) < 0 || port < 1 || port > 65535) {
			cfg_error(e, "agent.expose_ports[%d]: expected a port number from 1 to 65535", i);
			continue;
		}
		int dup = 0;
		for (int j = 0; j < i && !dup; j++) {
			long long other;
			dup = cfg_elem_int(cfg_elem(list, j), &other) == 0 && other == port;
		}
		if (dup) {
			cfg_error(e, "agent.expose_ports[%d]: port %lld is listed twice", i, port);
			continue;
		}
		char name[8];
		snprintf(name, sizeof name, "%lld", port);
		int taken = 0;
		for (int j = 0; j < configured && !taken; j++)
			taken = strcmp(agt->services[j].name, name) == 0;
		if (taken)
			continue;
		if (agt->n_services == CONF_MAX_SERVICES) {
			cfg_error(list, "agent: at most %d services, expose_ports included",
				  CONF_MAX_SERVICES);
			return;
		}
		struct conf_service *svc = &agt->services[agt->n_services++];
		memset(svc, 0, sizeof *svc);
		memcpy(svc->own_name, name, sizeof name);
		svc->name = svc->own_name;
		svc->kind = OPEN_KIND_HTTP;
		snprintf(svc->address, sizeof svc->address, "127.0.0.1:%lld", port);
	}
}

/* agent.report_ports = true; or = { labels = "FILE"; interval = 10; }; */
static void read_report_ports(struct conf_agent *agt, const proxyd_cfg *a)
{
	const proxyd_cfg *rp = cfg_get_child(a, "report_ports");
	agt->report_interval_ms = 10000;
	if (!rp)
		return;
	if (!cfg_is_group(rp)) {
		int on;
		if (cfg_get_bool(a, "report_ports", &on) == 0)
			agt->report_ports = on;
		return; /* cfg_get_bool has said what is wrong with anything else */
	}
	agt->report_ports = 1;
	agt->report_interval_ms = conf_read_seconds(rp, "interval", 10, 1, 3600);
	const char *labels;
	if (cfg_get_string(rp, "labels", &labels) == 0) {
		char path[4096];
		if (!*labels || !cfg_path(rp, labels, path, sizeof path))
			cfg_error(cfg_get_child(rp, "labels"),
				  "report_ports.labels: expected the path of a file");
		else
			agt->report_labels = strdup(path);
	}
}

static void read_agent(struct conf *c)
{
	struct conf_agent *agt = &c->agt;
	const proxyd_cfg *a = c->agent;
	if (!cfg_is_group(a))
		return;
	const char *id = NULL;
	if (cfg_get_string(a, "id", &id) == 0 && !conf_valid_id(id))
		cfg_error(cfg_get_child(a, "id"), "agent.id '%s': expected 1-64 of A-Z a-z 0-9 . _ -", id);
	agt->id = id;
	const char *token_file = NULL;
	if (cfg_get_string(a, "token_file", &token_file) == 0) {
		char path[4096];
		FILE *f = cfg_path(a, token_file, path, sizeof path) ? fopen(path, "r") : NULL;
		char line[512] = "";
		if (!f) {
			cfg_error(cfg_get_child(a, "token_file"), "token_file: cannot open %s: %s",
				  token_file, strerror(errno));
		} else {
			if (!fgets(line, sizeof line, f))
				line[0] = '\0';
			fclose(f);
			/* A token file written by hand often ends in spaces or a newline. */
			size_t n = strcspn(line, "\r\n");
			while (n > 0 && (line[n - 1] == ' ' || line[n - 1] == '\t'))
				n--;
			line[n] = '\0';
			if (!line[0])
				cfg_error(cfg_get_child(a, "token_file"), "token_file %s is empty", token_file);
			else
				agt->token = strdup(line);
		}
	} else if (getenv("PROXYD_TOKEN")) {
		agt->token = strdup(getenv("PROXYD_TOKEN"));
	}
	agt->ping_interval_ms = conf_read_seconds(a, "ping_interval", 30, 1, 3600);
	agt->reconnect_min_ms = conf_read_seconds(a, "reconnect_min", 1, 0, 3600);
	agt->reconnect_max_ms = conf_read_seconds(a, "reconnect_max", 30, 1, 86400);
	if (agt->reconnect_max_ms < agt->reconnect_min_ms)
		cfg_error(a, "agent: reconnect_max must not be less than reconnect_min");
	const proxyd_cfg *list = cfg_get_child(a, "services");
	if (list && !cfg_is_list(list)) {
		cfg_error(list, "agent.services: expected a list ( { name = ...; url = ...; } )");
		list = NULL;
	}
	for (int i = 0; list && i < cfg_count(list); i++) {
		if (agt->n_services == CONF_MAX_SERVICES) {
			cfg_error(list, "agent.services: at most %d services", CONF_MAX_SERVICES);
			break;
		}
		read_service(agt, cfg_elem(list, i), i);
	}
	const proxyd_cfg *ports = cfg_get_child(a, "expose_ports");
	if (ports)
		read_expose_ports(agt, ports);
	read_report_ports(agt, a);
}

static void read_server(struct conf *c)
{
	struct conf_server *srv = &c->srv;
	const proxyd_cfg *s = c->server;
	if (!cfg_is_group(s))
		return;
	const char *tf;
	if (cfg_get_string(s, "tokens_file", &tf) == 0) {
		char path[4096];
		if (cfg_path(s, tf, path, sizeof path))
			read_tokens_file(srv, cfg_get_child(s, "tokens_file"), path);
	}
	read_tokens_env(srv, s);
	srv->handshake_timeout_ms = conf_read_seconds(s, "handshake_timeout", 10, 1, 300);
	srv->idle_timeout_ms = conf_read_seconds(s, "idle_timeout", 90, 5, 86400);
	const proxyd_cfg *lb = cfg_get_child(s, "load_balance");
	if (lb) {
		if (!cfg_is_list(lb)) {
			cfg_error(lb, "load_balance: expected a list of agent ids [\"a\", \"b\"]");
		} else {
			srv->load_balanced = calloc((size_t)cfg_count(lb) + 1, sizeof(char *));
			for (int i = 0; srv->load_balanced && i < cfg_count(lb); i++) {
				const char *id = cfg_elem_string(cfg_elem(lb, i));
				if (!id || !conf_valid_id(id))
					cfg_error(cfg_elem(lb, i), "load_balance[%d]: expected an agent id", i);
				else
					srv->load_balanced[srv->n_load_balanced++] = id;
			}
		}
	}
}

static void read_tcp_edges(struct conf *c)
{
	struct conf_server *srv = &c->srv;
	if (!c->tcp)
		return;
	if (!c->server)
		cfg_error(c->tcp, "tcp: public TCP ports need a 'server' section");
	if (!cfg_is_list(c->tcp)) {
		cfg_error(c->tcp, "tcp: expected a list ( { listen = ...; agent = ...; service = ...; } )");
		return;
	}
	srv->tcp = calloc((size_t)cfg_count(c->tcp) + 1, sizeof *srv->tcp);
	for (int i = 0; srv->tcp && i < cfg_count(c->tcp); i++) {
		const proxyd_cfg *e = cfg_elem(c->tcp, i);
		struct conf_tcp_edge *t = &srv->tcp[srv->n_tcp];
		if (!cfg_is_group(e)) {
			cfg_error(e, "tcp[%d]: expected a group", i);
			continue;
		}
		int bad = 0;
		if (cfg_get_string(e, "listen", &t->listen) != 0) {
			cfg_error(e, "tcp[%d]: 'listen' (\"host:port\") is required", i);
			bad = 1;
		}
		if (cfg_get_string(e, "agent", &t->agent) != 0) {
			cfg_error(e, "tcp[%d]: 'agent' is required", i);
			bad = 1;
		} else if (!conf_valid_id(t->agent)) {
			cfg_error(cfg_get_child(e, "agent"), "tcp[%d]: agent '%s': expected 1-64 of A-Z a-z 0-9 . _ -",
				  i, t->agent);
			bad = 1;
		}
		if (cfg_get_string(e, "service", &t->service) == -ENOENT)
			t->service = "";
		if (!bad && conf_parse_address(t->listen, t->resolved, sizeof t->resolved) < 0) {
			cfg_error(cfg_get_child(e, "listen"), "tcp[%d]: listen '%s': expected host:port", i,
				  t->listen);
			bad = 1;
		}
		t->node = e;
		if (!bad)
			srv->n_tcp++;
	}
}

static void read_admin(struct conf *c)
{
	struct conf_admin *adm = &c->admin;
	snprintf(adm->socket, sizeof adm->socket, "%s", DEFAULT_ADMIN_SOCKET);
	adm->mode = 0600;
	const proxyd_cfg *a = cfg_get_child(cfg_root(&c->file), "admin");
	if (!a)
		return;
	if (!cfg_is_group(a)) {
		cfg_error(a, "admin: expected a group { socket = \"/run/proxyd/admin.sock\"; }");
		return;
	}
	const char *path, *mode;
	char buf[4096];
	if (cfg_get_string(a, "socket", &path) == 0) {
		/* A unix socket path must fit sockaddr_un.sun_path (108 bytes on Linux). */
		if (!cfg_path(a, path, buf, sizeof buf) ||
		    strlen(buf) >= sizeof(((struct sockaddr_un *)0)->sun_path))
			cfg_error(cfg_get_child(a, "socket"), "admin.socket: path too long (max %zu bytes)",
				  sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		else
			snprintf(adm->socket, sizeof adm->socket, "%s", buf);
	}
	if (cfg_get_string(a, "mode", &mode) == 0) {
		char *end;
		unsigned long m = strtoul(mode, &end, 8);
		if (*end || m > 0777)
			cfg_error(cfg_get_child(a, "mode"), "admin.mode: expected an octal mode like \"0600\", got \"%s\"",
				  mode);
		else
			adm->mode = (unsigned)m;
	}
}

void conf_roles_check(struct conf *c)
{
	read_admin(c);
	if (c->server)
		read_server(c);
	read_tcp_edges(c);
	if (c->agent)
		read_agent(c);
}

void conf_roles_fini(struct conf *c)
{
	for (int i = 0; i < c->srv.n_tokens; i++) {
		/* Secrets do not outlive their use in memory that gets reused. */
		explicit_bzero(c->srv.tokens[i].token, strlen(c->srv.tokens[i].token));
		free(c->srv.tokens[i].token);
	}
	free(c->srv.tokens);
	free(c->srv.load_balanced);
	free(c->srv.tcp);
	if (c->agt.token) {
		explicit_bzero(c->agt.token, strlen(c->agt.token));
		free(c->agt.token);
	}
	free(c->agt.report_labels);
	memset(&c->srv, 0, sizeof c->srv);
	memset(&c->agt, 0, sizeof c->agt);
}
