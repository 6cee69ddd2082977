/* test_quic_engine.c: the QUIC engine end to end. A server endpoint and client endpoints run
 * in this one process on one event_base over 127.0.0.1, with certificates made at start-up
 * (test_quic_certs.c) and removed at the end.
 *
 * The server side is an echo service with two special openings: a stream whose first bytes
 * are "RST!" is reset by the server (code 0x22), and one starting with "SINK" is read and
 * dropped, answered by a FIN at its end (for the benchmark).
 *
 * QUIC_BENCH=1 runs the measurements instead of the tests: median handshake time over 200
 * handshakes, single-stream upload MB/s and CPU seconds per GiB (both ends are in this
 * process, so the CPU figure is sender plus receiver), for cubic and bbr. */
#include "config.h"
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "quic_engine.h"
#include "test_quic_certs.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static struct event_base *base;
static struct test_pki pki;
static struct quic_endpoint *server;
static struct sockaddr_in server_addr;

/* ---- helpers ---- */

static int timed_out;

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	timed_out = 1;
}

/* Runs the loop until cond holds or ms pass; evaluates to cond. */
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

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static uint64_t splitmix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The payload: byte i of stream seed is a pure function of (seed, i). */
static void gen(uint64_t seed, uint64_t off, uint8_t *buf, size_t n)
{
	for (size_t i = 0; i < n;) {
		uint64_t o = off + i, w = splitmix(seed ^ (o >> 3) * 0x100000001b3ull);
		for (unsigned b = (unsigned)(o & 7); b < 8 && i < n; b++, i++)
			buf[i] = (uint8_t)(w >> (b * 8));
	}
}

static uint64_t fnv(uint64_t h, const uint8_t *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ p[i]) * 1099511628211ull;
	return h;
}

/* ---- the server: echo ---- */

struct echo {
	struct evbuffer *pend;
	int mode; /* 0 unknown, 1 echo, 2 sink */
	int fin;
};

static struct {
	int conns, ready, closed, path_changes;
	char identity[64];
	struct quic_conn *last;
	struct quic_close_info last_close;
	uint64_t reset_code;
	int resets, stream_closes;
} srv;

static void echo_pump(struct quic_stream *s)
{
	struct echo *e = quic_stream_user(s);
	uint8_t buf[65536];
	for (;;) {
		size_t pl = evbuffer_get_length(e->pend);
		if (pl) {
			size_t n = pl < sizeof buf ? pl : sizeof buf;
			evbuffer_copyout(e->pend, buf, n);
			ssize_t w = quic_stream_write(s, buf, n);
			if (w <= 0)
				return; /* stream_writable resumes */
			evbuffer_drain(e->pend, (size_t)w);
			if ((size_t)w < n)
				return;
			continue;
		}
		ssize_t n = quic_stream_read(s, buf, sizeof buf);
		if (n <= 0)
			break;
		if (e->mode == 0) {
			if (n >= 4 && memcmp(buf, "RST!", 4) == 0) {
				quic_stream_reset(s, 0x22);
				return;
			}
			e->mode = n >= 4 && memcmp(buf, "SINK", 4) == 0 ? 2 : 1;
		}
		if (e->mode == 1)
			evbuffer_add(e->pend, buf, (size_t)n);
	}
	if (quic_stream_eof(s) && evbuffer_get_length(e->pend) == 0 && !e->fin) {
		e->fin = 1;
		quic_stream_shutdown(s);
	}
}

static void srv_conn_new(struct quic_conn *c, void *arg)
{
	srv.conns++;
}

static void srv_conn_ready(struct quic_conn *c, void *arg)
{
	srv.ready++;
	srv.last = c;
	snprintf(srv.identity, sizeof srv.identity, "%s",
		 quic_conn_peer_identity(c) ? quic_conn_peer_identity(c) : "(none)");
}

static void srv_conn_closed(struct quic_conn *c, const struct quic_close_info *info, void *arg)
{
	srv.closed++;
	srv.last_close = *info;
	if (srv.last == c)
		srv.last = NULL;
}

static void srv_stream_opened(struct quic_stream *s, void *arg)
{
	struct echo *e = calloc(1, sizeof *e);
	e->pend = evbuffer_new();
	quic_stream_set_user(s, e);
}

static void srv_stream_io(struct quic_stream *s, void *arg)
{
	echo_pump(s);
}

static void srv_stream_reset(struct quic_stream *s, enum quic_dir dir, uint64_t code, void *arg)
{
	srv.resets++;
	srv.reset_code = code;
}

static void srv_stream_closed(struct quic_stream *s, uint64_t code, void *arg)
{
	struct echo *e = quic_stream_user(s);
	srv.stream_closes++;
	if (e) {
		evbuffer_free(e->pend);
		free(e);
	}
}

static void srv_path_changed(struct quic_conn *c, int ok, void *arg)
{
	if (ok)
		srv.path_changes++;
}

