/* The agent's side of agent.report_ports: every interval, the listening TCP ports other hosts
 * can reach (/proc/net/tcp and tcp6, loopback-only listeners left out) with the labels of the
 * labels file, sent to the server as a PORTS control message when they changed or the session
 * is new. An agent inside a VM tells the VM-host proxy this way which ports to open. */
#ifndef PROXYD_CORE_PORT_REPORT_H
#define PROXYD_CORE_PORT_REPORT_H

#include "conf.h"

void port_report_start(struct conf *c);
/* A reload: the keys may have changed (or the report been turned on or off). */
void port_report_apply(struct conf *c);
void port_report_stop(void);
/* The agent registered on a new session: report now. */
void port_report_now(void);

#endif
