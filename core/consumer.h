/* agent.connect: local listeners whose connections go to another agent's service (over the
 * relay, or a direct path once one is proven; peer_conn.h). */
#ifndef PROXYD_CORE_CONSUMER_H
#define PROXYD_CORE_CONSUMER_H

#include "conf.h"

struct evbuffer;

int consumer_start(struct conf *c);
/* Reload: listeners are opened again from the new entries; connections carry on. */
void consumer_set_conf(struct conf *c);
void consumer_stop(void);

#endif
