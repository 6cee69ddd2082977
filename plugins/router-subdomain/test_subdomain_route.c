/* router-subdomain as the HTTP edge will call it: its own route_new/route over entries read by
 * the core's configuration reader and request heads parsed by the core's head parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "router_host.h"

/* GET / with the given Host field. */
static int route(struct rt_fixture *fx, const char *host)
{
	snprintf(fx->head, sizeof fx->head, "GET /a/b?c=d HTTP/1.1\nHost: %s\n\n", host);
	return rt_route(fx->route, fx->head, &fx->res);
}

static void expect_match(struct rt_fixture *fx, const char *host, const char *agent,
			 const char *service)
{
	int v = route(fx, host);
	if (v != PROXYD_ROUTE_MATCH || strcmp(fx->res.agent, agent) != 0 ||
	    strcmp(fx->res.service, service) != 0)
		fail_msg("%s: expected MATCH %s/%s, got %d %s/%s (status %d)", host, agent, service, v,
			 fx->res.agent, fx->res.service, fx->res.out.status);
	/* the path, Host and headers are left to the core */
	assert_string_equal(fx->res.path, "");
	assert_string_equal(fx->res.host, "");
	assert_string_equal(fx->res.add_headers, "");
	assert_string_equal(fx->res.response_headers, "");
}

static void expect_reject(struct rt_fixture *fx, const char *host, int status, const char *message)
{
	int v = route(fx, host);
	if (v != PROXYD_ROUTE_REJECT || fx->res.out.status != status)
		fail_msg("%s: expected REJECT %d, got %d (status %d)", host, status, v,
			 fx->res.out.status);
	assert_non_null(strstr(fx->res.message, message));
	assert_string_equal(fx->res.agent, "");
}

static void expect_next(struct rt_fixture *fx, const char *host)
{
	int v = route(fx, host);
	if (v != PROXYD_ROUTE_NEXT)
		fail_msg("%s: expected NEXT, got %d (%s/%s, status %d)", host, v, fx->res.agent,
			 fx->res.service, fx->res.out.status);
}

static void names_and_ports(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, "route = { router = \"subdomain\"; "
					  "base_domain = \"example.com\"; };");
	expect_match(fx, "app.example.com", "app", "");
	expect_match(fx, "APP.Example.COM", "app", ""); /* the core lower-cases the host */
	expect_match(fx, "app.example.com:8443", "app", "");
	expect_match(fx, "app.example.com.", "app", "");
	expect_match(fx, "app-3000.example.com", "app", "3000");
	expect_match(fx, "agent-1-5173.example.com", "agent-1", "5173");
	expect_match(fx, "app-65535.example.com", "app", "65535");
	/* not a port: the whole label is the name */
	expect_match(fx, "app-0.example.com", "app-0", "");
	expect_match(fx, "app-65536.example.com", "app-65536", "");
	expect_match(fx, "app-03000.example.com", "app-03000", "");
	expect_match(fx, "a--3000.example.com", "a--3000", "");
	/* (an agent id ending in -<digits> reads as a port: see the overrides test) */
	expect_match(fx, "agent-1.example.com", "agent", "1");
}

static void rejects_and_next(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, "route = { router = \"subdomain\"; "
					  "base_domain = \"example.com\"; };");
	expect_reject(fx, "a.b.example.com", 404, "no such name");
	expect_reject(fx, "www.app.example.com", 404, "no such name");
	expect_reject(fx, "a_b.example.com", 400, "invalid name");
	expect_reject(fx, "-a.example.com", 400, "invalid name");
	expect_reject(fx, "a-.example.com", 400, "invalid name");
	expect_reject(fx,
		      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com",
		      400, "invalid name");
	expect_next(fx, "example.com");
	expect_next(fx, "example.com:80");
	expect_next(fx, "example.org");
	expect_next(fx, "app.example.org");
	expect_next(fx, "appexample.com");
	expect_next(fx, "127.0.0.1:8080");
	expect_next(fx, "[::1]:8080");
	/* HTTP/1.0 without Host */
	assert_int_equal(rt_route(fx->route, "GET / HTTP/1.0\n\n", &fx->res), PROXYD_ROUTE_NEXT);
}

