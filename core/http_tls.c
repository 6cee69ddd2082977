/* HTTPS listeners: SNI first, then passthrough or termination (see http_tls.h).
 *
 * The ClientHello is read with MSG_PEEK, so the bytes stay in the socket for whoever takes
 * the connection next: the agent's TLS server (passthrough) or OpenSSL here. A hello that
 * has not fully arrived is looked at again after a short pause rather than on the next
 * readable event: peeked bytes keep the socket readable, and a level-triggered wait would
 * spin. */
#include "config.h"
#include "http_tls.h"
#include "frame.h"
#include "http_conn.h"
#include "http_edge.h"
#include "log.h"
#include "loop.h"
#include "server.h"
#include "session.h"
#include "sni_match.h"
#include "splice.h"
#include "tls_certs.h"
#include "tls_hello.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define HELLO_RETRY_MS 10

struct passthrough {
	char sni[TLS_SNI_MAX + 1];
	char agent[CONF_ID_MAX + 1];
	char service[64];
};

struct http_tls {
	int refs;
	struct tls_certs *certs;
	struct passthrough *pt;
	int n_pt;
};

struct pending_hello {
	struct pending_hello *next, *prev;
	struct http_tls *t;
	int fd;
	uint64_t id;
	char client[64];
	struct event *ev;
	uint64_t deadline_ms;
};

static struct pending_hello *pending;

struct http_tls *http_tls_new(const struct conf_http_listener *cl, char *err, size_t errlen)
{
	struct http_tls *t = calloc(1, sizeof *t);
	struct tls_cert_files *files = calloc((size_t)cl->n_certs, sizeof *files);
	if (!t || !files) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	for (int i = 0; i < cl->n_certs; i++) {
		files[i].cert = cl->certs[i].cert;
		files[i].key = cl->certs[i].key;
	}
	t->certs = tls_certs_new(files, cl->n_certs, err, errlen);
	if (!t->certs)
		goto fail;
	t->pt = calloc((size_t)cl->n_passthrough + 1, sizeof *t->pt);
	if (!t->pt) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* Copied: a reload frees the configuration while hellos may still be in flight. */
	for (int i = 0; i < cl->n_passthrough; i++) {
		snprintf(t->pt[i].sni, sizeof t->pt[i].sni, "%s", cl->passthrough[i].sni);
		snprintf(t->pt[i].agent, sizeof t->pt[i].agent, "%s", cl->passthrough[i].agent);
		snprintf(t->pt[i].service, sizeof t->pt[i].service, "%s", cl->passthrough[i].service);
	}
	t->n_pt = cl->n_passthrough;
	t->refs = 1;
	free(files);
	return t;
fail:
	free(files);
	if (t) {
		tls_certs_free(t->certs);
		free(t->pt);
		free(t);
	}
	return NULL;
}

static void tls_unref(struct http_tls *t)
{
	if (!t || --t->refs > 0)
		return;
	tls_certs_free(t->certs);
	free(t->pt);
	free(t);
}

void http_tls_free(struct http_tls *t)
{
	tls_unref(t);
}

static void pending_free(struct pending_hello *p, int close_fd)
{
	if (p->prev)
		p->prev->next = p->next;
	else
		pending = p->next;
	if (p->next)
		p->next->prev = p->prev;
	event_free(p->ev);
	if (close_fd)
		evutil_closesocket(p->fd);
	tls_unref(p->t);
	free(p);
}

static const struct passthrough *find_passthrough(const struct http_tls *t, const char *sni)
{
	if (!*sni)
		return NULL;
	/* Exact names first, then wildcards, whatever the order in the file. */
	for (int i = 0; i < t->n_pt; i++)
		if (t->pt[i].sni[0] != '*' && sni_pattern_match(t->pt[i].sni, sni))
			return &t->pt[i];
	for (int i = 0; i < t->n_pt; i++)
		if (t->pt[i].sni[0] == '*' && sni_pattern_match(t->pt[i].sni, sni))
			return &t->pt[i];
	return NULL;
}

static void pass_through(struct pending_hello *p, const struct passthrough *pt, const char *sni)
{
	const char *why = "?";
	struct stream *st = server_open_stream(pt->agent, pt->service, OPEN_KIND_TCP, p->client, &why);
	if (!st) {
		/* Inside TLS there is no way to send an HTTP error: the client sees a closed
		 * connection, the operator this line. */
		log_msg(PROXYD_LOG_WARN, "https", p->id, "%s: TLS passthrough for %s -> %s/%s: %s; closing",
			p->client, sni, pt->agent, pt->service[0] ? pt->service : "(default)", why);
		pending_free(p, 1);
		return;
	}
	struct bufferevent *bev = bufferevent_socket_new(loop_base(), p->fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		stream_reset(st, RST_INTERNAL, "out of memory");
		stream_release(st);
		pending_free(p, 1);
		return;
	}
	log_msg(PROXYD_LOG_DEBUG, "https", p->id, "%s: TLS for %s passed through to %s/%s", p->client,
		sni, pt->agent, pt->service[0] ? pt->service : "(default)");
	uint64_t id = p->id;
	pending_free(p, 0);
	splice_start(st, bev, id);
}

