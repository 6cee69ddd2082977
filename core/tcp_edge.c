/* tcp = ( { listen = "0.0.0.0:2222"; agent = "agent-1"; service = "ssh"; } ) */
#include "config.h"
#include "sock_addr.h"
#include "tcp_edge.h"
#include "host_api.h"
#include "json_out.h"
#include "log.h"
#include "loop.h"
#include "server.h"
#include "session.h"
#include "splice.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct tcp_port {
	struct tcp_port *next;
	struct evconnlistener *lis;
	char listen[128], agent[CONF_ID_MAX + 1], service[64];
};

static struct tcp_port *ports;

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct tcp_port *p = arg;
	uint64_t conn_id = host_next_conn_id();
	char client[64];
	sock_addr_text(sa, client, sizeof client);
	const char *why = NULL;
	struct stream *st = server_open_stream(p->agent, p->service, OPEN_KIND_TCP, client, &why);
	if (!st) {
		log_msg(PROXYD_LOG_WARN, "tcp-edge", conn_id, "%s -> %s/%s: %s; closing", client, p->agent,
			p->service[0] ? p->service : "(default)", why);
		evutil_closesocket(fd);
		return;
	}
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	struct bufferevent *bev = bufferevent_socket_new(loop_base(), fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		stream_reset(st, RST_INTERNAL, "out of memory");
		stream_release(st);
		evutil_closesocket(fd);
		return;
	}
	log_msg(PROXYD_LOG_DEBUG, "tcp-edge", conn_id, "%s -> %s/%s on stream %u", client, p->agent,
		p->service, stream_id(st));
	splice_start(st, bev, conn_id);
}

int tcp_edge_start(struct conf *c)
{
	for (int i = 0; i < c->srv.n_tcp; i++) {
		const struct conf_tcp_edge *t = &c->srv.tcp[i];
		struct tcp_port *p = calloc(1, sizeof *p);
		struct sockaddr_storage ss;
		int sslen = sizeof ss;
		if (!p)
			return -1;
		snprintf(p->listen, sizeof p->listen, "%s", t->listen);
		snprintf(p->agent, sizeof p->agent, "%s", t->agent);
		snprintf(p->service, sizeof p->service, "%s", t->service);
		if (evutil_parse_sockaddr_port(t->resolved, (struct sockaddr *)&ss, &sslen) != 0) {
			log_err("tcp-edge", "listen '%s': expected a numeric host:port", t->listen);
			free(p);
			return -1;
		}
		p->lis = evconnlistener_new_bind(loop_base(), on_accept, p,
						 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 512,
						 (struct sockaddr *)&ss, sslen);
		if (!p->lis) {
			log_err("tcp-edge", "cannot listen on %s: %s", t->listen,
				evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
			free(p);
			return -1;
		}
		p->next = ports;
		ports = p;
		log_info("tcp-edge", "public TCP %s -> agent %s service %s", t->listen, t->agent,
			 t->service[0] ? t->service : "(default)");
	}
	return 0;
}

void tcp_edge_stop(void)
{
	while (ports) {
		struct tcp_port *p = ports;
		ports = p->next;
		evconnlistener_free(p->lis);
		free(p);
	}
}

void tcp_edge_status_listeners(struct evbuffer *out, int *first)
{
	for (struct tcp_port *p = ports; p; p = p->next) {
		json_sep(out, first);
		evbuffer_add_printf(out, "{\"kind\":\"tcp\",\"address\":");
		json_str(out, p->listen);
		evbuffer_add_printf(out, ",\"agent\":");
		json_str(out, p->agent);
		evbuffer_add_printf(out, ",\"service\":");
		json_str(out, p->service);
		evbuffer_add(out, "}", 1);
	}
}
