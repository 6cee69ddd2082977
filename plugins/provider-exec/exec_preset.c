/* provider-exec: presets and the argv of a launch (exec_preset.h). */
#include "exec_preset.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The URL each program prints:
 *  cloudflared quick tunnel: a box with "https://<words>.trycloudflare.com";
 *  ngrok (--log stdout --log-format logfmt): "msg=\"started tunnel\" ... url=https://...";
 *  tailscale funnel: "https://<machine>.<tailnet>.ts.net/";
 *  bore: "listening at bore.pub:<port>";
 *  ssh -R 0:...: "Allocated port <n> for remote forward to <local>" (stderr). */
static const struct px_preset presets[] = {
	{PX_CUSTOM, "custom", NULL, NULL, NULL, NULL, 0},
	{PX_CLOUDFLARED, "cloudflared", "cloudflared",
	 "(https://[-a-zA-Z0-9.]+\\.trycloudflare\\.com)", NULL, NULL, 0},
	{PX_CLOUDFLARED_NAMED, "cloudflared-named", "cloudflared", NULL, NULL, "TUNNEL_TOKEN", 1},
	{PX_NGROK, "ngrok", "ngrok", "url=(https?://[^[:space:]\"]+)", NULL, "NGROK_AUTHTOKEN", 0},
	{PX_TAILSCALE, "tailscale", "tailscale", "(https://[-a-zA-Z0-9.]+\\.ts\\.net)", NULL, NULL, 0},
	{PX_BORE, "bore", "bore", "listening at ([^[:space:]]+:[0-9]+)", "http://{}", "BORE_SECRET", 0},
	{PX_SSH, "ssh", "ssh", "Allocated port ([0-9]+) for remote forward", NULL, NULL, 0},
	{PX_AUTO, "auto", NULL, NULL, NULL, NULL, 0},
};

static const enum px_preset_id auto_order[] = {PX_CLOUDFLARED, PX_NGROK, PX_TAILSCALE, PX_BORE,
					       PX_SSH};

