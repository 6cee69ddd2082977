/* core/port_labels.c: the labels file a VM's user writes for agent.report_ports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "config.h"
#include "port_labels.h"

static void a_file_as_written(void **state)
{
	const char *text = "# the ports I publish\n"
			   "3000 app\n"
			   "\n"
			   "  5173\tvite   # the dev server\n"
			   "8080 web.v2_x-1\r\n"
			   "   # indented comment\n"
			   "9000 last";
	struct port_label l[8];
	unsigned bad;
	const char *why;
	assert_int_equal(port_labels_parse(text, strlen(text), l, 8, &bad, &why), 4);
	assert_int_equal(bad, 0);
	assert_null(why);
	assert_int_equal(l[0].port, 3000);
	assert_string_equal(l[0].label, "app");
	assert_int_equal(l[1].port, 5173);
	assert_string_equal(l[1].label, "vite");
	assert_string_equal(l[2].label, "web.v2_x-1");
	assert_int_equal(l[3].port, 9000);
	assert_string_equal(port_labels_find(l, 4, 5173), "vite");
	assert_null(port_labels_find(l, 4, 22));
}

static void bad_lines(void **state)
{
	static const struct {
		const char *line, *why;
	} cases[] = {
		{"0 zero", "expected a port number"},
		{"65536 big", "expected a port number"},
		{"03000 lead", "expected a port number"},
		{"-1 neg", "expected a port number"},
		{"app 3000", "expected a port number"},
		{"3000", "expected a label"},
		{"3000   ", "expected a label"},
		{"3000 two words", "more than one label"},
		{"3000 caf\xc3\xa9", "characters outside"},
		{"3000 a/b", "characters outside"},
		{"3000 abcdefghijklmnopqrstuvwxyz012345", "longer than 31"},
		{"3000app", "expected a port number"},
		{"1234567 x", "expected a port number"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char text[200];
		snprintf(text, sizeof text, "80 web\n%s\n81 ok\n", cases[i].line);
		struct port_label l[4];
		unsigned bad;
		const char *why;
		size_t n = port_labels_parse(text, strlen(text), l, 4, &bad, &why);
		if (n != 2 || bad != 2 || !why || !strstr(why, cases[i].why))
			fail_msg("\"%s\": expected 2 entries and line 2 bad (%s), got %zu, line %u: %s",
				 cases[i].line, cases[i].why, n, bad, why ? why : "(none)");
		assert_int_equal(l[1].port, 81);
	}
}

static void first_bad_line_and_duplicates(void **state)
{
	const char *text = "1 a\n2 b\n1 again\nx\n";
	struct port_label l[4];
	unsigned bad;
	const char *why;
	assert_int_equal(port_labels_parse(text, strlen(text), l, 4, &bad, &why), 2);
	assert_int_equal(bad, 3);
	assert_string_equal(why, "port given twice");
	assert_string_equal(l[0].label, "a");
}

static void bounds(void **state)
{
	/* More entries than room: counted, not stored; the length bounds the text. */
	const char *text = "1 a\n2 b\n3 c\n4 dXXXX";
	struct port_label l[2];
	unsigned bad;
	const char *why;
	assert_int_equal(port_labels_parse(text, strlen(text) - 4, l, 2, &bad, &why), 4);
	assert_int_equal(bad, 0);
	assert_int_equal(port_labels_parse("", 0, l, 2, &bad, &why), 0);
	/* 31 characters is the longest label */
	const char *longest = "7 abcdefghijklmnopqrstuvwxyz01234";
	assert_int_equal(port_labels_parse(longest, strlen(longest), l, 2, &bad, &why), 1);
	assert_int_equal(strlen(l[0].label), 31);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(a_file_as_written),
		cmocka_unit_test(bad_lines),
		cmocka_unit_test(first_bad_line_and_duplicates),
		cmocka_unit_test(bounds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
