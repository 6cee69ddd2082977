/* agent.connect listeners: see consumer.h. */
#include "config.h"
#include "sock_addr.h"
#include "consumer.h"
#include "log.h"
#include "loop.h"
#include "peer_conn.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct consumer_port {
	struct consumer_port *next;
	struct evconnlistener *lis;
	char listen[128], agent[CONF_ID_MAX + 1], service[64];
	int direct;
};

static struct consumer_port *ports;

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa,
		      int salen, void *arg)
{
	struct consumer_port *p = arg;
	char client[64];
	sock_addr_text(sa, client, sizeof client);
	struct bufferevent *bev = bufferevent_socket_new(loop_base(), fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	peer_conn_consumer_new(p->agent, p->service, p->direct, bev, client);
}

static int open_all(struct conf *c)
{
	int failed = 0;
	for (int i = 0; i < c->agt.n_connect; i++) {
		const struct conf_connect *cc = &c->agt.connect[i];
		struct consumer_port *p = calloc(1, sizeof *p);
		struct sockaddr_storage ss;
		int sslen = sizeof ss;
		if (!p || evutil_parse_sockaddr_port(cc->resolved, (struct sockaddr *)&ss, &sslen) != 0) {
			free(p);
			failed = 1;
			continue;
		}
		snprintf(p->listen, sizeof p->listen, "%s", cc->resolved);
		snprintf(p->agent, sizeof p->agent, "%s", cc->agent);
		snprintf(p->service, sizeof p->service, "%s", cc->service);
		p->direct = cc->direct;
		p->lis = evconnlistener_new_bind(loop_base(), on_accept, p,
						 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE |
							 LEV_OPT_CLOSE_ON_EXEC,
						 128, (struct sockaddr *)&ss, sslen);
		if (!p->lis) {
			log_err("agent", "agent.connect: cannot listen on %s: %s", cc->listen,
				strerror(errno));
			free(p);
			failed = 1;
			continue;
		}
		log_info("agent", "agent.connect: %s -> agent %s service %s%s", p->listen, p->agent,
			 p->service, p->direct ? "" : " (relay only)");
		p->next = ports;
		ports = p;
	}
	return failed ? -1 : 0;
}

int consumer_start(struct conf *c)
{
	return open_all(c);
}

void consumer_stop(void)
{
	while (ports) {
		struct consumer_port *p = ports;
		ports = p->next;
		evconnlistener_free(p->lis);
		free(p);
	}
}

void consumer_set_conf(struct conf *c)
{
	consumer_stop();
	open_all(c);
}
