/* router-path (`router = "path"`): /<prefix>/<agent>[:<service>]/<rest> goes to that agent
 * with the path rewritten to /<rest>, and a sticky cookie sends the absolute paths a page
 * under the prefix asks for (/_next/static/..., /favicon.ico) to the same agent. This file is
 * the plugin's face to the core: descriptor, the entry's keys, the verdict; the parsing is in
 * path_parse.c. */
#include "config.h"
#include "path_parse.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <proxyd/plugin.h>

#define DEFAULT_PREFIX "/proxy/"
#define DEFAULT_COOKIE "proxyd_agent"

static const struct proxyd_host *host;
static proxyd_plugin *plugin;

struct rp_route {
	char prefix[RP_PREFIX_MAX + 1];
	size_t prefix_len;
	char default_agent[RP_AGENT_MAX + 1]; /* "" for none */
	char default_service[RP_SERVICE_MAX + 1];
	char cookie[RP_COOKIE_NAME_MAX + 1]; /* "" when the sticky cookie is off */
};

static int rp_init(const struct proxyd_host *h, proxyd_plugin *self, void **state)
{
	if (!PROXYD_HOST_HAS(h, req_header)) {
		h->log(self, PROXYD_LOG_ERROR, 0, "needs a host with ABI 1.1 (the request view)");
		return -ENOTSUP;
	}
	host = h;
	plugin = self;
	*state = NULL;
	return 0;
}

static void rp_fini(void *state)
{
}

static const proxyd_cfg *key_node(const proxyd_cfg *entry, const char *key)
{
	const proxyd_cfg *n = host->cfg_child(entry, key);
	return n ? n : entry;
}

/* A string key: 1 when set (value in *out), 0 when absent, -1 after a recorded error. */
static int read_string(const proxyd_cfg *entry, const char *key, const char **out)
{
	int rc = host->cfg_string(entry, key, out);
	if (rc == -ENOENT)
		return 0;
	return rc == 0 ? 1 : -1;
}

static int rp_new(void *state, const proxyd_cfg *entry, void **route_state)
{
	struct rp_route *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	int bad = 0;
	const char *s, *why;

	snprintf(r->prefix, sizeof r->prefix, "%s", DEFAULT_PREFIX);
	int rc = read_string(entry, "prefix", &s);
	if (rc < 0) {
		bad = 1;
	} else if (rc > 0) {
		if (rp_prefix_valid(s, strlen(s), &why) < 0) {
			host->cfg_error(key_node(entry, "prefix"), "prefix \"%s\": %s", s, why);
			bad = 1;
		} else {
			snprintf(r->prefix, sizeof r->prefix, "%s", s);
		}
	}
	r->prefix_len = strlen(r->prefix);

	rc = read_string(entry, "default_agent", &s);
	if (rc < 0) {
		bad = 1;
	} else if (rc > 0) {
		if (!rp_agent_valid(s, strlen(s))) {
			host->cfg_error(key_node(entry, "default_agent"),
					"default_agent \"%s\": expected 1-64 of A-Z a-z 0-9 . _ -", s);
			bad = 1;
		} else {
			snprintf(r->default_agent, sizeof r->default_agent, "%s", s);
		}
	}

	rc = read_string(entry, "default_service", &s);
	if (rc < 0) {
		bad = 1;
	} else if (rc > 0 && *s) {
		if (!rp_service_valid(s, strlen(s))) {
			host->cfg_error(key_node(entry, "default_service"),
					"default_service \"%s\": expected 1-63 of A-Z a-z 0-9 . _ -", s);
			bad = 1;
		} else {
			snprintf(r->default_service, sizeof r->default_service, "%s", s);
		}
	}

	snprintf(r->cookie, sizeof r->cookie, "%s", DEFAULT_COOKIE);
	rc = read_string(entry, "cookie", &s);
	if (rc < 0) {
		bad = 1;
	} else if (rc > 0) {
		if (*s && !rp_cookie_name_valid(s, strlen(s))) {
			host->cfg_error(key_node(entry, "cookie"),
					"cookie \"%s\": expected a cookie name (a token of at most %d "
					"bytes), or \"\" to turn the sticky cookie off",
					s, RP_COOKIE_NAME_MAX);
			bad = 1;
		} else {
			snprintf(r->cookie, sizeof r->cookie, "%s", s);
		}
	}

	if (bad) {
		free(r);
		return -EINVAL;
	}
	*route_state = r;
	return 0;
}

static void rp_free(void *route_state)
{
	free(route_state);
}

