/* Ports reported by agents, per session (see port_registry.h). A handful of VMs per host,
 * each with a few ports: a list is enough. */
#include "config.h"
#include "port_registry.h"
#include "json_out.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct report {
	struct report *next;
	uint64_t conn_id;
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d, so both families compare as one */
	char address[64]; /* the peer's address as text, for status */
	char agent[65];
	struct ctl_port *ports;
	int n_ports;
};

static struct report *reports;

/* "1.2.3.4", "fd00::1", "::ffff:1.2.3.4" into the mapped form; 0 or -EINVAL. */
static int addr_key(const char *ip, uint8_t out[16])
{
	struct in_addr a4;
	if (inet_pton(AF_INET, ip, &a4) == 1) {
		memset(out, 0, 10);
		out[10] = out[11] = 0xff;
		memcpy(out + 12, &a4, 4);
		return 0;
	}
	struct in6_addr a6;
	if (inet_pton(AF_INET6, ip, &a6) == 1) {
		memcpy(out, &a6, 16);
		return 0;
	}
	return -EINVAL;
}

static int peer_key(const char *peer, uint8_t out[16], char *text, size_t text_len)
{
	struct sockaddr_storage ss;
	int len = sizeof ss;
	if (evutil_parse_sockaddr_port(peer, (struct sockaddr *)&ss, &len) != 0)
		return -EINVAL;
	char ip[INET6_ADDRSTRLEN];
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, ip, sizeof ip);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, ip, sizeof ip);
	else
		return -EINVAL;
	snprintf(text, text_len, "%s", ip);
	return addr_key(ip, out);
}

static struct report **find(uint64_t conn_id)
{
	struct report **p = &reports;
	while (*p && (*p)->conn_id != conn_id)
		p = &(*p)->next;
	return p;
}

int port_registry_set(uint64_t conn_id, const char *peer, const char *agent_id,
		      const struct ctl_port *ports, int n_ports)
{
	uint8_t key[16];
	char text[64];
	if (peer_key(peer, key, text, sizeof text) < 0)
		return -EINVAL;
	struct ctl_port *copy = malloc(sizeof *copy * (size_t)(n_ports > 0 ? n_ports : 1));
	if (!copy)
		return -ENOMEM;
	memcpy(copy, ports, sizeof *copy * (size_t)n_ports);
	struct report **p = find(conn_id), *r = *p;
	if (!r) {
		r = calloc(1, sizeof *r);
		if (!r) {
			free(copy);
			return -ENOMEM;
		}
		r->conn_id = conn_id;
		*p = r;
	}
	memcpy(r->addr, key, sizeof key);
	snprintf(r->address, sizeof r->address, "%s", text);
	snprintf(r->agent, sizeof r->agent, "%s", agent_id);
	free(r->ports);
	r->ports = copy;
	r->n_ports = n_ports;
	return 0;
}

void port_registry_drop(uint64_t conn_id)
{
	struct report **p = find(conn_id), *r = *p;
	if (!r)
		return;
	*p = r->next;
	free(r->ports);
	free(r);
}

int port_registry_agent_port(const char *ip, unsigned port, char *label, size_t label_len)
{
	uint8_t key[16];
	if (!ip || addr_key(ip, key) < 0)
		return -ENOENT;
	int found = 0;
	/* Several agents may share an address (two in one VM): a port any of them reports is
	 * open. */
	for (struct report *r = reports; r; r = r->next) {
		if (memcmp(r->addr, key, sizeof key) != 0)
			continue;
		found = 1;
		for (int i = 0; i < r->n_ports; i++) {
			if (r->ports[i].port != port)
				continue;
			if (label && label_len)
				snprintf(label, label_len, "%s", r->ports[i].label);
			return 1;
		}
	}
	return found ? 0 : -ENOENT;
}

void port_registry_status(struct evbuffer *out)
{
	int first = 1;
	for (struct report *r = reports; r; r = r->next) {
		json_sep(out, &first);
		evbuffer_add_printf(out, "{\"agent\":");
		json_str(out, r->agent);
		evbuffer_add_printf(out, ",\"address\":");
		json_str(out, r->address);
		evbuffer_add_printf(out, ",\"ports\":[");
		int f2 = 1;
		for (int i = 0; i < r->n_ports; i++) {
			json_sep(out, &f2);
			evbuffer_add_printf(out, "{\"port\":%u,\"label\":", r->ports[i].port);
			json_str(out, r->ports[i].label);
			evbuffer_add(out, "}", 1);
		}
		evbuffer_add(out, "]}", 2);
	}
}

void port_registry_clear(void)
{
	while (reports) {
		struct report *r = reports;
		reports = r->next;
		free(r->ports);
		free(r);
	}
}
