/* One client connection of the HTTP edge (see http_conn.h).
 *
 * Every event (client bytes, client writable, upstream bytes, FIN, reset, writable, a timer)
 * only records what happened and calls pump(), which makes all the progress it can. Calls
 * into the upstream can call straight back (a stream sends at once when its window allows
 * and then reports on_writable), so pump() is guarded: a nested call only asks the running
 * one to go round again, and the connection is freed only by the outermost call.
 *
 * A router may not decide at once (ABI 1.4: a VM's address being looked up): the connection
 * then waits in HC_ROUTE with the head still in its input buffer, under the response
 * timeout, and when the router resumes it goes back to HC_HEAD, which parses the same head
 * again and routes it again (the router answers from its cache by then). */
#include "config.h"
#include "http_conn.h"
#include "conf.h"
#include "frame.h"
#include "http_chunked.h"
#include "http_edge.h"
#include "http_forward.h"
#include "http_head.h"
#include "http_request.h"
#include "http_route.h"
#include "daemon.h"
#include "route_wait.h"
#include "log.h"
#include "loop.h"
#include "server.h"
#include "session.h"
#include "sock_flush.h"
#include "sock_read.h"
#include "upstream.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <http_parser.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

/* Stop taking response bytes while this much waits for the client. */
#define CLIENT_OUT_HIGH (256 * 1024)
#define CLIENT_OUT_LOW (64 * 1024)
/* Bytes of chunk framing looked at per step; payload moves by count, never copied. */
#define CHUNK_SCAN 4096
/* A response head from a service may be as large as the parser allows. */
#define RESPONSE_HEAD_MAX HTTP_HEAD_MAX_BYTES
/* Times one request may be sent back to wait by the routers (each after a resume): a router
 * whose cache cannot hold its own answer would otherwise keep a request going round. */
#define ROUTE_ROUNDS_MAX 8

enum hc_state { HC_HEAD, HC_EXCHANGE, HC_TUNNEL, HC_ROUTE };
enum hc_timer { T_NONE, T_IDLE, T_HEADER, T_RESPONSE };

struct http_conn {
	struct http_conn *next, *prev;
	struct bufferevent *bev;
	struct sock_reader *reader; /* plain connections */
	uint64_t id;
	char client[64];
	char sni[256];
	int tls;
	enum hc_state state;

	struct event *timer;
	enum hc_timer timer_kind, timer_fired;

	/* The upstream of the current (or, kept alive, the last) exchange. */
	struct upstream *up;
	char up_agent[CONF_ID_MAX + 1], up_service[64], up_address[128];
	char up_reset_reason[320];

	/* The exchange in progress. */
	int method;
	unsigned http_minor;
	int req_keep_alive, req_upgrade;
	enum http_body req_body;
	uint64_t req_left;
	struct http_chunked req_chunked;
	int resp_head_done;
	enum http_body resp_body;
	uint64_t resp_left;
	struct http_chunked resp_chunked;
	int resp_keep_alive;
	char *resp_add_headers;
	char target[96]; /* for the log line */
	int status;
	unsigned requests; /* heads taken on this connection */

	/* Waiting for a router (HC_ROUTE): the handle routers get, kept for the connection's
	 * next requests while no router holds it. */
	proxyd_route_wait *wait;
	unsigned route_rounds; /* PENDING answers for the current head */
	uint64_t route_started_ms;
	unsigned route_resumed : 1;

	unsigned req_done : 1, resp_started : 1, resp_done : 1, close_after : 1, client_eof : 1,
		up_fin : 1, up_reset : 1, reading_paused : 1, closing : 1, dead : 1, again : 1,
		busy : 1, up_shut : 1, client_shut : 1, up_reusable : 1, abort_client : 1;
};

static struct http_conn *conns;
static unsigned n_conns;
static int draining;

static void pump(struct http_conn *hc);

/* Reading from the client on or off: a plain socket through its sock_reader, a TLS one
 * through OpenSSL's bufferevent. */
static void client_reading(struct http_conn *hc, int on)
{
	if (hc->reader)
		sock_reader_enable(hc->reader, on);
	else if (on)
		bufferevent_enable(hc->bev, EV_READ);
	else
		bufferevent_disable(hc->bev, EV_READ);
}

/* ---- timers ---- */

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct http_conn *hc = arg;
	hc->timer_fired = hc->timer_kind;
	hc->timer_kind = T_NONE;
	pump(hc);
}

static void arm(struct http_conn *hc, enum hc_timer kind, long long ms)
{
	if (hc->timer_kind == kind)
		return;
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	hc->timer_kind = kind;
	evtimer_add(hc->timer, &tv);
}

static void disarm(struct http_conn *hc)
{
	hc->timer_kind = T_NONE;
	evtimer_del(hc->timer);
}

/* ---- ending ---- */

