/* libFuzzer harness for the /proc/net/tcp{,6} reader (core/proc_tcp.c) that an agent inside a
 * VM reports its listening ports from. Any text: no crash, no read past its length; every
 * listener has a port and flags that fit its address (a wildcard is no loopback); the count
 * does not depend on the room given; the reachable ports are ascending, each once, none 0,
 * none of a loopback-only listener, and a smaller room keeps the smallest of them; a text
 * cut at any line end yields a prefix of the same listeners. */
#include "config.h"
#include "proc_tcp.h"

#include <stdlib.h>
#include <string.h>

#define CHECK(x)                                                                               \
	do {                                                                                   \
		if (!(x))                                                                      \
			__builtin_trap();                                                      \
	} while (0)

#define MAX 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	static struct proc_tcp_listener l[MAX], l2[MAX];
	size_t bad = 0, bad2 = 0;
	size_t n = proc_tcp_parse(text, size, l, MAX, &bad);
	CHECK(proc_tcp_parse(text, size, l2, 1, &bad2) == n && bad2 == bad);
	size_t kept = n < MAX ? n : MAX;
	for (size_t i = 0; i < kept; i++)
		CHECK(!(l[i].wildcard && l[i].loopback));

	uint16_t ports[MAX], few[4];
	size_t np = proc_tcp_reachable_ports(l, kept, ports, MAX);
	CHECK(np <= kept);
	for (size_t i = 0; i < np; i++) {
		CHECK(ports[i] != 0);
		CHECK(i == 0 || ports[i - 1] < ports[i]);
		int from_reachable = 0;
		for (size_t k = 0; k < kept; k++)
			from_reachable |= l[k].port == ports[i] && !l[k].loopback;
		CHECK(from_reachable);
	}
	size_t nf = proc_tcp_reachable_ports(l, kept, few, 4);
	CHECK(nf == (np < 4 ? np : 4));
	CHECK(memcmp(few, ports, nf * sizeof *few) == 0);

	/* Cut after the first line: the listeners found are the first of the whole. */
	const char *nl = memchr(text, '\n', size);
	if (nl) {
		size_t cut = (size_t)(nl - text) + 1;
		size_t m = proc_tcp_parse(text, cut, l2, MAX, NULL);
		CHECK(m <= n && m <= 1);
		if (m == 1 && kept)
			CHECK(memcmp(&l2[0], &l[0], sizeof l[0]) == 0);
	}
	free(text);
	return 0;
}
