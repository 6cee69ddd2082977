/* libFuzzer harness for the labels file of agent.report_ports (core/port_labels.c), a file a
 * VM's user writes. Any text: no crash, no read past its length; every entry has a port
 * 1..65535, a label of 1..31 of [A-Za-z0-9._-] (what a PORTS message carries) and a port no
 * other entry has; a bad line is reported with a reason and a line number within the text;
 * less room never gives fewer entries (repeats past the room go unnoticed); find() returns
 * each entry's own label. */
#include "config.h"
#include "port_labels.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                               \
	do {                                                                                   \
		if (!(x))                                                                      \
			__builtin_trap();                                                      \
	} while (0)

#define MAX 64

static int label_ok(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > PORT_LABEL_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '.' || s[i] == '_' || s[i] == '-'))
			return 0;
	return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	static struct port_label l[MAX], one[1];
	unsigned bad, bad1;
	const char *why, *why1;
	size_t n = port_labels_parse(text, size, l, MAX, &bad, &why);
	size_t n1 = port_labels_parse(text, size, one, 1, &bad1, &why1);
	/* With less room, a port repeated past it is not seen as a repeat: never fewer. */
	CHECK(n1 >= n || n > MAX);
	if (bad) {
		CHECK(why != NULL);
		size_t lines = 1;
		for (size_t i = 0; i < size; i++)
			lines += text[i] == '\n';
		CHECK(bad <= lines);
	} else {
		CHECK(why == NULL);
	}
	size_t kept = n < MAX ? n : MAX;
	for (size_t i = 0; i < kept; i++) {
		CHECK(l[i].port >= 1);
		CHECK(label_ok(l[i].label));
		CHECK(port_labels_find(l, kept, l[i].port) == l[i].label);
		for (size_t k = 0; k < i; k++)
			CHECK(l[k].port != l[i].port);
	}
	free(text);
	return 0;
}