static void conn_free(struct http_conn *hc)
{
	if (hc->up)
		upstream_free(hc->up, hc->abort_client || !hc->up_reusable);
	route_wait_release(hc->wait); /* a router holding it frees it when it resumes */
	if (hc->prev)
		hc->prev->next = hc->next;
	else
		conns = hc->next;
	if (hc->next)
		hc->next->prev = hc->prev;
	n_conns--;
	evtimer_del(hc->timer);
	event_free(hc->timer);
	sock_reader_free(hc->reader);
	if (hc->bev) {
		if (hc->abort_client) {
			/* A reset, so the user never takes a cut response for a whole one. */
			evutil_socket_t fd = bufferevent_getfd(hc->bev);
			struct linger lg = {.l_onoff = 1, .l_linger = 0};
			if (fd >= 0)
				setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		} else if (hc->tls) {
			SSL *ssl = bufferevent_openssl_get_ssl(hc->bev);
			if (ssl)
				SSL_shutdown(ssl); /* close_notify: a close-delimited body is complete */
		}
		bufferevent_free(hc->bev);
	}
	free(hc->resp_add_headers);
	free(hc);
	daemon_drain_poke();
}

/* Abort both sides now. */
static void abort_conn(struct http_conn *hc, const char *why)
{
	log_msg(PROXYD_LOG_INFO, "http", hc->id, "%s %s: aborted: %s", hc->client, hc->target, why);
	hc->abort_client = 1;
	hc->dead = 1;
}

/* Close after what is queued for the client has left. */
static void close_after_flush(struct http_conn *hc)
{
	hc->closing = 1;
	client_reading(hc, 0);
	bufferevent_setwatermark(hc->bev, EV_WRITE, 0, 0);
	disarm(hc);
}

/* The edge's own answer. Closes afterwards when asked, or when the request's body was not
 * read (its bytes would be taken for the next head). */
static void respond(struct http_conn *hc, int status, const char *message, const char *extra,
		    int close)
{
	if (hc->req_body != HTTP_BODY_NONE && !hc->req_done)
		close = 1;
	hc->status = status;
	log_msg(status >= 500 ? PROXYD_LOG_WARN : PROXYD_LOG_INFO, "http", hc->id, "%s %s -> %d %s",
		hc->client, hc->target[0] ? hc->target : "-", status, message ? message : "");
	http_error_response(bufferevent_get_output(hc->bev), status, message, extra, close);
	http_edge_count_response(status);
	hc->resp_started = 1;
	if (close)
		close_after_flush(hc);
}

/* ---- callbacks: record, then pump ---- */

static void up_data(void *arg)
{
	pump(arg);
}

static void up_fin(void *arg)
{
	struct http_conn *hc = arg;
	hc->up_fin = 1;
	pump(hc);
}

static void up_reset(void *arg, const char *reason)
{
	struct http_conn *hc = arg;
	hc->up_reset = 1;
	snprintf(hc->up_reset_reason, sizeof hc->up_reset_reason, "%s", reason);
	pump(hc);
}

static void up_writable(void *arg)
{
	pump(arg);
}

static const struct upstream_cbs conn_upstream_cbs = {
	.on_data = up_data,
	.on_fin = up_fin,
	.on_reset = up_reset,
	.on_writable = up_writable,
};

static void client_read(struct bufferevent *bev, void *arg)
{
	pump(arg);
}

static void client_write(struct bufferevent *bev, void *arg)
{
	pump(arg);
}

