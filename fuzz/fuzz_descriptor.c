/* libFuzzer harness for the plugin descriptor checks (core/plugin_check.c). The input bytes
 * become a descriptor; its pointers are replaced by safe values chosen by the input (NULL, an
 * empty or a real name; NULL or a dummy init/fini; NULL or an ops table filled from the
 * input), since a real loader reads a descriptor from a mapped object, never from thin air.
 * The checks only compare function pointers with NULL, never call them. */
#include "config.h"
#include "plugin_check.h"

#include <string.h>

static int dummy_init(const struct proxyd_host *h, proxyd_plugin *p, void **s)
{
	return 0;
}

static void dummy_fini(void *s)
{
}

union any_ops {
	struct proxyd_transport_ops t;
	struct proxyd_router_ops r;
	struct proxyd_provider_ops p;
	unsigned char bytes[1];
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxyd_plugin_descriptor d;
	static union any_ops ops;
	uint8_t sel = 0, errlen = 0;

	memset(&d, 0, sizeof d);
	memset(&ops, 0, sizeof ops);
	if (size > 0)
		sel = data[0];
	if (size > 1)
		errlen = data[1];
	const uint8_t *rest = size > 2 ? data + 2 : data;
	size_t left = size > 2 ? size - 2 : 0;
	size_t n = left < sizeof d ? left : sizeof d;
	memcpy(&d, rest, n);
	rest += n;
	left -= n;
	memcpy(&ops, rest, left < sizeof ops ? left : sizeof ops);

	static const char *const names[] = {NULL, "", "fuzz"};
	d.name = names[(sel & 3) % 3];
	d.version = (sel & 4) ? "1.0" : NULL;
	d.init = (sel & 8) ? dummy_init : NULL;
	d.fini = (sel & 16) ? dummy_fini : NULL;
	d.ops = (sel & 32) ? &ops : NULL;

	char err[256];
	memset(err, 'X', sizeof err);
	int r = plugin_check_descriptor(&d, err, errlen);
	if (r != 0 && r != -1)
		__builtin_trap();
	/* On failure the message fits errlen and is terminated. */
	if (r == -1 && errlen > 0 && !memchr(err, '\0', errlen))
		__builtin_trap();
	if (r == 0 && (!d.name || !d.name[0] || !d.init || !d.fini || !d.ops))
		__builtin_trap();
	return 0;
}
