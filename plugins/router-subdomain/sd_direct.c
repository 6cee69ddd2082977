/* router-subdomain's direct mode (see sd_direct.h): the keys, and the decision per request.
 *
 * A name is looked up at most once at a time: later requests for it wait on the same lookup
 * (PROXYD_ROUTE_PENDING, ABI 1.4) and are resumed together when it ends; the core then asks
 * again and the cache answers. Found names are kept cache_ttl, names the resolver does not
 * know cache_miss_ttl, failures cache_error_ttl (all at least a second, so the requests a
 * lookup resumes find its answer). At most resolve_limit lookups run at once: a flood of made
 * up names gets 503s, not a fork each. */
#include "config.h"
#include "sd_direct.h"
#include "sd_cache.h"
#include "sd_host.h"
#include "sd_resolve.h"
#include "subdomain_match.h"

#include <errno.h>
#include <netdb.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define CACHE_MAX 4096
#define NETS_MAX 32
#define PORTS_MAX 256

enum { RES_NONE, RES_CMD, RES_HTTP };
enum { AGENT_PORTS_OFF, AGENT_PORTS_ALL, AGENT_PORTS_LABELED };

struct sd_vm {
	char name[SD_LABEL_MAX + 1];
	struct sd_answer ans;
};

struct sd_direct {
	struct sd_vm *vms;
	size_t n_vms;
	int resolver;
	struct sd_cmd_conf cmd;
	struct sd_http_conf http;
	uint64_t ttl_ms, miss_ttl_ms, error_ttl_ms;
	unsigned limit, running;
	uint16_t default_port;
	uint16_t ports[PORTS_MAX];
	size_t n_ports;
	int agent_ports;
	struct sd_net nets[NETS_MAX];
	size_t n_nets;
	struct sd_cache *cache;
};

uint64_t sd_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* ---- the keys ---- */

static const proxyd_cfg *at(const proxyd_cfg *entry, const char *key)
{
	const proxyd_cfg *n = sd_host->cfg_child(entry, key);
	return n ? n : entry;
}

/* An optional integer key in [min, max]; 0 (*v set or left), -EINVAL. */
static int read_int(const proxyd_cfg *e, const char *key, long long min, long long max,
		    const char *unit, long long *v)
{
	long long x;
	int rc = sd_host->cfg_int(e, key, &x);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	if (x < min || x > max) {
		sd_host->cfg_error(at(e, key), "%s: expected %lld to %lld%s, got %lld", key, min, max,
				   unit, x);
		return -EINVAL;
	}
	*v = x;
	return 0;
}

/* An array of ports; where names it in messages. */
static int read_ports(const proxyd_cfg *node, const char *where, uint16_t *out, size_t max,
		      size_t *n)
{
	int count = sd_host->cfg_count(node);
	long long scalar;
	/* A lone value (ports = 8080;) is most likely a list of one left without brackets. */
	if (sd_host->cfg_elem_string(node) || (count == 0 && sd_host->cfg_elem_int(node, &scalar) == 0)) {
		sd_host->cfg_error(node, "%s: expected a list of ports, such as [ 8080, 3000 ]", where);
		return -EINVAL;
	}
	*n = 0;
	for (int i = 0; i < count; i++) {
		const proxyd_cfg *e = sd_host->cfg_elem(node, i);
		long long p;
		if (sd_host->cfg_elem_int(e, &p) < 0 || p < 1 || p > 65535) {
			sd_host->cfg_error(e ? e : node, "%s[%d]: expected a port number from 1 to 65535",
					   where, i);
			return -EINVAL;
		}
		int dup = 0;
		for (size_t k = 0; k < *n; k++)
			dup |= out[k] == p;
		if (dup) {
			sd_host->cfg_error(e, "%s[%d]: port %lld is listed twice", where, i, p);
			return -EINVAL;
		}
		if (*n == max) {
			sd_host->cfg_error(node, "%s: at most %zu ports", where, max);
			return -EINVAL;
		}
		out[(*n)++] = (uint16_t)p;
	}
	return 0;
}

static int in_nets(const struct sd_direct *d, const char *address)
{
	if (d->n_nets == 0)
		return 1;
	for (size_t i = 0; i < d->n_nets; i++)
		if (sd_net_contains(&d->nets[i], address))
			return 1;
	return 0;
}

