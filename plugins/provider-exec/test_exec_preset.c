/* provider-exec's presets: the auto order, each preset's argv, custom substitutions, and
 * that each preset's URL expression finds the URL in what its program prints. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "exec_preset.h"
#include "exec_text.h"

static int on_path_list(const char *program, void *arg)
{
	for (const char *const *p = arg; *p; p++)
		if (strcmp(*p, program) == 0)
			return 1;
	return 0;
}

static void auto_pick(void **state)
{
	const char *none[] = {NULL};
	const char *ssh_only[] = {"ssh", NULL};
	const char *several[] = {"ssh", "bore", "ngrok", NULL};
	const char *all[] = {"ssh", "bore", "tailscale", "ngrok", "cloudflared", NULL};
	assert_null(px_auto_pick(on_path_list, none, 1));
	assert_null(px_auto_pick(on_path_list, ssh_only, 0)); /* ssh needs a host */
	assert_string_equal(px_auto_pick(on_path_list, ssh_only, 1)->name, "ssh");
	assert_string_equal(px_auto_pick(on_path_list, several, 1)->name, "ngrok");
	assert_string_equal(px_auto_pick(on_path_list, all, 0)->name, "cloudflared");
}

static const struct px_params base = {
	.local = "127.0.0.1:3000", .local_host = "127.0.0.1", .local_port = 3000,
};

static void joined(const char *preset, const struct px_params *pp, const char *want)
{
	const char *why = NULL;
	char **argv = px_build_argv(px_preset_find(preset), pp, &why);
	char text[1024];
	if (!argv)
		fail_msg("%s: %s", preset, why);
	px_argv_text(argv, text, sizeof text);
	px_argv_free(argv);
	assert_string_equal(text, want);
}

static void argvs(void **state)
{
	joined("cloudflared", &base, "cloudflared tunnel --no-autoupdate --url http://127.0.0.1:3000");
	joined("cloudflared-named", &base, "cloudflared tunnel --no-autoupdate run");
	joined("ngrok", &base, "ngrok http http://127.0.0.1:3000 --log stdout --log-format logfmt");
	joined("tailscale", &base, "tailscale funnel http://127.0.0.1:3000");
	joined("bore", &base, "bore local 3000 --local-host 127.0.0.1 --to bore.pub");

	struct px_params ssh = base;
	ssh.ssh_host = "127.0.0.1";
	ssh.ssh_port = 2222;
	ssh.ssh_user = "root";
	ssh.ssh_identity = "/k/id";
	ssh.ssh_known_hosts = "/k/known";
	ssh.ssh_strict = "no";
	const char *opts[] = {"-v"};
	ssh.ssh_options = opts;
	ssh.n_ssh_options = 1;
	joined("ssh", &ssh,
	       "ssh -N -R 0:127.0.0.1:3000 -p2222 -o BatchMode=yes -o ExitOnForwardFailure=yes "
	       "-o ServerAliveInterval=15 -o ServerAliveCountMax=3 -o StrictHostKeyChecking=no "
	       "-o UserKnownHostsFile=/k/known -i /k/id -o IdentitiesOnly=yes -v root@127.0.0.1");

	struct px_params custom = base;
	custom.command = "/bin/tunnel";
	const char *args[] = {"--to", "{local}", "--port={port}", "{host}{host}", "{nope}"};
	custom.args = args;
	custom.n_args = 5;
	joined("custom", &custom,
	       "/bin/tunnel --to 127.0.0.1:3000 --port=3000 127.0.0.1127.0.0.1 {nope}");

	const char *why = NULL;
	assert_null(px_build_argv(px_preset_find("ssh"), &base, &why));
	assert_non_null(why);
	assert_null(px_build_argv(px_preset_find("custom"), &base, &why));
	assert_null(px_build_argv(px_preset_find("auto"), &base, &why));
	assert_null(px_preset_find("Cloudflared"));
}

/* Each preset's expression against a line its program prints. */
static void preset_urls(void **state)
{
	static const struct {
		const char *preset, *line, *tmpl, *want;
	} cases[] = {
		{"cloudflared", "2026-12-01T10:00:00Z INF |  https://a-b-c.trycloudflare.com     |",
		 NULL, "https://a-b-c.trycloudflare.com"},
		{"ngrok",
		 "t=2026-12-01T10:00:00+0000 lvl=info msg=\"started tunnel\" obj=tunnels "
		 "name=command_line addr=http://127.0.0.1:3000 url=https://0d1e.ngrok-free.app",
		 NULL, "https://0d1e.ngrok-free.app"},
		{"tailscale", "https://box.tail1234.ts.net/", NULL, "https://box.tail1234.ts.net"},
		{"bore", "2026-12-01T10:00:00Z INFO bore_cli::client: listening at bore.pub:43127",
		 "http://{}", "http://bore.pub:43127"},
		{"ssh", "Allocated port 40123 for remote forward to 127.0.0.1:3000",
		 "http://127.0.0.1:{}", "http://127.0.0.1:40123"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		const struct px_preset *p = px_preset_find(cases[i].preset);
		regex_t re;
		char url[PX_URL_MAX];
		assert_non_null(p->url_regex);
		assert_int_equal(regcomp(&re, p->url_regex, REG_EXTENDED), 0);
		const char *tmpl = p->url_tmpl ? p->url_tmpl : cases[i].tmpl;
		if (px_url_extract(&re, cases[i].line, tmpl, url, sizeof url) != 1)
			fail_msg("%s: no URL in \"%s\"", cases[i].preset, cases[i].line);
		assert_string_equal(url, cases[i].want);
		regfree(&re);
	}
	assert_null(px_preset_find("cloudflared-named")->url_regex);
	assert_string_equal(px_preset_find("cloudflared-named")->token_var, "TUNNEL_TOKEN");
	assert_string_equal(px_preset_find("ngrok")->token_var, "NGROK_AUTHTOKEN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(auto_pick),
		cmocka_unit_test(argvs),
		cmocka_unit_test(preset_urls),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