static const struct quic_callbacks srv_cb = {
	.conn_new = srv_conn_new,
	.conn_ready = srv_conn_ready,
	.conn_closed = srv_conn_closed,
	.stream_opened = srv_stream_opened,
	.stream_readable = srv_stream_io,
	.stream_writable = srv_stream_io,
	.stream_reset = srv_stream_reset,
	.stream_closed = srv_stream_closed,
	.path_changed = srv_path_changed,
};

/* ---- clients ---- */

struct xfer {
	struct quic_stream *s;
	uint64_t seed, total, sent, recvd, hash_tx, hash_rx;
	const char *prefix; /* sent first ("RST!", "SINK") */
	int fin_sent, eof, closed, bad, resets;
	int raw; /* benchmark: send a constant buffer, neither generated nor hashed */
	int stall; /* never read what arrives (a stalled reader) */
	uint64_t close_code, reset_code;
};

struct client {
	struct quic_endpoint *ep;
	struct quic_conn *conn;
	int ready, closed, path_events, path_ok;
	struct quic_close_info close;
};

static void xfer_pump(struct xfer *x)
{
	uint8_t buf[65536];
	while (x->s && !x->closed && x->sent < x->total) {
		size_t n = x->total - x->sent < sizeof buf ? (size_t)(x->total - x->sent) : sizeof buf;
		size_t plen = x->prefix ? strlen(x->prefix) : 0;
		if (x->raw) {
			static uint8_t zero[65536];
			const uint8_t *src = x->sent == 0 ? (const uint8_t *)x->prefix : zero;
			ssize_t w = quic_stream_write(x->s, src, x->sent == 0 ? plen : n);
			if (w <= 0)
				return;
			x->sent += (uint64_t)w;
			continue;
		}
		gen(x->seed, x->sent, buf, n);
		if (x->sent < plen) /* the prefix replaces the first bytes */
			memcpy(buf, x->prefix + x->sent, plen - x->sent < n ? plen - x->sent : n);
		ssize_t w = quic_stream_write(x->s, buf, n);
		if (w <= 0)
			return;
		x->hash_tx = fnv(x->hash_tx, buf, (size_t)w);
		x->sent += (uint64_t)w;
		if ((size_t)w < n)
			return;
	}
	if (x->s && !x->closed && x->sent == x->total && !x->fin_sent) {
		x->fin_sent = 1;
		quic_stream_shutdown(x->s);
	}
}

static void cl_conn_ready(struct quic_conn *c, void *arg)
{
	struct client *cl = arg;
	cl->ready = 1;
}

static void cl_conn_closed(struct quic_conn *c, const struct quic_close_info *info, void *arg)
{
	struct client *cl = arg;
	cl->closed = 1;
	cl->close = *info;
	cl->conn = NULL;
}

static void cl_readable(struct quic_stream *s, void *arg)
{
	struct xfer *x = quic_stream_user(s);
	uint8_t buf[65536], want[65536];
	ssize_t n;
	if (x->stall)
		return;
	while ((n = quic_stream_read(s, buf, sizeof buf)) > 0) {
		x->hash_rx = fnv(x->hash_rx, buf, (size_t)n);
		if (!x->prefix) {
			gen(x->seed, x->recvd, want, (size_t)n);
			if (memcmp(buf, want, (size_t)n) != 0)
				x->bad = 1;
		}
		x->recvd += (uint64_t)n;
	}
	if (quic_stream_eof(s))
		x->eof = 1;
}

static void cl_writable(struct quic_stream *s, void *arg)
{
	xfer_pump(quic_stream_user(s));
}

static void cl_reset(struct quic_stream *s, enum quic_dir dir, uint64_t code, void *arg)
{
	struct xfer *x = quic_stream_user(s);
	x->resets++;
	x->reset_code = code;
}

static void cl_closed(struct quic_stream *s, uint64_t code, void *arg)
{
	struct xfer *x = quic_stream_user(s);
	x->closed = 1;
	x->close_code = code;
	x->s = NULL;
}

static void cl_path(struct quic_conn *c, int ok, void *arg)
{
	struct client *cl = arg;
	cl->path_events++;
	cl->path_ok = ok;
}

static const struct quic_callbacks cl_cb = {
	.conn_ready = cl_conn_ready,
	.conn_closed = cl_conn_closed,
	.stream_readable = cl_readable,
	.stream_writable = cl_writable,
	.stream_reset = cl_reset,
	.stream_closed = cl_closed,
	.path_changed = cl_path,
};

static void client_cfg(struct quic_config *cfg)
{
	quic_config_default(cfg);
	cfg->role = QUIC_CLIENT;
	cfg->ca_file = pki.ca;
	cfg->cert_file = pki.client_crt;
	cfg->key_file = pki.client_key;
	cfg->server_name = "localhost";
}

