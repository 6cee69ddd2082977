/* Reading and checking one endpoint entry's keys (see quic_config.h). */
#include "config.h"
#include "quic_config.h"
#include "tcp_keys.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>


static void read_address(struct reader *r, struct qt_endpoint *ep, const char *example)
{
	const char *v, *why = NULL;
	int rc = read_string(r, "address", &v);
	if (rc == 0)
		ERR_AT(r, "address", "address: required: \"host:port\" (a UDP port), e.g. \"%s\"",
		       example);
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

static void read_congestion(struct reader *r, struct qt_endpoint *ep)
{
	static const struct {
		const char *name;
		enum quic_cc cc;
	} known[] = {
		{"cubic", QUIC_CC_CUBIC},
		{"bbr", QUIC_CC_BBR},
		{"bbr2", QUIC_CC_BBR2},
	};
	const char *v;
	if (read_string(r, "congestion", &v) <= 0)
		return;
	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(v, known[i].name) == 0) {
			ep->cc = known[i].cc;
			return;
		}
	ERR_AT(r, "congestion",
	       "congestion: expected \"cubic\" (the default), \"bbr\" or \"bbr2\", got \"%s\"", v);
}

static void read_timers(struct reader *r, struct qt_endpoint *ep)
{
	long long v;
	int ka = read_int(r, "keepalive", 0, QT_MAX_TIMEOUT,
			  "seconds between PINGs on a quiet connection, 0 for none", &v);
	if (ka > 0)
		ep->keepalive = (int)v;
	int idle = read_int(r, "idle_timeout", 1, QT_MAX_TIMEOUT,
			    "seconds of silence before a connection is given up", &v);
	if (idle > 0)
		ep->idle_timeout = (int)v;
	/* A PING that never comes before the idle timeout keeps nothing alive. */
	if (ka >= 0 && idle >= 0 && ep->keepalive > 0 && ep->keepalive >= ep->idle_timeout)
		ERR_AT(r, ka > 0 ? "keepalive" : "idle_timeout",
		       "%s: keepalive (%d s%s) must be shorter than idle_timeout (%d s), or a quiet "
		       "connection times out between two PINGs",
		       ka > 0 ? "keepalive" : "idle_timeout", ep->keepalive,
		       ka > 0 ? "" : ", the default", ep->idle_timeout);
}

/* Keys of transport "tcp" that have no meaning here: say so, rather than "unknown key",
 * because an operator switching an entry from tcp to quic will meet them. */
static void refuse_tcp_keys(struct reader *r)
{
	int tls;
	int rc = r->host->cfg_bool(r->entry, "tls", &tls);
	if (rc == 0 && !tls)
		ERR_AT(r, "tls",
		       "tls: transport quic always encrypts and authenticates (TLS 1.3); remove "
		       "'tls = false'");
	else if (rc == -EINVAL)
		r->errors++;
	const char *pin;
	if (read_string(r, "pin", &pin) > 0)
		ERR_AT(r, "pin",
		       "pin: not supported by transport quic; give 'ca', the CA file that signs the "
		       "server's certificate");
}

static void read_server(struct reader *r, struct qt_endpoint *ep)
{
	read_address(r, ep, "0.0.0.0:4433");
	int cert = read_file(r, "cert", &ep->cert);
	int key = read_file(r, "key", &ep->key);
	read_file(r, "client_ca", &ep->client_ca);
	if (cert == 0)
		ERR_AT(r, "cert", "cert: required: the server's PEM certificate chain");
	if (key == 0)
		ERR_AT(r, "key", "key: required: the PEM private key of 'cert'");
}

static void read_server_name(struct reader *r, struct qt_endpoint *ep)
{
	const char *v;
	int rc = read_string(r, "server_name", &v);
	if (rc < 0)
		return;
	if (rc == 0) {
		/* Default: the host we dial, whatever it is. */
		memcpy(ep->server_name, ep->addr.host, sizeof ep->server_name);
		return;
	}
	size_t len = strlen(v);
	enum tcp_host_kind kind;
	if (len > TCP_HOST_MAX || tcp_host_classify(v, len, &kind) < 0) {
		ERR_AT(r, "server_name",
		       "server_name: expected a host name or IP address as in the server's "
		       "certificate, got \"%s\"",
		       v);
		return;
	}
	memcpy(ep->server_name, v, len + 1);
}

static void read_agent(struct reader *r, struct qt_endpoint *ep)
{
	read_address(r, ep, "server.example.com:4433");
	int ca = read_file(r, "ca", &ep->ca);
	int cert = read_file(r, "cert", &ep->cert);
	int key = read_file(r, "key", &ep->key);
	read_server_name(r, ep);
	long long port;
	if (read_int(r, "local_port", 1, 65535, "a UDP port number", &port) > 0)
		ep->local_port = (uint16_t)port;
	if (ca == 0)
		ERR_AT(r, "ca", "ca: required: the PEM CA file that signs the server's certificate");
	if (cert > 0 && key == 0)
		ERR_AT(r, "cert", "cert: 'key' is required too: give both for a client certificate, "
				  "or neither");
	if (key > 0 && cert == 0)
		ERR_AT(r, "key", "key: 'cert' is required too: give both for a client certificate, "
				 "or neither");
}

int qt_endpoint_read(const struct proxyd_host *host, const proxyd_cfg *entry, int role,
		     struct qt_endpoint *ep)
{
	struct reader r = {.host = host, .entry = entry};
	memset(ep, 0, sizeof *ep);
	ep->role = role;
	ep->cc = QUIC_CC_CUBIC;
	ep->keepalive = QT_DEFAULT_KEEPALIVE;
	ep->idle_timeout = QT_DEFAULT_IDLE_TIMEOUT;

	refuse_tcp_keys(&r);
	read_congestion(&r, ep);
	read_timers(&r, ep);
	if (role == PROXYD_ROLE_SERVER)
		read_server(&r, ep);
	else
		read_agent(&r, ep);

	if (r.nomem)
		return -ENOMEM;
	return r.errors ? -EINVAL : 0;
}

void qt_endpoint_clear(struct qt_endpoint *ep)
{
	free(ep->address);
	free(ep->cert);
	free(ep->key);
	free(ep->ca);
	free(ep->client_ca);
	memset(ep, 0, sizeof *ep);
}

void qt_endpoint_engine_config(const struct qt_endpoint *ep, struct quic_config *cfg)
{
	quic_config_default(cfg);
	cfg->role = ep->role == PROXYD_ROLE_SERVER ? QUIC_SERVER : QUIC_CLIENT;
	cfg->cert_file = ep->cert;
	cfg->key_file = ep->key;
	if (ep->role == PROXYD_ROLE_SERVER) {
		/* Without client_ca agents bring no certificate and prove who they are with their
		 * token in the control protocol, as over TCP. */
		cfg->ca_file = ep->client_ca;
		cfg->no_client_cert = ep->client_ca == NULL;
	} else {
		cfg->ca_file = ep->ca;
		cfg->server_name = ep->server_name[0] ? ep->server_name : NULL;
	}
	cfg->cc = ep->cc;
	cfg->keepalive_ms = ep->keepalive > 0 ? (uint32_t)ep->keepalive * 1000u : UINT32_MAX;
	cfg->idle_timeout_ms = (uint32_t)ep->idle_timeout * 1000u;
}
