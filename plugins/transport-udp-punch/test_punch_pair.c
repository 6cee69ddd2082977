/* test_punch_pair.c: transport-udp-punch end to end in one process over 127.0.0.1, linked
 * from the plugin's objects with a small fake host (configuration through the core's cfg.c,
 * everything else recorded here): a STUN listener (server.listen), two direct attempts that
 * gather candidates from it, exchange them (as the server would), punch, and connect QUIC
 * with mutual TLS (certificates made at start-up by test_quic_certs.c); a stream echoes bytes.
 * Negative cases: the wrong key fails at "punch" within punch_timeout; a peer id the
 * certificate does not carry fails at "identity"; configuration errors; a STUN listener fed
 * garbage still answers. UP_TEST_VERBOSE=1 prints the plugin's log lines. */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "cfg.h"
#include "stun.h"
#include "test_quic_certs.h"
#include "up_plugin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

extern const struct proxyd_plugin_descriptor proxyd_plugin_descriptor;

static struct event_base *base;
static struct test_pki pki;
static void *state;
static const struct proxyd_transport_ops *ops;
static void *listener;
static char stun_addr[64];
static int verbose;

/* ---- the fake core ---- */

struct fake_stream {
	void *st; /* the transport's stream state */
	int echo; /* the accepting side echoes */
	char buf[4096];
	size_t len;
	int fin, reset;
};

struct fake_conn {
	int closed;
	char reason[300];
};

/* One attempt as the core sees it; its address is the proxyd_direct handle. */
struct attempt {
	void *ds;
	int gathered, failed, connected;
	char cands[PROXYD_DIRECT_CANDIDATES_MAX];
	char detail[1024];
	char step[16], reason[600];
	void *conn_state;
	struct fake_conn conn;
	char identity[64];
	uint64_t done_ms;
};

static void fk_vlog(proxyd_plugin *self, int level, uint64_t id, const char *fmt, va_list ap)
	PROXYD_PRINTF(4, 0);
