/* provider-exec's presets: for each tunnel program, its command line, how its output names
 * the public URL, and the environment variable its secret goes in; the `auto` order; the
 * argv of one launch. Pure (the PATH lookup is the caller's function); unit-tested. */
#ifndef PX_EXEC_PRESET_H
#define PX_EXEC_PRESET_H

#include <stddef.h>

enum px_preset_id {
	PX_CUSTOM = 0,
	PX_CLOUDFLARED,
	PX_CLOUDFLARED_NAMED,
	PX_NGROK,
	PX_TAILSCALE,
	PX_BORE,
	PX_SSH,
	PX_AUTO,
};

struct px_preset {
	enum px_preset_id id;
	const char *name;      /* as written in `preset` */
	const char *program;   /* searched on PATH; NULL for custom */
	const char *url_regex; /* POSIX ERE, group 1 is the URL (or the part tmpl wraps); NULL: none */
	const char *url_tmpl;  /* "{}" is group 1; NULL means the group is the URL */
	const char *token_var; /* the child's environment variable for the secret, or NULL */
	int token_required;
};

/* The preset called name, or NULL. */
const struct px_preset *px_preset_find(const char *name);
const struct px_preset *px_preset_get(enum px_preset_id id);
/* "cloudflared, ngrok, tailscale, bore, ssh": the auto order, for messages. */
const char *px_auto_order_text(void);

/* auto: the first preset of the order whose program on_path() finds; ssh only when
 * have_ssh_host (it needs a server to go to). NULL when none. */
const struct px_preset *px_auto_pick(int (*on_path)(const char *program, void *arg), void *arg,
				     int have_ssh_host);

/* What a launch needs besides the preset. */
struct px_params {
	const char *local;      /* "host:port" as configured */
	const char *local_host; /* without brackets */
	int local_port;
	/* ssh */
	const char *ssh_host, *ssh_user, *ssh_identity, *ssh_known_hosts, *ssh_strict;
	int ssh_port;
	const char *const *ssh_options;
	int n_ssh_options;
	/* bore */
	const char *bore_server;
	/* custom */
	const char *command;
	const char *const *args;
	int n_args;
};

/* A NULL-terminated argv (free with px_argv_free), or NULL with *why set. In a custom
 * command's arguments "{local}", "{host}" and "{port}" stand for the local address, its
 * host and its port. */
char **px_build_argv(const struct px_preset *p, const struct px_params *pp, const char **why);
void px_argv_free(char **argv);
/* argv joined by spaces for a log line (no secrets are ever in argv). */
void px_argv_text(char *const *argv, char *out, size_t len);

#endif
