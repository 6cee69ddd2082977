/* The admin unix socket behind `proxyctl status`: a client writes one command line, the
 * daemon answers with one JSON object and closes. */
#ifndef PROXYD_CORE_ADMIN_H
#define PROXYD_CORE_ADMIN_H

#include "conf.h"

struct evbuffer;

int admin_start(const struct conf_admin *a);
void admin_stop(void);

/* A command whose answer comes later (proxyctl ping): the one reply it gets. */
struct admin_reply;
/* Send body (a JSON line; NULL: an "out of memory" error) and close; frees r. Harmless when
 * the client has gone meanwhile. */
void admin_reply_send(struct admin_reply *r, struct evbuffer *body);

#endif