static void fk_vlog(proxyd_plugin *self, int level, uint64_t id, const char *fmt, va_list ap)
{
	if (!verbose)
		return;
	fprintf(stderr, "[%d] conn=%llu ", level, (unsigned long long)id);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

static void fk_log(proxyd_plugin *self, int level, uint64_t id, const char *fmt, ...)
	PROXYD_PRINTF(4, 5);
static void fk_log(proxyd_plugin *self, int level, uint64_t id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fk_vlog(self, level, id, fmt, ap);
	va_end(ap);
}

static uint64_t fk_next_conn_id(void)
{
	static uint64_t id;
	return ++id;
}

static void *fk_event_base(void)
{
	return base;
}

static proxyd_stream *fk_stream_arrived(proxyd_conn *c, void *stream_state)
{
	struct fake_stream *s = calloc(1, sizeof *s);
	s->st = stream_state;
	s->echo = 1;
	return (proxyd_stream *)s;
}

static size_t fk_stream_data(proxyd_stream *st, const void *data, size_t len)
{
	struct fake_stream *s = (struct fake_stream *)st;
	if (s->echo) {
		size_t n = ops->stream_write(s->st, data, len);
		assert_int_equal(n, len); /* small: the send buffer takes it all */
	} else {
		assert_true(s->len + len <= sizeof s->buf);
		memcpy(s->buf + s->len, data, len);
		s->len += len;
	}
	return 65536;
}

static void fk_stream_fin(proxyd_stream *st)
{
	struct fake_stream *s = (struct fake_stream *)st;
	s->fin = 1;
	if (s->echo) {
		ops->stream_shutdown(s->st);
		ops->stream_release(s->st);
		free(s);
	}
}

static void fk_stream_reset_in(proxyd_stream *st, uint32_t code)
{
	((struct fake_stream *)st)->reset = 1;
}

static void fk_stream_writable(proxyd_stream *st)
{
}

static void fk_conn_closed(proxyd_conn *c, uint32_t code, const char *reason)
{
	struct fake_conn *fc = (struct fake_conn *)c;
	fc->closed = 1;
	snprintf(fc->reason, sizeof fc->reason, "%s", reason);
}

static void fk_direct_gathered(proxyd_direct *d, const char *cands, const char *detail)
{
	struct attempt *a = (struct attempt *)d;
	assert_int_equal(a->gathered, 0);
	if (!cands) {
		a->failed = 1;
		snprintf(a->step, sizeof a->step, "bind");
		snprintf(a->reason, sizeof a->reason, "%s", detail);
		return;
	}
	a->gathered = 1;
	snprintf(a->cands, sizeof a->cands, "%s", cands);
	snprintf(a->detail, sizeof a->detail, "%s", detail);
}

static proxyd_conn *fk_direct_connected(proxyd_direct *d, void *conn_state,
					const struct proxyd_peer_info *info)
{
	struct attempt *a = (struct attempt *)d;
	assert_false(a->connected || a->failed);
	a->connected = 1;
	a->conn_state = conn_state;
	a->done_ms = up_now_ms();
	snprintf(a->identity, sizeof a->identity, "%s", info->identity ? info->identity : "");
	return (proxyd_conn *)&a->conn;
}

static void fk_direct_failed(proxyd_direct *d, const char *step, const char *reason)
{
	struct attempt *a = (struct attempt *)d;
	assert_false(a->connected || a->failed);
	a->failed = 1;
	a->done_ms = up_now_ms();
	snprintf(a->step, sizeof a->step, "%s", step);
	snprintf(a->reason, sizeof a->reason, "%s", reason);
	if (verbose)
		fprintf(stderr, "failed at %s: %s\n", step, reason);
}

static const struct proxyd_host host = {
	.size = sizeof(struct proxyd_host),
	.abi_major = PROXYD_ABI_MAJOR,
	.abi_minor = PROXYD_ABI_MINOR,
	.log = fk_log,
	.vlog = fk_vlog,
	.next_conn_id = fk_next_conn_id,
	.cfg_string = cfg_get_string,
	.cfg_int = cfg_get_int,
	.cfg_bool = cfg_get_bool,
	.cfg_child = cfg_get_child,
	.cfg_count = cfg_count,
	.cfg_elem = cfg_elem,
	.cfg_elem_string = cfg_elem_string,
	.cfg_error = cfg_error,
	.cfg_path = cfg_path,
	.event_base = fk_event_base,
	.stream_arrived = fk_stream_arrived,
	.stream_data = fk_stream_data,
	.stream_fin = fk_stream_fin,
	.stream_reset_in = fk_stream_reset_in,
	.stream_writable = fk_stream_writable,
	.conn_closed = fk_conn_closed,
	.cfg_elem_int = cfg_elem_int,
	.direct_gathered = fk_direct_gathered,
	.direct_connected = fk_direct_connected,
	.direct_failed = fk_direct_failed,
};

/* ---- helpers ---- */

static int timed_out;

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	timed_out = 1;
}

#define RUN_UNTIL(cond, ms)                                                      \
	({                                                                       \
		struct timeval tv_ = {(ms) / 1000, ((ms) % 1000) * 1000};        \
		struct event *ev_ = evtimer_new(base, on_deadline, NULL);        \
		timed_out = 0;                                                   \
		evtimer_add(ev_, &tv_);                                          \
		while (!(cond) && !timed_out)                                    \
			event_base_loop(base, EVLOOP_ONCE);                      \
		event_free(ev_);                                                 \
		(cond);                                                          \
	})

/* A configuration whose key "x" is the section under test. */
static const proxyd_cfg *load(struct cfg_file *f, const char *fmt, ...) PROXYD_PRINTF(2, 3);
static const proxyd_cfg *load(struct cfg_file *f, const char *fmt, ...)
{
	char text[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof text, fmt, ap);
	va_end(ap);
	memset(f, 0, sizeof *f);
	assert_int_equal(cfg_file_load_string(f, "t.conf", text), 0);
	const proxyd_cfg *x = cfg_get_child(cfg_root(f), "x");
	assert_non_null(x);
	return x;
}

static int has_error(const struct cfg_file *f, const char *part)
{
	for (int i = 0; i < f->n_errors; i++)
		if (strstr(f->errors[i], part))
			return 1;
	if (verbose)
		for (int i = 0; i < f->n_errors; i++)
			fprintf(stderr, "cfg error: %s\n", f->errors[i]);
	return 0;
}

static void direct_cfg(struct cfg_file *f, const char *bind, const char *crt, const char *key,
		       int punch_timeout)
{
	load(f,
	     "x = { transport = \"udp-punch\"; stun = ( \"%s\" ); bind = \"%s\"; cert = \"%s\";"
	     " key = \"%s\"; ca = \"%s\"; punch_timeout = %d; idle_timeout = 5; };",
	     stun_addr, bind, crt, key, pki.ca, punch_timeout);
}

