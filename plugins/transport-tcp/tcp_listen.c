/* The server side: bound listeners, TLS handshakes in progress, and the hand-over of each
 * finished connection to the core. */
#include "config.h"
#include "tcp_link.h"
#include "tcp_plugin.h"
#include "tcp_sock.h"
#include "tcp_tls.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TCP_MAX_BINDS 8
/* Handshakes in flight per listener. Each holds a socket and tens of KiB of TLS state; a
 * flood of clients that connect and say nothing must exhaust neither. */
#define TCP_MAX_HANDSHAKES 1024
#define TCP_ACCEPT_PAUSE_MS 1000

struct tcp_handshake;

struct tcp_listener {
	struct tcp_plugin *p;
	proxyd_listener *l;
	char *address;
	int keepalive;
	int mtls;
	SSL_CTX *ctx; /* NULL with tls = false */
	struct evconnlistener *lev[TCP_MAX_BINDS];
	int n_lev;
	struct event *resume;
	struct tcp_handshake *handshakes;
	int n_handshakes;
	int full_reported;
};

struct tcp_handshake {
	struct tcp_listener *ls;
	struct tcp_handshake *next, **pprev;
	struct bufferevent *bev;
	struct tcp_link *link; /* bev's TLS state */
	struct event *timeout;
	uint64_t conn_id;
	char peer[TCP_ADDR_TEXT_MAX];
};

static void handshake_free(struct tcp_handshake *hs)
{
	struct tcp_listener *ls = hs->ls;
	*hs->pprev = hs->next;
	if (hs->next)
		hs->next->pprev = hs->pprev;
	if (--ls->n_handshakes < TCP_MAX_HANDSHAKES / 2)
		ls->full_reported = 0;
	if (hs->timeout)
		event_free(hs->timeout);
	if (hs->bev)
		bufferevent_free(hs->bev);
	free(hs);
}

static void hand_over(struct tcp_listener *ls, struct bufferevent *bev, uint64_t conn_id,
		      const char *peer, const char *identity, const char *security)
{
	struct proxyd_peer_info info = {
		.size = sizeof info,
		.address = peer,
		.identity = identity,
		.security = security,
		.verified = identity != NULL,
	};
	/* The core owns bev from here; a callback of ours firing later would be a
	 * use-after-free of our state. */
	bufferevent_setcb(bev, NULL, NULL, NULL, NULL);
	TCP_LOG(ls->p, PROXYD_LOG_DEBUG, conn_id, "accepted %s on %s: %s%s%s", peer, ls->address,
		security, identity ? ", identity " : "", identity ? identity : "");
	ls->p->host->listener_accepted(ls->l, bev, &info);
}

static void handshake_done(struct tcp_handshake *hs)
{
	struct tcp_listener *ls = hs->ls;
	struct tcp_tls_peer peer;
	tcp_tls_peer_describe(tcp_link_ssl(hs->link), &peer);
	const char *identity = peer.verified && peer.identity[0] ? peer.identity : NULL;
	if (ls->mtls && !identity) {
		/* With client_ca the CN is the agent's identity; a verified certificate without a
		 * usable one cannot be told apart from another agent's. */
		TCP_LOG(ls->p, PROXYD_LOG_WARN, hs->conn_id,
			"TLS handshake from %s on %s refused: the client certificate has no usable "
			"CN (exactly one printable commonName names the agent)",
			hs->peer, ls->address);
		handshake_free(hs);
		return;
	}
	char addr[TCP_ADDR_TEXT_MAX];
	memcpy(addr, hs->peer, sizeof addr);
	uint64_t conn_id = hs->conn_id;
	struct bufferevent *bev = hs->bev;
	hs->bev = NULL;
	handshake_free(hs);
	hand_over(ls, bev, conn_id, addr, identity, peer.security);
}

static void handshake_event(struct bufferevent *bev, short what, void *arg)
{
	int sock_err = EVUTIL_SOCKET_ERROR();
	struct tcp_handshake *hs = arg;
	if (what & BEV_EVENT_CONNECTED) {
		handshake_done(hs);
		return;
	}
	char why[300];
	tcp_tls_failure(tcp_link_ssl(hs->link), tcp_link_error(hs->link), NULL, sock_err, why,
			sizeof why);
	TCP_LOG(hs->ls->p, PROXYD_LOG_WARN, hs->conn_id, "TLS handshake from %s on %s failed: %s",
		hs->peer, hs->ls->address, why);
	handshake_free(hs);
}

static void handshake_timeout(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_handshake *hs = arg;
	TCP_LOG(hs->ls->p, PROXYD_LOG_WARN, hs->conn_id,
		"TLS handshake from %s on %s failed: no handshake within %d s", hs->peer,
		hs->ls->address, TCP_HANDSHAKE_TIMEOUT_MS / 1000);
	handshake_free(hs);
}

