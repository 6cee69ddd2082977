/* One endpoint entry (server.listen[i] or agent.servers[i]) of transport "quic" read from the
 * configuration into plain values, with every problem reported at its key's file and line.
 * check, listen and dial all read through here, so what `proxyd -t` accepts is exactly what
 * runs. Keys mean what they mean for transport "tcp" where both have them. */
#ifndef PROXYD_QUIC_CONFIG_H
#define PROXYD_QUIC_CONFIG_H

#include "proxyd/plugin.h"
#include "quic_engine.h"
#include "tcp_addr.h"

#define QT_DEFAULT_KEEPALIVE 15    /* seconds: refreshes a NAT's UDP mapping (~30 s) in time */
#define QT_DEFAULT_IDLE_TIMEOUT 60 /* seconds */
#define QT_MAX_TIMEOUT 86400

struct qt_endpoint {
	int role;                 /* PROXYD_ROLE_* */
	char *address;            /* as written, for log lines */
	struct tcp_hostport addr;
	/* Absolute paths (resolved against the config file's directory), or NULL. */
	char *cert;
	char *key;
	char *ca;                 /* agent: the CA that signs the server's certificate */
	char *client_ca;          /* server: the CA that signs agents' certificates: mTLS */
	enum quic_cc cc;
	int keepalive;            /* seconds between PINGs on a quiet connection; 0 = none */
	int idle_timeout;         /* seconds of silence that end a connection */
	/* Agent only. */
	char server_name[TCP_HOST_MAX + 1]; /* the name the server's certificate must carry */
	uint16_t local_port;      /* a fixed UDP source port, or 0 for any */
};

/* Read every key this transport knows for the role and check what can be checked without
 * touching files (quic_plugin.c loads those). Errors go to host->cfg_error; returns 0,
 * -EINVAL when at least one was reported, or -ENOMEM. Release ep with qt_endpoint_clear
 * either way. */
int qt_endpoint_read(const struct proxyd_host *host, const proxyd_cfg *entry, int role,
		     struct qt_endpoint *ep);
void qt_endpoint_clear(struct qt_endpoint *ep);

/* The engine's settings for ep; the strings in *cfg point into ep. */
void qt_endpoint_engine_config(const struct qt_endpoint *ep, struct quic_config *cfg);

#endif
