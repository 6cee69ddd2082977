/* router-path as the HTTP edge will call it: its own route_new/route over entries read by the
 * core's configuration reader and request heads parsed by the core's head parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "router_host.h"

static int route(struct rt_fixture *fx, const char *head)
{
	return rt_route(fx->route, head, &fx->res);
}

#define DEFAULTS "route = { router = \"path\"; };"

static void agent_and_rest(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, DEFAULTS);
	assert_int_equal(route(fx, "GET /proxy/a1/x?y=1 HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a1");
	assert_string_equal(fx->res.service, "");
	assert_string_equal(fx->res.path, "/x?y=1");
	assert_string_equal(fx->res.address, "");
	assert_string_equal(fx->res.host, "");
	assert_string_equal(fx->res.add_headers, "");
	assert_string_equal(fx->res.response_headers,
			    "Set-Cookie: proxyd_agent=a1; Path=/; HttpOnly; SameSite=Lax\r\n");

	assert_int_equal(route(fx, "GET /proxy/a1/ HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.path, "/");
	assert_int_equal(route(fx, "POST /proxy/a.b_c-d/deep/er/path.js HTTP/1.1\nHost: h\n"
				   "Content-Length: 0\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a.b_c-d");
	assert_string_equal(fx->res.path, "/deep/er/path.js");
	/* an empty query is kept as sent */
	assert_int_equal(route(fx, "GET /proxy/a1/x? HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.path, "/x?");
	/* the query is not looked into */
	assert_int_equal(route(fx, "GET /proxy/a1/x?next=/proxy/a2/ HTTP/1.1\nHost: h\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a1");
	assert_string_equal(fx->res.path, "/x?next=/proxy/a2/");
}

static void agent_and_service(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, DEFAULTS);
	assert_int_equal(route(fx, "GET /proxy/agent-1:api/v1 HTTP/1.1\nHost: h\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "agent-1");
	assert_string_equal(fx->res.service, "api");
	assert_string_equal(fx->res.path, "/v1");
	assert_string_equal(fx->res.response_headers,
			    "Set-Cookie: proxyd_agent=agent-1:api; Path=/; HttpOnly; SameSite=Lax\r\n");
	assert_int_equal(route(fx, "GET /proxy/agent-1:3000/ HTTP/1.1\nHost: h\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.service, "3000");
}

static void redirect_to_trailing_slash(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, DEFAULTS);
	assert_int_equal(route(fx, "GET /proxy/a1 HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_REJECT);
	assert_int_equal(fx->res.out.status, 308);
	assert_string_equal(fx->res.add_headers, "Location: /proxy/a1/\r\n");
	assert_string_equal(fx->res.agent, "");
	assert_string_equal(fx->res.response_headers, "");
	assert_int_equal(route(fx, "GET /proxy/a1:web?x=1&y=%20 HTTP/1.1\nHost: h\n\n"),
			 PROXYD_ROUTE_REJECT);
	assert_int_equal(fx->res.out.status, 308);
	assert_string_equal(fx->res.add_headers, "Location: /proxy/a1:web/?x=1&y=%20\r\n");
	/* absolute-form: the Location is the path alone */
	assert_int_equal(route(fx, "GET http://h/proxy/a1 HTTP/1.1\nHost: h\n\n"),
			 PROXYD_ROUTE_REJECT);
	assert_string_equal(fx->res.add_headers, "Location: /proxy/a1/\r\n");
}

static void invalid_agents_are_400(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, DEFAULTS);
	static const char *const heads[] = {
		"GET /proxy/ HTTP/1.1\nHost: h\n\n",
		"GET /proxy//x HTTP/1.1\nHost: h\n\n",
		"GET /proxy/a%201/x HTTP/1.1\nHost: h\n\n",
		"GET /proxy/a1:/x HTTP/1.1\nHost: h\n\n",
		"GET /proxy/a1:b:c/x HTTP/1.1\nHost: h\n\n",
		"GET /proxy/:web/x HTTP/1.1\nHost: h\n\n",
		"GET /proxy/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/ HTTP/1.1\n"
		"Host: h\n\n",
		"GET /proxy/a!/ HTTP/1.1\nHost: h\n\n",
	};
	for (size_t i = 0; i < sizeof heads / sizeof heads[0]; i++) {
		if (route(fx, heads[i]) != PROXYD_ROUTE_REJECT || fx->res.out.status != 400)
			fail_msg("not a 400: %s", heads[i]);
		assert_true(strlen(fx->res.message) > 0);
		assert_string_equal(fx->res.agent, "");
		assert_string_equal(fx->res.response_headers, "");
	}
	/* 64 characters is still an agent id */
	assert_int_equal(route(fx, "GET /proxy/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/ "
				   "HTTP/1.1\nHost: h\n\n"),
			 PROXYD_ROUTE_MATCH);
}

static void sticky_cookie(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, DEFAULTS);
	/* an absolute path the page asked for goes where the cookie says, path unchanged */
	assert_int_equal(route(fx, "GET /_next/static/x.js HTTP/1.1\nHost: h\n"
				   "Cookie: proxyd_agent=a1\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a1");
	assert_string_equal(fx->res.service, "");
	assert_string_equal(fx->res.path, "");
	assert_string_equal(fx->res.response_headers, "");

	assert_int_equal(route(fx, "GET /api?q=1 HTTP/1.1\nHost: h\n"
				   "Cookie: theme=dark; proxyd_agent=agent-1:api; sid=xyz\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "agent-1");
	assert_string_equal(fx->res.service, "api");
	assert_string_equal(fx->res.path, "");

	/* several Cookie lines, whitespace, quotes */
	assert_int_equal(route(fx, "GET / HTTP/1.1\nHost: h\nCookie: a=b\n"
				   "Cookie:  c=d ;  proxyd_agent = \"a2\"\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a2");

	/* an invalid value is passed over for a valid one, then for nothing */
	assert_int_equal(route(fx, "GET / HTTP/1.1\nHost: h\nCookie: proxyd_agent=bad value\n"
				   "Cookie: proxyd_agent=a3\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a3");
	assert_int_equal(route(fx, "GET / HTTP/1.1\nHost: h\nCookie: proxyd_agent=a:b:c\n\n"),
			 PROXYD_ROUTE_NEXT);
	assert_int_equal(route(fx, "GET / HTTP/1.1\nHost: h\nCookie: proxyd_agent=\n\n"),
			 PROXYD_ROUTE_NEXT);
	assert_int_equal(route(fx, "GET / HTTP/1.1\nHost: h\nCookie: other=a1\n\n"),
			 PROXYD_ROUTE_NEXT);
	assert_int_equal(route(fx, "GET / HTTP/1.1\nHost: h\nCookie: Proxyd_Agent=a1\n\n"),
			 PROXYD_ROUTE_NEXT);
	assert_int_equal(route(fx, "GET / HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_NEXT);
	/* the path under the prefix wins over the cookie */
	assert_int_equal(route(fx, "GET /proxy/a9/ HTTP/1.1\nHost: h\nCookie: proxyd_agent=a1\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a9");
	/* "/proxy" without the slash is not under the prefix */
	assert_int_equal(route(fx, "GET /proxy HTTP/1.1\nHost: h\nCookie: proxyd_agent=a1\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a1");
	assert_string_equal(fx->res.path, "");
}

static void cookie_off(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, "route = { router = \"path\"; cookie = \"\"; };");
	assert_int_equal(route(fx, "GET /proxy/a1/x HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.response_headers, "");
	assert_int_equal(route(fx, "GET /x HTTP/1.1\nHost: h\nCookie: proxyd_agent=a1\n\n"),
			 PROXYD_ROUTE_NEXT);
}

static void custom_keys(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, "route = {\n  router = \"path\";\n  prefix = \"/to/\";\n"
					  "  cookie = \"sticky\";\n  default_service = \"web\";\n};");
	assert_int_equal(route(fx, "GET /to/a1/x HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a1");
	assert_string_equal(fx->res.service, "web");
	assert_string_equal(fx->res.path, "/x");
	/* the cookie records what the path named, so default_service still applies later */
	assert_string_equal(fx->res.response_headers,
			    "Set-Cookie: sticky=a1; Path=/; HttpOnly; SameSite=Lax\r\n");
	assert_int_equal(route(fx, "GET /to/a1:api/x HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.service, "api");
	assert_int_equal(route(fx, "GET /proxy/a1/x HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_NEXT);
	assert_int_equal(route(fx, "GET /x HTTP/1.1\nHost: h\nCookie: proxyd_agent=a1\n\n"),
			 PROXYD_ROUTE_NEXT);
	assert_int_equal(route(fx, "GET /x HTTP/1.1\nHost: h\nCookie: sticky=a1\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.service, "web");
}

static void root_prefix(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, "route = { router = \"path\"; prefix = \"/\"; };");
	assert_int_equal(route(fx, "GET /a1/index.html HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a1");
	assert_string_equal(fx->res.path, "/index.html");
	assert_int_equal(route(fx, "GET / HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_REJECT);
	assert_int_equal(fx->res.out.status, 400);
}

static void default_agent(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, "route = { router = \"path\"; default_agent = \"home\"; "
					  "default_service = \"web\"; };");
	assert_int_equal(route(fx, "GET /index.html?a=b HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "home");
	assert_string_equal(fx->res.service, "web");
	assert_string_equal(fx->res.path, "");
	/* the cookie comes before the default */
	assert_int_equal(route(fx, "GET / HTTP/1.1\nHost: h\nCookie: proxyd_agent=a1:x\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a1");
	assert_string_equal(fx->res.service, "x");
	/* OPTIONS * has no path: the default still applies */
	assert_int_equal(route(fx, "OPTIONS * HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "home");
}

static void absolute_form(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, DEFAULTS);
	assert_int_equal(route(fx, "GET http://h:8080/proxy/a1/x?y=1 HTTP/1.1\nHost: h:8080\n\n"),
			 PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a1");
	assert_string_equal(fx->res.path, "/x?y=1");
	assert_int_equal(route(fx, "GET http://h/ HTTP/1.1\nHost: h\n\n"), PROXYD_ROUTE_NEXT);
}

static void small_buffers(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, DEFAULTS);
	static struct rt_request req;
	assert_int_equal(rt_request(&req, "GET /proxy/a1/0123456789?q=1 HTTP/1.1\nHost: h\n\n"), 0);
	/* a rewritten path that does not fit: 414 */
	rt_result_init(&fx->res);
	fx->res.out.path_len = 10;
	assert_int_equal(rt_ops()->route(fx->route, &req.req, &fx->res.out), PROXYD_ROUTE_REJECT);
	assert_int_equal(fx->res.out.status, 414);
	/* exactly fitting */
	rt_result_init(&fx->res);
	fx->res.out.path_len = strlen("/0123456789?q=1") + 1;
	assert_int_equal(rt_ops()->route(fx->route, &req.req, &fx->res.out), PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.path, "/0123456789?q=1");
	/* an ABI 1.0 result (no response_headers, no message): still routed, nothing written past
	 * its end */
	rt_result_init(&fx->res);
	fx->res.out.size = offsetof(struct proxyd_route_result, host);
	assert_int_equal(rt_ops()->route(fx->route, &req.req, &fx->res.out), PROXYD_ROUTE_MATCH);
	assert_string_equal(fx->res.agent, "a1");
	assert_string_equal(fx->res.response_headers, "");
	assert_int_equal(rt_request(&req, "GET /proxy/a!/ HTTP/1.1\nHost: h\n\n"), 0);
	assert_int_equal(rt_ops()->route(fx->route, &req.req, &fx->res.out), PROXYD_ROUTE_REJECT);
	assert_int_equal(fx->res.out.status, 400);
	assert_string_equal(fx->res.message, "");
}

/* route_new reads its own keys only: the core's three stay unread (the core reads them). */
static void leaves_core_keys_alone(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, "route = { router = \"path\"; host_rewrite = \"x\"; "
					  "basic_auth = \"u:p\"; prefix = \"/p/\"; cookie = \"c\"; "
					  "default_agent = \"a\"; default_service = \"s\"; };");
	cfg_report_unknown(&fx->f);
	assert_int_equal(fx->f.n_errors, 3);
	assert_non_null(strstr(fx->f.errors[0], "'route.router'"));
	assert_non_null(strstr(fx->f.errors[1], "'route.host_rewrite'"));
	assert_non_null(strstr(fx->f.errors[2], "'route.basic_auth'"));
}

static void config_errors(void **state)
{
	static const struct {
		const char *conf;
		const char *error;
	} cases[] = {
		{"route = {\n prefix = \"proxy/\"; };",
		 "t.conf:2: prefix \"proxy/\": expected a path that starts and ends with '/'"},
		{"route = {\n prefix = \"/proxy\"; };", "t.conf:2: prefix \"/proxy\": expected a path"},
		{"route = {\n prefix = \"/p?/\"; };", "t.conf:2: prefix \"/p?/\": only unescaped"},
		{"route = {\n prefix = 5; };", "t.conf:2: 'prefix': expected a string"},
		{"route = {\n\n default_agent = \"a b\"; };",
		 "t.conf:3: default_agent \"a b\": expected 1-64 of A-Z a-z 0-9 . _ -"},
		{"route = {\n default_agent = true; };", "t.conf:2: 'default_agent': expected a string"},
		{"route = {\n default_service = \"a:b\"; };",
		 "t.conf:2: default_service \"a:b\": expected 1-63 of"},
		{"route = {\n cookie = \"a=b\"; };", "t.conf:2: cookie \"a=b\": expected a cookie name"},
		{"route = {\n cookie = [\"x\"]; };", "t.conf:2: 'cookie': expected a string"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cfg_file f;
		void *r = NULL;
		assert_int_equal(rt_new(&f, cases[i].conf, &r), -EINVAL);
		assert_null(r);
		if (f.n_errors != 1 || !strstr(f.errors[0], cases[i].error))
			fail_msg("%s: expected \"%s\", got %d error(s): %s", cases[i].conf,
				 cases[i].error, f.n_errors, f.n_errors ? f.errors[0] : "");
		cfg_file_fini(&f);
	}
	/* every problem at once */
	struct cfg_file f;
	void *r = NULL;
	assert_int_equal(rt_new(&f, "route = {\n prefix = \"x\";\n default_agent = \"?\";\n"
				    " default_service = \" \";\n cookie = \";\"; };",
				&r),
			 -EINVAL);
	assert_int_equal(f.n_errors, 4);
	assert_non_null(strstr(f.errors[3], "t.conf:5: "));
	cfg_file_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(agent_and_rest, rt_fixture_teardown),
		cmocka_unit_test_teardown(agent_and_service, rt_fixture_teardown),
		cmocka_unit_test_teardown(redirect_to_trailing_slash, rt_fixture_teardown),
		cmocka_unit_test_teardown(invalid_agents_are_400, rt_fixture_teardown),
		cmocka_unit_test_teardown(sticky_cookie, rt_fixture_teardown),
		cmocka_unit_test_teardown(cookie_off, rt_fixture_teardown),
		cmocka_unit_test_teardown(custom_keys, rt_fixture_teardown),
		cmocka_unit_test_teardown(root_prefix, rt_fixture_teardown),
		cmocka_unit_test_teardown(default_agent, rt_fixture_teardown),
		cmocka_unit_test_teardown(absolute_form, rt_fixture_teardown),
		cmocka_unit_test_teardown(small_buffers, rt_fixture_teardown),
		cmocka_unit_test_teardown(leaves_core_keys_alone, rt_fixture_teardown),
		cmocka_unit_test(config_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