static void start_handshake(struct tcp_listener *ls, evutil_socket_t fd, uint64_t conn_id,
			    const char *peer)
{
	struct tcp_plugin *p = ls->p;
	if (ls->n_handshakes >= TCP_MAX_HANDSHAKES) {
		if (!ls->full_reported)
			TCP_LOG(p, PROXYD_LOG_WARN, conn_id,
				"%s: %d TLS handshakes in progress; refusing new connections "
				"until some finish (first refused: %s)",
				ls->address, ls->n_handshakes, peer);
		ls->full_reported = 1;
		evutil_closesocket(fd);
		return;
	}
	struct tcp_handshake *hs = calloc(1, sizeof *hs);
	SSL *ssl = hs ? SSL_new(ls->ctx) : NULL;
	if (!ssl) {
		TCP_LOG(p, PROXYD_LOG_ERROR, conn_id, "%s: out of memory for a TLS connection from %s",
			ls->address, peer);
		free(hs);
		evutil_closesocket(fd);
		return;
	}
	hs->ls = ls;
	hs->conn_id = conn_id;
	snprintf(hs->peer, sizeof hs->peer, "%s", peer);
	hs->next = ls->handshakes;
	if (hs->next)
		hs->next->pprev = &hs->next;
	hs->pprev = &ls->handshakes;
	ls->handshakes = hs;
	ls->n_handshakes++;

	/* On failure ssl is freed and fd closed. */
	hs->bev = tcp_link_new(p->base, fd, ssl, 1, &hs->link);
	hs->timeout = evtimer_new(p->base, handshake_timeout, hs);
	struct timeval tv = {TCP_HANDSHAKE_TIMEOUT_MS / 1000, 0};
	if (!hs->bev || !hs->timeout || evtimer_add(hs->timeout, &tv) != 0) {
		TCP_LOG(p, PROXYD_LOG_ERROR, conn_id, "%s: out of memory for a TLS connection from %s",
			ls->address, peer);
		handshake_free(hs);
		return;
	}
	bufferevent_setcb(hs->bev, NULL, NULL, handshake_event, hs);
}

static void on_accept(struct evconnlistener *lev, evutil_socket_t fd, struct sockaddr *sa,
		      int socklen, void *arg)
{
	struct tcp_listener *ls = arg;
	struct tcp_plugin *p = ls->p;
	uint64_t conn_id = p->host->next_conn_id();
	char peer[TCP_ADDR_TEXT_MAX];
	tcp_sockaddr_format(sa, (socklen_t)socklen, peer, sizeof peer);
	int rc = tcp_sock_tune(fd, ls->keepalive);
	if (rc < 0)
		/* Usually the peer already reset; the first read will say so. */
		TCP_LOG(p, PROXYD_LOG_DEBUG, conn_id, "%s: socket options for %s: %s", ls->address,
			peer, strerror(-rc));
	if (ls->ctx) {
		start_handshake(ls, fd, conn_id, peer);
		return;
	}
	int opts = BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS;
	struct bufferevent *bev = bufferevent_socket_new(p->base, fd, opts);
	if (!bev) {
		TCP_LOG(p, PROXYD_LOG_ERROR, conn_id, "%s: out of memory for a connection from %s",
			ls->address, peer);
		evutil_closesocket(fd);
		return;
	}
	hand_over(ls, bev, conn_id, peer, NULL, "plain");
}

static void resume_accepting(evutil_socket_t fd, short what, void *arg)
{
	struct tcp_listener *ls = arg;
	for (int i = 0; i < ls->n_lev; i++)
		evconnlistener_enable(ls->lev[i]);
}

/* Out of descriptors, the listening socket stays readable and libevent would spin on
 * accept(); step back and let connections close. */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
	int err = EVUTIL_SOCKET_ERROR();
	struct tcp_listener *ls = arg;
	TCP_LOG(ls->p, PROXYD_LOG_WARN, 0, "%s: accept: %s; pausing new connections for %d ms",
		ls->address, strerror(err), TCP_ACCEPT_PAUSE_MS);
	for (int i = 0; i < ls->n_lev; i++)
		evconnlistener_disable(ls->lev[i]);
	struct timeval tv = {0, TCP_ACCEPT_PAUSE_MS * 1000};
	evtimer_add(ls->resume, &tv);
}

/* An address of a name this machine cannot bind (IPv6 switched off, say): not fatal while
 * another address of the same name is bound. */
static int skippable(int err)
{
	return err == EADDRNOTAVAIL || err == EAFNOSUPPORT;
}