static void several_bases_longest_wins(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, "route = { router = \"subdomain\";\n"
					  "  base_domains = [ \"Example.com\", \".dev.example.com\", "
					  "\"localhost.\" ];\n  default_service = \"web\"; };");
	expect_match(fx, "app.example.com", "app", "web");
	expect_match(fx, "app.dev.example.com", "app", "web");
	expect_match(fx, "app-8080.dev.example.com", "app", "8080");
	expect_match(fx, "app.localhost", "app", "web");
	/* dev.example.com is a base itself, not agent "dev" under example.com */
	expect_next(fx, "dev.example.com");
	expect_reject(fx, "a.b.dev.example.com", 404, "no such name");
	expect_next(fx, "localhost");
}

static void base_domain_and_list_together(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, "route = { router = \"subdomain\"; base_domain = \"a.test\";"
					  " base_domains = [ \"b.test\" ]; };");
	expect_match(fx, "x.a.test", "x", "");
	expect_match(fx, "y.b.test", "y", "");
	rt_fixture_teardown(state);
	/* a lone string for base_domains is a list of one */
	fx = rt_fixture_setup(state, "route = { router = \"subdomain\"; base_domains = \"c.test\"; };");
	expect_match(fx, "z.c.test", "z", "");
}

static void overrides(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(
		state, "route = { router = \"subdomain\"; base_domain = \"example.com\";\n"
		       "  default_service = \"main\";\n"
		       "  overrides = ( { name = \"www\"; agent = \"agent-1\"; service = \"web\"; },\n"
		       "                { name = \"agent-1\"; agent = \"agent-1\"; },\n"
		       "                { name = \"api-8080\"; agent = \"backend\"; service = \"api\"; },\n"
		       "                { name = \"db\"; agent = \"Store.01\"; service = \"\"; } ); };");
	expect_match(fx, "www.example.com", "agent-1", "web");
	/* without service: the route's default_service */
	expect_match(fx, "agent-1.example.com", "agent-1", "main");
	/* the full label wins over <name>-<port> */
	expect_match(fx, "api-8080.example.com", "backend", "api");
	expect_match(fx, "api-8081.example.com", "api", "8081");
	/* an override of the name renames the agent for its ports too */
	expect_match(fx, "www-3000.example.com", "agent-1", "3000");
	expect_match(fx, "agent-1-3000.example.com", "agent-1", "3000");
	/* agent ids may hold what labels cannot */
	expect_match(fx, "db.example.com", "Store.01", "main");
	/* names without an override */
	expect_match(fx, "other.example.com", "other", "main");
	expect_match(fx, "www2.example.com", "www2", "main");
}

static void small_buffers(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, "route = { router = \"subdomain\"; "
					  "base_domain = \"example.com\"; };");
	static struct rt_request req;
	assert_int_equal(rt_request(&req, "GET / HTTP/1.1\nHost: abcdefgh.example.com\n\n"), 0);
	rt_result_init(&fx->res);
	fx->res.out.agent_len = 8;
	assert_int_equal(rt_ops()->route(fx->route, &req.req, &fx->res.out), PROXYD_ROUTE_REJECT);
	assert_int_equal(fx->res.out.status, 500);
	assert_string_equal(fx->res.agent, "");
	/* an ABI 1.0 result: no message written */
	assert_int_equal(rt_request(&req, "GET / HTTP/1.1\nHost: a.b.example.com\n\n"), 0);
	rt_result_init(&fx->res);
	fx->res.out.size = offsetof(struct proxyd_route_result, host);
	assert_int_equal(rt_ops()->route(fx->route, &req.req, &fx->res.out), PROXYD_ROUTE_REJECT);
	assert_int_equal(fx->res.out.status, 404);
	assert_string_equal(fx->res.message, "");
}

