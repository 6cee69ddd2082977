/* Agent-to-agent access rules (core/peer_acl.h): deny unless a rule allows; exact names and
 * "*" for from, to and services; a NULL service (any service at all); agent-side rules
 * without `to`; several rules. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "peer_acl.h"

static const char *web_ssh[] = {"web", "ssh"};
static const char *web[] = {"web"};
static const char *star[] = {"*"};

static void deny_without_rules(void **state)
{
	assert_false(peer_acl_allows(NULL, 0, "a", "b", "web"));
	assert_false(peer_acl_allows(NULL, 0, "a", "b", NULL));
	assert_false(peer_acl_allows(NULL, 0, "a", NULL, NULL));
	const struct peer_rule r = {"*", "*", NULL, 0};
	assert_false(peer_acl_allows(&r, 0, "a", "b", "web")); /* n counts, not the array */
}

static void exact_match(void **state)
{
	const struct peer_rule r = {"laptop", "db-host", web_ssh, 2};
	assert_true(peer_acl_allows(&r, 1, "laptop", "db-host", "web"));
	assert_true(peer_acl_allows(&r, 1, "laptop", "db-host", "ssh"));
	assert_false(peer_acl_allows(&r, 1, "laptop", "db-host", "db"));
	assert_false(peer_acl_allows(&r, 1, "laptop", "db-host", "we"));
	assert_false(peer_acl_allows(&r, 1, "laptop", "db-host", "webx"));
	assert_false(peer_acl_allows(&r, 1, "laptop2", "db-host", "web"));
	assert_false(peer_acl_allows(&r, 1, "Laptop", "db-host", "web")); /* case matters */
	assert_false(peer_acl_allows(&r, 1, "laptop", "db", "web"));
	assert_false(peer_acl_allows(&r, 1, "db-host", "laptop", "web")); /* not symmetric */
	/* a literal "*" asked for is no wildcard on the asking side */
	assert_false(peer_acl_allows(&r, 1, "*", "db-host", "web"));
	assert_false(peer_acl_allows(&r, 1, "laptop", "db-host", "*"));
}

static void wildcards(void **state)
{
	const struct peer_rule any_from = {"*", "db-host", web, 1};
	assert_true(peer_acl_allows(&any_from, 1, "laptop", "db-host", "web"));
	assert_true(peer_acl_allows(&any_from, 1, "x", "db-host", "web"));
	assert_false(peer_acl_allows(&any_from, 1, "x", "other", "web"));
	assert_false(peer_acl_allows(&any_from, 1, "x", "db-host", "ssh"));

	const struct peer_rule any_to = {"laptop", "*", web, 1};
	assert_true(peer_acl_allows(&any_to, 1, "laptop", "db-host", "web"));
	assert_true(peer_acl_allows(&any_to, 1, "laptop", "other", "web"));
	assert_false(peer_acl_allows(&any_to, 1, "desktop", "other", "web"));

	const struct peer_rule any_svc = {"laptop", "db-host", star, 1};
	assert_true(peer_acl_allows(&any_svc, 1, "laptop", "db-host", "web"));
	assert_true(peer_acl_allows(&any_svc, 1, "laptop", "db-host", "anything"));
	assert_false(peer_acl_allows(&any_svc, 1, "laptop", "other", "web"));

	/* no services listed means every service */
	const struct peer_rule all_svc = {"laptop", "db-host", NULL, 0};
	assert_true(peer_acl_allows(&all_svc, 1, "laptop", "db-host", "web"));
	assert_true(peer_acl_allows(&all_svc, 1, "laptop", "db-host", "ssh"));

	const struct peer_rule all = {"*", "*", NULL, 0};
	assert_true(peer_acl_allows(&all, 1, "a", "b", "c"));
	assert_true(peer_acl_allows(&all, 1, "a", "b", NULL));
}

