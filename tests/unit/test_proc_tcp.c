/* core/proc_tcp.c: which ports /proc/net/tcp{,6} says are listening, and which of them other
 * hosts can reach. The sample lines are made the way the kernel prints them (each 32-bit word
 * of an address as a number in the host's byte order), so the test holds on any host; one
 * test reads the kernel's own file with two sockets of its own listening. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "config.h"
#include "proc_tcp.h"

#define HEADER4 "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
#define HEADER6 "  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n"
#define TAIL " 00000000:00000000 00:00000000 00000000  1000        0 12345 1 0000000000000000 100 0 0 10 0\n"

/* One /proc/net/tcp line: ip:port -> 0.0.0.0:0 in state st. */
static char *line4(char *out, size_t cap, int slot, const char *ip, unsigned port, unsigned st)
{
	struct in_addr a;
	assert_int_equal(inet_pton(AF_INET, ip, &a), 1);
	uint32_t w;
	memcpy(&w, &a, 4);
	snprintf(out, cap, "%4d: %08X:%04X 00000000:0000 %02X" TAIL, slot, w, port, st);
	return out;
}

static char *line6(char *out, size_t cap, int slot, const char *ip, unsigned port, unsigned st)
{
	struct in6_addr a;
	assert_int_equal(inet_pton(AF_INET6, ip, &a), 1);
	uint32_t w[4];
	memcpy(w, &a, 16);
	snprintf(out, cap,
		 "%4d: %08X%08X%08X%08X:%04X 00000000000000000000000000000000:0000 %02X" TAIL, slot,
		 w[0], w[1], w[2], w[3], port, st);
	return out;
}

static void listeners_of_both_families(void **state)
{
	char text[4096], l[4][300];
	snprintf(text, sizeof text, HEADER4 "%s%s%s" HEADER6 "%s",
		 line4(l[0], 300, 0, "0.0.0.0", 8080, 0x0A),
		 line4(l[1], 300, 1, "127.0.0.1", 4000, 0x0A),
		 line4(l[2], 300, 2, "172.30.0.2", 44321, 0x01), /* ESTABLISHED */
		 line6(l[3], 300, 0, "::", 3000, 0x0A));
	struct proc_tcp_listener out[8];
	size_t bad = 99;
	size_t n = proc_tcp_parse(text, strlen(text), out, 8, &bad);
	assert_int_equal(n, 3);
	assert_int_equal(bad, 0);
	assert_int_equal(out[0].port, 8080);
	assert_true(out[0].wildcard);
	assert_false(out[0].loopback);
	assert_false(out[0].v6);
	assert_int_equal(out[1].port, 4000);
	assert_true(out[1].loopback);
	assert_int_equal(out[2].port, 3000);
	assert_true(out[2].v6 && out[2].wildcard);
	/* IPv4 is kept as ::ffff:a.b.c.d */
	static const uint8_t lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
	assert_memory_equal(out[1].addr, lo, 16);
}

static void loopback_of_each_kind(void **state)
{
	char text[2048], l[4][300];
	snprintf(text, sizeof text, "%s%s%s%s", line4(l[0], 300, 0, "127.0.0.53", 53, 0x0A),
		 line6(l[1], 300, 1, "::1", 631, 0x0A),
		 line6(l[2], 300, 2, "::ffff:127.0.0.1", 5432, 0x0A),
		 line6(l[3], 300, 3, "fd00::2", 9000, 0x0A));
	struct proc_tcp_listener out[4];
	assert_int_equal(proc_tcp_parse(text, strlen(text), out, 4, NULL), 4);
	assert_true(out[0].loopback);
	assert_true(out[1].loopback);
	assert_true(out[2].loopback);
	assert_false(out[3].loopback || out[3].wildcard);
	uint16_t ports[4];
	assert_int_equal(proc_tcp_reachable_ports(out, 4, ports, 4), 1);
	assert_int_equal(ports[0], 9000);
}

static void reachable_ports_sorted_once(void **state)
{
	char text[4096], l[6][300];
	snprintf(text, sizeof text, "%s%s%s%s%s%s", line4(l[0], 300, 0, "0.0.0.0", 8080, 0x0A),
		 line6(l[1], 300, 0, "::", 8080, 0x0A), line4(l[2], 300, 1, "10.0.0.5", 22, 0x0A),
		 line4(l[3], 300, 2, "127.0.0.1", 4000, 0x0A),
		 line4(l[4], 300, 3, "0.0.0.0", 3000, 0x0A),
		 line4(l[5], 300, 4, "0.0.0.0", 1, 0x06)); /* TIME_WAIT */
	struct proc_tcp_listener out[8];
	size_t n = proc_tcp_parse(text, strlen(text), out, 8, NULL);
	assert_int_equal(n, 5);
	uint16_t ports[8];
	assert_int_equal(proc_tcp_reachable_ports(out, n, ports, 8), 3);
	assert_int_equal(ports[0], 22);
	assert_int_equal(ports[1], 3000);
	assert_int_equal(ports[2], 8080);
	/* Room for two: the smallest stay. */
	assert_int_equal(proc_tcp_reachable_ports(out, n, ports, 2), 2);
	assert_int_equal(ports[0], 22);
	assert_int_equal(ports[1], 3000);
	assert_int_equal(proc_tcp_reachable_ports(out, n, ports, 0), 0);
}