static void client_start_to(struct client *cl, const struct quic_config *cfg,
			    const struct sockaddr_in *to)
{
	char err[256];
	memset(cl, 0, sizeof *cl);
	int rv = quic_endpoint_new(base, cfg, &cl_cb, cl, &cl->ep, err, sizeof err);
	if (rv < 0)
		fail_msg("client endpoint: %s", err);
	assert_int_equal(quic_endpoint_connect(cl->ep, (const struct sockaddr *)to, sizeof *to,
					       NULL, &cl->conn),
			 0);
}

static void client_start(struct client *cl, const struct quic_config *cfg)
{
	client_start_to(cl, cfg, &server_addr);
}

static void client_stop(struct client *cl)
{
	if (cl->conn && !cl->closed) {
		quic_conn_close(cl->conn, 0, "test done");
		RUN_UNTIL(cl->closed, 2000);
	}
	quic_endpoint_free(cl->ep);
	cl->ep = NULL;
}

/* A connected client with the default (good) certificate. */
static void client_connect(struct client *cl)
{
	struct quic_config cfg;
	client_cfg(&cfg);
	client_start(cl, &cfg);
	assert_true(RUN_UNTIL(cl->ready || cl->closed, 5000));
	if (!cl->ready)
		fail_msg("handshake failed: %s", cl->close.reason);
}

static void xfer_start(struct client *cl, struct xfer *x, uint64_t seed, uint64_t total)
{
	memset(x, 0, sizeof *x);
	x->seed = seed;
	x->total = total;
	x->hash_tx = x->hash_rx = 1469598103934665603ull;
	assert_int_equal(quic_stream_open(cl->conn, x, &x->s), 0);
	xfer_pump(x);
}

/* ---- tests ---- */

static void handshake_mtls_identity(void **state)
{
	struct client cl;
	int ready0 = srv.ready;
	client_connect(&cl);
	assert_true(RUN_UNTIL(srv.ready > ready0, 2000));
	assert_string_equal(srv.identity, "agent-1");
	assert_string_equal(quic_conn_peer_identity(cl.conn), "localhost");
	struct quic_conn_stats st;
	quic_conn_get_stats(cl.conn, &st);
	printf("  handshake (to confirmed): %.2f ms, rtt %llu us, %s\n", st.handshake_us / 1000.0,
	       (unsigned long long)st.rtt_us, quic_conn_security(cl.conn));
	client_stop(&cl);
}

/* A client that the server (or that itself) refuses: both sides say why. */
static void refused(const char *what, struct quic_config *cfg, const char *client_says,
		    const char *server_says)
{
	struct client cl;
	int closed0 = srv.closed, ready0 = srv.ready;
	client_start(&cl, cfg);
	assert_true(RUN_UNTIL(cl.closed, 5000));
	assert_false(cl.ready);
	assert_int_equal(cl.close.kind, QUIC_CLOSE_HANDSHAKE);
	/* only an ALPN mismatch is not about a certificate */
	assert_int_equal(cl.close.cert_refused, strstr(what, "ALPN") == NULL);
	printf("  %s:\n    client: %s\n", what, cl.close.reason);
	if (!strstr(cl.close.reason, client_says))
		fail_msg("client reason lacks \"%s\"", client_says);
	/* the server's side of this connection ends too (its reason is checked when given) */
	assert_true(RUN_UNTIL(srv.closed > closed0, 2000));
	if (server_says) {
		printf("    server: %s\n", srv.last_close.reason);
		assert_int_equal(srv.last_close.kind, QUIC_CLOSE_HANDSHAKE);
		if (!strstr(srv.last_close.reason, server_says))
			fail_msg("server reason lacks \"%s\"", server_says);
	}
	assert_int_equal(srv.ready, ready0);
	client_stop(&cl);
}

static void no_client_cert_refused(void **state)
{
	struct quic_config cfg;
	client_cfg(&cfg);
	cfg.cert_file = cfg.key_file = NULL;
	refused("no client certificate", &cfg, "requires a client certificate",
		"presented no certificate");
}

static void other_failures_explained(void **state)
{
	struct quic_config cfg;
	client_cfg(&cfg);
	cfg.cert_file = pki.rogue_crt;
	cfg.key_file = pki.rogue_key;
	refused("client certificate from another CA", &cfg, "does not accept our certificate",
		"unable to get local issuer certificate (the client's certificate)");

	client_cfg(&cfg);
	cfg.cert_file = pki.expired_crt;
	cfg.key_file = pki.expired_key;
	refused("expired client certificate", &cfg, "refused by the server",
		"certificate has expired");

	client_cfg(&cfg);
	cfg.ca_file = pki.other_ca;
	refused("server certificate from an unknown CA", &cfg,
		"certificate verify failed: unable to get local issuer certificate (the server's",
		NULL);

	client_cfg(&cfg);
	cfg.server_name = "not-the-server.example";
	refused("server name mismatch", &cfg, "hostname mismatch (the server's certificate, "
		"expected 'not-the-server.example')", NULL);

	client_cfg(&cfg);
	cfg.alpn = "other/9";
	refused("ALPN mismatch", &cfg, "ALPN", "ALPN");
}

