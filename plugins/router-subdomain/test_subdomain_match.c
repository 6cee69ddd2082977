/* router-subdomain's matching: DNS labels, base domains as configured, the label before the
 * longest base domain, and "<name>-<port>". */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "subdomain_match.h"

#define S(s) (s), strlen(s)

static void labels(void **state)
{
	assert_true(sd_label_valid(S("a")));
	assert_true(sd_label_valid(S("agent-1")));
	assert_true(sd_label_valid(S("0")));
	assert_true(sd_label_valid(S("a--b")));
	char l[SD_LABEL_MAX + 2];
	memset(l, 'a', sizeof l);
	assert_true(sd_label_valid(l, SD_LABEL_MAX));
	assert_false(sd_label_valid(l, SD_LABEL_MAX + 1));
	static const char *const bad[] = {"", "-a", "a-", "-", "a_b", "a.b", "A", "a b", "\xc3\xa9"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
		if (sd_label_valid(S(bad[i])))
			fail_msg("accepted \"%s\"", bad[i]);
}

static void domains(void **state)
{
	char out[SD_DOMAIN_MAX + 1];
	const char *why = NULL;
	assert_int_equal(sd_domain_normalize(S("Example.COM"), out, &why), 0);
	assert_string_equal(out, "example.com");
	assert_int_equal(sd_domain_normalize(S(".apps.example.com"), out, &why), 0);
	assert_string_equal(out, "apps.example.com");
	assert_int_equal(sd_domain_normalize(S("example.com."), out, &why), 0);
	assert_string_equal(out, "example.com");
	assert_int_equal(sd_domain_normalize(S("localhost"), out, &why), 0);
	assert_string_equal(out, "localhost");
	static const char *const bad[] = {"",    ".",        "..",        "a..b", "-a.com",
					  "a-.com", "a_b.com", "a b.com", "..a.com", "a.com..",
					  "*.a.com", "a.com:80", "\xc3\xa9.com"};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		why = NULL;
		if (sd_domain_normalize(S(bad[i]), out, &why) != -EINVAL)
			fail_msg("accepted \"%s\"", bad[i]);
		assert_non_null(why);
	}
	/* 253 bytes is the most: three labels of 63 and one of 61 */
	char d[300];
	size_t n = 0;
	for (int i = 0; i < 3; i++) {
		memset(d + n, 'a', 63);
		n += 63;
		d[n++] = '.';
	}
	memset(d + n, 'b', 61);
	n += 61;
	assert_int_equal(n, 253);
	assert_int_equal(sd_domain_normalize(d, n, out, &why), 0);
	d[n++] = 'b';
	assert_int_equal(sd_domain_normalize(d, n, out, &why), -EINVAL);
}

static const char *const bases[] = {"example.com", "dev.example.com", "localhost"};

static enum sd_kind match(const char *host, char *label)
{
	const char *l = NULL;
	size_t n = 0;
	enum sd_kind k = sd_match(host, strlen(host), bases, 3, &l, &n);
	label[0] = '\0';
	if (k == SD_NAME || k == SD_BAD_LABEL) {
		memcpy(label, l, n);
		label[n] = '\0';
	}
	return k;
}

static void matching(void **state)
{
	char l[300];
	assert_int_equal(match("app.example.com", l), SD_NAME);
	assert_string_equal(l, "app");
	assert_int_equal(match("app.example.com.", l), SD_NAME);
	assert_string_equal(l, "app");
	assert_int_equal(match("agent-1-3000.example.com", l), SD_NAME);
	assert_string_equal(l, "agent-1-3000");
	assert_int_equal(match("web.localhost", l), SD_NAME);
	assert_string_equal(l, "web");
	/* the longest base wins */
	assert_int_equal(match("app.dev.example.com", l), SD_NAME);
	assert_string_equal(l, "app");
	assert_int_equal(match("dev.example.com", l), SD_NONE);
	assert_int_equal(match("a.b.dev.example.com", l), SD_DEEP);
	/* bare bases and other domains */
	assert_int_equal(match("example.com", l), SD_NONE);
	assert_int_equal(match("example.com.", l), SD_NONE);
	assert_int_equal(match("localhost", l), SD_NONE);
	assert_int_equal(match("example.org", l), SD_NONE);
	assert_int_equal(match("app.notexample.com", l), SD_NONE);
	assert_int_equal(match("appexample.com", l), SD_NONE);
	assert_int_equal(match("127.0.0.1", l), SD_NONE);
	assert_int_equal(match("::1", l), SD_NONE);
	assert_int_equal(match("", l), SD_NONE);
	assert_int_equal(match("com", l), SD_NONE);
	/* too deep, or not a label */
	assert_int_equal(match("a.b.example.com", l), SD_DEEP);
	assert_int_equal(match("a..example.com", l), SD_DEEP);
	assert_int_equal(match(".example.com", l), SD_BAD_LABEL);
	assert_int_equal(match("a_b.example.com", l), SD_BAD_LABEL);
	assert_string_equal(l, "a_b");
	assert_int_equal(match("-a.example.com", l), SD_BAD_LABEL);
	assert_int_equal(match("a-.example.com", l), SD_BAD_LABEL);
	assert_int_equal(match("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa.example.com",
			       l),
			 SD_BAD_LABEL);
	/* no bases */
	const char *lp;
	size_t ln;
	assert_int_equal(sd_match(S("a.example.com"), bases, 0, &lp, &ln), SD_NONE);
}

static int split(const char *label, char *name, unsigned *port)
{
	size_t nl = 0;
	int r = sd_split_port(label, strlen(label), &nl, port);
	if (r) {
		memcpy(name, label, nl);
		name[nl] = '\0';
	}
	return r;
}

static void ports(void **state)
{
	char name[64];
	unsigned port = 0;
	assert_true(split("app-3000", name, &port));
	assert_string_equal(name, "app");
	assert_int_equal(port, 3000);
	assert_true(split("agent-1-5173", name, &port));
	assert_string_equal(name, "agent-1");
	assert_int_equal(port, 5173);
	assert_true(split("a-1", name, &port));
	assert_string_equal(name, "a");
	assert_int_equal(port, 1);
	assert_true(split("a-65535", name, &port));
	assert_int_equal(port, 65535);
	assert_true(split("1-80", name, &port));
	assert_string_equal(name, "1");
	static const char *const no[] = {"app",     "3000",    "-3000", "app-",     "app-0",
					 "app-080", "app-65536", "app-123456", "a--3000",
					 "app3000", "app-3x",  "app-x"};
	for (size_t i = 0; i < sizeof no / sizeof no[0]; i++)
		if (split(no[i], name, &port))
			fail_msg("split \"%s\"", no[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(labels),
		cmocka_unit_test(domains),
		cmocka_unit_test(matching),
		cmocka_unit_test(ports),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
