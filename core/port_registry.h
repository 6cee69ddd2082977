/* The server's record of the TCP ports agents report listening (control message PORTS, sent
 * by agents with agent.report_ports), keyed by the session and looked up by the address the
 * session comes from. The VM-host proxy asks it (host->agent_port) which ports of a VM's
 * address are open: an agent inside the VM reports them, and the address is the one the
 * server sees, not one the agent claims. */
#ifndef PROXYD_CORE_PORT_REGISTRY_H
#define PROXYD_CORE_PORT_REGISTRY_H

#include <stddef.h>
#include <stdint.h>

#include "ctl.h"

struct evbuffer;

/* The ports agent_id reports over session conn_id, whose peer is peer ("ip:port" or
 * "[ip6]:port", as the transport gave it). Replaces what that session reported before. 0, or
 * -EINVAL when peer is not a numeric address, -ENOMEM. */
int port_registry_set(uint64_t conn_id, const char *peer, const char *agent_id,
		      const struct ctl_port *ports, int n_ports);
/* The session ended: its report goes with it. */
void port_registry_drop(uint64_t conn_id);
/* host->agent_port (see plugin.h). */
int port_registry_agent_port(const char *ip, unsigned port, char *label, size_t label_len);
/* For proxyctl status: [{"agent":..., "address":..., "ports":[{"port":N,"label":...}]}] */
void port_registry_status(struct evbuffer *out);
void port_registry_clear(void);

#endif