/* A server that asks for no client certificate (proxyd authenticates such agents with a
 * token in its control protocol): clients with and without one are accepted, neither gets an
 * identity. A reconfiguration that requires certificates applies to new connections only. */
static void no_client_cert_mode(void **state)
{
	struct quic_config scfg, cfg;
	struct quic_endpoint *open_srv;
	struct sockaddr_in addr;
	struct sockaddr_storage ss;
	socklen_t len;
	char err[256];
	const char *which;
	quic_config_default(&scfg);
	scfg.role = QUIC_SERVER;
	scfg.cert_file = pki.server_crt;
	scfg.key_file = pki.server_key;
	scfg.no_client_cert = 1; /* and no ca_file: nothing to verify */
	assert_int_equal(quic_config_check(&scfg, &which, err, sizeof err), 0);
	if (quic_endpoint_new(base, &scfg, &srv_cb, NULL, &open_srv, err, sizeof err) < 0)
		fail_msg("server endpoint: %s", err);
	memset(&addr, 0, sizeof addr);
	addr.sin_family = AF_INET;
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(quic_endpoint_bind(open_srv, (struct sockaddr *)&addr, sizeof addr), 0);
	quic_endpoint_local_addr(open_srv, &ss, &len);
	memcpy(&addr, &ss, sizeof addr);

	struct client anon, withcert;
	client_cfg(&cfg);
	cfg.cert_file = cfg.key_file = NULL;
	int ready0 = srv.ready;
	client_start_to(&anon, &cfg, &addr);
	assert_true(RUN_UNTIL(anon.ready || anon.closed, 5000));
	if (!anon.ready)
		fail_msg("a client without a certificate: %s", anon.close.reason);
	assert_true(RUN_UNTIL(srv.ready > ready0, 2000));
	assert_string_equal(srv.identity, "(none)");
	struct xfer x;
	xfer_start(&anon, &x, 11, 100000);
	assert_true(RUN_UNTIL(x.eof && x.closed, 5000));
	assert_int_equal(x.recvd, 100000);
	assert_false(x.bad);

	client_cfg(&cfg);
	ready0 = srv.ready;
	client_start_to(&withcert, &cfg, &addr);
	assert_true(RUN_UNTIL(withcert.ready || withcert.closed, 5000));
	assert_true(withcert.ready);
	assert_true(RUN_UNTIL(srv.ready > ready0, 2000));
	assert_string_equal(srv.identity, "(none)"); /* not asked for, so not sent */
	client_stop(&withcert);

	/* now require certificates: a new cert-less client is refused, the old one lives */
	scfg.no_client_cert = 0;
	scfg.ca_file = pki.ca;
	assert_int_equal(quic_endpoint_reconfigure(open_srv, &scfg, &which, err, sizeof err), 0);
	struct client late;
	client_cfg(&cfg);
	cfg.cert_file = cfg.key_file = NULL;
	client_start_to(&late, &cfg, &addr);
	assert_true(RUN_UNTIL(late.closed, 5000));
	assert_false(late.ready);
	assert_int_equal(late.close.kind, QUIC_CLOSE_HANDSHAKE);
	assert_true(late.close.cert_refused);
	printf("  after reconfiguration, a client without a certificate: %s\n", late.close.reason);
	client_stop(&late);
	xfer_start(&anon, &x, 12, 100000);
	assert_true(RUN_UNTIL(x.eof && x.closed, 5000));
	assert_int_equal(x.recvd, 100000);
	client_stop(&anon);

	/* a bad file is named, and the endpoint keeps its settings */
	scfg.ca_file = "/nonexistent/ca.crt";
	assert_int_not_equal(quic_endpoint_reconfigure(open_srv, &scfg, &which, err, sizeof err),
			     0);
	assert_string_equal(which, "ca");
	assert_non_null(strstr(err, "/nonexistent/ca.crt"));
	quic_endpoint_free(open_srv);
}

static void streams_100_echo(void **state)
{
	struct client cl;
	client_connect(&cl);
	enum { N = 100 };
	struct xfer *x = calloc(N, sizeof *x);
	for (int i = 0; i < N; i++)
		xfer_start(&cl, &x[i], 1000 + (uint64_t)i, 64 * 1024);
	int done;
	assert_true(RUN_UNTIL(({
					done = 0;
					for (int i = 0; i < N; i++)
						done += x[i].eof && x[i].closed;
					done == N;
				}),
			      20000));
	for (int i = 0; i < N; i++) {
		assert_int_equal(x[i].recvd, 64 * 1024);
		assert_false(x[i].bad);
		assert_int_equal(x[i].close_code, 0);
	}
	free(x);
	client_stop(&cl);
}