static void client_read_plain(void *arg, int status)
{
	struct http_conn *hc = arg;
	if (status == 1) {
		hc->client_eof = 1;
	} else if (status < 0) {
		log_msg(PROXYD_LOG_DEBUG, "http", hc->id, "%s: client connection lost: %s", hc->client,
			strerror(-status));
		hc->abort_client = 1;
		hc->dead = 1;
	}
	pump(hc);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	struct http_conn *hc = arg;
	if (what & BEV_EVENT_EOF) {
		hc->client_eof = 1;
		bufferevent_disable(bev, EV_READ);
	} else if (what & BEV_EVENT_ERROR) {
		/* The user reset the connection or TLS failed: nothing more can reach them. */
		log_msg(PROXYD_LOG_DEBUG, "http", hc->id, "%s: client connection lost: %s", hc->client,
			evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		hc->abort_client = 1;
		hc->dead = 1;
	}
	pump(hc);
}

/* ---- the exchange ---- */

static void drop_upstream(struct http_conn *hc, int abort)
{
	if (!hc->up)
		return;
	if (!abort && !hc->up_fin && !hc->up_reset)
		upstream_shutdown(hc->up);
	upstream_free(hc->up, abort);
	hc->up = NULL;
	hc->up_fin = hc->up_reset = hc->up_shut = 0;
	hc->up_reusable = 0;
}

static void exchange_reset(struct http_conn *hc)
{
	hc->req_done = hc->resp_started = hc->resp_done = hc->resp_head_done = 0;
	hc->close_after = 0;
	hc->req_body = HTTP_BODY_NONE;
	hc->resp_body = HTTP_BODY_NONE;
	hc->req_left = hc->resp_left = 0;
	hc->status = 0;
	hc->requests++;
	free(hc->resp_add_headers);
	hc->resp_add_headers = NULL;
}

static int same_target(const struct http_conn *hc, const struct route_decision *d)
{
	return strcmp(hc->up_agent, d->agent) == 0 && strcmp(hc->up_service, d->service) == 0 &&
	       strcmp(hc->up_address, d->address) == 0;
}

/* An upstream for the decision: the one kept from the last exchange when it goes to the
 * same place and is still open, else a new stream or connection. NULL with *why. */
static struct upstream *open_upstream(struct http_conn *hc, const struct route_decision *d,
				      const char **why)
{
	if (hc->up && hc->up_reusable && !hc->up_fin && !hc->up_reset && same_target(hc, d)) {
		hc->up_reusable = 0;
		return hc->up;
	}
	drop_upstream(hc, 0);
	struct upstream *u = NULL;
	if (d->agent[0]) {
		struct stream *st = server_open_stream(d->agent, d->service, OPEN_KIND_HTTP, hc->client, why);
		if (!st)
			return NULL;
		u = upstream_from_stream(st, &conn_upstream_cbs, hc);
		if (!u) {
			stream_reset(st, RST_INTERNAL, "out of memory");
			stream_release(st);
		}
	} else {
		struct sockaddr_storage ss;
		int sslen = sizeof ss;
		if (evutil_parse_sockaddr_port(d->address, (struct sockaddr *)&ss, &sslen) != 0) {
			*why = "the route's address is not a numeric host:port";
			return NULL;
		}
		u = upstream_connect((struct sockaddr *)&ss, (socklen_t)sslen, hc->id, &conn_upstream_cbs, hc);
	}
	if (!u) {
		*why = "out of memory";
		return NULL;
	}
	snprintf(hc->up_agent, sizeof hc->up_agent, "%s", d->agent);
	snprintf(hc->up_service, sizeof hc->up_service, "%s", d->service);
	snprintf(hc->up_address, sizeof hc->up_address, "%s", d->address);
	hc->up = u;
	return u;
}

/* ---- waiting for a router ---- */

static void route_resumed(void *arg)
{
	struct http_conn *hc = arg;
	if (hc->state != HC_ROUTE)
		return; /* answered meanwhile (the round limit) */
	hc->route_resumed = 1;
	pump(hc);
}

/* A router holds the request: wait in HC_ROUTE, the head left in the input buffer. All
 * rounds of one head share one response timeout. */
static void route_wait_begin(struct http_conn *hc, const char *router)
{
	uint64_t now = loop_now_ms();
	if (hc->route_rounds++ == 0)
		hc->route_started_ms = now;
	long long left = http_edge_conf()->response_timeout_ms - (long long)(now - hc->route_started_ms);
	hc->state = HC_ROUTE;
	arm(hc, T_RESPONSE, left > 0 ? left : 0);
	log_msg(PROXYD_LOG_DEBUG, "http", hc->id, "%s %s: waiting for router '%s'", hc->client,
		hc->target, router);
}

/* HC_ROUTE: until the router resumes, the timeout fires or the client leaves. */
static void route_wait_step(struct http_conn *hc)
{
	enum hc_timer fired = hc->timer_fired;
	hc->timer_fired = T_NONE;
	struct evbuffer *in = bufferevent_get_input(hc->bev);
	if (fired == T_RESPONSE) {
		hc->route_rounds = 0;
		respond(hc, 504, "no route decision in time", NULL, 1);
		return;
	}
	if (hc->client_eof) {
		/* As a proxy does when its client closes before the answer: nothing is sent. */
		log_msg(PROXYD_LOG_INFO, "http", hc->id,
			"%s %s: the client left while the request waited for a router", hc->client,
			hc->target);
		hc->route_rounds = 0;
		close_after_flush(hc);
		return;
	}
	if (hc->route_resumed) {
		hc->route_resumed = 0;
		disarm(hc);
		hc->state = HC_HEAD; /* the same head, parsed and routed again */
		if (hc->reading_paused) {
			hc->reading_paused = 0;
			client_reading(hc, 1);
		}
		return;
	}
	/* The body may follow the head meanwhile; keep reading (a client that leaves must be
	 * seen) but hold no more than a head's worth of it. */
	if (!hc->reading_paused && evbuffer_get_length(in) >= 2 * http_edge_conf()->max_header_bytes) {
		client_reading(hc, 0);
		hc->reading_paused = 1;
	}
}

/* A whole request head was parsed: route it and send it on. */
static void start_exchange(struct http_conn *hc, const struct http_head *head)
{
	const struct conf_http *cf = http_edge_conf();
	struct evbuffer *in = bufferevent_get_input(hc->bev);
	if (hc->route_rounds == 0) /* else the same head again, after waiting for a router */
		exchange_reset(hc);
	hc->method = head->method;
	hc->http_minor = head->http_minor;
	hc->req_keep_alive = head->keep_alive;
	hc->req_upgrade = head->upgrade;
	hc->req_body = head->body;
	hc->req_left = head->body == HTTP_BODY_LENGTH ? (uint64_t)head->content_length : 0;
	struct http_head_limits lim = {.max_head_bytes = cf->max_header_bytes,
				       .max_headers = cf->max_headers};
	http_chunked_init(&hc->req_chunked, &lim);
	snprintf(hc->target, sizeof hc->target, "%s %.*s", head->method_str,
		 (int)(head->target_len > 80 ? 80 : head->target_len), head->target);

	if (head->method == HTTP_CONNECT) {
		evbuffer_drain(in, head->head_len);
		respond(hc, 405, "CONNECT is not served here", NULL, 1);
		return;
	}
	if (draining || http_edge_draining()) {
		evbuffer_drain(in, head->head_len);
		respond(hc, 503, "the server is shutting down", "Retry-After: 5\r\n", 1);
		return;
	}
	/* One decision at a time on one loop thread: a static buffer saves the stack 70 KiB. */
	static struct route_decision d;
	struct proxyd_request req;
	if (http_request_init(&req, head, hc->client, hc->tls ? "https" : "http", hc->sni) != 0) {
		evbuffer_drain(in, head->head_len);
		respond(hc, 400, "host name too long", NULL, 1);
		return;
	}
	if (!hc->wait)
		hc->wait = route_wait_new(route_resumed, hc); /* NULL: routers must decide now */
	http_route(cf, &req, hc->wait, &d);
	if (d.pending && hc->route_rounds >= ROUTE_ROUNDS_MAX) {
		hc->route_rounds = 0;
		evbuffer_drain(in, head->head_len);
		snprintf(d.message, sizeof d.message, "router '%s' kept the request waiting",
			 d.route_name);
		respond(hc, 502, d.message, NULL, 1);
		return;
	}
	if (d.pending) {
		route_wait_begin(hc, d.route_name);
		return;
	}
	hc->route_rounds = 0;
	if (d.status) {
		evbuffer_drain(in, head->head_len);
		respond(hc, d.status, d.message, d.add_headers, !hc->req_keep_alive);
		return;
	}
	const char *why = "?";
	if (!open_upstream(hc, &d, &why)) {
		evbuffer_drain(in, head->head_len);
		char msg[200];
		snprintf(msg, sizeof msg, "%s%s%s%s: %s", d.agent[0] ? "agent " : "",
			 d.agent[0] ? d.agent : d.address, d.service[0] ? "/" : "", d.service, why);
		respond(hc, 502, msg, NULL, !hc->req_keep_alive);
		return;
	}
	struct evbuffer *tmp = evbuffer_new();
	struct http_fwd_request fwd = {
		.path = d.path[0] ? d.path : NULL,
		.host = d.host[0] ? d.host : NULL,
		.client = hc->client,
		.proto = hc->tls ? "https" : "http",
		.add_headers = d.add_headers,
		.drop_authorization = d.drop_authorization,
	};
	if (!tmp || http_forward_request_head(tmp, head, &fwd) != 0) {
		if (tmp)
			evbuffer_free(tmp);
		evbuffer_drain(in, head->head_len);
		respond(hc, 500, "out of memory", NULL, 1);
		return;
	}
	if (d.response_headers[0])
		hc->resp_add_headers = strdup(d.response_headers);
	log_msg(PROXYD_LOG_DEBUG, "http", hc->id, "%s %s -> %s%s%s", hc->client, hc->target,
		d.agent[0] ? d.agent : d.address, d.service[0] ? "/" : "", d.service);
	evbuffer_drain(in, head->head_len);
	hc->state = HC_EXCHANGE;
	if (hc->req_body == HTTP_BODY_NONE)
		hc->req_done = 1;
	upstream_write_buffer(hc->up, tmp, evbuffer_get_length(tmp));
	evbuffer_free(tmp);
}

/* HC_HEAD: wait for, and parse, the next request head. */
static void read_head(struct http_conn *hc)
{
	const struct conf_http *cf = http_edge_conf();
	struct evbuffer *in = bufferevent_get_input(hc->bev);
	size_t len = evbuffer_get_length(in);
	enum hc_timer fired = hc->timer_fired;
	hc->timer_fired = T_NONE;
	if (fired == T_IDLE && len == 0) {
		close_after_flush(hc); /* an idle keep-alive connection: a quiet close */
		return;
	}
	if (fired == T_HEADER || (fired == T_IDLE && len)) {
		respond(hc, 408, "the request head did not arrive in time", NULL, 1);
		return;
	}
	if (len == 0) {
		/* Draining closes a kept-alive connection between requests; a new one still
		 * gets to send its request and hear the 503. */
		if (hc->client_eof || (draining && hc->requests))
			close_after_flush(hc);
		else
			arm(hc, T_IDLE, cf->idle_timeout_ms);
		return;
	}
	if (hc->timer_kind != T_HEADER) {
		disarm(hc);
		arm(hc, T_HEADER, cf->header_timeout_ms);
	}
	struct http_head_limits lim = {.max_head_bytes = cf->max_header_bytes,
				       .max_headers = cf->max_headers};
	size_t n = len < cf->max_header_bytes ? len : cf->max_header_bytes;
	const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)n);
	/* A head lives on the stack only while it is routed and re-written. */
	struct http_head head;
	const char *err = NULL;
	int rc = http_parse_request_head(p, n, &lim, &head, &err);
	if (rc == -EAGAIN) {
		hc->target[0] = '\0';
		if (n >= cf->max_header_bytes)
			respond(hc, 431, "request head too large", NULL, 1);
		else if (hc->client_eof)
			close_after_flush(hc);
		return;
	}
	if (rc < 0) {
		hc->target[0] = '\0';
		respond(hc, rc == -EMSGSIZE ? 431 : 400, err ? err : "malformed request head", NULL, 1);
		return;
	}
	disarm(hc);
	start_exchange(hc, &head);
	/* Whatever happened, look again: the next head may already be in the buffer. */
	hc->again = 1;
}

