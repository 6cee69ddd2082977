/* The descriptor checks in their documented order, each failure naming expected vs. actual. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "plugin_check.h"

static int ok_check(void *s, const proxyd_cfg *e, int r) { return 0; }
static int ok_listen(void *s, const proxyd_cfg *e, proxyd_listener *l, void **o) { return 0; }
static void ok_unlisten(void *s) {}
static int ok_dial(void *s, const proxyd_cfg *e, proxyd_dial *d, void **o) { return 0; }
static void ok_cancel(void *s) {}
static int ok_init(const struct proxyd_host *h, proxyd_plugin *p, void **s) { return 0; }
static void ok_fini(void *s) {}

static struct proxyd_transport_ops ops;
static struct proxyd_plugin_descriptor d;
static char err[256];

static int setup(void **state)
{
	ops = (struct proxyd_transport_ops){.check = ok_check, .listen = ok_listen,
					    .unlisten = ok_unlisten, .dial = ok_dial,
					    .dial_cancel = ok_cancel};
	d = (struct proxyd_plugin_descriptor){
		PROXYD_PLUGIN_MAGIC, PROXYD_ABI_MAJOR, PROXYD_ABI_MINOR, sizeof d, PROXYD_KIND_TRANSPORT,
		"t", "1", ok_init, ok_fini, &ops, sizeof ops};
	err[0] = '\0';
	return 0;
}

static void good_descriptor_passes(void **state)
{
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), 0);
}

static void bad_magic(void **state)
{
	d.magic = 1;
	d.abi_major = 99; /* magic is checked first */
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), -1);
	assert_non_null(strstr(err, "bad magic: expected 0x50525859, got 0x00000001"));
}

static void other_major(void **state)
{
	d.abi_major = PROXYD_ABI_MAJOR + 1;
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), -1);
	assert_non_null(strstr(err, "major"));
	assert_non_null(strstr(err, "got 2"));
}

static void newer_minor(void **state)
{
	d.abi_minor = PROXYD_ABI_MINOR + 1;
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), -1);
	assert_non_null(strstr(err, "newer ABI"));
}

static void older_minor_passes(void **state)
{
	/* Minor 0 is the oldest; a host at minor 0 takes it. Simulate "older" by size. */
	d.ops_size = offsetof(struct proxyd_transport_ops, dial_cancel) + sizeof(void *);
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), 0);
}

static int ok_open(void *c, proxyd_stream *st, void **o) { return 0; }
static size_t ok_write(void *s, const void *data, size_t n) { return n; }
static void ok_stream(void *s) {}
static void ok_reset(void *s, uint32_t code) {}
static void ok_close(void *c, uint32_t code, const char *reason) {}

/* ABI 1.3: a transport with native streams sets all their ops or none. */
static void native_ops_all_or_none(void **state)
{
	ops.stream_open = ok_open;
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), -1);
	assert_non_null(strstr(err, "expected stream_write() in the transport ops, got NULL"));
	ops.stream_write = ok_write;
	ops.stream_shutdown = ok_stream;
	ops.stream_reset = ok_reset;
	ops.stream_resume_read = ok_stream;
	ops.stream_release = ok_stream;
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), -1);
	assert_non_null(strstr(err, "expected conn_close()"));
	ops.conn_close = ok_close;
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), 0);
}

static void larger_struct(void **state)
{
	d.size = sizeof d + 8;
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), -1);
	assert_non_null(strstr(err, "descriptor larger"));
}

static void larger_ops(void **state)
{
	d.ops_size = sizeof ops + 8;
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), -1);
	assert_non_null(strstr(err, "ops larger"));
}

static void missing_required_op(void **state)
{
	ops.dial = NULL;
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), -1);
	assert_non_null(strstr(err, "expected dial()"));
}

static void short_ops_lacking_required(void **state)
{
	d.ops_size = offsetof(struct proxyd_transport_ops, dial); /* ends before dial */
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), -1);
	assert_non_null(strstr(err, "expected dial()"));
}

static void missing_init(void **state)
{
	d.init = NULL;
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), -1);
	assert_non_null(strstr(err, "expected init()"));
}

static void unknown_kind(void **state)
{
	d.kind = 7;
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), -1);
	assert_non_null(strstr(err, "unknown kind"));
}

static void empty_name(void **state)
{
	d.name = "";
	assert_int_equal(plugin_check_descriptor(&d, err, sizeof err), -1);
	assert_non_null(strstr(err, "name missing"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(good_descriptor_passes, setup),
		cmocka_unit_test_setup(bad_magic, setup),
		cmocka_unit_test_setup(other_major, setup),
		cmocka_unit_test_setup(newer_minor, setup),
		cmocka_unit_test_setup(older_minor_passes, setup),
		cmocka_unit_test_setup(larger_struct, setup),
		cmocka_unit_test_setup(native_ops_all_or_none, setup),
		cmocka_unit_test_setup(larger_ops, setup),
		cmocka_unit_test_setup(missing_required_op, setup),
		cmocka_unit_test_setup(short_ops_lacking_required, setup),
		cmocka_unit_test_setup(missing_init, setup),
		cmocka_unit_test_setup(unknown_kind, setup),
		cmocka_unit_test_setup(empty_name, setup),
	};
	return cmocka_run_group_tests_name("plugin_check", tests, NULL, NULL);
}