/* service NULL: is any service at all allowed (proxyctl ping)? */
static void any_service(void **state)
{
	const struct peer_rule r = {"laptop", "db-host", web, 1};
	assert_true(peer_acl_allows(&r, 1, "laptop", "db-host", NULL));
	assert_false(peer_acl_allows(&r, 1, "desktop", "db-host", NULL));
	assert_false(peer_acl_allows(&r, 1, "laptop", "other", NULL));
	const struct peer_rule none = {"laptop", "db-host", NULL, 0};
	assert_true(peer_acl_allows(&none, 1, "laptop", "db-host", NULL));
}

/* An agent's own rules have no `to`; the agent asks with to NULL. */
static void agent_side(void **state)
{
	const struct peer_rule mine[] = {{"laptop", NULL, web, 1}, {"ci-*", NULL, NULL, 0}};
	assert_true(peer_acl_allows(mine, 2, "laptop", NULL, "web"));
	assert_true(peer_acl_allows(mine, 2, "laptop", NULL, NULL));
	assert_false(peer_acl_allows(mine, 2, "laptop", NULL, "ssh"));
	assert_false(peer_acl_allows(mine, 2, "desktop", NULL, "web"));
	/* "*" is a whole pattern, no glob */
	assert_false(peer_acl_allows(mine, 2, "ci-1", NULL, "web"));
	assert_true(peer_acl_allows(mine, 2, "ci-*", NULL, "web"));

	/* a rule without `to` matches whoever is asked about; to NULL skips a rule's `to` */
	assert_true(peer_acl_allows(mine, 2, "laptop", "anyone", "web"));
	const struct peer_rule server = {"laptop", "db-host", web, 1};
	assert_true(peer_acl_allows(&server, 1, "laptop", NULL, "web"));
}

static void from_matches_to_does_not(void **state)
{
	const struct peer_rule r[] = {{"laptop", "db-host", NULL, 0}};
	assert_false(peer_acl_allows(r, 1, "laptop", "web-host", "web"));
	assert_false(peer_acl_allows(r, 1, "laptop", "web-host", NULL));
	assert_true(peer_acl_allows(r, 1, "laptop", "db-host", "web"));
}

static void several_rules(void **state)
{
	static const char *db[] = {"postgres"};
	const struct peer_rule rules[] = {
		{"laptop", "db-host", db, 1},
		{"laptop", "web-host", web_ssh, 2},
		{"*", "public", web, 1},
		{"admin", "*", NULL, 0},
	};
	const int n = (int)(sizeof rules / sizeof rules[0]);
	assert_true(peer_acl_allows(rules, n, "laptop", "db-host", "postgres"));
	assert_false(peer_acl_allows(rules, n, "laptop", "db-host", "web"));
	assert_true(peer_acl_allows(rules, n, "laptop", "web-host", "ssh"));
	assert_false(peer_acl_allows(rules, n, "laptop", "web-host", "postgres"));
	assert_true(peer_acl_allows(rules, n, "laptop", "public", "web"));
	assert_true(peer_acl_allows(rules, n, "stranger", "public", "web"));
	assert_false(peer_acl_allows(rules, n, "stranger", "public", "ssh"));
	assert_false(peer_acl_allows(rules, n, "stranger", "db-host", "postgres"));
	assert_true(peer_acl_allows(rules, n, "admin", "db-host", "anything"));
	assert_true(peer_acl_allows(rules, n, "admin", "somewhere", NULL));
	assert_false(peer_acl_allows(rules, n, "stranger", "db-host", NULL));
	/* a later rule allows what an earlier one with the same from/to does not */
	const struct peer_rule two[] = {{"a", "b", web, 1}, {"a", "b", db, 1}};
	assert_true(peer_acl_allows(two, 2, "a", "b", "postgres"));
	assert_false(peer_acl_allows(two, 1, "a", "b", "postgres"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(deny_without_rules),
		cmocka_unit_test(exact_match),
		cmocka_unit_test(wildcards),
		cmocka_unit_test(any_service),
		cmocka_unit_test(agent_side),
		cmocka_unit_test(from_matches_to_does_not),
		cmocka_unit_test(several_rules),
	};
	return cmocka_run_group_tests_name("peer_acl", tests, NULL, NULL);
}