/* Request body: client -> upstream, as the upstream can take it. */
static void forward_request_body(struct http_conn *hc)
{
	struct evbuffer *in = bufferevent_get_input(hc->bev);
	while (!hc->req_done && !hc->dead && hc->up) {
		size_t len = evbuffer_get_length(in);
		if (len == 0) {
			if (hc->client_eof)
				abort_conn(hc, "the client closed in the middle of the request body");
			break;
		}
		size_t space = upstream_send_space(hc->up);
		if (space == 0) {
			if (!hc->reading_paused) {
				client_reading(hc, 0);
				hc->reading_paused = 1;
			}
			return;
		}
		size_t n = len < space ? len : space;
		if (hc->req_body == HTTP_BODY_LENGTH) {
			if (n > hc->req_left)
				n = (size_t)hc->req_left;
			upstream_write_buffer(hc->up, in, n);
			hc->req_left -= n;
			if (hc->req_left == 0)
				hc->req_done = 1;
			continue;
		}
		/* Chunked: payload by count, framing through the decoder. */
		uint64_t left = http_chunked_data_left(&hc->req_chunked);
		if (left) {
			if (n > left)
				n = (size_t)left;
			http_chunked_skip(&hc->req_chunked, n);
			upstream_write_buffer(hc->up, in, n);
			continue;
		}
		if (n > CHUNK_SCAN)
			n = CHUNK_SCAN;
		const uint8_t *p = evbuffer_pullup(in, (ev_ssize_t)n);
		size_t used = 0;
		const char *err = NULL;
		int rc = http_chunked_feed(&hc->req_chunked, p, n, &used, NULL, NULL, &err);
		if (rc < 0) {
			if (!hc->resp_started) {
				drop_upstream(hc, 1);
				respond(hc, 400, err ? err : "malformed chunked body", NULL, 1);
			} else {
				abort_conn(hc, err ? err : "malformed chunked body");
			}
			return;
		}
		if (used)
			upstream_write_buffer(hc->up, in, used);
		if (rc == 1)
			hc->req_done = 1;
		else if (used == 0)
			break; /* a chunk-size line still incomplete */
	}
	if (hc->reading_paused && !hc->dead && !hc->closing &&
	    (hc->req_done ? evbuffer_get_length(in) < http_edge_conf()->max_header_bytes
			  : hc->up && upstream_send_space(hc->up) > 0)) {
		hc->reading_paused = 0;
		client_reading(hc, 1);
	}
	/* Bytes after a complete request (a pipelined next one) wait in the buffer; stop reading
	 * before they pile up. */
	if (hc->req_done && !hc->reading_paused &&
	    evbuffer_get_length(in) >= http_edge_conf()->max_header_bytes) {
		client_reading(hc, 0);
		hc->reading_paused = 1;
	}
}

