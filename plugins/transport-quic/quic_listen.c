/* quic_listen.c: the server side. One engine endpoint per listen entry, on one UDP port (every
 * address of its host), and the hand-over of each connection whose handshake is complete to
 * the core.
 *
 * Why an endpoint can outlive its listener: a reload unlistens and listens again, and
 * sessions must survive it (core/roles.c). Over TCP an accepted socket is independent of the
 * listening one; here every connection lives on the endpoint's UDP socket. So unlisten only
 * stops handing over new connections; the endpoint stays while it has some, and a listen of
 * the same address takes it back (with the new entry's files and settings for connections
 * made from then on). Without connections it is freed from the loop. */
#include "config.h"
#include "quic_plugin.h"
#include "stun.h"
#include "stun_answer.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define QT_MAX_BINDS 8
/* Session codes (doc/PROTOCOL.md 10.2) for connections refused here. */
#define SESSION_NONE 0
#define SESSION_AUTH 3
#define SESSION_INTERNAL 9

struct qt_server {
	struct qt_plugin *p;
	struct quic_endpoint *ep;
	proxyd_listener *l; /* NULL after unlisten: new connections are refused */
	char *address;      /* as configured: how a reload finds the endpoint again */
	int mtls;           /* client_ca given: a client certificate names the agent */
	unsigned nconns;    /* engine connections alive on ep */
	int dead;           /* no listener, no connections: freed from the loop */
	LIST_ENTRY(qt_server) link;
};

static void server_free(struct qt_server *srv)
{
	LIST_REMOVE(srv, link);
	quic_endpoint_free(srv->ep);
	free(srv->address);
	free(srv);
}

/* The endpoint is the callbacks' arg, so the struct lives as long as the endpoint does. */
static void server_retire(struct qt_server *srv)
{
	srv->dead = 1;
	qt_reap_endpoint(srv->p, NULL);
}

void qt_listen_reap(struct qt_plugin *p)
{
	struct qt_server *srv, *next;
	for (srv = LIST_FIRST(&p->servers); srv; srv = next) {
		next = LIST_NEXT(srv, link);
		if (srv->dead)
			server_free(srv);
	}
}

void qt_listen_free_all(struct qt_plugin *p)
{
	while (!LIST_EMPTY(&p->servers))
		server_free(LIST_FIRST(&p->servers));
}

static void peer_text(struct quic_conn *qc, char *buf, size_t len)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	snprintf(buf, len, "?");
	if (quic_conn_peer_addr(qc, &ss, &sl) == 0)
		qt_sockaddr_format((struct sockaddr *)&ss, buf, len);
}

/* ---- engine callbacks ---- */

static void srv_conn_new(struct quic_conn *qc, void *arg)
{
	struct qt_server *srv = arg;
	srv->nconns++;
	if (!srv->l)
		quic_conn_close(qc, SESSION_NONE, "this listener is closed");
}

static void srv_conn_ready(struct quic_conn *qc, void *arg)
{
	struct qt_server *srv = arg;
	struct qt_plugin *p = srv->p;
	uint64_t conn_id = p->host->next_conn_id();
	struct qt_conn *c = qt_conn_new(p, qc, conn_id, 1);
	if (!c) {
		QT_LOG(p, PROXYD_LOG_ERROR, conn_id, "%s: out of memory for a connection",
		       srv->address);
		quic_conn_close(qc, SESSION_INTERNAL, "out of memory");
		return;
	}
	c->srv = srv;
	if (!srv->l) {
		qt_conn_refuse(c, SESSION_NONE, "this listener is closed");
		return;
	}
	struct proxyd_peer_info info;
	qt_conn_peer_info(c, &info);
	if (srv->mtls && !info.identity) {
		/* With client_ca the CN is the agent's identity (as over TCP); a verified
		 * certificate without one cannot be told apart from another agent's. */
		QT_LOG(p, PROXYD_LOG_WARN, conn_id,
		       "QUIC handshake from %s on %s refused: the client certificate has no "
		       "commonName (it names the agent)",
		       c->peer, srv->address);
		qt_conn_refuse(c, SESSION_AUTH, "the client certificate has no commonName");
		return;
	}
	QT_LOG(p, PROXYD_LOG_DEBUG, conn_id, "accepted %s on %s: %s%s%s", c->peer, srv->address,
	       info.security, info.identity ? ", identity " : "", info.identity ? info.identity : "");
	proxyd_conn *core = p->host->native_accepted(srv->l, c, &info);
	if (!core) {
		QT_LOG(p, PROXYD_LOG_DEBUG, conn_id, "the core did not take the connection from %s",
		       c->peer);
		qt_conn_refuse(c, SESSION_INTERNAL, "the server did not take the connection");
		return;
	}
	c->core = core;
}

