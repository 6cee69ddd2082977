/* transport-quic: sessions between proxyd nodes over QUIC (TLS 1.3, optionally mutual), with
 * QUIC's own streams carrying proxyd's streams (plugin ABI 1.3, native streams). This file is
 * the plugin's face to the core: the descriptor, init/fini, check, and the ops table; the
 * server side is quic_listen.c, the agent side quic_dial.c, the streams quic_native.c, and
 * the QUIC engine under them quic_engine.h. */
#include "config.h"
#include "quic_plugin.h"

#include <errno.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- endpoints whose use is over ---- */

void qt_reap_now(struct qt_plugin *p)
{
	while (p->reap) {
		struct qt_reap *r = p->reap;
		p->reap = r->next;
		quic_endpoint_free(r->ep);
		free(r);
	}
	qt_listen_reap(p);
}

static void on_reap(evutil_socket_t fd, short what, void *arg)
{
	qt_reap_now(arg);
}

void qt_reap_endpoint(struct qt_plugin *p, struct quic_endpoint *ep)
{
	if (ep) {
		struct qt_reap *r = malloc(sizeof *r);
		if (!r) {
			/* leaking it is better than freeing it under its own callback; fini gets
			 * none of it either, so say so */
			QT_LOG(p, PROXYD_LOG_ERROR, 0, "out of memory: a QUIC endpoint is not freed");
			return;
		}
		r->ep = ep;
		r->next = p->reap;
		p->reap = r;
	}
	event_active(p->reap_ev, EV_TIMEOUT, 0);
}

/* ---- check ---- */

static const proxyd_cfg *key_node(const struct proxyd_host *host, const proxyd_cfg *entry,
				  const char *key)
{
	const proxyd_cfg *n = host->cfg_child(entry, key);
	return n ? n : entry;
}

/* Load the endpoint's files the way listen/dial will, so `proxyd -t` names a missing file,
 * a bad PEM or a key that is not the certificate's at the key's line. */
static int check_files(struct qt_plugin *p, const proxyd_cfg *entry,
		       const struct qt_endpoint *ep)
{
	/* Every unreadable file at once, rather than one per run of -t. */
	const struct {
		const char *key, *path;
	} files[] = {
		{"cert", ep->cert},
		{"key", ep->key},
		{"ca", ep->ca},
		{"client_ca", ep->client_ca},
	};
	int unreadable = 0;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		if (!files[i].path)
			continue;
		FILE *f = fopen(files[i].path, "r");
		if (f) {
			fclose(f);
			continue;
		}
		p->host->cfg_error(key_node(p->host, entry, files[i].key), "%s: cannot open %s: %s",
				   files[i].key, files[i].path, strerror(errno));
		unreadable++;
	}
	if (unreadable)
		return -EINVAL;
	struct quic_config cfg;
	qt_endpoint_engine_config(ep, &cfg);
	const char *which = "cert";
	char err[512];
	if (quic_config_check(&cfg, &which, err, sizeof err) < 0) {
		const char *key = strcmp(which, "ca") != 0 ? "cert"
				  : ep->role == PROXYD_ROLE_SERVER ? "client_ca"
								   : "ca";
		p->host->cfg_error(key_node(p->host, entry, key), "%s: %s", key, err);
		return -EINVAL;
	}
	return 0;
}

static int quic_check(void *state, const proxyd_cfg *entry, int role)
{
	struct qt_plugin *p = state;
	if (role != PROXYD_ROLE_SERVER && role != PROXYD_ROLE_AGENT) {
		p->host->cfg_error(entry, "transport quic: unknown endpoint role %d", role);
		return -EINVAL;
	}
	struct qt_endpoint ep;
	int rc = qt_endpoint_read(p->host, entry, role, &ep);
	if (rc == 0)
		rc = check_files(p, entry, &ep);
	qt_endpoint_clear(&ep);
	return rc;
}

/* ---- ops ---- */