static void bulk_64mib_each_way(void **state)
{
	struct client cl;
	client_connect(&cl);
	struct xfer x;
	const uint64_t total = 64ull << 20;
	double t0 = now_s();
	xfer_start(&cl, &x, 42, total);
	assert_true(RUN_UNTIL(x.eof && x.closed, 40000));
	double dt = now_s() - t0;
	assert_int_equal(x.recvd, total);
	assert_false(x.bad);
	assert_true(x.hash_tx == x.hash_rx);
	struct quic_conn_stats st;
	quic_conn_get_stats(cl.conn, &st);
	printf("  64 MiB each way in %.2f s (%.0f MB/s each way), checksum %016llx, rtt %llu us, "
	       "lost %llu\n",
	       dt, total / dt / 1e6, (unsigned long long)x.hash_rx, (unsigned long long)st.rtt_us,
	       (unsigned long long)st.pkts_lost);
	client_stop(&cl);
}

static void fin_and_reset_both_ways(void **state)
{
	struct client cl;
	client_connect(&cl);
	/* FIN both ways: a small echo ends with the server's FIN after ours */
	struct xfer a;
	xfer_start(&cl, &a, 7, 5);
	assert_true(RUN_UNTIL(a.eof && a.closed, 3000));
	assert_int_equal(a.recvd, 5);
	assert_int_equal(a.close_code, 0);

	/* we reset: the server hears our code */
	struct xfer b;
	int resets0 = srv.resets, closes0 = srv.stream_closes;
	xfer_start(&cl, &b, 8, 1 << 20);
	assert_true(RUN_UNTIL(b.recvd > 0, 3000)); /* the server has the stream */
	quic_stream_reset(b.s, 0x11);
	RUN_UNTIL(srv.resets > resets0 && srv.stream_closes > closes0 && b.closed, 3000);
	assert_int_equal(b.close_code, 0x11);
	if (!b.closed || srv.resets == resets0 || srv.stream_closes == closes0)
		fail_msg("reset by us: client stream closed %d, server resets %d, closes %d", b.closed,
			 srv.resets - resets0, srv.stream_closes - closes0);
	assert_int_equal(srv.reset_code, 0x11);

	/* the server resets: we hear its code, on both directions */
	struct xfer c;
	memset(&c, 0, sizeof c);
	c.prefix = "RST!";
	c.total = 4;
	c.hash_tx = c.hash_rx = 1;
	assert_int_equal(quic_stream_open(cl.conn, &c, &c.s), 0);
	xfer_pump(&c);
	assert_true(RUN_UNTIL(c.closed, 3000));
	assert_true(c.resets >= 1);
	assert_int_equal(c.reset_code, 0x22);
	assert_int_equal(c.close_code, 0x22);
	client_stop(&cl);
}

/* Readers that stop reading stall their own streams only: with a connection window no larger
 * than what four stalled streams hold unread, another stream still gets through (and the
 * connection's window is not theirs to use up). */
static void stalled_streams_leave_the_connection_open(void **state)
{
	struct quic_config cfg;
	struct client cl;
	client_cfg(&cfg);
	cfg.stream_window = 256 * 1024;
	cfg.max_stream_window = 256 * 1024;
	cfg.conn_window = 1024 * 1024;
	cfg.max_conn_window = 1024 * 1024; /* no auto-tuning past it */
	client_start(&cl, &cfg);
	assert_true(RUN_UNTIL(cl.ready || cl.closed, 5000));
	assert_true(cl.ready);
	enum { NSTALL = 4 };
	struct xfer stalled[NSTALL];
	for (int i = 0; i < NSTALL; i++) {
		xfer_start(&cl, &stalled[i], 300 + (uint64_t)i, 1 << 20);
		stalled[i].stall = 1;
	}
	/* the server's echoes fill the four stream windows: 1 MiB unread on our side */
	struct quic_conn_stats st;
	assert_true(RUN_UNTIL(({
					quic_conn_get_stats(cl.conn, &st);
					st.bytes_recv > (uint64_t)NSTALL * 256 * 1024;
				}),
			      5000));
	RUN_UNTIL(0, 200);
	struct xfer b;
	xfer_start(&cl, &b, 400, 64 * 1024);
	assert_true(RUN_UNTIL(b.eof && b.closed, 5000));
	assert_int_equal(b.recvd, 64 * 1024);
	assert_false(b.bad);
	for (int i = 0; i < NSTALL; i++)
		assert_false(stalled[i].closed);
	printf("  a stream beside %d stalled ones (1 MiB unread, connection window 1 MiB): done\n",
	       NSTALL);
	client_stop(&cl);
}

/* ICMP port unreachable: a dial to a closed port fails at once, and a server that vanished
 * (its socket closed, as when it crashes) is noticed once it has been silent for a second,
 * not after the idle timeout. */