static int read_nets(struct sd_direct *d, const proxyd_cfg *entry)
{
	const proxyd_cfg *list = sd_host->cfg_child(entry, "networks");
	if (!list)
		return 0;
	const char *one = sd_host->cfg_elem_string(list);
	int count = one ? 1 : sd_host->cfg_count(list);
	if (count == 0) {
		sd_host->cfg_error(list, "networks: expected a list such as [ \"172.30.0.0/16\" ]");
		return -EINVAL;
	}
	for (int i = 0; i < count; i++) {
		const proxyd_cfg *e = one ? list : sd_host->cfg_elem(list, i);
		const char *s = one ? one : sd_host->cfg_elem_string(e);
		const char *why;
		if (!s) {
			sd_host->cfg_error(e ? e : list, "networks[%d]: expected a string", i);
			return -EINVAL;
		}
		if (d->n_nets == NETS_MAX) {
			sd_host->cfg_error(list, "networks: at most %d", NETS_MAX);
			return -EINVAL;
		}
		if (sd_net_parse(s, strlen(s), &d->nets[d->n_nets], &why) < 0) {
			sd_host->cfg_error(e, "networks[%d] \"%s\": %s", i, s, why);
			return -EINVAL;
		}
		d->n_nets++;
	}
	return 0;
}

static int read_vm(struct sd_direct *d, const proxyd_cfg *e, int i)
{
	struct sd_vm *vm = &d->vms[d->n_vms];
	memset(vm, 0, sizeof *vm);
	const char *name, *addr, *why;
	int rn = sd_host->cfg_string(e, "name", &name);
	int ra = sd_host->cfg_string(e, "address", &addr);
	const proxyd_cfg *ports = sd_host->cfg_child(e, "ports");
	if (rn == -ENOENT || ra == -ENOENT) {
		sd_host->cfg_error(e, "vms[%d]: expected a group { name = ...; address = ...; } "
				      "(ports optional)",
				   i);
		return -EINVAL;
	}
	if (rn < 0 || ra < 0)
		return -EINVAL;
	if (!sd_label_valid(name, strlen(name))) {
		sd_host->cfg_error(at(e, "name"),
				   "vms[%d]: name \"%s\": expected a DNS label, 1-63 of a-z 0-9 - not "
				   "starting or ending with '-'",
				   i, name);
		return -EINVAL;
	}
	if (sd_addr_parse(addr, strlen(addr), vm->ans.address, &vm->ans.v6, &why) < 0) {
		sd_host->cfg_error(at(e, "address"), "vms[%d]: address \"%s\": %s", i, addr, why);
		return -EINVAL;
	}
	if (!in_nets(d, vm->ans.address)) {
		sd_host->cfg_error(at(e, "address"), "vms[%d]: address %s is outside 'networks'", i,
				   vm->ans.address);
		return -EINVAL;
	}
	char where[32];
	snprintf(where, sizeof where, "vms[%d].ports", i);
	if (ports && read_ports(ports, where, vm->ans.ports, SD_VM_PORTS_MAX, &vm->ans.n_ports) < 0)
		return -EINVAL;
	for (size_t k = 0; k < d->n_vms; k++)
		if (strcmp(d->vms[k].name, name) == 0) {
			sd_host->cfg_error(at(e, "name"), "vms[%d]: name \"%s\" is given twice", i, name);
			return -EINVAL;
		}
	snprintf(vm->name, sizeof vm->name, "%s", name);
	d->n_vms++;
	return 0;
}

static int read_vms(struct sd_direct *d, const proxyd_cfg *list)
{
	int count = sd_host->cfg_count(list);
	if (count == 0 || sd_host->cfg_elem_string(list)) {
		sd_host->cfg_error(list, "vms: expected a list ( { name = \"web1\"; address = "
					 "\"172.30.0.2\"; }, ... )");
		return -EINVAL;
	}
	d->vms = calloc((size_t)count, sizeof *d->vms);
	if (!d->vms)
		return -ENOMEM;
	int rc = 0;
	for (int i = 0; i < count; i++)
		if (read_vm(d, sd_host->cfg_elem(list, i), i) < 0)
			rc = -EINVAL;
	return rc;
}