/* The upstream failed before the exchange was over. */
static void upstream_failed(struct http_conn *hc, const char *why)
{
	/* A direct address that does not answer any more may be a stale one in a router's
	 * cache (the VM came back with another address). */
	if (hc->up_address[0] && hc->up && !upstream_connected(hc->up))
		http_route_target_failed(http_edge_conf(), hc->up_address, why);
	if (!hc->resp_started) {
		char msg[400];
		snprintf(msg, sizeof msg, "%s%s%s%s: %s", hc->up_agent[0] ? "agent " : "",
			 hc->up_agent[0] ? hc->up_agent : hc->up_address, hc->up_service[0] ? "/" : "",
			 hc->up_service, why);
		drop_upstream(hc, 1);
		respond(hc, 502, msg, NULL, 1);
	} else {
		abort_conn(hc, why);
	}
}

/* Parse the next response head from the upstream; 1 when one was taken. */
static int take_response_head(struct http_conn *hc)
{
	struct evbuffer *uin = upstream_input(hc->up);
	size_t len = evbuffer_get_length(uin);
	if (len == 0) {
		if (hc->up_fin)
			upstream_failed(hc, "the service closed the connection without a response");
		return 0;
	}
	size_t n = len < RESPONSE_HEAD_MAX ? len : RESPONSE_HEAD_MAX;
	const uint8_t *p = evbuffer_pullup(uin, (ev_ssize_t)n);
	struct http_head head;
	const char *err = NULL;
	struct http_head_limits lim = {.max_head_bytes = RESPONSE_HEAD_MAX, .max_headers = HTTP_MAX_HEADERS};
	int rc = http_parse_response_head(p, n, hc->method, &lim, &head, &err);
	if (rc == -EAGAIN) {
		if (n >= RESPONSE_HEAD_MAX)
			upstream_failed(hc, "the service's response head is too large");
		else if (hc->up_fin)
			upstream_failed(hc, "the service closed the connection in its response head");
		return 0;
	}
	if (rc < 0) {
		char msg[200];
		snprintf(msg, sizeof msg, "invalid response from the service: %s", err ? err : "?");
		upstream_failed(hc, msg);
		return 0;
	}
	struct evbuffer *out = bufferevent_get_output(hc->bev);
	if (head.status == 101 && !hc->req_upgrade) {
		upstream_failed(hc, "the service switched protocols without being asked");
		return 0;
	}
	if (head.status >= 100 && head.status < 200 && head.status != 101) {
		/* Interim (100 Continue, 103 Early Hints): pass on, a final one follows. */
		struct http_fwd_response fr = {0};
		http_forward_response_head(out, &head, &fr);
		evbuffer_drain(uin, head.head_len);
		upstream_consumed(hc->up, head.head_len);
		hc->resp_started = 1;
		return 1;
	}
	disarm(hc);
	hc->status = head.status;
	http_edge_count_response(head.status);
	if (head.status == 101) {
		struct http_fwd_response fr = {0};
		http_forward_response_head(out, &head, &fr);
		evbuffer_drain(uin, head.head_len);
		upstream_consumed(hc->up, head.head_len);
		hc->resp_started = hc->resp_head_done = 1;
		hc->state = HC_TUNNEL;
		log_msg(PROXYD_LOG_DEBUG, "http", hc->id, "%s %s -> 101: spliced", hc->client, hc->target);
		if (hc->reading_paused) {
			hc->reading_paused = 0;
			client_reading(hc, 1);
		}
		return 1;
	}
	/* The client connection stays open only when both the client and the framing of this
	 * response allow it, and the request was read whole (else its unread body would be
	 * taken for the next head). */
	if (!hc->req_keep_alive || head.body == HTTP_BODY_CLOSE || !hc->req_done || draining ||
	    http_edge_draining())
		hc->close_after = 1;
	struct http_fwd_response fr = {
		.close = hc->close_after,
		.client_http10 = hc->http_minor == 0,
		.add_headers = hc->resp_add_headers,
	};
	http_forward_response_head(out, &head, &fr);
	evbuffer_drain(uin, head.head_len);
	upstream_consumed(hc->up, head.head_len);
	hc->resp_started = hc->resp_head_done = 1;
	hc->resp_body = head.body;
	hc->resp_left = head.body == HTTP_BODY_LENGTH ? (uint64_t)head.content_length : 0;
	hc->resp_keep_alive = head.keep_alive;
	http_chunked_init(&hc->resp_chunked, NULL);
	if (head.body == HTTP_BODY_NONE)
		hc->resp_done = 1;
	log_msg(PROXYD_LOG_DEBUG, "http", hc->id, "%s %s <- %d", hc->client, hc->target, head.status);
	return 1;
}