static void unreachable_peer(void **state)
{
	struct quic_config cfg;
	struct client cl;
	client_cfg(&cfg);
	/* a port nobody listens on */
	int fd = socket(AF_INET, SOCK_DGRAM, 0);
	struct sockaddr_in closed = {.sin_family = AF_INET};
	closed.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	socklen_t len = sizeof closed;
	assert_int_equal(bind(fd, (struct sockaddr *)&closed, sizeof closed), 0);
	getsockname(fd, (struct sockaddr *)&closed, &len);
	close(fd);
	double t0 = now_s();
	client_start_to(&cl, &cfg, &closed);
	assert_true(RUN_UNTIL(cl.closed, 3000));
	assert_int_equal(cl.close.kind, QUIC_CLOSE_UNREACHABLE);
	assert_int_equal(cl.close.code, ECONNREFUSED);
	printf("  dial to a closed port: \"%s\" after %.0f ms\n", cl.close.reason,
	       (now_s() - t0) * 1000);
	quic_endpoint_free(cl.ep);

	/* a server that goes away under a connection */
	struct quic_config scfg;
	struct quic_endpoint *gone;
	struct sockaddr_in addr = {.sin_family = AF_INET};
	struct sockaddr_storage ss;
	char err[256];
	quic_config_default(&scfg);
	scfg.role = QUIC_SERVER;
	scfg.ca_file = pki.ca;
	scfg.cert_file = pki.server_crt;
	scfg.key_file = pki.server_key;
	if (quic_endpoint_new(base, &scfg, &srv_cb, NULL, &gone, err, sizeof err) < 0)
		fail_msg("server endpoint: %s", err);
	addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(quic_endpoint_bind(gone, (struct sockaddr *)&addr, sizeof addr), 0);
	quic_endpoint_local_addr(gone, &ss, &len);
	memcpy(&addr, &ss, sizeof addr);
	client_start_to(&cl, &cfg, &addr);
	assert_true(RUN_UNTIL(cl.ready || cl.closed, 5000));
	assert_true(cl.ready);
	struct xfer x;
	int closes0 = srv.stream_closes;
	xfer_start(&cl, &x, 500, 4096);
	/* both ends done with the stream (the server's echo state is freed at its close) */
	assert_true(RUN_UNTIL(x.eof && x.closed && srv.stream_closes > closes0, 3000));
	quic_endpoint_free(gone); /* no CONNECTION_CLOSE: as if the process died */
	t0 = now_s();
	struct xfer y;
	xfer_start(&cl, &y, 501, 1 << 20); /* packets that draw the ICMP errors */
	assert_true(RUN_UNTIL(cl.closed, 10000));
	assert_int_equal(cl.close.kind, QUIC_CLOSE_UNREACHABLE);
	printf("  a server gone mid-connection: \"%s\" after %.1f s (idle timeout %u s)\n",
	       cl.close.reason, now_s() - t0, cfg.idle_timeout_ms / 1000);
	assert_true(now_s() - t0 < 6);
	quic_endpoint_free(cl.ep);

	/* a client gone while the server sends to it: the server waits longer (a client may
	 * only have moved), but not for the idle timeout */
	int ready0 = srv.ready, closed0 = srv.closed;
	client_connect(&cl);
	assert_true(RUN_UNTIL(srv.ready > ready0, 2000));
	struct xfer z;
	xfer_start(&cl, &z, 502, 64 << 20);
	assert_true(RUN_UNTIL(z.recvd > (4 << 20), 5000));
	quic_endpoint_free(cl.ep);
	t0 = now_s();
	assert_true(RUN_UNTIL(srv.closed > closed0, 10000));
	assert_int_equal(srv.last_close.kind, QUIC_CLOSE_UNREACHABLE);
	printf("  a client gone mid-transfer, at the server: \"%s\" after %.1f s\n",
	       srv.last_close.reason, now_s() - t0);
}

