/* JSON string escaping for status output. */
#include "config.h"
#include "json_out.h"

#include <event2/buffer.h>

void json_str(struct evbuffer *out, const char *s)
{
	evbuffer_add(out, "\"", 1);
	for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
		if (*p == '"' || *p == '\\')
			evbuffer_add_printf(out, "\\%c", *p);
		else if (*p < 0x20)
			evbuffer_add_printf(out, "\\u%04x", *p);
		else
			evbuffer_add(out, p, 1);
	}
	evbuffer_add(out, "\"", 1);
}

void json_sep(struct evbuffer *out, int *first)
{
	if (!*first)
		evbuffer_add(out, ",", 1);
	*first = 0;
}