static int read_cmd(struct sd_direct *d, const proxyd_cfg *list)
{
	int count = sd_host->cfg_count(list);
	if (count == 0 || sd_host->cfg_elem_string(list)) {
		sd_host->cfg_error(list, "resolve_cmd: expected a list of strings, such as "
					 "[ \"shed\", \"ip\", \"{name}\" ]");
		return -EINVAL;
	}
	d->cmd.argv = calloc((size_t)count + 1, sizeof *d->cmd.argv);
	if (!d->cmd.argv)
		return -ENOMEM;
	for (int i = 0; i < count; i++) {
		const proxyd_cfg *e = sd_host->cfg_elem(list, i);
		const char *s = sd_host->cfg_elem_string(e);
		if (!s || (i == 0 && !*s)) {
			sd_host->cfg_error(e ? e : list, "resolve_cmd[%d]: expected a%s string", i,
					   i == 0 ? " non-empty" : "");
			return -EINVAL;
		}
		if (!(d->cmd.argv[i] = strdup(s)))
			return -ENOMEM;
	}
	d->resolver = RES_CMD;
	return 0;
}

static int read_url(struct sd_direct *d, const proxyd_cfg *entry, const char *url)
{
	const char *why, *path;
	char host[256];
	uint16_t port;
	if (sd_url_parse(url, host, sizeof host, &port, &path, &why) < 0) {
		sd_host->cfg_error(at(entry, "resolve_url"), "resolve_url \"%s\": %s", url, why);
		return -EINVAL;
	}
	/* Resolved now, as the core does with service addresses: a lookup never waits for DNS,
	 * and a name that does not resolve is a -t error. */
	char portstr[8];
	snprintf(portstr, sizeof portstr, "%u", port);
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
	struct addrinfo *res = NULL;
	int gai = getaddrinfo(host, portstr, &hints, &res);
	if (gai != 0 || !res) {
		sd_host->cfg_error(at(entry, "resolve_url"), "resolve_url: cannot resolve \"%s\": %s",
				   host, gai_strerror(gai));
		return -EINVAL;
	}
	memcpy(&d->http.ss, res->ai_addr, res->ai_addrlen);
	d->http.sslen = res->ai_addrlen;
	freeaddrinfo(res);
	int v6host = strchr(host, ':') != NULL;
	if (port == 80)
		snprintf(d->http.host, sizeof d->http.host, v6host ? "[%s]" : "%s", host);
	else
		snprintf(d->http.host, sizeof d->http.host, v6host ? "[%s]:%u" : "%s:%u", host, port);
	size_t pl = strlen(path);
	d->http.path = malloc(pl + 2);
	if (!d->http.path)
		return -ENOMEM;
	snprintf(d->http.path, pl + 2, "%s%s", path[0] == '/' ? "" : "/", path);
	d->resolver = RES_HTTP;
	return 0;
}

static int read_json_path(const proxyd_cfg *entry, const char *key, const char *dflt, char **out)
{
	const char *p = dflt, *why;
	int rc = sd_host->cfg_string(entry, key, &p);
	if (rc < 0 && rc != -ENOENT)
		return rc;
	if (!p)
		return 0;
	if (sd_json_path_valid(p, &why) < 0) {
		sd_host->cfg_error(at(entry, key), "%s \"%s\": %s", key, p, why);
		return -EINVAL;
	}
	return (*out = strdup(p)) ? 0 : -ENOMEM;
}

/* Keys only the direct mode reads: named in the error when an agent-mode entry has them. */
static const char *const direct_keys[] = {
	"resolve_path", "resolve_ports_path", "resolve_timeout", "resolve_not_found_status",
	"resolve_limit", "cache_ttl", "cache_miss_ttl", "cache_error_ttl", "default_port",
	"ports", "agent_ports", "networks",
};
/* Keys of a resolver that takes time: meaningless with the vms table alone. */
static const char *const lookup_keys[] = {
	"resolve_timeout", "resolve_limit", "cache_ttl", "cache_miss_ttl", "cache_error_ttl",
};

static int read_agent_ports(struct sd_direct *d, const proxyd_cfg *entry)
{
	const proxyd_cfg *n = sd_host->cfg_child(entry, "agent_ports");
	if (!n)
		return 0;
	const char *s = sd_host->cfg_elem_string(n);
	if (s) {
		if (strcmp(s, "labeled") != 0) {
			sd_host->cfg_error(n, "agent_ports \"%s\": expected true, false or \"labeled\"", s);
			return -EINVAL;
		}
		d->agent_ports = AGENT_PORTS_LABELED;
		return 0;
	}
	int on;
	if (sd_host->cfg_bool(entry, "agent_ports", &on) < 0)
		return -EINVAL;
	d->agent_ports = on ? AGENT_PORTS_ALL : AGENT_PORTS_OFF;
	return 0;
}

