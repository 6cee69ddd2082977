/* The http section: public HTTP(S) listeners, the router chain and the edge's limits.
 *
 * http = {
 *   listen = ( { address = "0.0.0.0:80"; },
 *              { address = "0.0.0.0:443"; tls = ( { cert = "a.crt"; key = "a.key"; } );
 *                passthrough = ( { sni = "*.pt.example.com"; agent = "a1"; service = "tls"; } ); } );
 *   routes = ( { router = "path"; ...; host_rewrite = "app.internal"; basic_auth = "u:p"; } );
 *   max_header_bytes = 16384; max_headers = 100;
 *   header_timeout = 10; idle_timeout = 60; response_timeout = 60;
 * };
 *
 * Route instances are made here, with the configuration they belong to: route_new is what
 * reads a router's own keys, so `proxyd -t` can only report a router's unknown or bad keys by
 * making the instance. They are freed with the configuration. */
#include "config.h"
#include "conf.h"
#include "http_head.h"
#include "plugins.h"
#include "sni_match.h"
#include "tls_certs.h"

#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *resolved_path(const proxyd_cfg *node, const char *path)
{
	char buf[4096];
	const char *p = cfg_path(node, path, buf, sizeof buf);
	return p ? strdup(p) : NULL;
}

static void read_certs(struct conf_http_listener *l, const proxyd_cfg *tls, const char *where)
{
	if (!cfg_is_list(tls) || cfg_count(tls) == 0) {
		cfg_error(tls, "%s.tls: expected a list ( { cert = \"...\"; key = \"...\"; } )", where);
		return;
	}
	l->certs = calloc((size_t)cfg_count(tls), sizeof *l->certs);
	for (int i = 0; l->certs && i < cfg_count(tls); i++) {
		const proxyd_cfg *e = cfg_elem(tls, i);
		const char *cert, *key;
		if (!cfg_is_group(e)) {
			cfg_error(e, "%s.tls[%d]: expected a group { cert = ...; key = ...; }", where, i);
			continue;
		}
		int bad = 0;
		if (cfg_get_string(e, "cert", &cert) != 0) {
			cfg_error(e, "%s.tls[%d]: 'cert' (a PEM file) is required", where, i);
			bad = 1;
		}
		if (cfg_get_string(e, "key", &key) != 0) {
			cfg_error(e, "%s.tls[%d]: 'key' (a PEM file) is required", where, i);
			bad = 1;
		}
		if (bad)
			continue;
		struct conf_http_cert *c = &l->certs[l->n_certs];
		c->cert = resolved_path(e, cert);
		c->key = resolved_path(e, key);
		c->node = e;
		if (!c->cert || access(c->cert, R_OK) != 0)
			cfg_error(cfg_get_child(e, "cert"), "%s.tls[%d]: cannot read cert '%s'", where, i,
				  c->cert ? c->cert : cert);
		else if (!c->key || access(c->key, R_OK) != 0)
			cfg_error(cfg_get_child(e, "key"), "%s.tls[%d]: cannot read key '%s'", where, i,
				  c->key ? c->key : key);
		l->n_certs++;
	}
}

/* Load the pairs as the listener will, so `proxyd -t` reports a key that does not belong to
 * its certificate, or a file that is not PEM, instead of the start-up failing later. */
static void check_certs_load(const struct conf_http_listener *l, const proxyd_cfg *tls,
			     const char *where)
{
	struct tls_cert_files files[64];
	int n = l->n_certs < 64 ? l->n_certs : 64;
	for (int i = 0; i < n; i++) {
		files[i].cert = l->certs[i].cert;
		files[i].key = l->certs[i].key;
	}
	char err[512];
	struct tls_certs *certs = tls_certs_new(files, n, err, sizeof err);
	if (!certs)
		cfg_error(tls, "%s.tls: %s", where, err);
	tls_certs_free(certs);
}

static void read_passthrough(struct conf_http_listener *l, const proxyd_cfg *list, const char *where)
{
	if (!cfg_is_list(list)) {
		cfg_error(list, "%s.passthrough: expected a list ( { sni = ...; agent = ...; service = ...; } )",
			  where);
		return;
	}
	l->passthrough = calloc((size_t)cfg_count(list) + 1, sizeof *l->passthrough);
	for (int i = 0; l->passthrough && i < cfg_count(list); i++) {
		const proxyd_cfg *e = cfg_elem(list, i);
		struct conf_http_passthrough *p = &l->passthrough[l->n_passthrough];
		if (!cfg_is_group(e)) {
			cfg_error(e, "%s.passthrough[%d]: expected a group", where, i);
			continue;
		}
		int bad = 0;
		if (cfg_get_string(e, "sni", &p->sni) != 0) {
			cfg_error(e, "%s.passthrough[%d]: 'sni' (a name or *.domain) is required", where, i);
			bad = 1;
		} else if (!sni_pattern_valid(p->sni)) {
			cfg_error(cfg_get_child(e, "sni"),
				  "%s.passthrough[%d]: sni '%s': expected a DNS name or *.domain", where, i,
				  p->sni);
			bad = 1;
		}
		if (cfg_get_string(e, "agent", &p->agent) != 0) {
			cfg_error(e, "%s.passthrough[%d]: 'agent' is required", where, i);
			bad = 1;
		} else if (!conf_valid_id(p->agent)) {
			cfg_error(cfg_get_child(e, "agent"),
				  "%s.passthrough[%d]: agent '%s': expected 1-64 of A-Z a-z 0-9 . _ -", where, i,
				  p->agent);
			bad = 1;
		}
		if (cfg_get_string(e, "service", &p->service) != 0)
			p->service = "";
		if (!bad)
			l->n_passthrough++;
	}
}