static void leaves_core_keys_alone(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, "route = { router = \"subdomain\"; host_rewrite = \"x\"; "
					  "basic_auth = \"u:p\"; base_domain = \"a.test\"; "
					  "base_domains = [\"b.test\"]; default_service = \"s\"; "
					  "overrides = ( { name = \"n\"; agent = \"a\"; service = \"s\"; } ); };");
	cfg_report_unknown(&fx->f);
	assert_int_equal(fx->f.n_errors, 3);
	assert_non_null(strstr(fx->f.errors[0], "'route.router'"));
	assert_non_null(strstr(fx->f.errors[1], "'route.host_rewrite'"));
	assert_non_null(strstr(fx->f.errors[2], "'route.basic_auth'"));
}

static void unknown_override_key_is_reported(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(state, "route = { base_domain = \"a.test\";\n"
					  "  overrides = ( { name = \"n\"; agent = \"a\";\n"
					  "                  servce = \"s\"; } ); };");
	cfg_report_unknown(&fx->f);
	assert_int_equal(fx->f.n_errors, 1);
	if (!strstr(fx->f.errors[0], "t.conf:3: unknown key 'route.overrides[0].servce'"))
		fail_msg("got %s", fx->f.errors[0]);
}

static void config_errors(void **state)
{
	static const struct {
		const char *conf;
		const char *error;
	} cases[] = {
		{"route = {\n router = \"subdomain\"; };",
		 "t.conf:1: router subdomain: base_domain or base_domains is required"},
		{"route = {\n base_domain = \"exa mple.com\"; };",
		 "t.conf:2: base_domain \"exa mple.com\": each label must be"},
		{"route = {\n base_domain = \"\"; };", "t.conf:2: base_domain \"\": expected a domain"},
		{"route = {\n base_domain = \"-x.com\"; };", "t.conf:2: base_domain \"-x.com\""},
		{"route = {\n base_domain = 1; };", "t.conf:2: 'base_domain': expected a string"},
		{"route = {\n base_domains = [ ]; };",
		 "t.conf:2: base_domains: expected a non-empty list of strings"},
		{"route = {\n base_domains = 7; };",
		 "t.conf:2: base_domains: expected a non-empty list of strings"},
		{"route = {\n base_domains = [ 1 ]; };", "t.conf:2: base_domains[0]: expected a string"},
		{"route = {\n base_domains = ( \"a.com\",\n \"b..com\" ); };",
		 "t.conf:3: base_domains \"b..com\": each label"},
		{"route = {\n base_domains = [ \"a.com\", \"A.com.\" ]; };",
		 "t.conf:2: base_domains \"A.com.\": base domain given twice"},
		{"route = {\n base_domain = \"a.com\";\n default_service = \"a/b\"; };",
		 "t.conf:3: default_service \"a/b\": expected 1-63"},
		{"route = {\n base_domain = \"a.com\";\n overrides = (\n { name = \"Www\"; agent = \"a\"; } ); };",
		 "t.conf:4: overrides[0]: name \"Www\": expected a DNS label"},
		{"route = {\n base_domain = \"a.com\";\n overrides = (\n { name = \"w_w\"; agent = \"a\"; } ); };",
		 "t.conf:4: overrides[0]: name \"w_w\": expected a DNS label"},
		{"route = {\n base_domain = \"a.com\";\n overrides = ( { name = \"w\";\n agent = \"a b\"; } ); };",
		 "t.conf:4: overrides[0]: agent \"a b\": expected 1-64"},
		{"route = {\n base_domain = \"a.com\";\n overrides = ( { name = \"w\"; agent = \"a\";\n service = \"x:y\"; } ); };",
		 "t.conf:4: overrides[0]: service \"x:y\": expected 1-63"},
		{"route = {\n base_domain = \"a.com\";\n overrides = ( { name = \"w\"; agent = \"a\"; },\n { name = \"w\"; agent = \"b\"; } ); };",
		 "t.conf:4: overrides[1]: name \"w\" is given twice"},
		{"route = {\n base_domain = \"a.com\";\n overrides = (\n { agent = \"a\"; } ); };",
		 "t.conf:4: overrides[0]: expected a group { name = ...; agent = ...; }"},
		{"route = {\n base_domain = \"a.com\";\n overrides = (\n \"www\" ); };",
		 "t.conf:4: overrides[0]: expected a group"},
		{"route = {\n base_domain = \"a.com\";\n overrides = ( {\n name = 3; agent = \"a\"; } ); };",
		 "t.conf:4: 'name': expected a string"},
		{"route = {\n base_domain = \"a.com\";\n overrides = \"www\"; };",
		 "t.conf:3: overrides: expected a list"},
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
	assert_int_equal(rt_new(&f, "route = {\n base_domain = \"a..b\";\n default_service = \"?\";\n"
				    " overrides = ( { name = \"-\"; agent = \"a\"; } ); };",
				&r),
			 -EINVAL);
	assert_int_equal(f.n_errors, 3);
	cfg_file_fini(&f);
}

/* ---- direct mode: VMs on a local bridge (the VM-host proxy) ---- */

static void expect_direct(struct rt_fixture *fx, const char *host, const char *address)
{
	int v = route(fx, host);
	if (v != PROXYD_ROUTE_MATCH || strcmp(fx->res.address, address) != 0 || fx->res.agent[0])
		fail_msg("%s: expected MATCH %s, got %d address '%s' agent '%s' (status %d %s)", host,
			 address, v, fx->res.address, fx->res.agent, fx->res.out.status, fx->res.message);
	assert_string_equal(fx->res.path, "");
	assert_string_equal(fx->res.host, "");
}

static void direct_static_table(void **state)
{
	struct rt_fixture *fx = rt_fixture_setup(
		state, "route = { router = \"subdomain\"; base_domain = \"vm.test\";\n"
		       "  vms = ( { name = \"web1\"; address = \"172.30.0.2\"; ports = [ 3000 ]; },\n"
		       "          { name = \"db-1\"; address = \"FD00::5\"; } );\n"
		       "  default_port = 8081; ports = [ 8081, 9000 ]; };");
	expect_direct(fx, "web1.vm.test", "172.30.0.2:8081");
	expect_direct(fx, "web1-3000.vm.test", "172.30.0.2:3000");
	expect_direct(fx, "web1-9000.vm.test:443", "172.30.0.2:9000");
	expect_direct(fx, "db-1.vm.test", "[fd00::5]:8081"); /* the whole label is the VM */
	expect_direct(fx, "db-1-9000.vm.test", "[fd00::5]:9000");
	expect_reject(fx, "web1-22.vm.test", 403, "port 22 is not open on web1");
	expect_reject(fx, "db-1-3000.vm.test", 403, "port 3000 is not open on db-1");
	expect_reject(fx, "db-9000.vm.test", 404, "no VM named db");
	expect_reject(fx, "nosuch.vm.test", 404, "no VM named nosuch");
	expect_reject(fx, "a.web1.vm.test", 404, "no such name");
	expect_next(fx, "web1.other.test");
}

static void direct_default_ports(void **state)
{
	/* Without `ports`, the default port is the only one every VM has. */
	struct rt_fixture *fx = rt_fixture_setup(
		state, "route = { router = \"subdomain\"; base_domain = \"vm.test\";\n"
		       "  vms = ( { name = \"web1\"; address = \"172.30.0.2\"; } ); };");
	expect_direct(fx, "web1.vm.test", "172.30.0.2:8080");
	expect_direct(fx, "web1-8080.vm.test", "172.30.0.2:8080");
	expect_reject(fx, "web1-8081.vm.test", 403, "port 8081 is not open on web1");
	rt_fixture_teardown(state);
	/* agent_ports without an agent reporting (this host has no server): only declared ports,
	 * and with agent_ports on, `ports` defaults to none */
	fx = rt_fixture_setup(state, "route = { router = \"subdomain\"; base_domain = \"vm.test\";\n"
				     "  vms = ( { name = \"web1\"; address = \"172.30.0.2\"; ports = [ 3000 ]; } );\n"
				     "  agent_ports = true; };");
	expect_reject(fx, "web1.vm.test", 403, "port 8080 is not open on web1");
	expect_direct(fx, "web1-3000.vm.test", "172.30.0.2:3000");
}

static void direct_with_overrides(void **state)
{
	/* Overrides still name agents, for their ports too; every other name is a VM. */
	struct rt_fixture *fx = rt_fixture_setup(
		state, "route = { router = \"subdomain\"; base_domain = \"vm.test\";\n"
		       "  overrides = ( { name = \"www\"; agent = \"agent-1\"; service = \"web\"; } );\n"
		       "  vms = ( { name = \"web1\"; address = \"172.30.0.2\"; } ); };");
	expect_match(fx, "www.vm.test", "agent-1", "web");
	expect_match(fx, "www-3000.vm.test", "agent-1", "3000");
	expect_direct(fx, "web1.vm.test", "172.30.0.2:8080");
}

static void direct_config_errors(void **state)
{
	static const struct {
		const char *conf;
		const char *error;
	} cases[] = {
		{"route = { base_domain = \"a.test\";\n vms = (\n { name = \"Web_1\"; address = \"10.0.0.1\"; } ); };",
		 "t.conf:3: vms[0]: name \"Web_1\": expected a DNS label"},
		{"route = { base_domain = \"a.test\";\n vms = ( { name = \"w\";\n address = \"web1.local\"; } ); };",
		 "t.conf:3: vms[0]: address \"web1.local\": not an IP address"},
		{"route = { base_domain = \"a.test\";\n vms = ( { name = \"a\"; address = \"10.0.0.1\"; },\n { name = \"a\"; address = \"10.0.0.2\"; } ); };",
		 "t.conf:3: vms[1]: name \"a\" is given twice"},
		{"route = { base_domain = \"a.test\";\n vms = ( {\n address = \"10.0.0.1\"; } ); };",
		 "t.conf:2: vms[0]: expected a group { name = ...; address = ...; }"},
		{"route = { base_domain = \"a.test\";\n vms = \"web1\"; };", "t.conf:2: vms: expected a list"},
		{"route = { base_domain = \"a.test\";\n vms = ( { name = \"w\"; address = \"10.0.0.1\";\n ports = [ 0 ]; } ); };",
		 "t.conf:3: vms[0].ports[0]: expected a port number from 1 to 65535"},
		{"route = { base_domain = \"a.test\";\n resolve_cmd = [ ]; };",
		 "t.conf:2: resolve_cmd: expected a list of strings"},
		{"route = { base_domain = \"a.test\";\n resolve_cmd = [ \"\" ]; };",
		 "t.conf:2: resolve_cmd[0]: expected a non-empty string"},
		{"route = { base_domain = \"a.test\"; resolve_cmd = [ \"shed\" ];\n resolve_url = \"http://127.0.0.1/{name}\"; };",
		 "t.conf:2: resolve_cmd and resolve_url: give one"},
		{"route = { base_domain = \"a.test\";\n resolve_url = \"https://127.0.0.1/{name}\"; };",
		 "t.conf:2: resolve_url \"https://127.0.0.1/{name}\": expected http://HOST[:PORT]/PATH"},
		{"route = { base_domain = \"a.test\"; resolve_url = \"http://127.0.0.1/{name}\";\n resolve_path = \"a..b\"; };",
		 "t.conf:2: resolve_path \"a..b\": expected names or indexes"},
		{"route = { base_domain = \"a.test\"; resolve_cmd = [ \"shed\" ];\n resolve_path = \"ip\"; };",
		 "t.conf:2: resolve_path: only with resolve_url"},
		{"route = { base_domain = \"a.test\"; resolve_url = \"http://127.0.0.1/{name}\";\n resolve_not_found_status = 2; };",
		 "t.conf:2: resolve_not_found_status: only with resolve_cmd"},
		{"route = { base_domain = \"a.test\"; resolve_cmd = [ \"shed\" ];\n resolve_timeout = 0; };",
		 "t.conf:2: resolve_timeout: expected 1 to 300 seconds, got 0"},
		{"route = { base_domain = \"a.test\"; vms = ( { name = \"w\"; address = \"10.0.0.1\"; } );\n cache_ttl = 5; };",
		 "t.conf:2: cache_ttl: only with resolve_cmd or resolve_url"},
		{"route = { base_domain = \"a.test\"; resolve_cmd = [ \"shed\" ];\n default_port = 70000; };",
		 "t.conf:2: default_port: expected 1 to 65535, got 70000"},
		{"route = { base_domain = \"a.test\"; resolve_cmd = [ \"shed\" ];\n ports = 8080; };",
		 "t.conf:2: ports: expected a list of ports"},
		{"route = { base_domain = \"a.test\"; resolve_cmd = [ \"shed\" ];\n ports = [ 80,\n 80 ]; };",
		 "t.conf:3: ports[1]: port 80 is listed twice"},
		{"route = { base_domain = \"a.test\"; resolve_cmd = [ \"shed\" ];\n agent_ports = \"some\"; };",
		 "t.conf:2: agent_ports \"some\": expected true, false or \"labeled\""},
		{"route = { base_domain = \"a.test\"; resolve_cmd = [ \"shed\" ];\n networks = [ \"172.30.0.1/16\" ]; };",
		 "t.conf:2: networks[0] \"172.30.0.1/16\": address bits set past the prefix length"},
		{"route = { base_domain = \"a.test\"; networks = [ \"172.30.0.0/16\" ];\n vms = ( { name = \"w\";\n address = \"10.0.0.1\"; } ); };",
		 "t.conf:3: vms[0]: address 10.0.0.1 is outside 'networks'"},
		{"route = { base_domain = \"a.test\";\n default_port = 8080; };",
		 "t.conf:2: default_port: only for direct targets (with vms, resolve_cmd or resolve_url)"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cfg_file f;
		void *r = NULL;
		int rc = rt_new(&f, cases[i].conf, &r);
		if (rc != -EINVAL || r != NULL || f.n_errors != 1 || !strstr(f.errors[0], cases[i].error))
			fail_msg("%s: expected -EINVAL and \"%s\", got %d with %d error(s): %s", cases[i].conf,
				 cases[i].error, rc, f.n_errors, f.n_errors ? f.errors[0] : "");
		cfg_file_fini(&f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(names_and_ports, rt_fixture_teardown),
		cmocka_unit_test_teardown(rejects_and_next, rt_fixture_teardown),
		cmocka_unit_test_teardown(several_bases_longest_wins, rt_fixture_teardown),
		cmocka_unit_test_teardown(base_domain_and_list_together, rt_fixture_teardown),
		cmocka_unit_test_teardown(overrides, rt_fixture_teardown),
		cmocka_unit_test_teardown(small_buffers, rt_fixture_teardown),
		cmocka_unit_test_teardown(leaves_core_keys_alone, rt_fixture_teardown),
		cmocka_unit_test_teardown(unknown_override_key_is_reported, rt_fixture_teardown),
		cmocka_unit_test(config_errors),
		cmocka_unit_test_teardown(direct_static_table, rt_fixture_teardown),
		cmocka_unit_test_teardown(direct_default_ports, rt_fixture_teardown),
		cmocka_unit_test_teardown(direct_with_overrides, rt_fixture_teardown),
		cmocka_unit_test(direct_config_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
