/* A router for the tests: every request goes where its entry says, `address = "ip:port"` (a
 * direct target, no agent: what the VM-host proxy's resolvers will produce) or
 * `agent = "id"`, with optional `path` and `header` ("Name: value" added to the request). It
 * exercises the parts of the router ABI the bundled routers do not: direct addresses and
 * request headers. Built only for `make check`. */
#include <proxyd/plugin.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct proxyd_host *host;

struct route {
	char address[128], agent[65], path[256], header[256];
};

static int rs_init(const struct proxyd_host *h, proxyd_plugin *self, void **state)
{
	host = h;
	*state = NULL;
	return 0;
}

static void rs_fini(void *state)
{
}

static void copy_key(const proxyd_cfg *entry, const char *key, char *out, size_t cap)
{
	const char *v;
	if (host->cfg_string(entry, key, &v) == 0)
		snprintf(out, cap, "%s", v);
}

static int rs_new(void *state, const proxyd_cfg *entry, void **route_state)
{
	struct route *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	copy_key(entry, "address", r->address, sizeof r->address);
	copy_key(entry, "agent", r->agent, sizeof r->agent);
	copy_key(entry, "path", r->path, sizeof r->path);
	copy_key(entry, "header", r->header, sizeof r->header);
	if (!r->address[0] == !r->agent[0]) {
		host->cfg_error(entry, "test-static: give exactly one of address and agent");
		free(r);
		return -EINVAL;
	}
	*route_state = r;
	return 0;
}

static void rs_free(void *route_state)
{
	free(route_state);
}

static int rs_route(void *route_state, const proxyd_request *req, struct proxyd_route_result *out)
{
	const struct route *r = route_state;
	snprintf(out->address, out->address_len, "%s", r->address);
	snprintf(out->agent, out->agent_len, "%s", r->agent);
	if (r->path[0])
		snprintf(out->path, out->path_len, "%s", r->path);
	if (r->header[0])
		snprintf(out->add_headers, out->add_headers_len, "%s\r\n", r->header);
	return PROXYD_ROUTE_MATCH;
}

static const struct proxyd_router_ops ops = {
	.route_new = rs_new, .route_free = rs_free, .route = rs_route,
};

PROXYD_PLUGIN_DECLARE(PROXYD_KIND_ROUTER, "test-static", "1.0", rs_init, rs_fini, &ops);
