/* proxyd --probe: dial the agent's first server and time the transport's handshake. */
#ifndef PROXYD_CORE_PROBE_H
#define PROXYD_CORE_PROBE_H

#include "conf.h"

/* Dial count times, one after another; print each time and the median. Returns the exit
 * code: 0 when every dial connected, 1 when one failed, 2 without an agent section. */
int probe_run(struct conf *c, int count);

#endif
