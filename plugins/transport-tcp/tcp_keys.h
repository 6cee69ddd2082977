/* Reading an endpoint entry's keys with errors at the key's own file and line: shared by the
 * transports (transport-quic compiles this file too, as it does tcp_addr.c), so a key means
 * and reports the same whichever transport reads it. */
#ifndef PROXYD_TCP_KEYS_H
#define PROXYD_TCP_KEYS_H

#include "proxyd/plugin.h"

struct reader {
	const struct proxyd_host *host;
	const proxyd_cfg *entry;
	int errors;
	int nomem;
};

/* The key's own node when it is present, else the entry: where an error points. */
const proxyd_cfg *node_of(struct reader *r, const char *key);

#define ERR_AT(r, key, ...)                                                                    \
	do {                                                                                   \
		(r)->host->cfg_error(node_of((r), (key)), __VA_ARGS__);                         \
		(r)->errors++;                                                                 \
	} while (0)

/* 1 when set, 0 when absent, -1 after an error was recorded. */
int read_string(struct reader *r, const char *key, const char **out);
/* An integer in [min, max]; 1, 0 or -1 as read_string. what describes the value for the error
 * message ("a UDP port number"). */
int read_int(struct reader *r, const char *key, long long min, long long max, const char *what,
	     long long *out);
/* A file name resolved against the config file's directory, strdup()ed into *out; 1, 0 or
 * -1 as read_string. */
int read_file(struct reader *r, const char *key, char **out);

#endif