static void more_than_max_is_counted(void **state)
{
	char text[8192] = "", l[300];
	for (int i = 0; i < 10; i++)
		strcat(text, line4(l, sizeof l, i, "0.0.0.0", 1000 + (unsigned)i, 0x0A));
	struct proc_tcp_listener out[4];
	memset(out, 0xAA, sizeof out);
	assert_int_equal(proc_tcp_parse(text, strlen(text), out, 3, NULL), 10);
	assert_int_equal(out[2].port, 1002);
	assert_int_equal(out[3].port, 0xAAAA); /* untouched */
}

static void malformed_entries(void **state)
{
	static const char *const bad[] = {
		"   0: 0100007F:0CEA 00000000:0000\n",                /* no state */
		"   0: 0100007:0CEA 00000000:0000 0A\n",              /* 7 digits */
		"   0: 0100007F:CEA 00000000:0000 0A\n",              /* 3-digit port */
		"   0: 0100007F:0CEAA 00000000:0000 0A\n",            /* 5-digit port */
		"   0: 0100007G:0CEA 00000000:0000 0A\n",             /* not hex */
		"   0: 0100007F:0CEA 00000000000000000000000000000000:0000 0A\n", /* mixed */
		"   0: 0100007F:0CEA 00000000:0000 0A0\n",            /* 3-digit state */
		"   0:0100007F:0CEA 00000000:0000 0A\n",              /* no blank after the slot */
		"   0: 0100007F:0CEA 00000000:0000 0",                /* cut off */
	};
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		struct proc_tcp_listener out[2];
		size_t nbad = 0;
		if (proc_tcp_parse(bad[i], strlen(bad[i]), out, 2, &nbad) != 0 || nbad != 1)
			fail_msg("case %zu (%s): expected no listener and 1 bad line, got bad %zu", i, bad[i],
				 nbad);
	}
	/* Lines that are not entries at all are not bad. */
	const char *other = HEADER4 "\n\nnonsense\n  x: y\n";
	size_t nbad = 9;
	struct proc_tcp_listener out[2];
	assert_int_equal(proc_tcp_parse(other, strlen(other), out, 2, &nbad), 0);
	assert_int_equal(nbad, 0);
	/* Lower-case hex is read too, and the length bounds the text: no NUL needed. */
	const char lc[] = "   0: 0100007f:0cea 00000000:0000 0a XXXX";
	assert_int_equal(proc_tcp_parse(lc, sizeof lc - 6, out, 2, &nbad), 1);
	assert_int_equal(out[0].port, 0x0CEA);
}

static unsigned listen_on(const char *ip, int *fd)
{
	struct sockaddr_in sa = {.sin_family = AF_INET};
	inet_pton(AF_INET, ip, &sa.sin_addr);
	*fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*fd >= 0);
	assert_int_equal(bind(*fd, (struct sockaddr *)&sa, sizeof sa), 0);
	assert_int_equal(listen(*fd, 1), 0);
	socklen_t len = sizeof sa;
	getsockname(*fd, (struct sockaddr *)&sa, &len);
	return ntohs(sa.sin_port);
}

/* The kernel's own file, with two listeners of ours in it. */
static void the_kernels_file(void **state)
{
	int fd_any, fd_lo;
	unsigned p_any = listen_on("0.0.0.0", &fd_any), p_lo = listen_on("127.0.0.1", &fd_lo);
	FILE *f = fopen("/proc/net/tcp", "r");
	if (!f) {
		close(fd_any);
		close(fd_lo);
		skip();
	}
	static char text[1 << 20];
	size_t len = fread(text, 1, sizeof text, f);
	fclose(f);
	static struct proc_tcp_listener out[4096];
	size_t bad = 1;
	size_t n = proc_tcp_parse(text, len, out, 4096, &bad);
	assert_int_equal(bad, 0);
	int seen_any = 0, seen_lo = 0;
	for (size_t i = 0; i < n && i < 4096; i++) {
		seen_any |= out[i].port == p_any && out[i].wildcard;
		seen_lo |= out[i].port == p_lo && out[i].loopback;
	}
	assert_true(seen_any && seen_lo);
	static uint16_t ports[4096];
	size_t np = proc_tcp_reachable_ports(out, n < 4096 ? n : 4096, ports, 4096);
	int reach_any = 0, reach_lo = 0;
	for (size_t i = 0; i < np; i++) {
		reach_any |= ports[i] == p_any;
		reach_lo |= ports[i] == p_lo;
	}
	assert_true(reach_any);
	assert_false(reach_lo);
	close(fd_any);
	close(fd_lo);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(listeners_of_both_families),
		cmocka_unit_test(loopback_of_each_kind),
		cmocka_unit_test(reachable_ports_sorted_once),
		cmocka_unit_test(more_than_max_is_counted),
		cmocka_unit_test(malformed_entries),
		cmocka_unit_test(the_kernels_file),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
