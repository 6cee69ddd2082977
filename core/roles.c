/* Role orchestration: server (+ its TCP edges), the HTTP edge (with a server, or alone as the
 * VM-host proxy, whose routes go to direct addresses), agent and providers, the admin
 * socket, drain, reload. */
#include "config.h"
#include "roles.h"
#include "admin.h"
#include "agent.h"
#include "log.h"
#include "provider.h"
#include "server.h"
#include "http_conn.h"
#include "http_edge.h"
#include "tcp_edge.h"

static struct drain_client drain;
static int http_running;

static void drain_begin(void *arg)
{
	if (server_running())
		server_drain_begin();
	if (agent_running())
		agent_drain_begin();
	tcp_edge_stop(); /* no new public connections while draining */
	if (http_running)
		http_edge_drain_begin();
	providers_drain_begin(); /* SIGTERM to their programs; busy until they are gone */
}

static int drain_busy(void *arg)
{
	return (server_running() && server_busy()) || (agent_running() && agent_busy()) ||
	       (http_running && http_conn_busy()) || providers_busy();
}

static int roles_start(struct conf *c)
{
	int providers = c->n_providers > 0;
	if (!c->server && !c->agent && !c->http && !providers)
		log_warn("core", "the configuration has no 'server', 'agent', 'http' or 'provider' "
				 "section: nothing to do");
	if ((c->server || c->agent || c->http || providers) && admin_start(&c->admin) != 0)
		log_warn("core", "continuing without the admin socket (proxyctl status will not work)");
	if (c->server && (server_start(c) != 0 || tcp_edge_start(c) != 0))
		return -1;
	if (c->server || c->http) {
		if (http_edge_start(c) != 0)
			return -1;
		http_running = 1;
	}
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
		if (server_start_listeners(c) != 0 || tcp_edge_start(c) != 0)
			log_err("core", "some listeners could not be re-created; see above");
	}
	/* The HTTP edge alone (a VM-host proxy) may be added or removed by a reload: it holds no
	 * sessions. */
	if (c->server || c->http || http_running) {
		if (http_edge_apply(c) != 0)
			log_err("core", "some listeners could not be re-created; see above");
		http_running = c->server || c->http;
	}
	if (c->agent)
		agent_set_conf(c);
	providers_apply(c);
	if (c->server || c->agent || c->http || providers_running())
		admin_start(&c->admin);
	return 0;
}

static void roles_stop(void)
{
	daemon_drain_unregister(&drain);
	tcp_edge_stop();
	http_edge_stop();
	http_running = 0;
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
