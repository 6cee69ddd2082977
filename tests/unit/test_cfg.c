/* Configuration access: parse errors and type errors carry file:line, unread keys are
 * reported as unknown, read keys are not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>
#include <string.h>
#include <cmocka.h>

#include "cfg.h"

static void syntax_error_has_line(void **state)
{
	struct cfg_file f;
	assert_int_equal(cfg_file_load_string(&f, "t.conf", "a = 1;\nb = ;\n"), -1);
	assert_int_equal(f.n_errors, 1);
	assert_non_null(strstr(f.errors[0], "t.conf:2: "));
	cfg_file_fini(&f);
}

static void unknown_key_reported_with_line(void **state)
{
	struct cfg_file f;
	assert_int_equal(cfg_file_load_string(&f, "t.conf",
					      "server = {\n  listen = ();\n  lisen = 3;\n};\n"),
			 0);
	const proxyd_cfg *server = cfg_get_child(cfg_root(&f), "server");
	assert_non_null(cfg_get_child(server, "listen"));
	cfg_report_unknown(&f);
	assert_int_equal(f.n_errors, 1);
	assert_string_equal(f.errors[0], "t.conf:3: unknown key 'server.lisen'");
	cfg_file_fini(&f);
}

static void unread_section_is_unknown_once(void **state)
{
	struct cfg_file f;
	assert_int_equal(cfg_file_load_string(&f, "t.conf", "x = 1;\nbogus = { a = 1; b = 2; };\n"), 0);
	long long v;
	assert_int_equal(cfg_get_int(cfg_root(&f), "x", &v), 0);
	assert_int_equal(v, 1);
	cfg_report_unknown(&f);
	assert_int_equal(f.n_errors, 1); /* the section, not each key inside it */
	assert_non_null(strstr(f.errors[0], "t.conf:2: unknown key 'bogus'"));
	cfg_file_fini(&f);
}

static void type_errors_name_key_and_line(void **state)
{
	struct cfg_file f;
	assert_int_equal(cfg_file_load_string(&f, "t.conf", "a = 1;\nb = \"x\";\nc = 3;\n"), 0);
	const char *s;
	long long i;
	int b;
	assert_int_equal(cfg_get_string(cfg_root(&f), "a", &s), -EINVAL);
	assert_int_equal(cfg_get_int(cfg_root(&f), "b", &i), -EINVAL);
	assert_int_equal(cfg_get_bool(cfg_root(&f), "c", &b), -EINVAL);
	assert_int_equal(cfg_get_string(cfg_root(&f), "missing", &s), -ENOENT);
	assert_int_equal(f.n_errors, 3);
	assert_string_equal(f.errors[0], "t.conf:1: 'a': expected a string in double quotes");
	assert_string_equal(f.errors[1], "t.conf:2: 'b': expected an integer");
	assert_string_equal(f.errors[2], "t.conf:3: 'c': expected true or false");
	cfg_file_fini(&f);
}

static void list_elements_are_walked(void **state)
{
	struct cfg_file f;
	assert_int_equal(cfg_file_load_string(&f, "t.conf",
					      "l = ( { a = 1; },\n { a = 2; typo = 1; } );\n"),
			 0);
	const proxyd_cfg *l = cfg_get_child(cfg_root(&f), "l");
	assert_int_equal(cfg_count(l), 2);
	for (int i = 0; i < cfg_count(l); i++) {
		long long v;
		assert_int_equal(cfg_get_int(cfg_elem(l, i), "a", &v), 0);
		assert_int_equal(v, i + 1);
	}
	cfg_report_unknown(&f);
	assert_int_equal(f.n_errors, 1);
	assert_string_equal(f.errors[0], "t.conf:2: unknown key 'l[1].typo'");
	cfg_file_fini(&f);
}

static void relative_paths_follow_the_file(void **state)
{
	struct cfg_file f;
	assert_int_equal(cfg_file_load_string(&f, "/etc/proxyd/s.conf", "k = \"x\";\n"), 0);
	char buf[64];
	const proxyd_cfg *k = cfg_get_child(cfg_root(&f), "k");
	assert_string_equal(cfg_path(k, "ca.crt", buf, sizeof buf), "/etc/proxyd/ca.crt");
	assert_string_equal(cfg_path(k, "/abs/ca.crt", buf, sizeof buf), "/abs/ca.crt");
	assert_null(cfg_path(k, "ca.crt", buf, 8));
	cfg_file_fini(&f);
}

static void integer_elements(void **state)
{
	struct cfg_file f;
	assert_int_equal(cfg_file_load_string(&f, "t.conf", "a = [ 1, 65535 ];\nl = ( 2, \"x\" );\n"), 0);
	const proxyd_cfg *a = cfg_get_child(cfg_root(&f), "a");
	long long v = 0;
	assert_int_equal(cfg_elem_int(cfg_elem(a, 1), &v), 0);
	assert_int_equal(v, 65535);
	const proxyd_cfg *l = cfg_get_child(cfg_root(&f), "l");
	assert_int_equal(cfg_elem_int(cfg_elem(l, 0), &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(cfg_elem_int(cfg_elem(l, 1), &v), -EINVAL);
	assert_int_equal(cfg_elem_int(NULL, &v), -EINVAL);
	assert_int_equal(f.n_errors, 0); /* nothing recorded: the caller words the error */
	cfg_file_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(syntax_error_has_line),
		cmocka_unit_test(unknown_key_reported_with_line),
		cmocka_unit_test(unread_section_is_unknown_once),
		cmocka_unit_test(type_errors_name_key_and_line),
		cmocka_unit_test(list_elements_are_walked),
		cmocka_unit_test(relative_paths_follow_the_file),
		cmocka_unit_test(integer_elements),
	};
	return cmocka_run_group_tests_name("cfg", tests, NULL, NULL);
}
