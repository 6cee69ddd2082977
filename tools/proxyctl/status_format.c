/* The status reply as an operator reads it: a header line, a table of sessions, a table of
 * listeners. Columns are as wide as their widest cell, so each row is formatted twice:
 * once to measure, once to print. */
#include "config.h"
#include "status.h"

#include <stdio.h>
#include <string.h>

#define CELL 128
#define MAX_COLS 9

typedef void (*row_fn)(const json_t *item, char cells[][CELL]);

/* "?" for a field the daemon did not send, "-" for one it sent as null (not known yet). */
static const char *missing(const json_t *v)
{
	return json_is_null(v) ? "-" : "?";
}

static void fmt_str(char *out, const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);
	snprintf(out, CELL, "%s", json_is_string(v) ? json_string_value(v) : missing(v));
}

static void fmt_duration(char *out, const json_t *v)
{
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(out, CELL, "%s", missing(v));
		return;
	}
	long long s = json_integer_value(v);
	if (s < 60)
		snprintf(out, CELL, "%llds", s);
	else if (s < 3600)
		snprintf(out, CELL, "%lldm%02llds", s / 60, s % 60);
	else if (s < 86400)
		snprintf(out, CELL, "%lldh%02lldm", s / 3600, s % 3600 / 60);
	else
		snprintf(out, CELL, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

static void fmt_bytes(char *out, const json_t *v)
{
	static const char *const units[] = {"KiB", "MiB", "GiB", "TiB", "PiB"};
	if (!json_is_integer(v) || json_integer_value(v) < 0) {
		snprintf(out, CELL, "%s", missing(v));
		return;
	}
	long long b = json_integer_value(v);
	if (b < 1024) {
		snprintf(out, CELL, "%lldB", b);
		return;
	}
	double x = (double)b / 1024;
	int u = 0;
	while (x >= 1024 && u < (int)(sizeof units / sizeof units[0]) - 1) {
		x /= 1024;
		u++;
	}
	snprintf(out, CELL, "%.1f%s", x, units[u]);
}

static void fmt_int(char *out, const json_t *v)
{
	if (json_is_integer(v))
		snprintf(out, CELL, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
	else
		snprintf(out, CELL, "%s", missing(v));
}

/* "web*,ssh": the default service (where a bare connection goes) carries the star. */
static void fmt_services(char *out, const json_t *list)
{
	size_t pos = 0, i;
	const json_t *svc;

	snprintf(out, CELL, "%s", json_array_size(list) ? "" : "-");
	json_array_foreach(list, i, svc) {
		const json_t *name = json_object_get(svc, "name");
		int n = snprintf(out + pos, CELL - pos, "%s%s%s", i ? "," : "",
				 json_is_string(name) ? json_string_value(name) : "?",
				 json_is_true(json_object_get(svc, "default")) ? "*" : "");
		if (n < 0 || (size_t)n >= CELL - pos) {
			snprintf(out + (CELL - 4), 4, "...");
			return;
		}
		pos += (size_t)n;
	}
}

static const char *const session_head[] = {"PEER", "ADDRESS", "TRANSPORT", "RTT", "AGE",
					   "STREAMS", "IN", "OUT", "SERVICES"};

static void session_row(const json_t *s, char cells[][CELL])
{
	const json_t *rtt = json_object_get(s, "rtt_ms");
	char open[CELL], total[CELL];

	fmt_str(cells[0], s, "peer");
	fmt_str(cells[1], s, "address");
	fmt_str(cells[2], s, "transport");
	if (json_is_number(rtt))
		snprintf(cells[3], CELL, "%.2fms", json_number_value(rtt));
	else
		snprintf(cells[3], CELL, "%s", missing(rtt));
	fmt_duration(cells[4], json_object_get(s, "age_s"));
	fmt_int(open, json_object_get(s, "streams_open"));
	fmt_int(total, json_object_get(s, "streams_total"));
	snprintf(cells[5], CELL, "%.60s/%.60s", open, total);
	fmt_bytes(cells[6], json_object_get(s, "bytes_in"));
	fmt_bytes(cells[7], json_object_get(s, "bytes_out"));
	fmt_services(cells[8], json_object_get(s, "services"));
}

static const char *const listener_head[] = {"KIND", "ADDRESS", "TO"};

static void listener_row(const json_t *l, char cells[][CELL])
{
	const json_t *kind = json_object_get(l, "kind");
	const json_t *agent = json_object_get(l, "agent");
	const json_t *service = json_object_get(l, "service");

	fmt_str(cells[1], l, "address");
	if (json_is_string(kind) && strcmp(json_string_value(kind), "transport") == 0) {
		char transport[CELL];
		fmt_str(transport, l, "transport");
		snprintf(cells[0], CELL, "transport/%.100s", transport);
		snprintf(cells[2], CELL, "(agents connect here)");
		return;
	}
	fmt_str(cells[0], l, "kind");
	const json_t *resp = json_object_get(l, "responses");
	if (json_is_object(resp)) {
		/* The HTTP edge: routed per request, so its counters instead of a target. */
		char c[4][CELL], conns[CELL];
		const char *cls[] = {"2xx", "3xx", "4xx", "5xx"};
		for (int i = 0; i < 4; i++)
			fmt_int(c[i], json_object_get(resp, cls[i]));
		fmt_int(conns, json_object_get(l, "connections"));
		snprintf(cells[2], CELL, "%.12s conn, 2xx %.12s 3xx %.12s 4xx %.12s 5xx %.12s", conns,
			 c[0], c[1], c[2], c[3]);
		return;
	}
	if (!json_is_string(agent))
		snprintf(cells[2], CELL, "-");
	else if (json_is_string(service))
		snprintf(cells[2], CELL, "agent %s, service %s", json_string_value(agent),
			 json_string_value(service));
	else
		snprintf(cells[2], CELL, "agent %s, its default service", json_string_value(agent));
}

static const char *const provider_head[] = {"PROVIDER", "PROGRAM", "STATE", "PID", "RESTARTS",
					    "URL"};

static void provider_row(const json_t *p, char cells[][CELL])
{
	const json_t *pid = json_object_get(p, "pid");

	fmt_str(cells[0], p, "name");
	fmt_str(cells[1], p, "program");
	fmt_str(cells[2], p, "state");
	if (json_is_integer(pid) && json_integer_value(pid) == 0)
		snprintf(cells[3], CELL, "-");
	else
		fmt_int(cells[3], pid);
	fmt_int(cells[4], json_object_get(p, "restarts"));
	fmt_str(cells[5], p, "url");
}

/* Agent to agent: the path to each other agent and how its last direct attempt went. */
static const char *const peer_head[] = {"AGENT", "PATH", "RTT", "DIRECT OK", "FAILED", "LOST",
					"LAST ATTEMPT"};

static void peer_row(const json_t *p, char cells[][CELL])
{
	const json_t *direct = json_object_get(p, "direct");
	const json_t *attempts = json_object_get(p, "attempts");
	size_t n = json_array_size(attempts);

	fmt_str(cells[0], p, "agent");
	fmt_str(cells[1], p, "path");
	if (direct)
		snprintf(cells[2], CELL, "%.2f ms", json_number_value(json_object_get(direct, "rtt_ms")));
	else
		snprintf(cells[2], CELL, "-");
	fmt_int(cells[3], json_object_get(p, "ok"));
	fmt_int(cells[4], json_object_get(p, "failed"));
	fmt_int(cells[5], json_object_get(p, "lost"));
	if (n == 0) {
		snprintf(cells[6], CELL, "%s",
			 json_is_true(json_object_get(p, "attempting")) ? "under way" : "none");
		return;
	}
	const json_t *last = json_array_get(attempts, n - 1);
	const char *step = json_string_value(json_object_get(last, "step"));
	const char *reason = json_string_value(json_object_get(last, "reason"));
	long long ms = json_integer_value(json_object_get(last, "ms"));
	if (json_is_true(json_object_get(last, "ok")))
		snprintf(cells[6], CELL, "direct in %lld ms", ms);
	else
		snprintf(cells[6], CELL, "failed at %s after %lld ms: %s", step ? step : "?", ms,
			 reason ? reason : "");
}

static void print_table(FILE *out, const char *title, const json_t *list,
			const char *const *head, int cols, row_fn row)
{
	char cells[MAX_COLS][CELL];
	int width[MAX_COLS];
	size_t i;
	const json_t *item;

	if (!json_is_array(list) || json_array_size(list) == 0) {
		fprintf(out, "%s: %s\n", title, json_is_array(list) ? "none" : missing(list));
		return;
	}
	for (int c = 0; c < cols; c++)
		width[c] = (int)strlen(head[c]);
	json_array_foreach(list, i, item) {
		row(item, cells);
		for (int c = 0; c < cols; c++)
			if ((int)strlen(cells[c]) > width[c])
				width[c] = (int)strlen(cells[c]);
	}
	/* Two spaces before each column; the last one unpadded, so no trailing blanks. */
	fprintf(out, "%s (%zu):\n", title, json_array_size(list));
	for (int c = 0; c < cols; c++)
		fprintf(out, "  %-*s", c == cols - 1 ? 0 : width[c], head[c]);
	fputc('\n', out);
	json_array_foreach(list, i, item) {
		row(item, cells);
		for (int c = 0; c < cols; c++)
			fprintf(out, "  %-*s", c == cols - 1 ? 0 : width[c], cells[c]);
		fputc('\n', out);
	}
}

void status_print_human(const json_t *root, FILE *out)
{
	char version[CELL], role[CELL], pid[CELL], up[CELL];

	fmt_str(version, root, "version");
	fmt_str(role, root, "role");
	fmt_int(pid, json_object_get(root, "pid"));
	fmt_duration(up, json_object_get(root, "uptime_s"));
	fprintf(out, "proxyd %s %s, pid %s, up %s\n", version, role, pid, up);

	const json_t *sessions = json_object_get(root, "sessions");
	print_table(out, "sessions", sessions, session_head, 9, session_row);
	size_t i;
	const json_t *s, *svc;
	int any_default = 0;
	json_array_foreach(sessions, i, s) {
		size_t j;
		json_array_foreach(json_object_get(s, "services"), j, svc)
			any_default |= json_is_true(json_object_get(svc, "default"));
	}
	if (any_default)
		fprintf(out, "  (* the agent's default service)\n");
	print_table(out, "listeners", json_object_get(root, "listeners"), listener_head, 3,
		    listener_row);
	/* A daemon older than providers sends no such key: say nothing rather than "?". */
	const json_t *providers = json_object_get(root, "providers");
	if (providers)
		print_table(out, "providers", providers, provider_head, 6, provider_row);
	const json_t *peers = json_object_get(root, "peers");
	if (json_array_size(peers))
		print_table(out, "peers", peers, peer_head, 7, peer_row);
}