/* printf into a result buffer; -ENOSPC when it does not fit (the buffer is left empty). */
static int put(char *buf, size_t len, const char *fmt, ...) PROXYD_PRINTF(3, 4);
static int put(char *buf, size_t len, const char *fmt, ...)
{
	if (!buf || len == 0)
		return -ENOSPC;
	va_list ap;
	va_start(ap, fmt);
	int w = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (w < 0 || (size_t)w >= len) {
		buf[0] = '\0';
		return -ENOSPC;
	}
	return 0;
}

static int reject(struct proxyd_route_result *out, int status, const char *message)
{
	out->status = status;
	if (PROXYD_ROUTE_RESULT_HAS(out, message))
		put(out->message, out->message_len, "%s", message);
	return PROXYD_ROUTE_REJECT;
}

static int match(const struct rp_route *r, struct proxyd_route_result *out, const char *agent,
		 const char *service)
{
	if (put(out->agent, out->agent_len, "%s", agent) < 0 ||
	    put(out->service, out->service_len, "%s", *service ? service : r->default_service) < 0) {
		host->log(plugin, PROXYD_LOG_ERROR, 0, "the core's result buffers are too small");
		return reject(out, 500, "router error");
	}
	return PROXYD_ROUTE_MATCH;
}

/* The cookie's value, when one of the request's Cookie lines carries a valid one. */
static int sticky_agent(const struct rp_route *r, const proxyd_request *req,
			char agent[RP_AGENT_MAX + 1], char service[RP_SERVICE_MAX + 1])
{
	const char *line, *v;
	size_t n, vn;
	for (unsigned i = 0; host->req_header(req, "Cookie", i, &line, &n); i++)
		for (unsigned j = 0; rp_cookie_get(line, n, r->cookie, j, &v, &vn); j++)
			if (rp_spec_parse(v, vn, agent, service) == 0)
				return 1;
	return 0;
}

static int rp_route(void *route_state, const proxyd_request *req, struct proxyd_route_result *out)
{
	const struct rp_route *r = route_state;
	const char *path = NULL, *query = NULL, *p;
	size_t path_len = 0, query_len = 0, n;
	struct rp_split sp;
	enum rp_verdict v = RP_OUTSIDE;

	int has_query = host->req_field(req, PROXYD_REQ_QUERY, &query, &query_len);
	if (!has_query)
		query = "", query_len = 0;
	if (host->req_field(req, PROXYD_REQ_PATH, &path, &path_len) &&
	    rp_origin_path(path, path_len, &p, &n) == 0)
		v = rp_split_path(r->prefix, r->prefix_len, p, n, &sp);

	switch (v) {
	case RP_BAD:
		return reject(out, 400, sp.why);
	case RP_REDIRECT:
		/* The page's relative links only resolve under the agent with the final '/'. A
		 * query with bytes unfit for a header line is dropped rather than echoed. */
		if (!rp_visible_ascii(query, query_len))
			query = "", query_len = 0, has_query = 0;
		if (put(out->add_headers, out->add_headers_len, "Location: %.*s/%s%.*s\r\n", (int)n,
			p, has_query ? "?" : "", (int)query_len, query) < 0)
			return reject(out, 414, "URI too long");
		return reject(out, 308, "moved: the agent's pages are under a path ending in '/'");
	case RP_MATCH:
		if (put(out->path, out->path_len, "%.*s%s%.*s", (int)sp.rest_len, sp.rest,
			has_query ? "?" : "", (int)query_len, query) < 0)
			return reject(out, 414, "URI too long");
		if (r->cookie[0] && PROXYD_ROUTE_RESULT_HAS(out, response_headers)) {
			int rc = put(out->response_headers, out->response_headers_len,
				     "Set-Cookie: %s=%s%s%s; Path=/; HttpOnly; SameSite=Lax\r\n",
				     r->cookie, sp.agent, sp.service[0] ? ":" : "", sp.service);
			if (rc < 0)
				host->log(plugin, PROXYD_LOG_WARN, 0,
					  "no room for the sticky cookie in the response headers");
		}
		return match(r, out, sp.agent, sp.service);
	case RP_OUTSIDE:
		break;
	}

	char agent[RP_AGENT_MAX + 1], service[RP_SERVICE_MAX + 1];
	if (r->cookie[0] && sticky_agent(r, req, agent, service))
		return match(r, out, agent, service);
	if (r->default_agent[0])
		return match(r, out, r->default_agent, "");
	return PROXYD_ROUTE_NEXT;
}

static const struct proxyd_router_ops ops = {
	.route_new = rp_new,
	.route_free = rp_free,
	.route = rp_route,
};

PROXYD_PLUGIN_DECLARE(PROXYD_KIND_ROUTER, "path", PACKAGE_VERSION, rp_init, rp_fini, &ops);