/* Prepare both sides and wait for their candidates. */
static void gather_pair(struct attempt *a, struct attempt *b, int punch_timeout)
{
	struct cfg_file fa, fb;
	direct_cfg(&fa, "0.0.0.0:0", pki.client_crt, pki.client_key, punch_timeout);
	direct_cfg(&fb, "127.0.0.1:0", pki.agent2_crt, pki.agent2_key, punch_timeout);
	const proxyd_cfg *ca = cfg_get_child(cfg_root(&fa), "x");
	const proxyd_cfg *cb = cfg_get_child(cfg_root(&fb), "x");
	assert_int_equal(ops->check(state, ca, PROXYD_ROLE_DIRECT), 0);
	assert_int_equal(ops->check(state, cb, PROXYD_ROLE_DIRECT), 0);
	assert_int_equal(ops->direct_prepare(state, ca, (proxyd_direct *)a, &a->ds), 0);
	assert_int_equal(ops->direct_prepare(state, cb, (proxyd_direct *)b, &b->ds), 0);
	cfg_file_fini(&fa);
	cfg_file_fini(&fb);
	assert_true(RUN_UNTIL(a->gathered && b->gathered, 3000));
	if (verbose)
		fprintf(stderr, "A: %s (%s)\nB: %s (%s)\n", a->cands, a->detail, b->cands,
			b->detail);
}

static void start_pair(struct attempt *a, struct attempt *b, const uint8_t *ka, const uint8_t *kb,
		       const char *a_expects, const char *b_expects, uint32_t timeout)
{
	struct proxyd_direct_attempt x = {
		.size = sizeof x, .id = 77, .key = ka, .peer_id = a_expects,
		.peer_candidates = b->cands, .initiator = 1, .punch_timeout_ms = timeout,
	};
	struct proxyd_direct_attempt y = {
		.size = sizeof y, .id = 77, .key = kb, .peer_id = b_expects,
		.peer_candidates = a->cands, .initiator = 0, .punch_timeout_ms = timeout,
	};
	assert_int_equal(ops->direct_start(a->ds, &x), 0);
	assert_int_equal(ops->direct_start(b->ds, &y), 0);
}

static const uint8_t key1[32] = {0x11, 0x22, 0x33, 0x44, [31] = 0x99};
static const uint8_t key2[32] = {0x55, [31] = 0x66};

/* ---- tests ---- */

static void test_pair_echo(void **unused)
{
	struct attempt a = {0}, b = {0};
	gather_pair(&a, &b, 3000);
	/* A (wildcard) has its interface addresses, loopback among them as the STUN server is on
	 * loopback; B (bound to 127.0.0.1) only that, and STUN saw the same: deduplicated */
	assert_non_null(strstr(a.cands, "host 127.0.0.1:"));
	assert_non_null(strstr(b.cands, "host 127.0.0.1:"));
	assert_null(strchr(b.cands, ','));
	assert_non_null(strstr(a.detail, " -> 127.0.0.1:"));
	uint64_t t0 = up_now_ms();
	start_pair(&a, &b, key1, key1, "agent-2", "agent-1", 3000);
	assert_true(RUN_UNTIL((a.connected || a.failed) && (b.connected || b.failed), 8000));
	if (a.failed || b.failed)
		fail_msg("A: %s %s / B: %s %s", a.step, a.reason, b.step, b.reason);
	assert_string_equal(a.identity, "agent-2");
	assert_string_equal(b.identity, "agent-1");
	assert_true(a.done_ms - t0 < 3000);

	struct proxyd_conn_stats st = {.size = sizeof st};
	assert_int_equal(ops->conn_stats(a.conn_state, &st), 0);
	assert_non_null(strstr(st.path, "direct udp "));
	assert_non_null(strstr(st.path, " <-> 127.0.0.1:"));

	/* A opens a stream, B's core echoes it */
	struct fake_stream s = {0};
	assert_int_equal(ops->stream_open(a.conn_state, (proxyd_stream *)&s, &s.st), 0);
	const char msg[] = "hello over a punched path";
	assert_int_equal(ops->stream_write(s.st, msg, sizeof msg), sizeof msg);
	ops->stream_shutdown(s.st);
	assert_true(RUN_UNTIL(s.fin || s.reset, 3000));
	assert_false(s.reset);
	assert_int_equal(s.len, sizeof msg);
	assert_memory_equal(s.buf, msg, sizeof msg);
	ops->stream_release(s.st);

	/* A closes: B's core hears of it */
	ops->conn_close(a.conn_state, 0, "test over");
	assert_true(RUN_UNTIL(b.conn.closed, 3000));
	assert_non_null(strstr(b.conn.reason, "test over"));
	RUN_UNTIL(0, 50);
}

