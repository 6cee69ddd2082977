/* The agent role: one session to one server at a time, re-established on loss. */
#ifndef PROXYD_CORE_AGENT_H
#define PROXYD_CORE_AGENT_H

#include "conf.h"

struct evbuffer;
struct session;

int agent_start(struct conf *c);
void agent_stop(void);
int agent_running(void);
/* Reload: take the new configuration without dropping the session. */
void agent_set_conf(struct conf *c);
void agent_drain_begin(void);
int agent_busy(void);
void agent_status_sessions(struct evbuffer *out, int *first);
/* The session to the server once registered (for messages such as the ports report), with
 * its connection id; NULL while there is none. */
struct session *agent_ready_session(uint64_t *conn_id);
/* The configured service of that name ("" = the default), or NULL. */
const struct conf_service *agent_find_service(const char *name);

#endif
