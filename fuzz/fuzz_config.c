/* libFuzzer harness for the configuration reader (core/cfg.c over libconfig): parse the input
 * as a configuration text, read a few keys the daemon reads, report the unknown ones, free.
 * Leaks and errors collected for `proxyd -t` are what this looks for. */
#include "config.h"
#include "cfg.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* libconfig follows @include directives relative to the working directory: a fuzzer must not
 * read arbitrary files, and a file including itself recurses. */
static int has_include(const char *text)
{
	for (const char *at = strchr(text, '@'); at; at = strchr(at + 1, '@'))
		if (strncasecmp(at + 1, "include", 7) == 0)
			return 1;
	return 0;
}

static void touch(const proxyd_cfg *node, int depth)
{
	const char *s;
	long long i;
	int b;
	if (!node || depth > 8)
		return;
	(void)cfg_get_string(node, "address", &s);
	(void)cfg_get_int(node, "port", &i);
	(void)cfg_get_bool(node, "default", &b);
	(void)cfg_name(node);
	(void)cfg_line(node);
	int n = cfg_count(node);
	for (int k = 0; k < n && k < 16; k++) {
		const proxyd_cfg *e = cfg_elem(node, k);
		(void)cfg_elem_string(e);
		if (cfg_is_group(e) || cfg_is_list(e))
			touch(e, depth + 1);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (has_include(text)) {
		free(text);
		return 0;
	}
	struct cfg_file f;
	if (cfg_file_load_string(&f, "fuzz.conf", text) == 0) {
		const proxyd_cfg *root = cfg_root(&f);
		touch(cfg_get_child(root, "server"), 0);
		touch(cfg_get_child(root, "agent"), 0);
		cfg_report_unknown(&f);
	}
	cfg_file_fini(&f);
	free(text);
	return 0;
}
