/* proxyctl ping AGENT and proxyctl metrics: one request line on the admin socket each.
 * Ping asks an agent to send PINGs to another agent over the path its connections use now
 * (the direct path when one is up, else the relay) and prints the round-trip times. */
#include "config.h"
#include "proxyctl.h"
#include "status.h"

#include <getopt.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *socket_path(void)
{
	const char *path = getenv("PROXYD_ADMIN_SOCKET");
	return path && *path ? path : STATUS_SOCKET_DEFAULT;
}

int cmd_ping(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"count", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"socket", required_argument, NULL, 's'},
		{"via", required_argument, NULL, 'v'},
		{NULL, 0, NULL, 0},
	};
	const char *path = socket_path(), *via = "best";
	int count = 3, json = 0, opt;
	optind = 0;
	while ((opt = getopt_long(argc, argv, "+c:js:", longopts, NULL)) != -1) {
		switch (opt) {
		case 'v':
			if (strcmp(optarg, "best") != 0 && strcmp(optarg, "relay") != 0 &&
			    strcmp(optarg, "direct") != 0) {
				fprintf(stderr, "proxyctl: ping: --via wants best, relay or direct\n");
				return CTL_EXIT_USAGE;
			}
			via = optarg;
			break;
		case 'c':
			count = atoi(optarg);
			if (count < 1 || count > 64) {
				fprintf(stderr, "proxyctl: ping: -c wants 1..64\n");
				return CTL_EXIT_USAGE;
			}
			break;
		case 'j':
			json = 1;
			break;
		case 's':
			path = optarg;
			break;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		fprintf(stderr, "proxyctl: ping: expected one agent id\n");
		return CTL_EXIT_USAGE;
	}
	const char *agent = argv[optind];
	if (strlen(agent) > 64 || strpbrk(agent, " \t\r\n")) {
		fprintf(stderr, "proxyctl: ping: '%s' is not an agent id\n", agent);
		return CTL_EXIT_USAGE;
	}
	char request[128];
	snprintf(request, sizeof request, "ping %s %d %s\n", agent, count, via);
	char *reply = NULL;
	size_t len = 0;
	if (admin_request(path, request, &reply, &len) != 0)
		return CTL_EXIT_FAIL;
	json_error_t jerr;
	json_t *root = json_loadb(reply, len, 0, &jerr);
	int code = CTL_EXIT_FAIL;
	if (!root || !json_is_object(root)) {
		fprintf(stderr, "proxyctl: %s: the reply is not a JSON object\n", path);
		goto out;
	}
	const char *error = json_string_value(json_object_get(root, "error"));
	if (json) {
		fwrite(reply, 1, len, stdout);
	} else {
		const json_t *rtts = json_object_get(root, "rtt_ms");
		const char *path_used = json_string_value(json_object_get(root, "path"));
		size_t i;
		json_t *v;
		json_array_foreach(rtts, i, v)
			printf("%s via %s: seq=%zu rtt=%.3f ms\n", agent,
			       path_used ? path_used : "?", i + 1,
			       json_number_value(v));
		if (json_array_size(rtts))
			printf("%s: %lld/%lld answered, rtt min/avg/max %.3f/%.3f/%.3f ms (%s)\n", agent,
			       json_integer_value(json_object_get(root, "received")),
			       json_integer_value(json_object_get(root, "sent")),
			       json_number_value(json_object_get(root, "min_ms")),
			       json_number_value(json_object_get(root, "avg_ms")),
			       json_number_value(json_object_get(root, "max_ms")),
			       path_used ? path_used : "?");
	}
	if (error)
		fprintf(stderr, "proxyctl: ping %s: %s\n", agent, error);
	code = error ? CTL_EXIT_FAIL : 0;
out:
	json_decref(root);
	free(reply);
	return code;
}

int cmd_metrics(int argc, char **argv)
{
	const char *path = socket_path();
	int opt;
	optind = 0;
	while ((opt = getopt(argc, argv, "+s:")) != -1) {
		if (opt != 's')
			return CTL_EXIT_USAGE;
		path = optarg;
	}
	char *reply = NULL;
	size_t len = 0;
	if (admin_request(path, "metrics\n", &reply, &len) != 0)
		return CTL_EXIT_FAIL;
	fwrite(reply, 1, len, stdout);
	free(reply);
	return 0;
}
