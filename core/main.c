/* proxyd's command line: run (-c), check (-t), version and plugin listing (-V). */
#include "config.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "plugins.h"
#include "probe.h"
#include "roles.h"

#include <event2/event.h>
#include <fcntl.h>
#include <getopt.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MAX_EXTRA_DIRS 8

static void usage(FILE *out)
{
	fprintf(out,
		"usage: proxyd -c FILE [-f] [--plugin-dir DIR]...   run\n"
		"       proxyd -t -c FILE [--plugin-dir DIR]...     check the configuration and exit\n"
		"       proxyd -V [--plugin-dir DIR]...             version, ABI, plugins found\n"
		"       proxyd --probe[=N] -c AGENT-FILE            time N connections to the server\n"
		"\n"
		"  -c, --config FILE     configuration file (libconfig syntax; see proxyd.conf(5))\n"
		"  -t, --test            check FILE and the plugins it needs; print every problem\n"
		"                        as file:line: message; exit 0 when it is usable\n"
		"  -f, --foreground      stay in the foreground and log to stderr\n"
		"  -V, --version         print version, plugin ABI, plugin search path and which\n"
		"                        plugins load (and why the others do not)\n"
		"      --plugin-dir DIR  search DIR for plugins first (repeatable)\n"
		"      --probe[=N]       dial the agent's first server N times (1) through its\n"
		"                        transport, print how long each took to be ready and the\n"
		"                        median; exit 0 when every one connected\n"
		"  -h, --help            this text\n"
		"\n"
		"Plugins are searched in --plugin-dir, the config's plugin_path, PROXYD_PLUGIN_PATH\n"
		"(colon-separated), then %s.\n",
		plugins_builtin_dir());
}

static int print_version(const char *const *extra, int n_extra)
{
	struct conf c;
	conf_init_without_file(&c, extra, n_extra);
	const char *env = getenv("PROXYD_PLUGIN_PATH");
	/* Same order as conf_load, minus the file's plugin_path. */
	if (env) {
		char *copy = strdup(env), *save = NULL;
		for (char *d = copy ? strtok_r(copy, ":", &save) : NULL; d; d = strtok_r(NULL, ":", &save))
			if (c.n_plugin_dirs < CONF_MAX_PLUGIN_DIRS) {
				c.owned_dirs[c.n_plugin_dirs] = strdup(d);
				c.plugin_dirs[c.n_plugin_dirs] = c.owned_dirs[c.n_plugin_dirs];
				c.n_plugin_dirs++;
			}
		free(copy);
	}
	if (c.n_plugin_dirs < CONF_MAX_PLUGIN_DIRS)
		c.plugin_dirs[c.n_plugin_dirs++] = plugins_builtin_dir();

	printf("proxyd %s\n", PACKAGE_VERSION);
	printf("plugin ABI %d.%d\n", PROXYD_ABI_MAJOR, PROXYD_ABI_MINOR);
	printf("plugin directory: %s\n", plugins_builtin_dir());
	printf("plugin search path:");
	for (int i = 0; i < c.n_plugin_dirs; i++)
		printf(" %s", c.plugin_dirs[i]);
	printf("\n");

	log_setup(PROXYD_LOG_ERROR, LOG_TO_STDERR); /* the listing below says it all */
	struct plugin_report *report = NULL;
	int n = plugins_load(c.plugin_dirs, c.n_plugin_dirs, &report);
	printf("plugins loaded: %d\n", n);
	for (struct plugin_report *r = report; r; r = r->next) {
		if (!r->error) {
			struct proxyd_plugin *p = NULL;
			for (p = plugins_first(); p && strcmp(p->path, r->path) != 0; p = p->next)
				;
			printf("  %-22s %-8s ABI %u.%u  %s\n", r->label,
			       p && p->desc->version ? p->desc->version : "?",
			       p ? p->desc->abi_major : 0, p ? p->desc->abi_minor : 0, r->path);
		}
	}
	for (struct plugin_report *r = report; r; r = r->next)
		if (r->error)
			printf("  refused %s: %s\n", r->path, r->error);
	plugin_report_free(report);
	plugins_unload_all();
	conf_fini(&c);
	return 0;
}

static int daemonize(void)
{
	pid_t pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	if (setsid() < 0)
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (pid > 0)
		_exit(0);
	int fd = open("/dev/null", O_RDWR);
	if (fd >= 0) {
		dup2(fd, 0);
		dup2(fd, 1);
		dup2(fd, 2);
		if (fd > 2)
			close(fd);
	}
	return 0;
}

/* Free everything and return code. Order matters: plugins free their objects, the loop runs
 * the finalizers of freed bufferevents (some of which are the plugins' TLS ones), then the
 * code is unmapped. */
