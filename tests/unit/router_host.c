/* The router test host (see router_host.h). */
#include "config.h"
#include "router_host.h"

#include <assert.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static char last_log[1024];

static void rt_vlog(proxyd_plugin *self, int level, uint64_t conn_id, const char *fmt, va_list ap)
	PROXYD_PRINTF(4, 0);
static void rt_vlog(proxyd_plugin *self, int level, uint64_t conn_id, const char *fmt, va_list ap)
{
	vsnprintf(last_log, sizeof last_log, fmt, ap);
}

static void rt_log(proxyd_plugin *self, int level, uint64_t conn_id, const char *fmt, ...)
	PROXYD_PRINTF(4, 5);
static void rt_log(proxyd_plugin *self, int level, uint64_t conn_id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	rt_vlog(self, level, conn_id, fmt, ap);
	va_end(ap);
}

static uint64_t rt_next_conn_id(void)
{
	static uint64_t id;
	return ++id;
}

static const struct proxyd_host host = {
	.size = sizeof(struct proxyd_host),
	.abi_major = PROXYD_ABI_MAJOR,
	.abi_minor = PROXYD_ABI_MINOR,
	.log = rt_log,
	.vlog = rt_vlog,
	.next_conn_id = rt_next_conn_id,
	.cfg_string = cfg_get_string,
	.cfg_int = cfg_get_int,
	.cfg_bool = cfg_get_bool,
	.cfg_child = cfg_get_child,
	.cfg_count = cfg_count,
	.cfg_elem = cfg_elem,
	.cfg_elem_string = cfg_elem_string,
	.cfg_error = cfg_error,
	.cfg_path = cfg_path,
	.req_field = http_request_field,
	.req_header = http_request_header,
	.cfg_elem_int = cfg_elem_int,
};

const struct proxyd_host *rt_host(void)
{
	return &host;
}

const char *rt_log_last(void)
{
	return last_log;
}

void rt_log_clear(void)
{
	last_log[0] = '\0';
}

const struct proxyd_router_ops *rt_ops(void)
{
	assert(proxyd_plugin_descriptor.kind == PROXYD_KIND_ROUTER);
	return proxyd_plugin_descriptor.ops;
}

void *rt_plugin_state(void)
{
	static int done;
	static void *state;
	if (!done) {
		int rc = proxyd_plugin_descriptor.init(&host, (proxyd_plugin *)&done, &state);
		assert(rc == 0);
		done = 1;
	}
	return state;
}

const proxyd_cfg *rt_entry(struct cfg_file *f, const char *text)
{
	if (cfg_file_load_string(f, "t.conf", text) != 0)
		return NULL;
	return cfg_get_child(cfg_root(f), "route");
}

int rt_new(struct cfg_file *f, const char *text, void **route_state)
{
	const proxyd_cfg *e = rt_entry(f, text);
	assert(e != NULL);
	*route_state = NULL;
	return rt_ops()->route_new(rt_plugin_state(), e, route_state);
}

int rt_request(struct rt_request *r, const char *head_text)
{
	size_t n = 0;
	for (const char *p = head_text; *p; p++) {
		if (n + 2 >= sizeof r->buf)
			return -EMSGSIZE;
		if (*p == '\n')
			r->buf[n++] = '\r';
		r->buf[n++] = *p;
	}
	const char *err = NULL;
	int rc = http_parse_request_head((const uint8_t *)r->buf, n, NULL, &r->head, &err);
	if (rc < 0)
		return rc;
	return http_request_init(&r->req, &r->head, "192.0.2.1:50000", "http", NULL);
}

void rt_result_init(struct rt_result *r)
{
	memset(r, 0, sizeof *r);
	r->out.size = sizeof r->out;
	r->out.agent = r->agent;
	r->out.agent_len = sizeof r->agent;
	r->out.service = r->service;
	r->out.service_len = sizeof r->service;
	r->out.address = r->address;
	r->out.address_len = sizeof r->address;
	r->out.path = r->path;
	r->out.path_len = sizeof r->path;
	r->out.add_headers = r->add_headers;
	r->out.add_headers_len = sizeof r->add_headers;
	r->out.host = r->host;
	r->out.host_len = sizeof r->host;
	r->out.response_headers = r->response_headers;
	r->out.response_headers_len = sizeof r->response_headers;
	r->out.message = r->message;
	r->out.message_len = sizeof r->message;
}

int rt_route(void *route_state, const char *head_text, struct rt_result *res)
{
	static struct rt_request req; /* big: keep it off the stack */
	rt_result_init(res);
	int rc = rt_request(&req, head_text);
	assert(rc == 0);
	return rt_ops()->route(route_state, &req.req, &res->out);
}

/* cmocka's fail_msg is all a fixture needs of it; its header wants these first. */
#include <setjmp.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

struct rt_fixture *rt_fixture_setup(void **state, const char *conf)
{
	static struct rt_fixture fx;
	memset(&fx, 0, sizeof fx);
	int rc = rt_new(&fx.f, conf, &fx.route);
	if (rc != 0)
		fail_msg("route_new: %d (%s)", rc, fx.f.n_errors ? fx.f.errors[0] : "no error");
	*state = &fx;
	return &fx;
}

int rt_fixture_teardown(void **state)
{
	struct rt_fixture *fx = *state;
	if (fx) {
		if (fx->route)
			rt_ops()->route_free(fx->route);
		cfg_file_fini(&fx->f);
	}
	return 0;
}