static int quic_listen(void *state, const proxyd_cfg *entry, proxyd_listener *l,
		       void **listener_state)
{
	struct qt_plugin *p = state;
	struct qt_endpoint ep;
	int rc = qt_endpoint_read(p->host, entry, PROXYD_ROLE_SERVER, &ep);
	if (rc == 0)
		rc = qt_listen_start(p, &ep, l, listener_state);
	else if (rc != -ENOMEM)
		QT_LOG(p, PROXYD_LOG_ERROR, 0, "%s: invalid endpoint configuration (see proxyd -t)",
		       ep.address ? ep.address : "server.listen");
	qt_endpoint_clear(&ep);
	return rc;
}

static void quic_unlisten(void *listener_state)
{
	qt_listen_stop(listener_state);
}

static int quic_dial(void *state, const proxyd_cfg *entry, proxyd_dial *d, void **dial_state)
{
	return qt_dial_start(state, entry, d, dial_state);
}

static void quic_dial_cancel(void *dial_state)
{
	qt_dial_cancel(dial_state);
}

/* ---- init / fini ---- */

static int quic_init(const struct proxyd_host *host, proxyd_plugin *self, void **state)
{
	struct event_base *base = host->event_base();
	if (!base) {
		host->log(self, PROXYD_LOG_ERROR, 0, "cannot initialise: the host has no event loop");
		return -EINVAL;
	}
	struct qt_plugin *p = calloc(1, sizeof *p);
	if (p) {
		p->rbuf = malloc(QT_READ_CHUNK);
		p->reap_ev = event_new(base, -1, 0, on_reap, p);
	}
	if (!p || !p->rbuf || !p->reap_ev) {
		host->log(self, PROXYD_LOG_ERROR, 0, "cannot initialise: out of memory");
		if (p) {
			free(p->rbuf);
			if (p->reap_ev)
				event_free(p->reap_ev);
		}
		free(p);
		return -ENOMEM;
	}
	p->host = host;
	p->self = self;
	p->base = base;
	LIST_INIT(&p->servers);
	LIST_INIT(&p->dials);
	LIST_INIT(&p->conns);
	/* A host that has the 1.3 table but not the functions (its sessions cannot use native
	 * streams yet) still gets configuration checks; listen and dial then say why not. */
	p->native = PROXYD_HOST_HAS(host, native_accepted) &&
		    PROXYD_HOST_HAS(host, native_connected) &&
		    PROXYD_HOST_HAS(host, stream_arrived) && PROXYD_HOST_HAS(host, stream_data) &&
		    PROXYD_HOST_HAS(host, stream_fin) && PROXYD_HOST_HAS(host, stream_reset_in) &&
		    PROXYD_HOST_HAS(host, stream_writable) && PROXYD_HOST_HAS(host, conn_closed);
	*state = p;
	return 0;
}

static void quic_fini(void *state)
{
	struct qt_plugin *p = state;
	/* What the loop had no turn to end: states first (they point into the engine), then the
	 * engine objects, without callbacks. */
	qt_dial_free_all(p);
	while (!LIST_EMPTY(&p->conns)) {
		struct qt_conn *c = LIST_FIRST(&p->conns);
		struct quic_endpoint *own = c->own_ep;
		qt_conn_free(c);
		quic_endpoint_free(own);
	}
	qt_reap_now(p);
	qt_listen_free_all(p);
	if (p->dns)
		evdns_base_free(p->dns, 0);
	event_free(p->reap_ev);
	free(p->rbuf);
	free(p);
}

static const struct proxyd_transport_ops quic_ops = {
	.check = quic_check,
	.listen = quic_listen,
	.unlisten = quic_unlisten,
	.dial = quic_dial,
	.dial_cancel = quic_dial_cancel,
	.stream_open = qt_stream_open,
	.stream_write = qt_stream_write,
	.stream_shutdown = qt_stream_shutdown,
	.stream_reset = qt_stream_reset,
	.stream_resume_read = qt_stream_resume_read,
	.stream_release = qt_stream_release,
	.conn_close = qt_conn_close,
	.conn_stats = qt_conn_stats,
};

PROXYD_PLUGIN_DECLARE(PROXYD_KIND_TRANSPORT, "quic", PACKAGE_VERSION, quic_init, quic_fini,
		      &quic_ops);