static void read_listeners(struct conf *c, struct conf_http *h)
{
	const proxyd_cfg *list = cfg_get_child(c->http, "listen");
	if (!list) {
		cfg_error(c->http, "http: 'listen' is required: listen = ( { address = \"0.0.0.0:8080\"; } );");
		return;
	}
	if (!cfg_is_list(list) || cfg_count(list) == 0) {
		cfg_error(list, "http.listen: expected a non-empty list ( { address = \"host:port\"; } )");
		return;
	}
	h->listeners = calloc((size_t)cfg_count(list), sizeof *h->listeners);
	for (int i = 0; h->listeners && i < cfg_count(list); i++) {
		const proxyd_cfg *e = cfg_elem(list, i);
		struct conf_http_listener *l = &h->listeners[h->n_listeners];
		char where[40];
		snprintf(where, sizeof where, "http.listen[%d]", i);
		if (!cfg_is_group(e)) {
			cfg_error(e, "%s: expected a group { address = \"host:port\"; }", where);
			continue;
		}
		l->node = e;
		if (cfg_get_string(e, "address", &l->address) != 0) {
			cfg_error(e, "%s: 'address' (\"host:port\") is required", where);
			continue;
		}
		if (conf_parse_address(l->address, l->resolved, sizeof l->resolved) < 0) {
			cfg_error(cfg_get_child(e, "address"), "%s: address '%s': expected host:port", where,
				  l->address);
			continue;
		}
		const proxyd_cfg *tls = cfg_get_child(e, "tls");
		if (tls) {
			int errors_before = c->file.n_errors;
			read_certs(l, tls, where);
			if (c->file.n_errors == errors_before && l->n_certs)
				check_certs_load(l, tls, where);
		}
		const proxyd_cfg *pt = cfg_get_child(e, "passthrough");
		if (pt) {
			if (!tls)
				cfg_error(pt, "%s: passthrough routes by TLS server name: it needs 'tls' on this listener",
					  where);
			/* Routes may go to direct addresses without a server (the VM-host proxy),
			 * but a passthrough entry names an agent, which only a server has. */
			if (!c->server)
				cfg_error(pt, "%s: passthrough goes to an agent: it needs a 'server' section",
					  where);
			read_passthrough(l, pt, where);
		}
		h->n_listeners++;
	}
}

/* The Authorization value a client must send: "Basic base64(user:password)". */
static char *basic_auth_expect(const char *user_pass)
{
	size_t n = strlen(user_pass);
	char *out = malloc(6 + 4 * ((n + 2) / 3) + 1);
	if (!out)
		return NULL;
	memcpy(out, "Basic ", 6);
	EVP_EncodeBlock((unsigned char *)out + 6, (const unsigned char *)user_pass, (int)n);
	return out;
}

static void read_basic_auth(struct conf_http_route *r, const proxyd_cfg *e, int i)
{
	const char *v, *file;
	char line[1024];
	int has_inline = cfg_get_string(e, "basic_auth", &v) == 0;
	int has_file = cfg_get_string(e, "basic_auth_file", &file) == 0;
	if (has_inline && has_file) {
		cfg_error(e, "http.routes[%d]: basic_auth and basic_auth_file: give one", i);
		return;
	}
	if (has_file) {
		char *path = resolved_path(e, file);
		FILE *f = path ? fopen(path, "r") : NULL;
		if (!f || !fgets(line, sizeof line, f)) {
			cfg_error(cfg_get_child(e, "basic_auth_file"),
				  "http.routes[%d]: basic_auth_file: cannot read '%s'", i, path ? path : file);
			if (f)
				fclose(f);
			free(path);
			return;
		}
		fclose(f);
		free(path);
		line[strcspn(line, "\r\n")] = '\0';
		v = line;
	} else if (!has_inline) {
		return;
	}
	const char *colon = strchr(v, ':');
	if (!colon || colon == v) {
		/* Never echo the value: it is a password. */
		cfg_error(cfg_get_child(e, has_file ? "basic_auth_file" : "basic_auth"),
			  "http.routes[%d]: basic auth: expected \"user:password\"", i);
		return;
	}
	r->basic_auth = basic_auth_expect(v);
	explicit_bzero(line, sizeof line);
	if (cfg_get_string(e, "realm", &r->realm) != 0)
		r->realm = "proxyd";
}