static void migration_mid_transfer(void **state)
{
	struct client cl;
	client_connect(&cl);
	struct sockaddr_storage before, after, seen;
	socklen_t len;
	quic_conn_local_addr(cl.conn, &before, &len);
	struct xfer x;
	const uint64_t total = 16ull << 20;
	xfer_start(&cl, &x, 99, total);
	assert_true(RUN_UNTIL(x.recvd >= 2ull << 20, 10000));
	int changes0 = srv.path_changes;
	/* the server may not have issued its spare ids yet */
	int rv;
	while ((rv = quic_conn_migrate(cl.conn, -1)) == -EAGAIN)
		event_base_loop(base, EVLOOP_ONCE);
	assert_int_equal(rv, 0);
	assert_true(RUN_UNTIL(x.eof && x.closed, 20000));
	assert_int_equal(x.recvd, total);
	assert_false(x.bad);
	assert_true(RUN_UNTIL(cl.path_events > 0, 2000));
	assert_true(cl.path_ok);
	quic_conn_local_addr(cl.conn, &after, &len);
	assert_int_not_equal(((struct sockaddr_in *)&before)->sin_port,
			     ((struct sockaddr_in *)&after)->sin_port);
	assert_true(RUN_UNTIL(srv.path_changes > changes0, 2000));
	assert_non_null(srv.last);
	quic_conn_peer_addr(srv.last, &seen, &len);
	assert_int_equal(((struct sockaddr_in *)&seen)->sin_port,
			 ((struct sockaddr_in *)&after)->sin_port);
	printf("  migrated from port %u to %u mid-transfer; server follows\n",
	       ntohs(((struct sockaddr_in *)&before)->sin_port),
	       ntohs(((struct sockaddr_in *)&after)->sin_port));

	/* NAT rebinding: the port changes under the client's feet */
	changes0 = srv.path_changes;
	assert_int_equal(quic_endpoint_rebind_for_test(cl.ep), 0);
	struct xfer y;
	xfer_start(&cl, &y, 100, 4ull << 20);
	assert_true(RUN_UNTIL(y.eof && y.closed, 20000));
	assert_int_equal(y.recvd, 4ull << 20);
	assert_false(y.bad);
	assert_true(RUN_UNTIL(srv.path_changes > changes0, 2000));
	printf("  NAT rebinding survived (server validated the new port)\n");
	client_stop(&cl);
}

static void keepalive_outlives_idle_timeout(void **state)
{
	struct quic_config cfg;
	struct client live, idle;
	client_cfg(&cfg);
	cfg.idle_timeout_ms = 1000;
	cfg.keepalive_ms = 300;
	client_start(&live, &cfg);
	cfg.keepalive_ms = UINT32_MAX;
	client_start(&idle, &cfg);
	assert_true(RUN_UNTIL(live.ready && idle.ready, 5000));
	double t0 = now_s();
	RUN_UNTIL(0, 2500);
	assert_true(idle.closed);
	assert_int_equal(idle.close.kind, QUIC_CLOSE_IDLE);
	assert_false(live.closed);
	/* and it still carries data */
	struct xfer x;
	xfer_start(&live, &x, 5, 1000);
	assert_true(RUN_UNTIL(x.eof && x.closed, 3000));
	printf("  idle 1 s: with PING every 300 ms alive after %.1f s; without: \"%s\"\n",
	       now_s() - t0, idle.close.reason);
	client_stop(&live);
	client_stop(&idle);
}

static void clean_close_code_and_reason(void **state)
{
	struct client cl;
	int ready0 = srv.ready;
	client_connect(&cl);
	assert_true(RUN_UNTIL(srv.ready > ready0, 2000));
	int closed0 = srv.closed;
	/* an open stream with data in flight ends with the connection */
	struct xfer x;
	xfer_start(&cl, &x, 3, 1 << 20);
	quic_conn_close(cl.conn, 7, "going away");
	assert_true(RUN_UNTIL(srv.closed > closed0 && cl.closed, 3000));
	assert_true(x.closed);
	assert_int_equal(x.close_code, QUIC_STREAM_CONN_CLOSED);
	assert_int_equal(srv.last_close.kind, QUIC_CLOSE_APPLICATION);
	assert_int_equal(srv.last_close.by_peer, 1);
	assert_int_equal(srv.last_close.code, 7);
	assert_string_equal(srv.last_close.reason, "going away");
	assert_int_equal(cl.close.by_peer, 0);
	quic_endpoint_free(cl.ep);

	/* and from the server's side */
	ready0 = srv.ready;
	client_connect(&cl);
	assert_true(RUN_UNTIL(srv.ready > ready0 && srv.last, 2000));
	quic_conn_close(srv.last, 9, "server draining");
	assert_true(RUN_UNTIL(cl.closed, 3000));
	assert_int_equal(cl.close.kind, QUIC_CLOSE_APPLICATION);
	assert_int_equal(cl.close.by_peer, 1);
	assert_int_equal(cl.close.code, 9);
	assert_string_equal(cl.close.reason, "server draining");
	quic_endpoint_free(cl.ep);
}

/* ---- set-up ---- */

static int start_server(enum quic_cc cc)
{
	struct quic_config cfg;
	char err[256];
	quic_config_default(&cfg);
	cfg.role = QUIC_SERVER;
	cfg.ca_file = pki.ca;
	cfg.cert_file = pki.server_crt;
	cfg.key_file = pki.server_key;
	cfg.cc = cc;
	cfg.log_ngtcp2 = getenv("QUIC_LOG") != NULL;
	if (quic_endpoint_new(base, &cfg, &srv_cb, NULL, &server, err, sizeof err) < 0) {
		fprintf(stderr, "server endpoint: %s\n", err);
		return -1;
	}
	memset(&server_addr, 0, sizeof server_addr);
	server_addr.sin_family = AF_INET;
	server_addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (quic_endpoint_bind(server, (struct sockaddr *)&server_addr, sizeof server_addr) < 0)
		return -1;
	struct sockaddr_storage ss;
	socklen_t len;
	quic_endpoint_local_addr(server, &ss, &len);
	memcpy(&server_addr, &ss, sizeof server_addr);
	return 0;
}