static int finish(struct conf *c, char *abs_config, int code)
{
	conf_fini(c);
	free(c);
	plugins_fini_all();
	loop_fini();
	plugins_unload_all();
	free(abs_config);
	return code;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"config", required_argument, NULL, 'c'}, {"test", no_argument, NULL, 't'},
		{"foreground", no_argument, NULL, 'f'},   {"version", no_argument, NULL, 'V'},
		{"plugin-dir", required_argument, NULL, 'P'}, {"help", no_argument, NULL, 'h'},
		{"probe", optional_argument, NULL, 'p'},
		{NULL, 0, NULL, 0},
	};
	const char *config_path = NULL;
	const char *extra[MAX_EXTRA_DIRS];
	int n_extra = 0, test = 0, foreground = 0, version = 0, probe = 0, opt;

	while ((opt = getopt_long(argc, argv, "c:tfVh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'c':
			config_path = optarg;
			break;
		case 't':
			test = 1;
			break;
		case 'f':
			foreground = 1;
			break;
		case 'V':
			version = 1;
			break;
		case 'P':
			if (n_extra == MAX_EXTRA_DIRS) {
				fprintf(stderr, "proxyd: at most %d --plugin-dir options\n", MAX_EXTRA_DIRS);
				return 2;
			}
			extra[n_extra++] = optarg;
			break;
		case 'p':
			probe = optarg ? atoi(optarg) : 1;
			if (probe < 1 || probe > 100000) {
				fprintf(stderr, "proxyd: --probe=N: expected 1..100000, got '%s'\n", optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "proxyd: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return 2;
	}
	if (version)
		return print_version(extra, n_extra);
	if (!config_path) {
		fprintf(stderr, "proxyd: no configuration given: use -c FILE (see proxyd -h)\n");
		return 2;
	}

	/* Every proxied connection costs a descriptor on each side of the tunnel: use all the
	 * descriptors the administrator allows, not the 1024 a login shell starts with. */
	struct rlimit rl;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}

#ifdef M_TRIM_THRESHOLD
	/* Bulk streams allocate and free evbuffer chains of tens of KiB at a high rate. glibc's
	 * defaults give freed memory at the top of the heap (or a whole mmap()ed chunk) back to
	 * the kernel at once and fault it in again moments later; on a VM the page faults and
	 * TLB-shootdown IPIs of that churn cost more CPU than TLS itself (measured: a tunnel
	 * stream at 0.3 Gbit/s and 10-18 CPU s/GiB, against 2.5 Gbit/s and 1.5 with this). Keep
	 * up to 64 MiB of free heap, and serve chunks below 4 MiB from the heap. */
	mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
	mallopt(M_MMAP_THRESHOLD, 4 * 1024 * 1024);
#endif

	/* Relative paths keep meaning what the user meant even if we change directory. */
	char *abs_config = realpath(config_path, NULL);
	if (abs_config)
		config_path = abs_config;

	struct conf *c = calloc(1, sizeof *c);
	if (!c || loop_init() != 0) {
		fprintf(stderr, "proxyd: out of memory\n");
		return 1;
	}
	/* -t prints what it finds itself; keep plugin-load chatter at warnings. */
	log_setup(test ? PROXYD_LOG_WARN : PROXYD_LOG_INFO, LOG_TO_STDERR);
	int errors = conf_load(c, config_path, extra, n_extra);
	/* A wrong core-level value does not stop the checks: -t reports every problem. Only a
	 * file that did not parse does. */
	if (c->file.parsed) {
		if (!test && errors == 0)
			log_setup(c->log_level, c->log_target);
		plugins_load(c->plugin_dirs, c->n_plugin_dirs, NULL);
		plugins_init_all();
		errors = conf_check(c);
	}
	if (test || errors) {
		conf_print_errors(c, 0);
		if (test && errors == 0)
			printf("%s: configuration OK\n", config_path);
		else
			fprintf(stderr, "%s: %d error(s)\n", config_path, errors);
		return finish(c, abs_config, errors ? 1 : 0);
	}

	if (probe)
		return finish(c, abs_config, probe_run(c, probe));
	if (!foreground) {
		if (!c->log_target_set)
			c->log_target = LOG_TO_SYSLOG;
		log_setup(c->log_level, c->log_target);
		if (daemonize() < 0) {
			log_err("core", "cannot daemonize: %m");
			return 1;
		}
		/* libevent's epoll fd does not survive fork in a usable state. */
		event_reinit(loop_base());
	}
	daemon_set_roles(&roles_default);
	int code = daemon_run(c, extra, n_extra);
	return finish(daemon_conf(), abs_config, code);
}