int sd_direct_new(const proxyd_cfg *entry, struct sd_direct **out)
{
	*out = NULL;
	const proxyd_cfg *vms = sd_host->cfg_child(entry, "vms");
	const proxyd_cfg *cmd = sd_host->cfg_child(entry, "resolve_cmd");
	const char *url = NULL;
	int rc_url = sd_host->cfg_string(entry, "resolve_url", &url);
	if (rc_url == -EINVAL)
		return -EINVAL;
	if (!vms && !cmd && !url) {
		for (size_t i = 0; i < sizeof direct_keys / sizeof direct_keys[0]; i++)
			if (sd_host->cfg_child(entry, direct_keys[i])) {
				sd_host->cfg_error(sd_host->cfg_child(entry, direct_keys[i]),
						   "%s: only for direct targets (with vms, resolve_cmd or "
						   "resolve_url)",
						   direct_keys[i]);
				return -EINVAL;
			}
		return 0;
	}
	struct sd_direct *d = calloc(1, sizeof *d);
	if (!d)
		return -ENOMEM;
	d->cmd.not_found_status = -1;
	int rc = 0;
	long long v;
	/* Every key is read before giving up, so -t reports every problem at once. */
#define KEEP(x)                                                                               \
	do {                                                                                   \
		int r_ = (x);                                                                  \
		if (r_ < 0 && rc == 0)                                                         \
			rc = r_;                                                               \
	} while (0)
	KEEP(read_nets(d, entry));
	if (vms)
		KEEP(read_vms(d, vms));
	if (cmd && url) {
		sd_host->cfg_error(at(entry, "resolve_url"), "resolve_cmd and resolve_url: give one");
		KEEP(-EINVAL);
	} else if (cmd) {
		KEEP(read_cmd(d, cmd));
	} else if (url) {
		KEEP(read_url(d, entry, url));
	}
	KEEP(read_json_path(entry, "resolve_path", url ? "address" : NULL, &d->http.addr_path));
	KEEP(read_json_path(entry, "resolve_ports_path", NULL, &d->http.ports_path));
	if (!url && (d->http.addr_path || d->http.ports_path)) {
		const char *k = d->http.addr_path ? "resolve_path" : "resolve_ports_path";
		sd_host->cfg_error(at(entry, k), "%s: only with resolve_url", k);
		KEEP(-EINVAL);
	}
	v = 5;
	KEEP(read_int(entry, "resolve_timeout", 1, 300, " seconds", &v));
	d->cmd.timeout_ms = d->http.timeout_ms = v * 1000;
	v = -1;
	KEEP(read_int(entry, "resolve_not_found_status", 1, 255, "", &v));
	d->cmd.not_found_status = (int)v;
	if (v != -1 && d->resolver != RES_CMD) {
		sd_host->cfg_error(at(entry, "resolve_not_found_status"),
				   "resolve_not_found_status: only with resolve_cmd");
		KEEP(-EINVAL);
	}
	for (size_t i = 0; !cmd && !url && i < sizeof lookup_keys / sizeof lookup_keys[0]; i++)
		if (sd_host->cfg_child(entry, lookup_keys[i])) {
			sd_host->cfg_error(sd_host->cfg_child(entry, lookup_keys[i]),
					   "%s: only with resolve_cmd or resolve_url (the vms table is "
					   "not looked up)",
					   lookup_keys[i]);
			KEEP(-EINVAL);
		}
	v = 16;
	KEEP(read_int(entry, "resolve_limit", 1, 1024, " lookups at once", &v));
	d->limit = (unsigned)v;
	v = 30;
	KEEP(read_int(entry, "cache_ttl", 1, 86400, " seconds", &v));
	d->ttl_ms = (uint64_t)v * 1000;
	v = 5;
	KEEP(read_int(entry, "cache_miss_ttl", 1, 86400, " seconds", &v));
	d->miss_ttl_ms = (uint64_t)v * 1000;
	v = 2;
	KEEP(read_int(entry, "cache_error_ttl", 1, 3600, " seconds", &v));
	d->error_ttl_ms = (uint64_t)v * 1000;
	v = 8080;
	KEEP(read_int(entry, "default_port", 1, 65535, "", &v));
	d->default_port = (uint16_t)v;
	KEEP(read_agent_ports(d, entry));
	const proxyd_cfg *ports = sd_host->cfg_child(entry, "ports");
	if (ports) {
		KEEP(read_ports(ports, "ports", d->ports, PORTS_MAX, &d->n_ports));
	} else if (d->agent_ports == AGENT_PORTS_OFF) {
		/* Only declared ports are reachable; without a list, the default one is. */
		d->ports[d->n_ports++] = d->default_port;
	}
#undef KEEP
	if (rc == 0 && d->resolver != RES_NONE && !(d->cache = sd_cache_new(CACHE_MAX)))
		rc = -ENOMEM;
	if (rc < 0) {
		sd_direct_free(d);
		return rc == -ENOMEM ? -ENOMEM : -EINVAL;
	}
	*out = d;
	return 0;
}

