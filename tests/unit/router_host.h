/* A host table for testing router plugins without the daemon: configuration access is the
 * core's cfg.c, the request view is the core's http_request.c over heads parsed by the
 * core's http_head.c, and log lines are kept for the test to look at. */
#ifndef PROXYD_TESTS_ROUTER_HOST_H
#define PROXYD_TESTS_ROUTER_HOST_H

#include <stddef.h>

#include "cfg.h"
#include "http_head.h"
#include "http_request.h"
#include "proxyd/plugin.h"

const struct proxyd_host *rt_host(void);
/* The last line a plugin logged ("" when none since rt_log_clear). */
const char *rt_log_last(void);
void rt_log_clear(void);

/* The plugin linked into the test (its descriptor) and its router ops. */
extern const struct proxyd_plugin_descriptor proxyd_plugin_descriptor;
const struct proxyd_router_ops *rt_ops(void);
/* init() the linked plugin once with rt_host(); returns its state. */
void *rt_plugin_state(void);

/* Parse text as a configuration whose key "route" is one http.routes entry; returns that
 * entry. f must be released with cfg_file_fini. */
const proxyd_cfg *rt_entry(struct cfg_file *f, const char *text);
/* route_new over text; returns its result and, on success, *route_state. */
int rt_new(struct cfg_file *f, const char *text, void **route_state);

/* A request head parsed by the core. The text is copied; "\n" in it becomes "\r\n". */
struct rt_request {
	char buf[8192];
	struct http_head head;
	struct proxyd_request req;
};
int rt_request(struct rt_request *r, const char *head_text);

/* Result buffers of the sizes the edge is expected to give. */
struct rt_result {
	struct proxyd_route_result out;
	char agent[65], service[64], address[256], path[8192], add_headers[2048], host[256],
		response_headers[2048], message[512];
};
void rt_result_init(struct rt_result *r);

/* route() over a head; the result is in res (initialized here). */
int rt_route(void *route_state, const char *head_text, struct rt_result *res);

/* One route instance for a cmocka test: made from conf text (the test fails when route_new
 * refuses it), kept in *state and freed by rt_fixture_teardown (a cmocka teardown). */
struct rt_fixture {
	struct cfg_file f;
	void *route;
	struct rt_result res;
	char head[512];
};
struct rt_fixture *rt_fixture_setup(void **state, const char *conf);
int rt_fixture_teardown(void **state);

#endif
