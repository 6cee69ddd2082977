/* Sending and receiving control messages over a session's control stream. */
#ifndef PROXYD_CORE_CTL_CHANNEL_H
#define PROXYD_CORE_CTL_CHANNEL_H

#include "ctl.h"

struct session;
struct evbuffer;

int ctl_send(struct session *s, const struct ctl_msg *m);
/* Take the next whole message out of in: 1 with *m filled, 0 when more bytes are needed,
 * -1 on a malformed message (*err says why; the session should be closed). */
int ctl_next(struct evbuffer *in, struct ctl_msg *m, const char **err);
/* Send ERROR{code, reason} and close the session. */
void ctl_fail(struct session *s, uint32_t code, const char *reason);

#endif
