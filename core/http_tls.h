/* The TLS side of an HTTPS listener: read the ClientHello's server name without consuming
 * it, then either pass the still-encrypted connection to an agent (a passthrough entry
 * matches the name) or end TLS here with the certificate the name picks and hand the
 * connection to http_conn. */
#ifndef PROXYD_CORE_HTTP_TLS_H
#define PROXYD_CORE_HTTP_TLS_H

#include <stddef.h>
#include <stdint.h>

#include "conf.h"

struct http_tls;

/* Loads the listener's certificates now (err names the file and the reason). */
struct http_tls *http_tls_new(const struct conf_http_listener *cl, char *err, size_t errlen);
/* Drops the listener's reference; connections still reading a ClientHello keep theirs. */
void http_tls_free(struct http_tls *t);
/* Takes the accepted socket. */
void http_tls_accept(struct http_tls *t, int fd, uint64_t conn_id, const char *client);
/* Closes connections still waiting for their ClientHello (shutdown). */
void http_tls_pending_close_all(void);

#endif