static int group_setup(void **state)
{
	base = event_base_new();
	if (!base || test_pki_make(&pki) < 0)
		return -1;
	return start_server(QUIC_CC_CUBIC);
}

static int group_teardown(void **state)
{
	quic_endpoint_free(server);
	test_pki_remove(&pki);
	event_base_free(base);
	return 0;
}

/* ---- QUIC_BENCH=1 ---- */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double cpu_s(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
	       ru.ru_stime.tv_usec / 1e6;
}

static void bench_cc(enum quic_cc cc, const char *name, uint64_t bytes)
{
	quic_endpoint_free(server);
	if (start_server(cc) < 0)
		abort();
	struct quic_config cfg;
	client_cfg(&cfg);
	cfg.cc = cc;
	struct client cl;
	client_start(&cl, &cfg);
	if (!RUN_UNTIL(cl.ready, 5000))
		abort();
	/* upload into the server's sink */
	struct xfer x;
	memset(&x, 0, sizeof x);
	x.prefix = "SINK";
	x.raw = 1;
	x.total = bytes;
	x.seed = 1;
	if (quic_stream_open(cl.conn, &x, &x.s) < 0)
		abort();
	double t0 = now_s(), c0 = cpu_s();
	xfer_pump(&x);
	if (!RUN_UNTIL(x.eof && x.closed, 120000))
		abort();
	double dt = now_s() - t0, cpu = cpu_s() - c0;
	struct quic_conn_stats st;
	quic_conn_get_stats(cl.conn, &st);
	printf("bench %-5s upload %llu MiB: %.0f MB/s, %.2f CPU s/GiB (both ends), rtt %llu us, "
	       "lost %llu\n",
	       name, (unsigned long long)(bytes >> 20), bytes / dt / 1e6,
	       cpu / (bytes / 1073741824.0), (unsigned long long)st.rtt_us,
	       (unsigned long long)st.pkts_lost);
	/* echo: the same bytes both ways */
	struct xfer e;
	uint64_t eb = bytes / 4;
	t0 = now_s();
	c0 = cpu_s();
	xfer_start(&cl, &e, 2, eb);
	if (!RUN_UNTIL(e.eof && e.closed, 120000) || e.bad)
		abort();
	dt = now_s() - t0;
	cpu = cpu_s() - c0;
	printf("bench %-5s echo %llu MiB each way: %.0f MB/s each way, %.2f CPU s/GiB moved\n", name,
	       (unsigned long long)(eb >> 20), eb / dt / 1e6, cpu / (2 * eb / 1073741824.0));
	client_stop(&cl);
}

static int bench(void)
{
	if (group_setup(NULL) < 0)
		return 1;
	enum { N = 200 };
	double t[N];
	struct quic_config cfg;
	client_cfg(&cfg);
	for (int i = 0; i < N; i++) {
		struct client cl;
		double t0 = now_s();
		client_start(&cl, &cfg);
		if (!RUN_UNTIL(cl.ready || cl.closed, 5000) || !cl.ready)
			abort();
		t[i] = (now_s() - t0) * 1000;
		client_stop(&cl);
	}
	qsort(t, N, sizeof t[0], cmp_double);
	printf("bench handshake (connect to confirmed, mTLS P-256), %d runs: median %.2f ms, "
	       "p90 %.2f ms, max %.2f ms\n",
	       N, t[N / 2], t[N * 9 / 10], t[N - 1]);
	uint64_t bytes = (uint64_t)(getenv("QUIC_BENCH_MB") ? atoi(getenv("QUIC_BENCH_MB")) : 1024)
			 << 20;
	bench_cc(QUIC_CC_CUBIC, "cubic", bytes);
	bench_cc(QUIC_CC_BBR, "bbr", bytes);
	group_teardown(NULL);
	return 0;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (getenv("QUIC_BENCH"))
		return bench();
	if (getenv("QUIC_TEST"))
		cmocka_set_test_filter(getenv("QUIC_TEST"));
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(handshake_mtls_identity),
		cmocka_unit_test(no_client_cert_refused),
		cmocka_unit_test(other_failures_explained),
		cmocka_unit_test(no_client_cert_mode),
		cmocka_unit_test(streams_100_echo),
		cmocka_unit_test(bulk_64mib_each_way),
		cmocka_unit_test(fin_and_reset_both_ways),
		cmocka_unit_test(stalled_streams_leave_the_connection_open),
		cmocka_unit_test(unreachable_peer),
		cmocka_unit_test(migration_mid_transfer),
		cmocka_unit_test(keepalive_outlives_idle_timeout),
		cmocka_unit_test(clean_close_code_and_reason),
	};
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