static void read_routes(struct conf *c, struct conf_http *h)
{
	const proxyd_cfg *list = cfg_get_child(c->http, "routes");
	if (!list)
		return; /* every request gets 404, which is what an empty chain means */
	if (!cfg_is_list(list)) {
		cfg_error(list, "http.routes: expected a list ( { router = \"path\"; ... } )");
		return;
	}
	h->routes = calloc((size_t)cfg_count(list) + 1, sizeof *h->routes);
	for (int i = 0; h->routes && i < cfg_count(list); i++) {
		const proxyd_cfg *e = cfg_elem(list, i);
		struct conf_http_route *r = &h->routes[h->n_routes];
		if (!cfg_is_group(e)) {
			cfg_error(e, "http.routes[%d]: expected a group { router = \"...\"; ... }", i);
			continue;
		}
		if (cfg_get_string(e, "router", &r->name) != 0) {
			cfg_error(e, "http.routes[%d]: 'router' is required (e.g. \"path\", \"subdomain\")", i);
			continue;
		}
		r->line = cfg_line(e);
		const char *hr;
		if (cfg_get_string(e, "host_rewrite", &hr) == 0) {
			if (!*hr || strpbrk(hr, " \t\r\n/"))
				cfg_error(cfg_get_child(e, "host_rewrite"),
					  "http.routes[%d]: host_rewrite '%s': expected a host[:port]", i, hr);
			else
				r->host_rewrite = hr;
		}
		read_basic_auth(r, e, i);
		r->router = plugins_find(PROXYD_KIND_ROUTER, r->name);
		if (!r->router) {
			char dirs[1024];
			conf_search_path(c, dirs, sizeof dirs);
			cfg_error(cfg_get_child(e, "router"),
				  "http.routes[%d]: router '%s' is not available: no plugin router-%s loaded from %s",
				  i, r->name, r->name, dirs);
			free(r->basic_auth);
			r->basic_auth = NULL;
			continue;
		}
		int errors_before = c->file.n_errors;
		if (r->router->ops.router.route_new(r->router->state, e, &r->state) != 0) {
			/* The router should have recorded what is wrong through cfg_error. */
			if (c->file.n_errors == errors_before)
				cfg_error(e, "http.routes[%d]: router '%s' refused this entry", i, r->name);
			free(r->basic_auth);
			r->basic_auth = NULL;
			continue;
		}
		h->n_routes++;
	}
}

void conf_http_check(struct conf *c)
{
	struct conf_http *h = &c->http_edge;
	h->max_header_bytes = HTTP_HEAD_DEFAULT_BYTES;
	h->max_headers = HTTP_MAX_HEADERS;
	if (!c->http)
		return;
	if (!cfg_is_group(c->http)) {
		cfg_error(c->http, "'http' must be a group: http = { listen = ( ... ); routes = ( ... ); };");
		return;
	}
	long long v;
	if (cfg_get_int(c->http, "max_header_bytes", &v) == 0) {
		if (v < 1024 || v > HTTP_HEAD_MAX_BYTES)
			cfg_error(cfg_get_child(c->http, "max_header_bytes"),
				  "http.max_header_bytes: expected 1024 to %d, got %lld", HTTP_HEAD_MAX_BYTES, v);
		else
			h->max_header_bytes = (size_t)v;
	}
	if (cfg_get_int(c->http, "max_headers", &v) == 0) {
		if (v < 1 || v > HTTP_MAX_HEADERS)
			cfg_error(cfg_get_child(c->http, "max_headers"),
				  "http.max_headers: expected 1 to %d, got %lld", HTTP_MAX_HEADERS, v);
		else
			h->max_headers = (unsigned)v;
	}
	h->header_timeout_ms = conf_read_seconds(c->http, "header_timeout", 10, 1, 3600);
	h->idle_timeout_ms = conf_read_seconds(c->http, "idle_timeout", 60, 1, 86400);
	h->response_timeout_ms = conf_read_seconds(c->http, "response_timeout", 60, 1, 86400);
	read_listeners(c, h);
	read_routes(c, h);
}

void conf_http_fini(struct conf *c)
{
	struct conf_http *h = &c->http_edge;
	for (int i = 0; i < h->n_listeners; i++) {
		for (int k = 0; k < h->listeners[i].n_certs; k++) {
			free(h->listeners[i].certs[k].cert);
			free(h->listeners[i].certs[k].key);
		}
		free(h->listeners[i].certs);
		free(h->listeners[i].passthrough);
	}
	free(h->listeners);
	for (int i = 0; i < h->n_routes; i++) {
		struct conf_http_route *r = &h->routes[i];
		r->router->ops.router.route_free(r->state);
		if (r->basic_auth) {
			explicit_bzero(r->basic_auth, strlen(r->basic_auth));
			free(r->basic_auth);
		}
	}
	free(h->routes);
	memset(h, 0, sizeof *h);
}