static void terminate(struct pending_hello *p, const char *sni)
{
	SSL *ssl = tls_certs_new_ssl(p->t->certs);
	struct bufferevent *bev =
		ssl ? bufferevent_openssl_socket_new(loop_base(), p->fd, ssl, BUFFEREVENT_SSL_ACCEPTING,
						     BEV_OPT_CLOSE_ON_FREE)
		    : NULL;
	if (!bev) {
		if (ssl)
			SSL_free(ssl);
		log_msg(PROXYD_LOG_WARN, "https", p->id, "%s: out of memory for TLS", p->client);
		pending_free(p, 1);
		return;
	}
	/* Clients often close without close_notify after a complete response: that is an end,
	 * not an error, on the user's side (framing tells whether anything was cut). */
	bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	log_msg(PROXYD_LOG_DEBUG, "https", p->id, "%s: TLS for '%s' with %s", p->client, sni,
		tls_certs_pick(p->t->certs, sni));
	uint64_t id = p->id;
	char client[64];
	snprintf(client, sizeof client, "%s", p->client);
	pending_free(p, 0);
	http_conn_start(bev, id, client, 1, sni);
}

static void look(evutil_socket_t fd, short what, void *arg)
{
	struct pending_hello *p = arg;
	static uint8_t buf[TLS_HELLO_MAX_INPUT];
	ssize_t n = recv(p->fd, buf, sizeof buf, MSG_PEEK);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)) {
		pending_free(p, 1);
		return;
	}
	if (n < 0)
		n = 0;
	char sni[TLS_SNI_MAX + 1];
	const char *err = NULL;
	int rc = n ? tls_hello_sni(buf, (size_t)n, sni, sizeof sni, &err) : -EAGAIN;
	if (rc == -EAGAIN) {
		if (loop_now_ms() >= p->deadline_ms) {
			log_msg(PROXYD_LOG_INFO, "https", p->id, "%s: no TLS ClientHello in time; closing",
				p->client);
			pending_free(p, 1);
			return;
		}
		struct timeval tv = {0, HELLO_RETRY_MS * 1000};
		event_del(p->ev);
		event_assign(p->ev, loop_base(), -1, 0, look, p);
		event_add(p->ev, &tv);
		return;
	}
	if (rc < 0) {
		log_msg(PROXYD_LOG_INFO, "https", p->id, "%s: %s; closing", p->client,
			err ? err : "not a TLS ClientHello");
		if (err && strstr(err, "HTTP")) {
			static const char msg[] = "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\n"
						  "Content-Length: 39\r\nConnection: close\r\n\r\n"
						  "400 Bad Request: this port speaks TLS\n";
			ssize_t w = send(p->fd, msg, sizeof msg - 1, MSG_NOSIGNAL);
			(void)w;
		}
		pending_free(p, 1);
		return;
	}
	const struct passthrough *pt = find_passthrough(p->t, sni);
	if (pt)
		pass_through(p, pt, sni);
	else
		terminate(p, sni);
}

void http_tls_accept(struct http_tls *t, int fd, uint64_t conn_id, const char *client)
{
	struct pending_hello *p = calloc(1, sizeof *p);
	if (!p) {
		evutil_closesocket(fd);
		return;
	}
	evutil_make_socket_nonblocking(fd);
	p->t = t;
	t->refs++;
	p->fd = fd;
	p->id = conn_id;
	snprintf(p->client, sizeof p->client, "%s", client);
	p->deadline_ms = loop_now_ms() + (uint64_t)http_edge_conf()->header_timeout_ms;
	p->ev = event_new(loop_base(), fd, EV_READ, look, p);
	if (!p->ev) {
		tls_unref(t);
		free(p);
		evutil_closesocket(fd);
		return;
	}
	p->next = pending;
	if (pending)
		pending->prev = p;
	pending = p;
	long long ms = http_edge_conf()->header_timeout_ms;
	struct timeval tv = {.tv_sec = ms / 1000, .tv_usec = (ms % 1000) * 1000};
	event_add(p->ev, &tv);
}

void http_tls_pending_close_all(void)
{
	while (pending)
		pending_free(pending, 1);
}