/* One route has one kind of resolver: its lookups are cancelled by that kind. */
static void cancel_cmd(void *lookup)
{
	sd_cmd_cancel(lookup);
}

static void cancel_http(void *lookup)
{
	sd_http_cancel(lookup);
}

void sd_direct_free(struct sd_direct *d)
{
	if (!d)
		return;
	/* Running lookups are cancelled, then the cache resumes whoever waits on them (the
	 * core routes those requests again, with the configuration then in force). */
	if (d->cache)
		sd_cache_free(d->cache, d->resolver == RES_CMD ? cancel_cmd : cancel_http);
	if (d->cmd.argv)
		for (char **a = d->cmd.argv; *a; a++)
			free(*a);
	free(d->cmd.argv);
	free(d->http.path);
	free(d->http.addr_path);
	free(d->http.ports_path);
	free(d->vms);
	free(d);
}

/* ---- the decision ---- */

static int reject(struct proxyd_route_result *out, int status, const char *headers,
		  const char *fmt, ...) PROXYD_PRINTF(4, 5);
static int reject(struct proxyd_route_result *out, int status, const char *headers,
		  const char *fmt, ...)
{
	out->status = status;
	if (PROXYD_ROUTE_RESULT_HAS(out, message) && out->message_len > 0) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(out->message, out->message_len, fmt, ap);
		va_end(ap);
	}
	if (headers)
		snprintf(out->add_headers, out->add_headers_len, "%s", headers);
	return PROXYD_ROUTE_REJECT;
}

static int port_listed(const uint16_t *ports, size_t n, unsigned port)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i] == port)
			return 1;
	return 0;
}

/* The VM's address is known: is the port open? */
static int verdict(struct sd_direct *d, const char *name, const struct sd_answer *ans,
		   unsigned port, struct proxyd_route_result *out)
{
	int open = port_listed(d->ports, d->n_ports, port) ||
		   port_listed(ans->ports, ans->n_ports, port);
	if (!open && d->agent_ports && PROXYD_HOST_HAS(sd_host, agent_port)) {
		char label[32] = "";
		int r = sd_host->agent_port(ans->address, port, label, sizeof label);
		open = r == 1 && (d->agent_ports == AGENT_PORTS_ALL || label[0]);
	}
	if (!open)
		return reject(out, 403, NULL, "port %u is not open on %s", port, name);
	int n = snprintf(out->address, out->address_len, ans->v6 ? "[%s]:%u" : "%s:%u", ans->address,
			 port);
	if (n < 0 || (size_t)n >= out->address_len) {
		out->address[0] = '\0';
		return reject(out, 500, NULL, "router error");
	}
	return PROXYD_ROUTE_MATCH;
}

static const struct sd_vm *find_vm(const struct sd_direct *d, const char *name, size_t n)
{
	for (size_t i = 0; i < d->n_vms; i++)
		if (strlen(d->vms[i].name) == n && memcmp(d->vms[i].name, name, n) == 0)
			return &d->vms[i];
	return NULL;
}

static void lookup_done(void *arg, enum sd_result r, const struct sd_answer *ans, const char *why)
{
	struct sd_entry *e = arg;
	struct sd_direct *d = e->owner;
	uint64_t now = sd_now_ms();
	d->running--;
	if (r == SD_FOUND && !in_nets(d, ans->address)) {
		snprintf(e->why, sizeof e->why, "the resolver answered %s, outside 'networks'",
			 ans->address);
		r = SD_BAD;
		why = e->why;
	}
	switch (r) {
	case SD_FOUND:
		e->state = SD_E_FOUND;
		e->ans = *ans;
		e->expires_ms = now + d->ttl_ms;
		sd_host->log(sd_plugin, PROXYD_LOG_DEBUG, 0, "%s is at %s (%zu port(s) of its own)",
			     e->name, ans->address, ans->n_ports);
		break;
	case SD_NOT_FOUND:
		e->state = SD_E_NOT_FOUND;
		e->expires_ms = now + d->miss_ttl_ms;
		sd_host->log(sd_plugin, PROXYD_LOG_INFO, 0, "no VM named %s", e->name);
		break;
	case SD_BAD:
		e->state = SD_E_FAILED;
		if (why != e->why)
			snprintf(e->why, sizeof e->why, "%s", why ? why : "the lookup failed");
		e->expires_ms = now + d->error_ttl_ms;
		sd_host->log(sd_plugin, PROXYD_LOG_WARN, 0, "cannot look up %s: %s", e->name, e->why);
		break;
	}
	sd_cache_resolved(e);
}