static void srv_conn_closed(struct quic_conn *qc, const struct quic_close_info *info, void *arg)
{
	struct qt_server *srv = arg;
	struct qt_conn *c = quic_conn_user(qc);
	srv->nconns--;
	if (c) {
		qt_conn_engine_closed(c, info);
	} else if (info->kind != QUIC_CLOSE_APPLICATION || info->by_peer) {
		/* (a close of ours was logged where it was decided) */
		char peer[QT_ADDR_TEXT_MAX];
		peer_text(qc, peer, sizeof peer);
		QT_LOG(srv->p, PROXYD_LOG_WARN, 0, "QUIC handshake from %s on %s failed: %s", peer,
		       srv->address, info->reason);
	}
	if (!srv->l && srv->nconns == 0)
		server_retire(srv);
}

/* The listening socket answers STUN Binding requests too (stun.c and stun_answer.c are
 * udp-punch's, compiled in): an agent, or any STUN client, learns its public address from the
 * very UDP port the server speaks QUIC on, which is what a direct path's candidates need
 * (doc/DIRECT-PATHS.md). The engine hands over only what no QUIC connection claims. */
static void srv_non_quic(struct quic_endpoint *ep, int fd, const struct sockaddr *from,
			 socklen_t fromlen, const uint8_t *pkt, size_t len, void *arg)
{
	struct qt_server *srv = arg;
	if (!stun_looks_like(pkt, len))
		return;
	uint8_t out[STUN_MSG_MAX];
	const char *why = NULL;
	size_t unknown = 0;
	size_t n = stun_answer(pkt, len, from, out, sizeof out, &why, &unknown);
	char who[QT_ADDR_TEXT_MAX];
	qt_sockaddr_format(from, who, sizeof who);
	if (n == 0) {
		QT_LOG(srv->p, PROXYD_LOG_DEBUG, 0, "STUN on %s: dropped %zu bytes from %s: %s",
		       srv->address, len, who, why);
		return;
	}
	if (sendto(fd, out, n, 0, from, fromlen) < 0)
		QT_LOG(srv->p, PROXYD_LOG_DEBUG, 0, "STUN on %s: answer to %s: %s", srv->address, who,
		       strerror(errno));
	else
		QT_LOG(srv->p, PROXYD_LOG_DEBUG, 0, "STUN on %s: Binding request from %s answered",
		       srv->address, who);
}

static const struct quic_callbacks server_callbacks = {
	.non_quic_datagram = srv_non_quic,
	.conn_new = srv_conn_new,
	.conn_ready = srv_conn_ready,
	.conn_closed = srv_conn_closed,
	.stream_opened = qt_on_stream_opened,
	.stream_readable = qt_on_stream_readable,
	.stream_writable = qt_on_stream_writable,
	.stream_reset = qt_on_stream_reset,
	.stream_closed = qt_on_stream_closed,
	.path_changed = qt_on_path_changed,
};

/* ---- listen / unlisten ---- */

/* An address of a name this machine cannot bind (IPv6 switched off, say): not fatal while
 * another address of the same name is bound. */
static int skippable(int err)
{
	return err == EADDRNOTAVAIL || err == EAFNOSUPPORT;
}

