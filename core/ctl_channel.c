/* Control messages <-> the control stream's bytes. */
#include "config.h"
#include "ctl_channel.h"
#include "session.h"

#include <errno.h>
#include <event2/buffer.h>
#include <stdio.h>
#include <string.h>

int ctl_send(struct session *s, const struct ctl_msg *m)
{
	uint8_t buf[4 + 16384];
	int n = ctl_encode(m, buf, sizeof buf);
	if (n < 0)
		return n;
	return session_control_send(s, buf, (size_t)n);
}

int ctl_next(struct evbuffer *in, struct ctl_msg *m, const char **err)
{
	size_t have = evbuffer_get_length(in);
	if (have < 4)
		return 0;
	uint8_t *p = evbuffer_pullup(in, 4);
	size_t need = 4 + ((size_t)p[2] << 8 | p[3]);
	if (have < need)
		return 0;
	p = evbuffer_pullup(in, (ssize_t)need);
	int rc = ctl_decode(p, need, m, err);
	if (rc == -EAGAIN)
		return 0;
	if (rc < 0)
		return -1;
	evbuffer_drain(in, (size_t)rc);
	return 1;
}

void ctl_fail(struct session *s, uint32_t code, const char *reason)
{
	struct ctl_msg m;
	memset(&m, 0, sizeof m);
	m.type = CTL_ERROR;
	m.code = code;
	/* The reason may hold a certificate's CN or be cut mid-character: cleaned, it always
	 * encodes, so the peer always learns why. */
	ctl_set_reason(&m, reason);
	ctl_send(s, &m);
	session_close(s, reason);
}
