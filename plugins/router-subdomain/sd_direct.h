/* router-subdomain's direct mode: <name>[-<port>].<base> goes to port <port> (or
 * default_port) of the VM <name>, whose address comes from the static table `vms`, or a
 * command (`resolve_cmd`), or an HTTP lookup (`resolve_url`), with the answers cached; only
 * ports on the allow-list (`ports`, the VM's own, and with `agent_ports` those its agent
 * reports) are reachable. No tunnel: the core connects to the address itself. */
#ifndef PROXYD_ROUTER_SUBDOMAIN_SD_DIRECT_H
#define PROXYD_ROUTER_SUBDOMAIN_SD_DIRECT_H

#include <stddef.h>

#include <proxyd/plugin.h>

struct sd_direct;

/* Read the direct-mode keys of a route entry. 0 with *out NULL when the entry has none of
 * vms, resolve_cmd, resolve_url (agent mode; a direct-mode key given anyway is an error);
 * -EINVAL after cfg_error, -ENOMEM. Starts nothing (runs for `proxyd -t` too). */
int sd_direct_new(const proxyd_cfg *entry, struct sd_direct **out);
/* Lookups running are cancelled, waiting requests resumed. */
void sd_direct_free(struct sd_direct *d);
/* Decide for the label before the base domain (a valid DNS label). */
int sd_direct_route(struct sd_direct *d, const char *label, size_t label_len,
		    struct proxyd_route_result *out);
/* The edge could not connect to address ("ip:port", "[ip6]:port"). */
void sd_direct_target_failed(struct sd_direct *d, const char *address);

#endif
