/* One endpoint entry (server.listen[i] or agent.servers[i]) read from the configuration into
 * plain values, with every problem reported at its key's file and line. check, listen and
 * dial all read through here, so what `proxyd -t` accepts is exactly what runs. */
#ifndef PROXYD_TCP_CONFIG_H
#define PROXYD_TCP_CONFIG_H

#include "proxyd/plugin.h"
#include "tcp_addr.h"

#define TCP_DEFAULT_KEEPALIVE 30
#define TCP_MAX_KEEPALIVE 32767 /* Linux's limit for TCP_KEEPIDLE */

struct tcp_endpoint {
	int role;                 /* PROXYD_ROLE_* */
	char *address;            /* as written, for log lines */
	struct tcp_hostport addr;
	int tls;                  /* 0 only with tls = false */
	int keepalive;            /* seconds; 0 = off */
	/* Absolute paths (resolved against the config file's directory), or NULL. */
	char *cert;
	char *key;
	char *ca;                 /* agent: CA that signs the server's certificate */
	char *client_ca;          /* server: CA that signs agents' certificates; enables mTLS */
	/* Agent only. */
	int has_pin;
	uint8_t pin[TCP_PIN_LEN];
	char server_name[TCP_HOST_MAX + 1]; /* SNI and the name to verify */
	enum tcp_host_kind server_name_kind;
};

/* Read every key this transport knows for the role and check what can be checked without
 * touching files (tcp_tls checks those). Errors go to host->cfg_error; returns 0, -EINVAL
 * when at least one was reported, or -ENOMEM. Release ep with tcp_endpoint_clear either way. */
int tcp_endpoint_read(const struct proxyd_host *host, const proxyd_cfg *entry, int role,
		      struct tcp_endpoint *ep);
void tcp_endpoint_clear(struct tcp_endpoint *ep);

#endif
