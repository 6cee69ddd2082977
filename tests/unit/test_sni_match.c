/* Host-name patterns: which are valid, exact matches in any case, and the one-label
 * wildcard that matches neither its own base name nor two labels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sni_match.h"

static void valid(void **state)
{
	static const char *good[] = {
		"example.com", "a", "localhost", "A.Example.COM", "a-b.c_d.example", "xn--bcher-kva.ch",
		"*.example.com", "*.a.b.c.example.com", "*.WILD.example.com", "1.2.3.4",
	};
	static const char *bad[] = {
		"", ".", "*", "*.", "*.com", "**.example.com", "*a.example.com", "a*.example.com",
		"a.*.example.com", "*.*.example.com", "example.com.", ".example.com",
		"a..example.com", "exa mple.com", "exa/mple.com", "*.example.com.", "*..com",
		"ex\xc3\xa4mple.com", "a:b.com",
	};
	for (size_t i = 0; i < sizeof good / sizeof *good; i++)
		if (!sni_pattern_valid(good[i]))
			fail_msg("'%s' should be valid", good[i]);
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
		if (sni_pattern_valid(bad[i]))
			fail_msg("'%s' should be invalid", bad[i]);
	assert_true(sni_pattern_is_wildcard("*.example.com"));
	assert_false(sni_pattern_is_wildcard("example.com"));
	assert_false(sni_pattern_is_wildcard("*.com"));
}

static void lengths(void **state)
{
	char s[300];
	/* A 63-character label is fine, 64 is not. */
	memset(s, 'a', 63);
	strcpy(s + 63, ".example.com");
	assert_true(sni_pattern_valid(s));
	assert_true(sni_pattern_match("*.example.com", s));
	memset(s, 'a', 64);
	strcpy(s + 64, ".example.com");
	assert_false(sni_pattern_valid(s));
	assert_false(sni_pattern_match("*.example.com", s));
	/* 253 characters in all, not 254. */
	for (int i = 0; i < 253; i++)
		s[i] = i % 2 ? '.' : 'a';
	s[253] = '\0';
	assert_true(sni_pattern_valid(s));
	s[253] = '.', s[254] = 'a', s[255] = '\0';
	assert_false(sni_pattern_valid(s));
	s[0] = '*';
	assert_false(sni_pattern_valid(s));
	s[253] = '\0';
	assert_true(sni_pattern_valid(s)); /* "*.a.a..." of 253 */
}

static void exact(void **state)
{
	assert_true(sni_pattern_match("a.example.com", "a.example.com"));
	assert_true(sni_pattern_match("A.Example.com", "a.EXAMPLE.COM"));
	assert_false(sni_pattern_match("a.example.com", "b.example.com"));
	assert_false(sni_pattern_match("a.example.com", "a.example.com."));
	assert_false(sni_pattern_match("a.example.com", "xa.example.com"));
	assert_false(sni_pattern_match("a.example.com", "example.com"));
	assert_false(sni_pattern_match("a.example.com", ""));
	/* An invalid pattern matches nothing, not even itself. */
	assert_false(sni_pattern_match("a..b", "a..b"));
	assert_false(sni_pattern_match("", ""));
}

static void wildcard(void **state)
{
	assert_true(sni_pattern_match("*.example.com", "a.example.com"));
	assert_true(sni_pattern_match("*.example.com", "WWW.Example.Com"));
	assert_true(sni_pattern_match("*.Example.COM", "x-1_y.example.com"));
	assert_false(sni_pattern_match("*.example.com", "example.com"));
	assert_false(sni_pattern_match("*.example.com", ".example.com"));
	assert_false(sni_pattern_match("*.example.com", "a.b.example.com"));
	assert_false(sni_pattern_match("*.example.com", "aexample.com"));
	assert_false(sni_pattern_match("*.example.com", "a.example.com.evil"));
	assert_false(sni_pattern_match("*.example.com", "a.example.org"));
	assert_false(sni_pattern_match("*.example.com", "a/b.example.com"));
	assert_false(sni_pattern_match("*.example.com", "*.example.com"));
	assert_false(sni_pattern_match("*.com", "example.com"));
	assert_false(sni_pattern_match("*.wild.example.com", "wild.example.com"));
	assert_true(sni_pattern_match("*.wild.example.com", "x.wild.example.com"));
	assert_false(sni_pattern_match("*.wild.example.com", "x.example.com"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(valid),
		cmocka_unit_test(lengths),
		cmocka_unit_test(exact),
		cmocka_unit_test(wildcard),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