static int bind_all(struct qt_server *srv, const struct qt_endpoint *ep)
{
	struct qt_plugin *p = srv->p;
	char port[8];
	snprintf(port, sizeof port, "%u", (unsigned)ep->addr.port);
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_DGRAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV |
			    (ep->addr.kind == TCP_HOST_NAME ? 0 : AI_NUMERICHOST),
	};
	struct addrinfo *res = NULL;
	/* A name blocks here on the system resolver, once, at start-up or reload (as for
	 * transport tcp): an asynchronous bind would leave listen() unable to report failure. */
	int gai = getaddrinfo(ep->addr.host, port, &hints, &res);
	if (gai != 0) {
		QT_LOG(p, PROXYD_LOG_ERROR, 0, "cannot listen on %s: %s", ep->address,
		       gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -EADDRNOTAVAIL;
	}
	int rc = 0, bound = 0, skipped_err = 0;
	char skipped[QT_ADDR_TEXT_MAX] = "";
	/* Every address of a name, so "localhost:4433" answers on ::1 and 127.0.0.1 alike. */
	for (struct addrinfo *ai = res; ai && bound < QT_MAX_BINDS; ai = ai->ai_next) {
		int dup = 0;
		for (struct addrinfo *prev = res; prev != ai; prev = prev->ai_next)
			dup |= prev->ai_addrlen == ai->ai_addrlen &&
			       memcmp(prev->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0;
		if (dup)
			continue;
		char where[QT_ADDR_TEXT_MAX];
		qt_sockaddr_format(ai->ai_addr, where, sizeof where);
		int err = -quic_endpoint_bind(srv->ep, ai->ai_addr, (socklen_t)ai->ai_addrlen);
		if (err == 0) {
			bound++;
			continue;
		}
		if (ep->addr.kind == TCP_HOST_NAME && skippable(err)) {
			skipped_err = err;
			snprintf(skipped, sizeof skipped, "%s", where);
			continue;
		}
		QT_LOG(p, PROXYD_LOG_ERROR, 0, "cannot listen on %s (udp %s): %s", ep->address, where,
		       strerror(err));
		rc = -err;
		break;
	}
	freeaddrinfo(res);
	if (rc == 0 && bound == 0) {
		QT_LOG(p, PROXYD_LOG_ERROR, 0, "cannot listen on %s (udp %s): %s", ep->address,
		       skipped, strerror(skipped_err));
		rc = -skipped_err;
	} else if (rc == 0 && skipped_err) {
		QT_LOG(p, PROXYD_LOG_INFO, 0, "%s: not listening on udp %s: %s", ep->address, skipped,
		       strerror(skipped_err));
	}
	return rc;
}

/* A reload: the endpoint this address had is still there (with its connections, or waiting
 * to be freed); it takes the new entry's settings for what comes next. */
static int reattach(struct qt_server *srv, const struct qt_endpoint *ep, proxyd_listener *l)
{
	struct quic_config cfg;
	qt_endpoint_engine_config(ep, &cfg);
	const char *which;
	char err[512];
	int rc = quic_endpoint_reconfigure(srv->ep, &cfg, &which, err, sizeof err);
	if (rc < 0) {
		QT_LOG(srv->p, PROXYD_LOG_ERROR, 0, "cannot listen on %s: %s", ep->address, err);
		return rc;
	}
	srv->l = l;
	srv->dead = 0;
	srv->mtls = ep->client_ca != NULL;
	QT_LOG(srv->p, PROXYD_LOG_DEBUG, 0, "%s: listening again (%u connection(s) kept)",
	       ep->address, srv->nconns);
	return 0;
}

int qt_listen_start(struct qt_plugin *p, const struct qt_endpoint *ep, proxyd_listener *l,
		    void **listener_state)
{
	if (!p->native) {
		QT_LOG(p, PROXYD_LOG_ERROR, 0,
		       "cannot listen on %s: this proxyd has no native-stream sessions (plugin ABI "
		       "1.3 host functions), which transport quic needs",
		       ep->address);
		return -ENOTSUP;
	}
	struct qt_server *srv;
	LIST_FOREACH(srv, &p->servers, link) {
		if (!srv->l && strcmp(srv->address, ep->address) == 0) {
			int rc = reattach(srv, ep, l);
			if (rc == 0)
				*listener_state = srv;
			return rc;
		}
	}
	/* an endpoint of an address no longer listened on may still hold the port */
	qt_reap_now(p);

	srv = calloc(1, sizeof *srv);
	if (!srv || !(srv->address = strdup(ep->address))) {
		free(srv);
		return -ENOMEM;
	}
	srv->p = p;
	srv->l = l;
	srv->mtls = ep->client_ca != NULL;
	struct quic_config cfg;
	qt_endpoint_engine_config(ep, &cfg);
	char err[512];
	int rc = quic_endpoint_new(p->base, &cfg, &server_callbacks, srv, &srv->ep, err,
				   sizeof err);
	if (rc < 0) {
		QT_LOG(p, PROXYD_LOG_ERROR, 0, "cannot listen on %s: %s", ep->address, err);
		free(srv->address);
		free(srv);
		return rc;
	}
	LIST_INSERT_HEAD(&p->servers, srv, link);
	rc = bind_all(srv, ep);
	if (rc < 0) {
		server_free(srv);
		return rc;
	}
	QT_LOG(p, PROXYD_LOG_DEBUG, 0, "listening on %s (udp, %s)", ep->address,
	       srv->mtls ? "client certificates required" : "no client certificates");
	*listener_state = srv;
	return 0;
}

void qt_listen_stop(void *listener_state)
{
	struct qt_server *srv = listener_state;
	if (!srv)
		return;
	srv->l = NULL;
	if (srv->nconns == 0) {
		server_retire(srv);
		return;
	}
	QT_LOG(srv->p, PROXYD_LOG_DEBUG, 0, "%s: no new connections; %u connection(s) go on",
	       srv->address, srv->nconns);
}
