/* proxyctl status: the daemon's state as JSON over the admin socket (status.c), and the
 * table an operator reads (status_format.c). */
#ifndef PROXYCTL_STATUS_H
#define PROXYCTL_STATUS_H

#include <jansson.h>
#include <stdio.h>

/* The daemon's admin.socket default; PROXYD_ADMIN_SOCKET or -s choose another. */
#define STATUS_SOCKET_DEFAULT "/run/proxyd/admin.sock"

/* ROOT is the reply object; fields the daemon left out print as "?", so an older or newer
 * daemon still gives a readable table. */
void status_print_human(const json_t *root, FILE *out);

/* Send one request line (with its newline) to the admin socket at path and read the whole
 * reply (NUL-terminated, the caller frees). Errors are printed; returns 0 or -errno. */
int admin_request(const char *path, const char *request, char **reply, size_t *len);

#endif