static void test_wrong_key(void **unused)
{
	struct attempt a = {0}, b = {0};
	gather_pair(&a, &b, 3000);
	uint64_t t0 = up_now_ms();
	start_pair(&a, &b, key1, key2, "agent-2", "agent-1", 500);
	assert_true(RUN_UNTIL(a.failed && b.failed, 3000));
	assert_string_equal(a.step, "punch");
	assert_string_equal(b.step, "punch");
	assert_non_null(strstr(a.reason, "no authenticated punch from any of"));
	assert_non_null(strstr(a.reason, "in 500 ms"));
	assert_non_null(strstr(a.reason, "wrong HMAC"));
	/* punch_timeout, not earlier (libevent's timers run on CLOCK_MONOTONIC_COARSE, a few ms
	 * off ours), and not much later (a loaded machine runs tests in parallel) */
	uint64_t took = a.done_ms - t0;
	if (took < 490 || took > 2000)
		fail_msg("failed after %llu ms, punch_timeout 500", (unsigned long long)took);
}

static void test_wrong_identity(void **unused)
{
	struct attempt a = {0}, b = {0};
	gather_pair(&a, &b, 3000);
	/* A expects agent-9 where agent-2 answers */
	start_pair(&a, &b, key1, key1, "agent-9", "agent-1", 3000);
	assert_true(RUN_UNTIL(a.failed, 8000));
	assert_string_equal(a.step, "identity");
	assert_non_null(strstr(a.reason, "agent-2"));
	assert_non_null(strstr(a.reason, "agent-9"));
	/* B accepted agent-1 and sees the connection end, or fails its handshake */
	assert_true(RUN_UNTIL(b.failed || (b.connected && b.conn.closed), 8000));
	RUN_UNTIL(0, 50);
}

static void test_cancel(void **unused)
{
	struct attempt a = {0}, b = {0};
	gather_pair(&a, &b, 3000);
	start_pair(&a, &b, key1, key2, "agent-2", "agent-1", 3000);
	RUN_UNTIL(0, 120);
	ops->direct_cancel(a.ds);
	ops->direct_cancel(b.ds);
	RUN_UNTIL(0, 100);
	assert_false(a.failed || a.connected || b.failed || b.connected);
}

static void test_check_errors(void **unused)
{
	struct cfg_file f;
	const proxyd_cfg *x = load(&f, "x = { transport = \"udp-punch\"; address = \"1.2.3.4:3478\"; };");
	assert_int_not_equal(ops->check(state, x, PROXYD_ROLE_AGENT), 0);
	assert_true(has_error(&f, "udp-punch is for agent.direct and server.listen, not agent.servers"));
	cfg_file_fini(&f);

	x = load(&f, "x = { transport = \"udp-punch\"; };");
	assert_int_not_equal(ops->check(state, x, PROXYD_ROLE_SERVER), 0);
	assert_true(has_error(&f, "address: required"));
	cfg_file_fini(&f);

	x = load(&f, "x = { transport = \"udp-punch\"; address = \"stun.example:3478\"; };");
	assert_int_not_equal(ops->check(state, x, PROXYD_ROLE_SERVER), 0);
	assert_true(has_error(&f, "names are not resolved"));
	cfg_file_fini(&f);

	x = load(&f, "x = { transport = \"udp-punch\"; stun = ( \"1.2.3.4\" ); key = \"%s\"; "
		     "ca = \"/nonexistent/ca.pem\"; bind = \"0.0.0.0:99999\"; };",
		 pki.client_key);
	assert_int_not_equal(ops->check(state, x, PROXYD_ROLE_DIRECT), 0);
	assert_true(has_error(&f, "cert: required"));
	assert_true(has_error(&f, "stun: expected \"ip:port\""));
	assert_true(has_error(&f, "bind: expected"));
	cfg_file_fini(&f);

	x = load(&f, "x = { transport = \"udp-punch\"; cert = \"%s\"; key = \"%s\"; "
		     "ca = \"/nonexistent/ca.pem\"; };",
		 pki.client_crt, pki.client_key);
	assert_int_not_equal(ops->check(state, x, PROXYD_ROLE_DIRECT), 0);
	assert_true(has_error(&f, "ca: cannot open /nonexistent/ca.pem"));
	cfg_file_fini(&f);

	/* a key that is not the certificate's */
	x = load(&f, "x = { transport = \"udp-punch\"; cert = \"%s\"; key = \"%s\"; ca = \"%s\"; };",
		 pki.client_crt, pki.agent2_key, pki.ca);
	assert_int_not_equal(ops->check(state, x, PROXYD_ROLE_DIRECT), 0);
	assert_true(has_error(&f, "cert: "));
	cfg_file_fini(&f);
}