static int bind_all(struct tcp_listener *ls, const struct tcp_endpoint *ep)
{
	struct tcp_plugin *p = ls->p;
	char port[8];
	snprintf(port, sizeof port, "%u", (unsigned)ep->addr.port);
	struct addrinfo hints = {
		.ai_family = AF_UNSPEC,
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICSERV |
			    (ep->addr.kind == TCP_HOST_NAME ? 0 : AI_NUMERICHOST),
	};
	struct addrinfo *res = NULL;
	/* A name blocks here on the system resolver. That happens once, at start-up or
	 * reload, before there is traffic to stall, and listen names are normally in
	 * /etc/hosts; an asynchronous bind would leave listen() unable to report failure. */
	int gai = getaddrinfo(ep->addr.host, port, &hints, &res);
	if (gai != 0) {
		TCP_LOG(p, PROXYD_LOG_ERROR, 0, "cannot listen on %s: %s", ep->address,
			gai == EAI_SYSTEM ? strerror(errno) : gai_strerror(gai));
		return -EADDRNOTAVAIL;
	}
	int rc = 0, skipped_err = 0;
	char skipped[TCP_ADDR_TEXT_MAX] = "";
	/* Every address of a name, so "localhost:9090" answers on ::1 and 127.0.0.1 alike. */
	for (struct addrinfo *ai = res; ai && ls->n_lev < TCP_MAX_BINDS; ai = ai->ai_next) {
		int dup = 0;
		for (struct addrinfo *prev = res; prev != ai; prev = prev->ai_next)
			dup |= prev->ai_addrlen == ai->ai_addrlen &&
			       memcmp(prev->ai_addr, ai->ai_addr, ai->ai_addrlen) == 0;
		if (dup)
			continue;
		char where[TCP_ADDR_TEXT_MAX];
		tcp_sockaddr_format(ai->ai_addr, ai->ai_addrlen, where, sizeof where);
		/* Many agents reconnect at once after a server restart; the default backlog of
		 * 128 would drop SYNs and stretch their backoff. */
		unsigned flags = LEV_OPT_CLOSE_ON_FREE | LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_EXEC;
		struct evconnlistener *lev = evconnlistener_new_bind(
			p->base, on_accept, ls, flags, SOMAXCONN, ai->ai_addr, (int)ai->ai_addrlen);
		if (lev) {
			evconnlistener_set_error_cb(lev, on_accept_error);
			ls->lev[ls->n_lev++] = lev;
			continue;
		}
		int err = errno;
		if (ep->addr.kind == TCP_HOST_NAME && skippable(err)) {
			skipped_err = err;
			snprintf(skipped, sizeof skipped, "%s", where);
			continue;
		}
		TCP_LOG(p, PROXYD_LOG_ERROR, 0, "cannot listen on %s (%s): %s", ep->address, where,
			strerror(err));
		rc = -err;
		break;
	}
	freeaddrinfo(res);
	if (rc == 0 && ls->n_lev == 0) {
		TCP_LOG(p, PROXYD_LOG_ERROR, 0, "cannot listen on %s (%s): %s", ep->address, skipped,
			strerror(skipped_err));
		rc = -skipped_err;
	} else if (rc == 0 && skipped_err) {
		TCP_LOG(p, PROXYD_LOG_INFO, 0, "%s: not listening on %s: %s", ep->address, skipped,
			strerror(skipped_err));
	}
	return rc;
}

void tcp_listen_stop(void *listener_state)
{
	struct tcp_listener *ls = listener_state;
	if (!ls)
		return;
	for (int i = 0; i < ls->n_lev; i++)
		evconnlistener_free(ls->lev[i]);
	while (ls->handshakes)
		handshake_free(ls->handshakes);
	if (ls->resume)
		event_free(ls->resume);
	SSL_CTX_free(ls->ctx);
	free(ls->address);
	free(ls);
}

int tcp_listen_start(struct tcp_plugin *p, const struct tcp_endpoint *ep, proxyd_listener *l,
		     void **listener_state)
{
	struct tcp_listener *ls = calloc(1, sizeof *ls);
	if (!ls || !(ls->address = strdup(ep->address))) {
		free(ls);
		return -ENOMEM;
	}
	ls->p = p;
	ls->l = l;
	ls->keepalive = ep->keepalive;
	ls->mtls = ep->client_ca != NULL;
	int rc = -ENOMEM;
	if (!(ls->resume = evtimer_new(p->base, resume_accepting, ls)))
		goto fail;
	if (ep->tls) {
		struct tcp_tls_error err;
		ls->ctx = tcp_tls_server_ctx_new(ep, &err);
		if (!ls->ctx) {
			TCP_LOG(p, PROXYD_LOG_ERROR, 0, "cannot listen on %s: %s", ep->address, err.msg);
			rc = -EINVAL;
			goto fail;
		}
	}
	if ((rc = bind_all(ls, ep)) < 0)
		goto fail;
	TCP_LOG(p, PROXYD_LOG_INFO, 0, "listening on %s (%s)", ep->address,
		!ep->tls   ? "plain TCP: no encryption, no authentication"
		: ls->mtls ? "TLS 1.3, client certificate required"
			   : "TLS 1.3");
	*listener_state = ls;
	return 0;
fail:
	tcp_listen_stop(ls);
	return rc;
}
