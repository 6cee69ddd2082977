/* router-subdomain's direct mode: the two resolvers that take time, a command
 * (resolve_cmd, sd_cmd.c) and an HTTP lookup (resolve_url, sd_http.c). Each lookup ends in
 * exactly one call of done, on a later loop turn (never from inside *_start), unless it is
 * cancelled first; a lookup that cannot start returns NULL with err set. */
#ifndef PROXYD_ROUTER_SUBDOMAIN_SD_RESOLVE_H
#define PROXYD_ROUTER_SUBDOMAIN_SD_RESOLVE_H

#include <stddef.h>
#include <sys/socket.h>

#include "sd_answer.h"

typedef void (*sd_done_fn)(void *arg, enum sd_result r, const struct sd_answer *ans,
			   const char *why);

struct sd_cmd_conf {
	char **argv;            /* NULL-terminated; "{name}" in any argument is replaced */
	long long timeout_ms;
	int not_found_status;   /* this exit status means "no such name"; -1: none */
};

struct sd_cmd;
struct sd_cmd *sd_cmd_start(const struct sd_cmd_conf *c, const char *name, sd_done_fn done,
			    void *arg, char *err, size_t errlen);
/* The command is killed (its whole process group) and reaped in the background. */
void sd_cmd_cancel(struct sd_cmd *l);
/* Plugin fini: reap what cancelled commands left (they were sent SIGKILL). */
void sd_cmd_reap_all(void);

struct sd_http_conf {
	struct sockaddr_storage ss; /* the lookup service, resolved when the file was read */
	socklen_t sslen;
	char host[300];             /* the Host field: the URL's host[:port] */
	char *path;                 /* path and query, with "{name}" */
	char *addr_path;            /* where the address is in the JSON answer */
	char *ports_path;           /* where the VM's ports are, or NULL */
	long long timeout_ms;
};

struct sd_http;
struct sd_http *sd_http_start(const struct sd_http_conf *c, const char *name, sd_done_fn done,
			      void *arg, char *err, size_t errlen);
void sd_http_cancel(struct sd_http *l);

#endif
