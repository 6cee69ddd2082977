/* Writing JSON for the admin socket: only output, only what status needs. */
#ifndef PROXYD_CORE_JSON_OUT_H
#define PROXYD_CORE_JSON_OUT_H

struct evbuffer;

/* Append s as a JSON string literal (quoted and escaped). */
void json_str(struct evbuffer *out, const char *s);
/* Append ',' unless *first; clear *first. */
void json_sep(struct evbuffer *out, int *first);

#endif