/* Response body: upstream -> client, as the client takes it. */
static void forward_response_body(struct http_conn *hc)
{
	struct evbuffer *uin = upstream_input(hc->up);
	struct evbuffer *out = bufferevent_get_output(hc->bev);
	while (!hc->resp_done && !hc->dead) {
		size_t queued = evbuffer_get_length(out);
		if (queued >= CLIENT_OUT_HIGH)
			return; /* client_write calls back when it drains */
		size_t room = CLIENT_OUT_HIGH - queued;
		size_t len = evbuffer_get_length(uin);
		if (len == 0) {
			if (hc->up_fin) {
				if (hc->resp_body == HTTP_BODY_CLOSE)
					hc->resp_done = 1;
				else
					abort_conn(hc, "the service ended the response early");
			}
			return;
		}
		size_t n = len < room ? len : room;
		if (hc->resp_body == HTTP_BODY_LENGTH) {
			if (n > hc->resp_left)
				n = (size_t)hc->resp_left;
			hc->resp_left -= n;
			if (hc->resp_left == 0)
				hc->resp_done = 1;
		} else if (hc->resp_body == HTTP_BODY_CHUNKED) {
			uint64_t left = http_chunked_data_left(&hc->resp_chunked);
			if (left) {
				if (n > left)
					n = (size_t)left;
				http_chunked_skip(&hc->resp_chunked, n);
			} else {
				if (n > CHUNK_SCAN)
					n = CHUNK_SCAN;
				const uint8_t *p = evbuffer_pullup(uin, (ev_ssize_t)n);
				size_t used = 0;
				const char *err = NULL;
				int rc = http_chunked_feed(&hc->resp_chunked, p, n, &used, NULL, NULL, &err);
				if (rc < 0) {
					abort_conn(hc, err ? err : "malformed chunked response");
					return;
				}
				if (rc == 1)
					hc->resp_done = 1;
				else if (used == 0) {
					if (hc->up_fin)
						abort_conn(hc, "the service ended the response early");
					return;
				}
				n = used;
			}
		}
		evbuffer_remove_buffer(uin, out, n);
		upstream_consumed(hc->up, n);
	}
}

