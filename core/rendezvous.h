/* The server's part in direct paths between agents (doc/DIRECT-PATHS.md): it takes an
 * agent's DIRECT_REQUEST, checks server.relay.allow, hands the other agent an OFFER with a
 * fresh attempt id and punch key, and passes its ANSWER back as GO; the agents then punch
 * at once. RESULTs are counted and logged. The STUN side is the udp-punch transport's
 * listener. */
#ifndef PROXYD_CORE_RENDEZVOUS_H
#define PROXYD_CORE_RENDEZVOUS_H

#include "ctl.h"

struct evbuffer;

/* from: the sending agent's id (its session's). */
void rendezvous_on_control(const char *from, const struct ctl_msg *m);
/* An agent's session ended: its pending attempts fail. */
void rendezvous_agent_gone(const char *id);
void rendezvous_metrics(struct evbuffer *out);
void rendezvous_stop(void);

#endif