const struct px_preset *px_preset_find(const char *name)
{
	for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

const struct px_preset *px_preset_get(enum px_preset_id id)
{
	for (size_t i = 0; i < sizeof presets / sizeof presets[0]; i++)
		if (presets[i].id == id)
			return &presets[i];
	return NULL;
}

const char *px_auto_order_text(void)
{
	return "cloudflared, ngrok, tailscale, bore, ssh (with ssh_host)";
}

const struct px_preset *px_auto_pick(int (*on_path)(const char *program, void *arg), void *arg,
				     int have_ssh_host)
{
	for (size_t i = 0; i < sizeof auto_order / sizeof auto_order[0]; i++) {
		const struct px_preset *p = px_preset_get(auto_order[i]);
		if (p->id == PX_SSH && !have_ssh_host)
			continue;
		if (on_path(p->program, arg))
			return p;
	}
	return NULL;
}

struct argv_b {
	char **v;
	int n, cap, failed;
};

static void add(struct argv_b *b, const char *s)
{
	if (b->failed)
		return;
	if (b->n + 2 > b->cap) {
		int cap = b->cap ? b->cap * 2 : 16;
		char **g = realloc(b->v, (size_t)cap * sizeof *g);
		if (!g) {
			b->failed = 1;
			return;
		}
		b->v = g;
		b->cap = cap;
	}
	b->v[b->n] = strdup(s);
	if (!b->v[b->n]) {
		b->failed = 1;
		return;
	}
	b->v[++b->n] = NULL;
}

static void addf(struct argv_b *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(struct argv_b *b, const char *fmt, ...)
{
	char buf[600];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof buf, fmt, ap);
	va_end(ap);
	add(b, buf);
}

/* Replace {local}, {host}, {port} in a custom argument. */
static void add_subst(struct argv_b *b, const char *arg, const struct px_params *pp)
{
	char out[1024], port[8];
	size_t o = 0;
	snprintf(port, sizeof port, "%d", pp->local_port);
	for (const char *s = arg; *s && o + 1 < sizeof out;) {
		const char *rep = NULL;
		size_t skip = 0;
		if (strncmp(s, "{local}", 7) == 0)
			rep = pp->local, skip = 7;
		else if (strncmp(s, "{host}", 6) == 0)
			rep = pp->local_host, skip = 6;
		else if (strncmp(s, "{port}", 6) == 0)
			rep = port, skip = 6;
		if (rep) {
			size_t rl = strlen(rep);
			if (o + rl + 1 > sizeof out)
				break;
			memcpy(out + o, rep, rl);
			o += rl;
			s += skip;
		} else {
			out[o++] = *s++;
		}
	}
	out[o] = '\0';
	add(b, out);
}

/* The target URL of the local service for programs that take one. IPv6 keeps brackets. */
static void local_url(const struct px_params *pp, char *out, size_t len)
{
	snprintf(out, len, "http://%s", pp->local);
}

char **px_build_argv(const struct px_preset *p, const struct px_params *pp, const char **why)
{
	struct argv_b b = {0};
	char url[600];
	*why = NULL;
	switch (p->id) {
	case PX_CUSTOM:
		if (!pp->command || !*pp->command) {
			*why = "a custom provider needs 'command'";
			return NULL;
		}
		add(&b, pp->command);
		for (int i = 0; i < pp->n_args; i++)
			add_subst(&b, pp->args[i], pp);
		break;
	case PX_CLOUDFLARED:
		local_url(pp, url, sizeof url);
		add(&b, "cloudflared");
		add(&b, "tunnel");
		add(&b, "--no-autoupdate");
		add(&b, "--url");
		add(&b, url);
		break;
	case PX_CLOUDFLARED_NAMED:
		/* The token (TUNNEL_TOKEN in the environment) names the tunnel; its public
		 * hostnames and their local targets are set in the Cloudflare dashboard. */
		add(&b, "cloudflared");
		add(&b, "tunnel");
		add(&b, "--no-autoupdate");
		add(&b, "run");
		break;
	case PX_NGROK:
		local_url(pp, url, sizeof url);
		add(&b, "ngrok");
		add(&b, "http");
		add(&b, url);
		add(&b, "--log");
		add(&b, "stdout");
		add(&b, "--log-format");
		add(&b, "logfmt");
		break;
	case PX_TAILSCALE:
		local_url(pp, url, sizeof url);
		add(&b, "tailscale");
		add(&b, "funnel");
		add(&b, url);
		break;
	case PX_BORE:
		add(&b, "bore");
		add(&b, "local");
		addf(&b, "%d", pp->local_port);
		add(&b, "--local-host");
		add(&b, pp->local_host);
		add(&b, "--to");
		add(&b, pp->bore_server && *pp->bore_server ? pp->bore_server : "bore.pub");
		break;
	case PX_SSH:
		if (!pp->ssh_host || !*pp->ssh_host) {
			*why = "the ssh preset needs 'ssh_host'";
			return NULL;
		}
		add(&b, "ssh");
		add(&b, "-N");
		add(&b, "-R");
		/* Port 0: the server picks a free port and ssh prints it. */
		addf(&b, "0:%s", pp->local);
		addf(&b, "-p%d", pp->ssh_port > 0 ? pp->ssh_port : 22);
		add(&b, "-o");
		add(&b, "BatchMode=yes");
		add(&b, "-o");
		add(&b, "ExitOnForwardFailure=yes");
		add(&b, "-o");
		add(&b, "ServerAliveInterval=15");
		add(&b, "-o");
		add(&b, "ServerAliveCountMax=3");
		add(&b, "-o");
		addf(&b, "StrictHostKeyChecking=%s", pp->ssh_strict ? pp->ssh_strict : "accept-new");
		if (pp->ssh_known_hosts) {
			add(&b, "-o");
			addf(&b, "UserKnownHostsFile=%s", pp->ssh_known_hosts);
		}
		if (pp->ssh_identity) {
			add(&b, "-i");
			add(&b, pp->ssh_identity);
			add(&b, "-o");
			add(&b, "IdentitiesOnly=yes");
		}
		for (int i = 0; i < pp->n_ssh_options; i++)
			add(&b, pp->ssh_options[i]);
		if (pp->ssh_user && *pp->ssh_user) {
			char dest[600];
			snprintf(dest, sizeof dest, "%s@%s", pp->ssh_user, pp->ssh_host);
			add(&b, dest);
		} else {
			add(&b, pp->ssh_host);
		}
		break;
	case PX_AUTO:
		*why = "preset auto must be resolved first";
		return NULL;
	}
	if (b.failed || !b.v) {
		px_argv_free(b.v);
		*why = "out of memory";
		return NULL;
	}
	return b.v;
}

void px_argv_free(char **argv)
{
	if (!argv)
		return;
	for (char **a = argv; *a; a++)
		free(*a);
	free(argv);
}

void px_argv_text(char *const *argv, char *out, size_t len)
{
	size_t o = 0;
	out[0] = '\0';
	for (int i = 0; argv && argv[i] && o + 1 < len; i++) {
		int n = snprintf(out + o, len - o, "%s%s", i ? " " : "", argv[i]);
		if (n < 0)
			break;
		o += (size_t)n;
	}
}
