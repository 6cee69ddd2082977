/* proxyctl, the operator's command: "pki" makes the certificates proxyd's mTLS needs,
 * "status" asks a running daemon what it is doing. This file only picks the command. */
#include "config.h"
#include "proxyctl.h"
#include "status.h"

#include <getopt.h>
#include <jansson.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

void ctl_usage(FILE *out)
{
	fprintf(out,
		"usage: proxyctl pki init [--dir DIR] [--days N] [--name CN] [--force]\n"
		"       proxyctl pki issue (--server NAME [--san LIST] | --agent ID)\n"
		"                          [--dir DIR] [--days N] [--expired] [--force]\n"
		"       proxyctl status [--json] [-s SOCKET]\n"
		"       proxyctl ping AGENT [-c COUNT] [--via best|relay|direct] [--json] [-s SOCKET]\n"
		"       proxyctl metrics [-s SOCKET]\n"
		"       proxyctl -V | --help\n"
		"\n"
		"pki init     create DIR (default ./pki, mode 0700) with a self-signed ECDSA\n"
		"             P-256 CA: ca.crt and ca.key. --days defaults to 3650, --name (the\n"
		"             CA's CN) to \"proxyd CA\". An existing CA is kept unless --force.\n"
		"pki issue    a key (NAME.key, mode 0600, PKCS#8) and certificate (NAME.crt) signed\n"
		"             by the CA in DIR: --server NAME for serverAuth, SAN DNS:NAME (and\n"
		"             IP:NAME for an address) plus --san DNS:x,IP:y,...; --agent ID for\n"
		"             clientAuth, ID being 1..64 of A-Z a-z 0-9 . _ -. --days defaults to\n"
		"             825; --expired makes one that expired yesterday (for tests).\n"
		"status       the daemon's sessions and listeners, from its admin socket:\n"
		"             -s, --socket PATH, else $PROXYD_ADMIN_SOCKET, else\n"
		"             " STATUS_SOCKET_DEFAULT ". --json prints the daemon's JSON reply.\n"
		"ping         ask the agent behind the socket for the round-trip time to another\n"
		"             agent, over the path its connections use now (direct or relay);\n"
		"             COUNT pings, default 3; --via relay or direct insists on one path.\n"
		"metrics      counters in the Prometheus text format (direct-path attempts and\n"
		"             failures by step, connections per path, relay streams).\n"
		"\n"
		"Exit status: 0 done, 1 failed, 2 bad command line.\n");
}

static int print_version(void)
{
	printf("proxyctl %s\n", PACKAGE_VERSION);
	printf("%s\n", OpenSSL_version(OPENSSL_VERSION));
	printf("jansson %s\n", jansson_version_str());
	return 0;
}

/* getopt names the program by argv[0] in its messages; make that the whole command. */
static int run(int (*cmd)(int, char **), const char *label, int argc, char **argv)
{
	char name[32];
	snprintf(name, sizeof name, "%s", label);
	argv[0] = name;
	return cmd(argc, argv);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"version", no_argument, NULL, 'V'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int opt;

	/* "+": stop at the command name; what follows is the command's own options. */
	while ((opt = getopt_long(argc, argv, "+Vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'V':
			return print_version();
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			ctl_usage(stderr);
			return CTL_EXIT_USAGE;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc >= 1 && strcmp(argv[0], "status") == 0)
		return run(cmd_status, "proxyctl status", argc, argv);
	if (argc >= 1 && strcmp(argv[0], "ping") == 0)
		return run(cmd_ping, "proxyctl ping", argc, argv);
	if (argc >= 1 && strcmp(argv[0], "metrics") == 0)
		return run(cmd_metrics, "proxyctl metrics", argc, argv);
	if (argc >= 2 && strcmp(argv[0], "pki") == 0 && strcmp(argv[1], "init") == 0)
		return run(cmd_pki_init, "proxyctl pki init", argc - 1, argv + 1);
	if (argc >= 2 && strcmp(argv[0], "pki") == 0 && strcmp(argv[1], "issue") == 0)
		return run(cmd_pki_issue, "proxyctl pki issue", argc - 1, argv + 1);

	if (argc == 0)
		fprintf(stderr, "proxyctl: no command given\n");
	else if (strcmp(argv[0], "pki") == 0)
		fprintf(stderr, "proxyctl: pki wants 'init' or 'issue'\n");
	else
		fprintf(stderr, "proxyctl: unknown command '%s'\n", argv[0]);
	ctl_usage(stderr);
	return CTL_EXIT_USAGE;
}
