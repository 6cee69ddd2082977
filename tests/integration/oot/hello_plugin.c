/* An out-of-tree plugin, built the way a third party builds one: against the installed
 * <proxyd/plugin.h> and `pkg-config proxyd-plugin`, with nothing from proxyd's source tree
 * (tests/integration/out_of_tree_plugin.sh). A router that sends every request to one
 * agent's default service; it logs when the host initialises and finalises it. */
#include <proxyd/plugin.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct hello {
	const struct proxyd_host *host;
	proxyd_plugin *self;
};

struct hello_route {
	char agent[64];
};

static int hello_init(const struct proxyd_host *host, proxyd_plugin *self, void **state)
{
	struct hello *h = calloc(1, sizeof *h);
	if (!h)
		return -ENOMEM;
	h->host = host;
	h->self = self;
	host->log(self, PROXYD_LOG_INFO, 0, "hello from oot-hello (host ABI %u.%u)",
		  host->abi_major, host->abi_minor);
	*state = h;
	return 0;
}

static void hello_fini(void *state)
{
	struct hello *h = state;
	h->host->log(h->self, PROXYD_LOG_INFO, 0, "goodbye from oot-hello");
	free(h);
}

static int hello_route_new(void *state, const proxyd_cfg *entry, void **route_state)
{
	struct hello *h = state;
	const char *agent = "agent-1";
	if (h->host->cfg_string(entry, "agent", &agent) == -EINVAL)
		return -EINVAL;
	struct hello_route *r = calloc(1, sizeof *r);
	if (!r)
		return -ENOMEM;
	snprintf(r->agent, sizeof r->agent, "%s", agent);
	*route_state = r;
	return 0;
}

static void hello_route_free(void *route_state)
{
	free(route_state);
}

static int hello_route(void *route_state, const proxyd_request *req,
		       struct proxyd_route_result *out)
{
	struct hello_route *r = route_state;
	(void)req;
	snprintf(out->agent, out->agent_len, "%s", r->agent);
	out->service[0] = '\0';
	return PROXYD_ROUTE_MATCH;
}

static const struct proxyd_router_ops hello_ops = {
	.route_new = hello_route_new,
	.route_free = hello_route_free,
	.route = hello_route,
};

PROXYD_PLUGIN_DECLARE(PROXYD_KIND_ROUTER, "oot-hello", "0.1", hello_init, hello_fini, &hello_ops);
