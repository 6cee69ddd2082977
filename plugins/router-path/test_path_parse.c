/* router-path's parsers: agent specs, prefixes, absolute-form targets, splitting a path under
 * the prefix, and Cookie lines as browsers (and others) write them. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "path_parse.h"

#define S(s) (s), strlen(s)

static void agent_ids(void **state)
{
	assert_true(rp_agent_valid(S("a")));
	assert_true(rp_agent_valid(S("agent-1.example_x")));
	char max[RP_AGENT_MAX + 2];
	memset(max, 'a', sizeof max);
	assert_true(rp_agent_valid(max, RP_AGENT_MAX));
	assert_false(rp_agent_valid(max, RP_AGENT_MAX + 1));
	assert_false(rp_agent_valid(S("")));
	assert_false(rp_agent_valid(S("a b")));
	assert_false(rp_agent_valid(S("a%2d")));
	assert_false(rp_agent_valid(S("a:b")));
	assert_false(rp_agent_valid(S("h\xc3\xb6")));
	assert_true(rp_service_valid(max, RP_SERVICE_MAX));
	assert_false(rp_service_valid(max, RP_SERVICE_MAX + 1));
}

static void specs(void **state)
{
	char a[RP_AGENT_MAX + 1], s[RP_SERVICE_MAX + 1];
	assert_int_equal(rp_spec_parse(S("agent-1"), a, s), 0);
	assert_string_equal(a, "agent-1");
	assert_string_equal(s, "");
	assert_int_equal(rp_spec_parse(S("agent-1:api"), a, s), 0);
	assert_string_equal(a, "agent-1");
	assert_string_equal(s, "api");
	assert_int_equal(rp_spec_parse(S("agent-1:3000"), a, s), 0);
	assert_string_equal(s, "3000");
	static const char *const bad[] = {"", ":", "a:", ":b", "a:b:c", "a b", "a:b c", "a/b", "a;b"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (rp_spec_parse(S(bad[i]), a, s) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
}

static void prefixes(void **state)
{
	const char *why = NULL;
	assert_int_equal(rp_prefix_valid(S("/proxy/"), &why), 0);
	assert_int_equal(rp_prefix_valid(S("/"), &why), 0);
	assert_int_equal(rp_prefix_valid(S("/a/b-c_d.e~f/"), &why), 0);
	static const char *const bad[] = {"", "proxy/", "/proxy", "/p?x/", "/p#/", "/p%20/",
					  "/p q/", "/p\t/", "/\xc3\xa9/"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		if (rp_prefix_valid(S(bad[i]), &why) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(why);
	}
	char longp[RP_PREFIX_MAX + 2];
	memset(longp, 'a', sizeof longp);
	longp[0] = '/';
	longp[RP_PREFIX_MAX] = '/';
	assert_int_equal(rp_prefix_valid(longp, RP_PREFIX_MAX + 1, &why), -EINVAL);
	longp[RP_PREFIX_MAX - 1] = '/';
	assert_int_equal(rp_prefix_valid(longp, RP_PREFIX_MAX, &why), 0);
}

static void cookie_names(void **state)
{
	assert_true(rp_cookie_name_valid(S("proxyd_agent")));
	assert_true(rp_cookie_name_valid(S("__Host-x")));
	assert_false(rp_cookie_name_valid(S("")));
	assert_false(rp_cookie_name_valid(S("a=b")));
	assert_false(rp_cookie_name_valid(S("a b")));
	assert_false(rp_cookie_name_valid(S("a;b")));
	assert_false(rp_cookie_name_valid(S("a\"b")));
}

static void origin_paths(void **state)
{
	const char *p;
	size_t n;
	assert_int_equal(rp_origin_path(S("/a/b"), &p, &n), 0);
	assert_int_equal(n, 4);
	assert_memory_equal(p, "/a/b", 4);
	assert_int_equal(rp_origin_path(S("http://h:8080/proxy/a1/x"), &p, &n), 0);
	assert_int_equal(n, strlen("/proxy/a1/x"));
	assert_memory_equal(p, "/proxy/a1/x", n);
	assert_int_equal(rp_origin_path(S("https://h"), &p, &n), 0);
	assert_int_equal(n, 1);
	assert_memory_equal(p, "/", 1);
	assert_int_equal(rp_origin_path(S("*"), &p, &n), -EINVAL);
	assert_int_equal(rp_origin_path(S("h:443"), &p, &n), -EINVAL);
	assert_int_equal(rp_origin_path(S(""), &p, &n), -EINVAL);
	assert_int_equal(rp_origin_path(S("1http://h/"), &p, &n), -EINVAL);
}

static enum rp_verdict split(const char *prefix, const char *path, struct rp_split *sp)
{
	return rp_split_path(prefix, strlen(prefix), path, strlen(path), sp);
}

static void splitting(void **state)
{
	struct rp_split sp;
	assert_int_equal(split("/proxy/", "/proxy/a1/x/y", &sp), RP_MATCH);
	assert_string_equal(sp.agent, "a1");
	assert_string_equal(sp.service, "");
	assert_int_equal(sp.rest_len, 4);
	assert_memory_equal(sp.rest, "/x/y", 4);

	assert_int_equal(split("/proxy/", "/proxy/agent-1:api/v1", &sp), RP_MATCH);
	assert_string_equal(sp.agent, "agent-1");
	assert_string_equal(sp.service, "api");
	assert_memory_equal(sp.rest, "/v1", 3);

	assert_int_equal(split("/proxy/", "/proxy/a1/", &sp), RP_MATCH);
	assert_int_equal(sp.rest_len, 1);

	assert_int_equal(split("/proxy/", "/proxy/a1", &sp), RP_REDIRECT);
	assert_string_equal(sp.agent, "a1");
	assert_int_equal(split("/proxy/", "/proxy/a1:web", &sp), RP_REDIRECT);
	assert_string_equal(sp.service, "web");

	assert_int_equal(split("/proxy/", "/proxy/", &sp), RP_BAD);
	assert_non_null(sp.why);
	assert_int_equal(split("/proxy/", "/proxy//x", &sp), RP_BAD);
	assert_int_equal(split("/proxy/", "/proxy/a%201/x", &sp), RP_BAD);
	assert_int_equal(split("/proxy/", "/proxy/a1:/x", &sp), RP_BAD);
	char longp[200] = "/proxy/";
	memset(longp + 7, 'a', 65);
	strcpy(longp + 72, "/x");
	assert_int_equal(split("/proxy/", longp, &sp), RP_BAD);

	assert_int_equal(split("/proxy/", "/proxy", &sp), RP_OUTSIDE);
	assert_int_equal(split("/proxy/", "/proxyx/a1/", &sp), RP_OUTSIDE);
	assert_int_equal(split("/proxy/", "/Proxy/a1/", &sp), RP_OUTSIDE);
	assert_int_equal(split("/proxy/", "/", &sp), RP_OUTSIDE);
	assert_int_equal(split("/proxy/", "/_next/static/x.js", &sp), RP_OUTSIDE);

	assert_int_equal(split("/", "/a1/x", &sp), RP_MATCH);
	assert_string_equal(sp.agent, "a1");
	assert_int_equal(split("/t/u/", "/t/u/a1/x", &sp), RP_MATCH);
	assert_memory_equal(sp.rest, "/x", 2);
}

static int cookie(const char *line, const char *name, unsigned nth, char *got, size_t len)
{
	const char *v;
	size_t vn;
	if (!rp_cookie_get(line, strlen(line), name, nth, &v, &vn))
		return 0;
	assert_true(vn < len);
	memcpy(got, v, vn);
	got[vn] = '\0';
	return 1;
}

static void cookies(void **state)
{
	char v[128];
	assert_true(cookie("proxyd_agent=a1", "proxyd_agent", 0, v, sizeof v));
	assert_string_equal(v, "a1");
	assert_true(cookie("x=1; proxyd_agent=a1:api; y=2", "proxyd_agent", 0, v, sizeof v));
	assert_string_equal(v, "a1:api");
	assert_true(cookie("x=1;proxyd_agent=a2", "proxyd_agent", 0, v, sizeof v));
	assert_string_equal(v, "a2");
	assert_true(cookie("  x=1 ;\tproxyd_agent = a3 ; y", "proxyd_agent", 0, v, sizeof v));
	assert_string_equal(v, "a3");
	assert_true(cookie("proxyd_agent=\"a4\"", "proxyd_agent", 0, v, sizeof v));
	assert_string_equal(v, "a4");
	assert_true(cookie("proxyd_agent=", "proxyd_agent", 0, v, sizeof v));
	assert_string_equal(v, "");
	assert_true(cookie("proxyd_agent=\"\"", "proxyd_agent", 0, v, sizeof v));
	assert_string_equal(v, "");
	/* the same name twice: both, in order */
	assert_true(cookie("proxyd_agent=old; proxyd_agent=new", "proxyd_agent", 1, v, sizeof v));
	assert_string_equal(v, "new");
	assert_false(cookie("proxyd_agent=old; proxyd_agent=new", "proxyd_agent", 2, v, sizeof v));
	/* names are matched whole and case-sensitively; values may hold '=' */
	assert_false(cookie("xproxyd_agent=a1; proxyd_agentx=a2", "proxyd_agent", 0, v, sizeof v));
	assert_false(cookie("PROXYD_AGENT=a1", "proxyd_agent", 0, v, sizeof v));
	assert_false(cookie("a1", "proxyd_agent", 0, v, sizeof v));
	assert_false(cookie("", "proxyd_agent", 0, v, sizeof v));
	assert_false(cookie(";;; ; =x", "proxyd_agent", 0, v, sizeof v));
	assert_true(cookie("k=a=b", "k", 0, v, sizeof v));
	assert_string_equal(v, "a=b");
	/* a lone quote is not a quoted value */
	assert_true(cookie("k=\"", "k", 0, v, sizeof v));
	assert_string_equal(v, "\"");
}

static void visible(void **state)
{
	assert_true(rp_visible_ascii(S("a=1&b=%20")));
	assert_true(rp_visible_ascii(S("")));
	assert_false(rp_visible_ascii(S("a b")));
	assert_false(rp_visible_ascii(S("a\r\nb")));
	assert_false(rp_visible_ascii(S("\x7f")));
	assert_false(rp_visible_ascii(S("\xc3\xa9")));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(agent_ids),    cmocka_unit_test(specs),
		cmocka_unit_test(prefixes),     cmocka_unit_test(cookie_names),
		cmocka_unit_test(origin_paths), cmocka_unit_test(splitting),
		cmocka_unit_test(cookies),      cmocka_unit_test(visible),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