static void test_stun_listener(void **unused)
{
	/* any STUN client: a plain socket; garbage first, then a real request */
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
	struct sockaddr_in me = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	assert_int_equal(bind(fd, (struct sockaddr *)&me, sizeof me), 0);
	socklen_t ml = sizeof me;
	getsockname(fd, (struct sockaddr *)&me, &ml);
	struct sockaddr_storage srv;
	socklen_t sl;
	assert_int_equal(up_stun_server_addr(listener, &srv, &sl), 0);
	uint8_t junk[64];
	memset(junk, 0xa5, sizeof junk);
	sendto(fd, junk, sizeof junk, 0, (struct sockaddr *)&srv, sl);
	uint8_t trunc[8] = {0, 1, 0, 8, 0x21, 0x12, 0xa4, 0x42};
	sendto(fd, trunc, sizeof trunc, 0, (struct sockaddr *)&srv, sl);
	const uint8_t txid[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	uint8_t req[STUN_MSG_MAX];
	size_t n = stun_encode_binding_request(req, sizeof req, txid, 1);
	sendto(fd, req, n, 0, (struct sockaddr *)&srv, sl);
	uint8_t resp[512];
	ssize_t got = -1;
	/* the macro tests its condition once more at the end: keep the first answer */
	RUN_UNTIL(got > 0 || (got = recv(fd, resp, sizeof resp, 0)) > 0, 2000);
	assert_true(got > 0);
	struct stun_msg m;
	const char *why = NULL;
	assert_int_equal(stun_decode(resp, (size_t)got, &m, &why), 0);
	assert_int_equal(m.type, STUN_BINDING_SUCCESS);
	assert_memory_equal(m.txid, txid, 12);
	assert_true(m.has_fingerprint && m.has_xor_mapped && m.has_mapped);
	assert_int_equal(m.xor_mapped.port, ntohs(me.sin_port));
	assert_memory_equal(m.xor_mapped.ip, &me.sin_addr, 4);
	/* nothing else came back (the garbage got no answer) */
	RUN_UNTIL(0, 50);
	assert_true(recv(fd, resp, sizeof resp, 0) < 0);
	close(fd);
}

static int setup(void **unused)
{
	verbose = getenv("UP_TEST_VERBOSE") != NULL;
	base = event_base_new();
	if (!base || test_pki_make(&pki) != 0)
		return -1;
	if (proxyd_plugin_descriptor.init(&host, (proxyd_plugin *)&host, &state) != 0)
		return -1;
	ops = proxyd_plugin_descriptor.ops;
	struct cfg_file f;
	const proxyd_cfg *x = load(&f, "x = { transport = \"udp-punch\"; address = \"127.0.0.1:0\"; };");
	if (ops->check(state, x, PROXYD_ROLE_SERVER) != 0 ||
	    ops->listen(state, x, NULL, &listener) != 0)
		return -1;
	cfg_file_fini(&f);
	struct sockaddr_storage ss;
	socklen_t len;
	if (up_stun_server_addr(listener, &ss, &len) != 0)
		return -1;
	snprintf(stun_addr, sizeof stun_addr, "127.0.0.1:%u",
		 (unsigned)ntohs(((struct sockaddr_in *)&ss)->sin_port));
	return 0;
}

static int teardown(void **unused)
{
	ops->unlisten(listener);
	proxyd_plugin_descriptor.fini(state);
	test_pki_remove(&pki);
	event_base_free(base);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_check_errors),
		cmocka_unit_test(test_stun_listener),
		cmocka_unit_test(test_pair_echo),
		cmocka_unit_test(test_wrong_key),
		cmocka_unit_test(test_wrong_identity),
		cmocka_unit_test(test_cancel),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
