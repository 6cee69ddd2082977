/* Reading the keys of an agent's `direct` section and of a server.listen entry, with errors at
 * the key's own line (tcp_keys.c, shared with the other transports). */
#include "config.h"
#include "up_plugin.h"
#include "tcp_keys.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void read_transport(struct reader *r)
{
	const char *v;
	if (read_string(r, "transport", &v) > 0 && strcmp(v, UP_NAME) != 0)
		ERR_AT(r, "transport", "transport: expected \"%s\", got \"%s\"", UP_NAME, v);
}

/* An integer key in [min, max] into *out (left alone when the key is absent or wrong). */
static void read_uint(struct reader *r, const char *key, long long min, long long max,
		      const char *what, unsigned *out)
{
	long long v;
	if (read_int(r, key, min, max, what, &v) > 0)
		*out = (unsigned)v;
}

static void read_stun(struct reader *r, struct up_direct_cfg *c)
{
	const proxyd_cfg *list = r->host->cfg_child(r->entry, "stun");
	if (!list)
		return; /* host candidates only */
	int n = r->host->cfg_count(list);
	if (n > UP_STUN_MAX) {
		ERR_AT(r, "stun", "stun: at most %d servers, got %d", UP_STUN_MAX, n);
		return;
	}
	for (int i = 0; i < n; i++) {
		const proxyd_cfg *e = r->host->cfg_elem(list, i);
		const char *v = e ? r->host->cfg_elem_string(e) : NULL;
		const char *why = NULL;
		if (!v) {
			r->host->cfg_error(e ? e : list,
					   "stun: expected a list of \"ip:port\" strings, e.g. "
					   "( \"198.18.0.1:3478\" )");
			r->errors++;
			continue;
		}
		if (cand_parse_ipport(v, 0, &c->stun[c->n_stun], &c->stun_len[c->n_stun], &why) <
		    0) {
			r->host->cfg_error(e, "stun: expected \"ip:port\" of a STUN server (e.g. "
					      "\"198.18.0.1:3478\"): %s, got \"%s\"",
					   why, v);
			r->errors++;
			continue;
		}
		c->n_stun++;
	}
}

static void read_bind(struct reader *r, struct up_direct_cfg *c)
{
	const char *v = "0.0.0.0:0", *why = NULL;
	if (read_string(r, "bind", &v) < 0)
		return;
	if (cand_parse_ipport(v, 1, &c->bind, &c->bind_len, &why) < 0)
		ERR_AT(r, "bind",
		       "bind: expected the local \"ip:port\" to punch from (port 0: any), e.g. "
		       "\"0.0.0.0:0\": %s, got \"%s\"",
		       why, v);
}

int up_direct_cfg_read(const struct proxyd_host *host, const proxyd_cfg *cfg,
		       struct up_direct_cfg *out)
{
	struct reader r = {.host = host, .entry = cfg};
	memset(out, 0, sizeof *out);
	out->punch_timeout_ms = UP_DEFAULT_PUNCH_TIMEOUT_MS;
	out->idle_timeout_s = UP_DEFAULT_IDLE_TIMEOUT_S;
	read_transport(&r);
	read_stun(&r, out);
	read_bind(&r, out);
	int cert = read_file(&r, "cert", &out->cert);
	int key = read_file(&r, "key", &out->key);
	int ca = read_file(&r, "ca", &out->ca);
	if (cert == 0)
		ERR_AT(&r, "cert", "cert: required: this agent's PEM certificate (its CN is the agent "
				   "id; proxyctl pki issue makes it)");
	if (key == 0)
		ERR_AT(&r, "key", "key: required: the PEM private key of 'cert'");
	if (ca == 0)
		ERR_AT(&r, "ca", "ca: required: the PEM CA file that signs every agent's "
				 "certificate (direct connections are mutual TLS)");
	read_uint(&r, "punch_timeout", 100, 60000, "milliseconds of punching before giving up",
		&out->punch_timeout_ms);
	read_uint(&r, "idle_timeout", 2, 600,
		"seconds of silence before a direct connection is given up", &out->idle_timeout_s);
	if (r.nomem)
		return -ENOMEM;
	return r.errors ? -EINVAL : 0;
}

void up_direct_cfg_clear(struct up_direct_cfg *c)
{
	free(c->cert);
	free(c->key);
	free(c->ca);
	memset(c, 0, sizeof *c);
}

static const proxyd_cfg *key_node(const struct proxyd_host *host, const proxyd_cfg *cfg,
				  const char *key)
{
	const proxyd_cfg *n = host->cfg_child(cfg, key);
	return n ? n : cfg;
}

int up_direct_cfg_check_files(const struct proxyd_host *host, const proxyd_cfg *cfg,
			      const struct up_direct_cfg *c)
{
	const struct {
		const char *key, *path;
	} files[] = {{"cert", c->cert}, {"key", c->key}, {"ca", c->ca}};
	int unreadable = 0;
	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		if (!files[i].path)
			continue; /* missing: reported by up_direct_cfg_read */
		FILE *f = fopen(files[i].path, "r");
		if (f) {
			fclose(f);
			continue;
		}
		host->cfg_error(key_node(host, cfg, files[i].key), "%s: cannot open %s: %s",
				files[i].key, files[i].path, strerror(errno));
		unreadable++;
	}
	if (unreadable || !c->cert || !c->key || !c->ca)
		return -EINVAL;
	/* both roles load the same files; the server role also needs the CA */
	struct quic_config qc;
	quic_config_default(&qc);
	qc.role = QUIC_SERVER;
	qc.cert_file = c->cert;
	qc.key_file = c->key;
	qc.ca_file = c->ca;
	const char *which = "cert";
	char err[512];
	if (quic_config_check(&qc, &which, err, sizeof err) < 0) {
		const char *key = strcmp(which, "ca") == 0 ? "ca" : "cert";
		host->cfg_error(key_node(host, cfg, key), "%s: %s", key, err);
		return -EINVAL;
	}
	return 0;
}

int up_listen_cfg_read(const struct proxyd_host *host, const proxyd_cfg *entry,
		       struct up_listen_cfg *out)
{
	struct reader r = {.host = host, .entry = entry};
	memset(out, 0, sizeof *out);
	read_transport(&r);
	const char *v, *why = NULL;
	int rc = read_string(&r, "address", &v);
	if (rc == 0)
		ERR_AT(&r, "address",
		       "address: required: the UDP \"ip:port\" that answers STUN, e.g. "
		       "\"0.0.0.0:3478\"");
	if (rc > 0) {
		if (cand_parse_ipport(v, 1, &out->addr, &out->addr_len, &why) < 0)
			ERR_AT(&r, "address",
			       "address: expected the UDP \"ip:port\" that answers STUN (e.g. "
			       "\"0.0.0.0:3478\"): %s, got \"%s\"",
			       why, v);
		else
			snprintf(out->text, sizeof out->text, "%s", v);
	}
	return r.errors ? -EINVAL : 0;
}
