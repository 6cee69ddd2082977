/* Role orchestration: server (+ its TCP edges), agent and providers, the admin socket, drain,
 * reload. */
#include "config.h"
#include "roles.h"
#include "admin.h"
#include "agent.h"
#include "log.h"
#include "provider.h"
#include "server.h"
#include "http_edge.h"
#include "tcp_edge.h"

static struct drain_client drain;

static void drain_begin(void *arg)
{
	if (server_running())
		server_drain_begin();
	if (agent_running())
		agent_drain_begin();
	tcp_edge_stop(); /* no new public connections while draining */
	if (server_running())
		http_edge_drain_begin();
	providers_drain_begin(); /* SIGTERM to their programs; busy until they are gone */
}

static int drain_busy(void *arg)
{
	return (server_running() && server_busy()) || (agent_running() && agent_busy()) ||
	       providers_busy();
}

static int roles_start(struct conf *c)
{
	int providers = c->n_providers > 0;
	if (!c->server && !c->agent && !providers)
		log_warn("core", "the configuration has no 'server', 'agent' or 'provider' section: nothing to do");
	if ((c->server || c->agent || providers) && admin_start(&c->admin) != 0)
		log_warn("core", "continuing without the admin socket (proxyctl status will not work)");
	if (c->server && (server_start(c) != 0 || tcp_edge_start(c) != 0 || http_edge_start(c) != 0))
		return -1;
	if (c->agent && agent_start(c) != 0)
		return -1;
	if (providers)
		providers_start(c);
	drain.begin = drain_begin;
	drain.busy = drain_busy;
	daemon_drain_register(&drain);
	return 0;
}

/* Reload: sessions survive; listeners and edges are re-created from the new file; a
 * role added or removed needs a restart. */
static int roles_apply(struct conf *c)
{
	if (!!c->server != server_running() || !!c->agent != agent_running()) {
		log_err("core", "adding or removing the server or agent role needs a restart");
		return -1;
	}
	if (c->server) {
		tcp_edge_stop();
		server_stop_listeners();
		server_set_conf(c);
		if (server_start_listeners(c) != 0 || tcp_edge_start(c) != 0 || http_edge_apply(c) != 0)
			log_err("core", "some listeners could not be re-created; see above");
	}
	if (c->agent)
		agent_set_conf(c);
	providers_apply(c);
	if (c->server || c->agent || providers_running())
		admin_start(&c->admin);
	return 0;
}

static void roles_stop(void)
{
	daemon_drain_unregister(&drain);
	tcp_edge_stop();
	http_edge_stop();
	if (server_running())
		server_stop();
	if (agent_running())
		agent_stop();
	providers_stop();
	admin_stop();
}

const struct role_hooks roles_default = {
	.start = roles_start,
	.apply = roles_apply,
	.stop = roles_stop,
};