static void finish_exchange(struct http_conn *hc)
{
	log_msg(PROXYD_LOG_DEBUG, "http", hc->id, "%s %s done (%d)", hc->client, hc->target, hc->status);
	int reusable = hc->resp_keep_alive && hc->req_done && !hc->up_fin && !hc->up_reset &&
		       hc->resp_body != HTTP_BODY_CLOSE &&
		       evbuffer_get_length(upstream_input(hc->up)) == 0;
	if (reusable)
		hc->up_reusable = 1;
	else
		drop_upstream(hc, 0);
	if (hc->close_after) {
		close_after_flush(hc);
		return;
	}
	exchange_reset(hc);
	hc->state = HC_HEAD;
	daemon_drain_poke();
	if (hc->reading_paused) {
		hc->reading_paused = 0;
		client_reading(hc, 1);
	}
}

static void exchange_step(struct http_conn *hc)
{
	enum hc_timer fired = hc->timer_fired;
	hc->timer_fired = T_NONE;
	if (fired == T_RESPONSE) {
		if (!hc->resp_head_done) {
			drop_upstream(hc, 1);
			if (hc->resp_started)
				abort_conn(hc, "no response in time");
			else
				respond(hc, 504, "the service did not answer in time", NULL, 1);
			return;
		}
	}
	if (hc->up_reset) {
		upstream_failed(hc, hc->up_reset_reason);
		return;
	}
	forward_request_body(hc);
	/* The service has until response_timeout after the whole request to start answering (a
	 * long upload is not its fault). */
	if (hc->req_done && !hc->resp_head_done && !hc->dead && !hc->closing)
		arm(hc, T_RESPONSE, http_edge_conf()->response_timeout_ms);
	while (!hc->dead && !hc->closing && hc->up && !hc->resp_head_done && hc->state == HC_EXCHANGE)
		if (!take_response_head(hc))
			break;
	if (hc->dead || hc->closing || hc->state != HC_EXCHANGE)
		return;
	if (hc->resp_head_done)
		forward_response_body(hc);
	if (hc->resp_done && !hc->dead)
		finish_exchange(hc);
}

/* HC_TUNNEL: raw bytes both ways after a 101. */
static void tunnel_step(struct http_conn *hc)
{
	struct evbuffer *in = bufferevent_get_input(hc->bev);
	struct evbuffer *out = bufferevent_get_output(hc->bev);
	struct evbuffer *uin = upstream_input(hc->up);
	if (hc->up_reset) {
		abort_conn(hc, hc->up_reset_reason);
		return;
	}
	size_t len = evbuffer_get_length(in);
	if (len) {
		size_t space = upstream_send_space(hc->up);
		size_t n = len < space ? len : space;
		if (n)
			upstream_write_buffer(hc->up, in, n);
		/* What is left now, not n < len: the upstream's on_writable may have run inside
		 * the write (a native transport takes the bytes at once) and moved the rest. */
		size_t left = evbuffer_get_length(in);
		if (left && !hc->reading_paused) {
			client_reading(hc, 0);
			hc->reading_paused = 1;
		} else if (!left && hc->reading_paused && !hc->client_eof) {
			hc->reading_paused = 0;
			client_reading(hc, 1);
		}
	}
	if (hc->dead)
		return;
	if (hc->client_eof && evbuffer_get_length(in) == 0 && !hc->up_shut) {
		hc->up_shut = 1;
		upstream_shutdown(hc->up);
	}
	size_t ulen = evbuffer_get_length(uin);
	size_t queued = evbuffer_get_length(out);
	if (ulen && queued < CLIENT_OUT_HIGH) {
		size_t n = CLIENT_OUT_HIGH - queued;
		if (n > ulen)
			n = ulen;
		evbuffer_remove_buffer(uin, out, n);
		upstream_consumed(hc->up, n);
		ulen -= n;
	}
	if (hc->up_fin && ulen == 0 && !hc->client_shut && evbuffer_get_length(out) == 0) {
		hc->client_shut = 1;
		if (hc->tls) {
			/* TLS has no half-close a client library would pass on: end it whole. */
			close_after_flush(hc);
			return;
		}
		shutdown(bufferevent_getfd(hc->bev), SHUT_WR);
	}
	if (hc->up_shut && hc->client_shut)
		hc->dead = 1;
}

