/* Reading and checking one endpoint entry's keys (see tcp_config.h). */
#include "config.h"
#include "tcp_config.h"
#include "tcp_keys.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static void read_address(struct reader *r, struct tcp_endpoint *ep, const char *example)
{
	const char *v, *why = NULL;
	int rc = read_string(r, "address", &v);
	if (rc == 0)
		ERR_AT(r, "address", "address: required: \"host:port\", e.g. \"%s\"", example);
	if (rc <= 0)
		return;
	if (tcp_hostport_parse(v, strlen(v), &ep->addr, &why) < 0) {
		ERR_AT(r, "address", "address: expected \"host:port\" (e.g. \"%s\"): %s, got \"%s\"",
		       example, why, v);
		return;
	}
	ep->address = strdup(v);
	if (!ep->address)
		r->nomem = 1;
}

static void read_keepalive(struct reader *r, struct tcp_endpoint *ep)
{
	long long v;
	int rc = r->host->cfg_int(r->entry, "keepalive", &v);
	if (rc == -ENOENT)
		return;
	if (rc < 0) {
		r->errors++;
		return;
	}
	if (v < 0 || v > TCP_MAX_KEEPALIVE) {
		ERR_AT(r, "keepalive",
		       "keepalive: expected 0 (off) to %d seconds of idle before TCP probes, got %lld",
		       TCP_MAX_KEEPALIVE, v);
		return;
	}
	ep->keepalive = (int)v;
}

/* With tls = false a TLS key would silently do nothing; an operator who believes the link is
 * still authenticated is worse off than one told to remove the key. */
static void refuse_without_tls(struct reader *r, const char *key, int present)
{
	if (present > 0)
		ERR_AT(r, key, "%s: has no effect with tls = false; remove it or enable TLS", key);
}

static void read_server(struct reader *r, struct tcp_endpoint *ep)
{
	read_address(r, ep, "0.0.0.0:9090");
	int cert = read_file(r, "cert", &ep->cert);
	int key = read_file(r, "key", &ep->key);
	int client_ca = read_file(r, "client_ca", &ep->client_ca);
	if (!ep->tls) {
		refuse_without_tls(r, "cert", cert);
		refuse_without_tls(r, "key", key);
		refuse_without_tls(r, "client_ca", client_ca);
		return;
	}
	if (cert == 0)
		ERR_AT(r, "cert",
		       "cert: required with TLS: the server's PEM certificate chain (or set tls = false)");
	if (key == 0)
		ERR_AT(r, "key", "key: required with TLS: the PEM private key of 'cert'");
}

static void read_server_name(struct reader *r, struct tcp_endpoint *ep, int *present)
{
	const char *v;
	int rc = read_string(r, "server_name", &v);
	*present = rc;
	if (rc < 0)
		return;
	if (rc == 0) {
		/* Default: the host we dial, whatever it is. */
		memcpy(ep->server_name, ep->addr.host, sizeof ep->server_name);
		ep->server_name_kind = ep->addr.kind;
		return;
	}
	size_t len = strlen(v);
	if (len > TCP_HOST_MAX || tcp_host_classify(v, len, &ep->server_name_kind) < 0) {
		ERR_AT(r, "server_name",
		       "server_name: expected a host name or IP address as in the server's "
		       "certificate, got \"%s\"",
		       v);
		return;
	}
	memcpy(ep->server_name, v, len + 1);
}

static void read_agent(struct reader *r, struct tcp_endpoint *ep)
{
	read_address(r, ep, "server.example.com:9090");
	int ca = read_file(r, "ca", &ep->ca);
	int cert = read_file(r, "cert", &ep->cert);
	int key = read_file(r, "key", &ep->key);
	const char *pin;
	int has_pin = read_string(r, "pin", &pin);
	int has_name;
	read_server_name(r, ep, &has_name);
	if (!ep->tls) {
		refuse_without_tls(r, "ca", ca);
		refuse_without_tls(r, "cert", cert);
		refuse_without_tls(r, "key", key);
		refuse_without_tls(r, "pin", has_pin);
		refuse_without_tls(r, "server_name", has_name);
		return;
	}
	if (has_pin > 0) {
		if (tcp_pin_parse(pin, strlen(pin), ep->pin) < 0)
			ERR_AT(r, "pin",
			       "pin: expected \"sha256:<64 hex digits>\", the SHA-256 of the server "
			       "certificate's public key (openssl x509 -in server.crt -noout -pubkey | "
			       "openssl pkey -pubin -outform der | openssl dgst -sha256), got \"%s\"",
			       pin);
		else
			ep->has_pin = 1;
	}
	if (ca == 0 && has_pin == 0)
		ERR_AT(r, "ca",
		       "ca: required with TLS: the PEM CA file that signs the server's certificate "
		       "(or give 'pin', or set tls = false)");
	if (cert > 0 && key == 0)
		ERR_AT(r, "cert", "cert: 'key' is required too: give both for a client certificate, "
				  "or neither");
	if (key > 0 && cert == 0)
		ERR_AT(r, "key", "key: 'cert' is required too: give both for a client certificate, "
				 "or neither");
}

int tcp_endpoint_read(const struct proxyd_host *host, const proxyd_cfg *entry, int role,
		      struct tcp_endpoint *ep)
{
	struct reader r = {.host = host, .entry = entry};
	memset(ep, 0, sizeof *ep);
	ep->role = role;
	ep->tls = 1;
	ep->keepalive = TCP_DEFAULT_KEEPALIVE;

	int tls;
	int rc = host->cfg_bool(entry, "tls", &tls);
	if (rc == 0)
		ep->tls = tls;
	else if (rc != -ENOENT)
		r.errors++;
	read_keepalive(&r, ep);

	if (role == PROXYD_ROLE_SERVER)
		read_server(&r, ep);
	else
		read_agent(&r, ep);

	if (r.nomem)
		return -ENOMEM;
	return r.errors ? -EINVAL : 0;
}

void tcp_endpoint_clear(struct tcp_endpoint *ep)
{
	free(ep->address);
	free(ep->cert);
	free(ep->key);
	free(ep->ca);
	free(ep->client_ca);
	memset(ep, 0, sizeof *ep);
}
