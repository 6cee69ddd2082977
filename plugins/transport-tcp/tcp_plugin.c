/* transport-tcp: sessions between proxyd nodes over TCP, with TLS 1.3 (optionally mutual) by
 * default. This file is the plugin's face to the core: the descriptor, init/fini, and
 * check; listening and dialing live in tcp_listen.c and tcp_dial.c. */
#include "config.h"
#include "tcp_plugin.h"
#include "tcp_tls.h"

#include <errno.h>
#include <event2/dns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const proxyd_cfg *key_node(const struct proxyd_host *host, const proxyd_cfg *entry,
				  const char *key)
{
	const proxyd_cfg *n = key ? host->cfg_child(entry, key) : NULL;
	return n ? n : entry;
}

/* Load the endpoint's files the way listen/dial will, so `proxyd -t` names a missing file,
 * a bad PEM or a key that is not the certificate's at the key's line. */
static int check_files(struct tcp_plugin *p, const proxyd_cfg *entry,
		       const struct tcp_endpoint *ep)
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

	struct tcp_tls_error err;
	SSL_CTX *ctx = ep->role == PROXYD_ROLE_SERVER ? tcp_tls_server_ctx_new(ep, &err)
						      : tcp_tls_client_ctx_new(ep, &err);
	if (!ctx) {
		p->host->cfg_error(key_node(p->host, entry, err.key), "%s", err.msg);
		return -EINVAL;
	}
	if (ep->cert) {
		/* A warning, not an error: the clock of the machine running -t may be wrong,
		 * and a renewal may be on its way. */
		char why[128];
		tcp_tls_cert_validity(ctx, why, sizeof why);
		if (why[0])
			TCP_LOG(p, PROXYD_LOG_WARN, 0, "%s: the certificate in %s %s", ep->address,
				ep->cert, why);
	}
	SSL_CTX_free(ctx);
	return 0;
}

static int tcp_check(void *state, const proxyd_cfg *entry, int role)
{
	struct tcp_plugin *p = state;
	if (role != PROXYD_ROLE_SERVER && role != PROXYD_ROLE_AGENT) {
		p->host->cfg_error(entry, "transport tcp: unknown endpoint role %d", role);
		return -EINVAL;
	}
	struct tcp_endpoint ep;
	int rc = tcp_endpoint_read(p->host, entry, role, &ep);
	if (rc == 0 && ep.tls)
		rc = check_files(p, entry, &ep);
	if (rc == 0 && !ep.tls)
		TCP_LOG(p, PROXYD_LOG_WARN, 0,
			"%s: tls = false: traffic is neither encrypted nor authenticated by the "
			"transport",
			ep.address);
	tcp_endpoint_clear(&ep);
	return rc;
}

static int tcp_listen(void *state, const proxyd_cfg *entry, proxyd_listener *l,
		      void **listener_state)
{
	struct tcp_plugin *p = state;
	struct tcp_endpoint ep;
	int rc = tcp_endpoint_read(p->host, entry, PROXYD_ROLE_SERVER, &ep);
	if (rc == 0)
		rc = tcp_listen_start(p, &ep, l, listener_state);
	else if (rc != -ENOMEM)
		TCP_LOG(p, PROXYD_LOG_ERROR, 0, "%s: invalid endpoint configuration (see proxyd -t)",
			ep.address ? ep.address : "server.listen");
	tcp_endpoint_clear(&ep);
	return rc;
}

static void tcp_unlisten(void *listener_state)
{
	tcp_listen_stop(listener_state);
}

static int tcp_dial(void *state, const proxyd_cfg *entry, proxyd_dial *d, void **dial_state)
{
	return tcp_dial_start(state, entry, d, dial_state);
}

static void tcp_dial_cancel_op(void *dial_state)
{
	tcp_dial_cancel(dial_state);
}

static int tcp_init(const struct proxyd_host *host, proxyd_plugin *self, void **state)
{
	struct event_base *base = host->event_base();
	if (!base) {
		host->log(self, PROXYD_LOG_ERROR, 0, "cannot initialise: the host has no event loop");
		return -EINVAL;
	}
	struct tcp_plugin *p = calloc(1, sizeof *p);
	if (!p || tcp_tls_init() < 0) {
		host->log(self, PROXYD_LOG_ERROR, 0, "cannot initialise: out of memory");
		free(p);
		return -ENOMEM;
	}
	p->host = host;
	p->self = self;
	p->base = base;
	*state = p;
	return 0;
}

static void tcp_fini(void *state)
{
	struct tcp_plugin *p = state;
	if (p->dns)
		evdns_base_free(p->dns, 0);
	tcp_ctx_cache_clear(&p->ctx_cache);
	tcp_tls_fini();
	free(p);
}

static const struct proxyd_transport_ops tcp_ops = {
	.check = tcp_check,
	.listen = tcp_listen,
	.unlisten = tcp_unlisten,
	.dial = tcp_dial,
	.dial_cancel = tcp_dial_cancel_op,
};

PROXYD_PLUGIN_DECLARE(PROXYD_KIND_TRANSPORT, "tcp", PACKAGE_VERSION, tcp_init, tcp_fini,
		      &tcp_ops);
