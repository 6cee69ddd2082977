/* HTTP(S) listeners (see http_edge.h). */
#include "config.h"
#include "http_edge.h"
#include "sock_addr.h"
#include "host_api.h"
#include "http_conn.h"
#include "http_head.h"
#include "http_tls.h"
#include "json_out.h"
#include "log.h"
#include "loop.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct http_listener {
	struct http_listener *next;
	struct evconnlistener *lis;
	char address[128];
	struct http_tls *tls; /* NULL: plain HTTP */
	const struct conf_http_listener *conf;
};

static struct http_listener *listeners;
/* Responses since start, by class (1xx interim ones not counted): [0] 2xx ... [3] 5xx. */
static uint64_t responses[4];
static const struct conf_http *current;
static int draining;
static const struct conf_http defaults = {
	.max_header_bytes = HTTP_HEAD_DEFAULT_BYTES,
	.max_headers = HTTP_MAX_HEADERS,
	.header_timeout_ms = 10000,
	.idle_timeout_ms = 60000,
	.response_timeout_ms = 60000,
};

const struct conf_http *http_edge_conf(void)
{
	return current ? current : &defaults;
}

int http_edge_running(void)
{
	return current != NULL;
}

int http_edge_draining(void)
{
	return draining;
}

static void on_accept(struct evconnlistener *lis, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct http_listener *l = arg;
	uint64_t conn_id = host_next_conn_id();
	char client[64];
	sock_addr_text(sa, client, sizeof client);
	int one = 1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (l->tls) {
		http_tls_accept(l->tls, fd, conn_id, client);
		return;
	}
	struct bufferevent *bev = bufferevent_socket_new(loop_base(), fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		evutil_closesocket(fd);
		return;
	}
	http_conn_start(bev, conn_id, client, 0, NULL);
}

static int start_listeners(struct conf *c)
{
	const struct conf_http *h = &c->http_edge;
	for (int i = 0; i < h->n_listeners; i++) {
		const struct conf_http_listener *cl = &h->listeners[i];
		struct http_listener *l = calloc(1, sizeof *l);
		struct sockaddr_storage ss;
		int sslen = sizeof ss;
		if (!l)
			return -1;
		snprintf(l->address, sizeof l->address, "%s", cl->address);
		l->conf = cl;
		if (evutil_parse_sockaddr_port(cl->resolved, (struct sockaddr *)&ss, &sslen) != 0) {
			log_err("http", "listen '%s': expected a numeric host:port", cl->address);
			free(l);
			return -1;
		}
		if (cl->n_certs) {
			char err[512];
			l->tls = http_tls_new(cl, err, sizeof err);
			if (!l->tls) {
				log_err("http", "listen %s: %s", cl->address, err);
				free(l);
				return -1;
			}
		}
		l->lis = evconnlistener_new_bind(loop_base(), on_accept, l,
						 LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE, 1024,
						 (struct sockaddr *)&ss, sslen);
		if (!l->lis) {
			log_err("http", "cannot listen on %s: %s", cl->address,
				evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
			http_tls_free(l->tls);
			free(l);
			return -1;
		}
		l->next = listeners;
		listeners = l;
		log_info("http", "public HTTP%s on %s", l->tls ? "S" : "", cl->address);
	}
	return 0;
}

static void stop_listeners(void)
{
	while (listeners) {
		struct http_listener *l = listeners;
		listeners = l->next;
		evconnlistener_free(l->lis);
		http_tls_free(l->tls); /* reference-counted: live TLS connections keep theirs */
		free(l);
	}
}

int http_edge_start(struct conf *c)
{
	current = &c->http_edge;
	draining = 0;
	return start_listeners(c);
}

int http_edge_apply(struct conf *c)
{
	stop_listeners();
	current = &c->http_edge;
	return start_listeners(c);
}

void http_edge_stop(void)
{
	stop_listeners();
	http_conn_close_all();
	http_tls_pending_close_all();
	current = NULL;
}

/* The listeners stay open while draining, unlike the raw TCP ports: an HTTP client (or a
 * load balancer in front) gets a clear 503 with Retry-After and tries elsewhere, instead of
 * a refused connection it cannot tell from a crash. */
void http_edge_drain_begin(void)
{
	draining = 1;
	http_conn_drain_all();
}

void http_edge_count_response(int status)
{
	if (status >= 200 && status < 600)
		responses[status / 100 - 2]++;
}

/* Connections and responses are the edge's, shared by its listeners. */
void http_edge_status_listeners(struct evbuffer *out, int *first)
{
	for (struct http_listener *l = listeners; l; l = l->next) {
		json_sep(out, first);
		evbuffer_add_printf(out, "{\"kind\":\"%s\",\"address\":", l->tls ? "https" : "http");
		json_str(out, l->address);
		evbuffer_add_printf(out,
				    ",\"connections\":%u,\"responses\":{\"2xx\":%llu,\"3xx\":%llu,"
				    "\"4xx\":%llu,\"5xx\":%llu}}",
				    http_conn_count(), (unsigned long long)responses[0],
				    (unsigned long long)responses[1], (unsigned long long)responses[2],
				    (unsigned long long)responses[3]);
	}
}