static int from_entry(struct sd_direct *d, const struct sd_entry *e, unsigned port,
		      struct proxyd_route_result *out)
{
	switch (e->state) {
	case SD_E_FOUND:
		return verdict(d, e->name, &e->ans, port, out);
	case SD_E_NOT_FOUND:
		return reject(out, 404, NULL, "no VM named %s", e->name);
	case SD_E_FAILED:
		return reject(out, 502, NULL, "cannot look up %s: %s", e->name, e->why);
	case SD_E_RESOLVING:
		break;
	}
	return reject(out, 500, NULL, "router error");
}

int sd_direct_route(struct sd_direct *d, const char *label, size_t label_len,
		    struct proxyd_route_result *out)
{
	char name[SD_LABEL_MAX + 1];
	size_t name_len = label_len;
	unsigned port = d->default_port;
	/* A VM of the table named like "db-1" is that VM, not VM "db" on port 1. */
	const struct sd_vm *vm = find_vm(d, label, label_len);
	if (!vm && sd_split_port(label, label_len, &name_len, &port))
		vm = find_vm(d, label, name_len);
	memcpy(name, label, name_len);
	name[name_len] = '\0';
	if (vm)
		return verdict(d, vm->name, &vm->ans, port, out);
	if (d->resolver == RES_NONE)
		return reject(out, 404, NULL, "no VM named %s", name);

	uint64_t now = sd_now_ms();
	struct sd_entry *e = sd_cache_get(d->cache, name);
	if (e && e->state != SD_E_RESOLVING && e->expires_ms > now)
		return from_entry(d, e, port, out);
	if (!e || e->state != SD_E_RESOLVING) {
		if (d->running >= d->limit)
			return reject(out, 503, "Retry-After: 1\r\n",
				      "too many lookups in progress; try again");
		e = sd_cache_resolving(d->cache, name);
		if (!e)
			return reject(out, 503, "Retry-After: 1\r\n",
				      "too many lookups in progress; try again");
		e->owner = d;
		char err[200];
		e->lookup = d->resolver == RES_CMD
				    ? (void *)sd_cmd_start(&d->cmd, name, lookup_done, e, err, sizeof err)
				    : (void *)sd_http_start(&d->http, name, lookup_done, e, err, sizeof err);
		if (!e->lookup) {
			e->state = SD_E_FAILED;
			snprintf(e->why, sizeof e->why, "%s", err);
			e->expires_ms = now + d->error_ttl_ms;
			sd_host->log(sd_plugin, PROXYD_LOG_WARN, 0, "cannot look up %s: %s", name, err);
			return from_entry(d, e, port, out);
		}
		d->running++;
	}
	if (!PROXYD_ROUTE_RESULT_HAS(out, wait))
		return reject(out, 503, "Retry-After: 1\r\n", "looking up %s; try again", name);
	if (sd_cache_wait(e, out->wait) < 0)
		return reject(out, 503, "Retry-After: 1\r\n", "out of memory");
	return PROXYD_ROUTE_PENDING;
}

void sd_direct_target_failed(struct sd_direct *d, const char *address)
{
	if (!d->cache)
		return;
	/* "ip:port" or "[ip6]:port" to the address as the cache holds it */
	char ip[SD_ADDR_MAX + 2];
	const char *colon = strrchr(address, ':');
	if (!colon)
		return;
	size_t n = (size_t)(colon - address);
	if (n >= 2 && address[0] == '[' && address[n - 1] == ']')
		address++, n -= 2;
	if (n >= sizeof ip)
		return;
	memcpy(ip, address, n);
	ip[n] = '\0';
	sd_cache_address_failed(d->cache, ip, sd_now_ms(), d->error_ttl_ms);
}