static void step(struct http_conn *hc)
{
	if (hc->dead)
		return;
	if (hc->closing) {
		if (evbuffer_get_length(bufferevent_get_output(hc->bev)) == 0)
			hc->dead = 1;
		return;
	}
	switch (hc->state) {
	case HC_HEAD:
		read_head(hc);
		break;
	case HC_EXCHANGE:
		exchange_step(hc);
		break;
	case HC_TUNNEL:
		tunnel_step(hc);
		break;
	case HC_ROUTE:
		route_wait_step(hc);
		break;
	}
}

/* Plain clients get their bytes at once (sock_flush.h); TLS connections go through
 * OpenSSL's bufferevent as usual. Returns 1 when the output emptied. */
static int flush_client(struct http_conn *hc)
{
	if (hc->tls || hc->dead || evbuffer_get_length(bufferevent_get_output(hc->bev)) == 0)
		return 0;
	int rc = sock_flush(hc->bev);
	if (rc < 0) {
		log_msg(PROXYD_LOG_DEBUG, "http", hc->id, "%s: write to the client: %s", hc->client,
			strerror(errno));
		hc->abort_client = 1;
		hc->dead = 1;
		return 0;
	}
	return rc;
}

static void pump(struct http_conn *hc)
{
	if (hc->busy) {
		hc->again = 1;
		return;
	}
	hc->busy = 1;
	do {
		hc->again = 0;
		enum hc_state before = hc->state;
		int closing_before = hc->closing;
		step(hc);
		/* A state change may have left work for the new state (pipelined bytes); an
		 * emptied output lets more response bytes in, or a closing connection end. */
		if (hc->state != before || hc->closing != closing_before || flush_client(hc))
			hc->again = 1;
	} while (hc->again && !hc->dead);
	hc->busy = 0;
	if (hc->dead)
		conn_free(hc);
}

void http_conn_start(struct bufferevent *bev, uint64_t conn_id, const char *client, int tls,
		     const char *sni)
{
	struct http_conn *hc = calloc(1, sizeof *hc);
	if (!hc) {
		bufferevent_free(bev);
		return;
	}
	hc->timer = evtimer_new(loop_base(), on_timer, hc);
	if (!hc->timer) {
		free(hc);
		bufferevent_free(bev);
		return;
	}
	hc->bev = bev;
	hc->id = conn_id;
	hc->tls = tls;
	snprintf(hc->client, sizeof hc->client, "%s", client);
	snprintf(hc->sni, sizeof hc->sni, "%s", sni ? sni : "");
	hc->next = conns;
	if (conns)
		conns->prev = hc;
	conns = hc;
	n_conns++;
	bufferevent_setcb(bev, tls ? client_read : NULL, client_write, client_event, hc);
	bufferevent_setwatermark(bev, EV_WRITE, CLIENT_OUT_LOW, 0);
	bufferevent_set_max_single_read(bev, CLIENT_OUT_HIGH);
	bufferevent_set_max_single_write(bev, CLIENT_OUT_HIGH);
	if (tls) {
		bufferevent_enable(bev, EV_READ | EV_WRITE);
	} else {
		hc->reader = sock_reader_new(bev, client_read_plain, hc);
		if (!hc->reader) {
			hc->dead = 1;
			hc->abort_client = 1;
		}
	}
	pump(hc);
}

void http_conn_drain_all(void)
{
	draining = 1;
	struct http_conn *next;
	for (struct http_conn *hc = conns; hc; hc = next) {
		next = hc->next;
		if (hc->state == HC_HEAD && !hc->busy)
			pump(hc); /* an idle one closes; a half-read head still gets its 503 */
	}
}

void http_conn_close_all(void)
{
	while (conns) {
		conns->abort_client = conns->state != HC_HEAD;
		conn_free(conns);
	}
	draining = 0;
}

unsigned http_conn_count(void)
{
	return n_conns;
}

int http_conn_busy(void)
{
	for (struct http_conn *hc = conns; hc; hc = hc->next)
		if (hc->state != HC_HEAD && !hc->closing)
			return 1;
	return 0;
}
