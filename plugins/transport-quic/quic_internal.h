/* quic_internal.h: the engine's structures, shared by its files (not by its users). */
#ifndef QUIC_INTERNAL_H
#define QUIC_INTERNAL_H

#include "quic_engine.h"

#include <gnutls/gnutls.h>
#include <ngtcp2/ngtcp2.h>
#include <ngtcp2/ngtcp2_crypto.h>
#include <netinet/in.h>
#include <sys/queue.h>
#include <sys/uio.h>

/* Every connection id we issue has this length: short headers carry no length (notes). */
#define QUIC_SCID_LEN 18
/* A receiver whose stream data stops for this long sends one PING (conn_probe_*): the
 * sender learns where we are if our address changed under us, and if the sender died, the
 * ICMP answer says so (quic_conn_unreachable). */
#define QUIC_PROBE_NS (1000ull * 1000 * 1000)
/* Datagrams per recvmmsg / packets per write burst. */
#define QUIC_BATCH 64
#define QUIC_RX_SLOT 2048
/* The largest UDP payload we send (ngtcp2's default cap). */
#define QUIC_MAX_PKT 1452
/* Send buffer chunk: ngtcp2 keeps pointers into sent bytes until they are acked, so bytes
 * never move once written; chunks are freed whole when acked. */
#define QUIC_CHUNK (64 * 1024)

struct event;

/* ---- quic_cid.c: connection id -> connection ---- */
struct quic_cid_table {
	struct quic_cid_entry **slots;
	size_t nslots, count;
};
int quic_cid_add(struct quic_cid_table *t, const uint8_t *cid, size_t len, struct quic_conn *c);
void quic_cid_remove(struct quic_cid_table *t, const uint8_t *cid, size_t len);
struct quic_conn *quic_cid_find(const struct quic_cid_table *t, const uint8_t *cid, size_t len);
void quic_cid_remove_conn(struct quic_cid_table *t, const struct quic_conn *c);
void quic_cid_table_fini(struct quic_cid_table *t);

/* ---- quic_udp.c: sockets and batched I/O ---- */
struct quic_sock {
	struct quic_endpoint *ep;
	int fd;
	struct sockaddr_storage local; /* what ngtcp2 is told (kept over a test rebinding) */
	socklen_t local_len;
	int wildcard;                  /* bound to 0.0.0.0/::: local address from PKTINFO */
	int dead;                      /* closed from the loop (ep->reap) */
	struct event *ev_read, *ev_write;
	/* packets the kernel refused with EAGAIN: sent when writable */
	struct quic_pending *pending_head, **pending_tail;
	LIST_ENTRY(quic_sock) link;
};

struct quic_tx_pkt {
	struct quic_sock *sock;
	struct sockaddr_storage remote, local;
	socklen_t remote_len;
	size_t off, len;
};

struct quic_tx_batch {
	uint8_t buf[QUIC_BATCH * QUIC_MAX_PKT];
	struct quic_tx_pkt pkts[QUIC_BATCH];
	size_t npkts, used;
};

int quic_sock_open(struct quic_endpoint *ep, int fd, struct quic_sock **out);
void quic_sock_close(struct quic_sock *s);
struct quic_sock *quic_sock_by_local(struct quic_endpoint *ep, const struct sockaddr *sa);
/* Sends the batch (GSO groups through sendmmsg); packets the kernel does not take wait on
 * their socket. */
void quic_tx_flush(struct quic_endpoint *ep);
int quic_sock_blocked(const struct quic_sock *s);
void quic_sock_on_read(int fd, short what, void *arg);
void quic_sock_on_write(int fd, short what, void *arg);
int quic_sockaddr_eq(const struct sockaddr *a, const struct sockaddr *b);

/* ---- quic_tls.c ---- */
/* An endpoint's TLS settings. Reference-counted: each connection keeps the one it was born
 * with (its GnuTLS session points into the credentials), so quic_endpoint_reconfigure can
 * install new files for new connections while older ones go on. */
struct quic_tls {
	gnutls_certificate_credentials_t cred;
	char *server_name;
	char *alpn;
	int server;
	int no_client_cert;
	unsigned refs;
};
/* Loads cfg's files. On failure *which names the file's part ("ca" or "cert") and err says
 * why; -EINVAL or -ENOMEM. */
int quic_tls_new(const struct quic_config *cfg, struct quic_tls **out, const char **which,
		 char *err, size_t errlen);
void quic_tls_unref(struct quic_tls *t);
/* Makes c's GnuTLS session from its endpoint's current settings (c takes a reference). */
int quic_tls_session_new(struct quic_conn *c);
/* Fills c->peer_identity from the peer certificate's CN. */
void quic_tls_peer_identity(struct quic_conn *c);
/* Why our side's handshake failed, from GnuTLS' verification status and our alert. Returns 1
 * when it failed because we refused the peer's certificate (or its lack of one). */
int quic_tls_failure_reason(struct quic_conn *c, char *buf, size_t len);
/* A sentence for a TLS alert the peer sent us (crypto error 0x100 + alert). Returns 1 for
 * the alerts that say our certificate was refused. */
int quic_tls_alert_reason(int server, uint8_t alert, char *buf, size_t len);

/* ---- streams (quic_stream.c) ---- */
struct quic_chunk {
	struct quic_chunk *next;
	size_t len;
	uint8_t data[QUIC_CHUNK];
};

enum {
	QS_EV_OPENED = 1,
	QS_EV_READABLE = 2,
	QS_EV_WRITABLE = 4,
	QS_EV_RESET_READ = 8,
	QS_EV_RESET_WRITE = 16,
	QS_EV_CLOSED = 32,
};

struct quic_stream {
	struct quic_conn *conn;
	int64_t id;
	void *user;
	/* send side: stream offsets of the acked edge, what ngtcp2 took, what the owner wrote */
	struct quic_chunk *tx_head, *tx_tail;
	uint64_t tx_base; /* offset of tx_head's first byte */
	uint64_t tx_acked, tx_sent, tx_end;
	/* receive side */
	struct evbuffer *rx;
	uint64_t reset_read_code, reset_write_code, close_code;
	unsigned fin_wanted : 1, fin_sent : 1, tx_blocked : 1, tx_shut : 1, want_writable : 1,
		in_sendq : 1, rx_fin : 1, rx_eof_read : 1, rx_reset : 1, quic_closed : 1,
		local : 1, in_notify : 1, owned : 1, orphan : 1;
	unsigned events; /* QS_EV_* waiting for delivery */
	TAILQ_ENTRY(quic_stream) sendq;
	TAILQ_ENTRY(quic_stream) notify;
	LIST_ENTRY(quic_stream) all;
};

struct quic_stream *quic_stream_new(struct quic_conn *c, int64_t id, int local);
void quic_stream_free(struct quic_stream *s);
void quic_stream_post(struct quic_stream *s, unsigned ev);
int quic_stream_has_tx(const struct quic_stream *s);
void quic_stream_sendq_add(struct quic_stream *s);
void quic_stream_sendq_remove(struct quic_stream *s);
/* The unsent bytes from tx_sent as iovecs (at most n); returns the count. */
size_t quic_stream_tx_vecs(const struct quic_stream *s, ngtcp2_vec *v, size_t n);
void quic_stream_acked(struct quic_stream *s, uint64_t offset, uint64_t len);

/* ---- connections (quic_engine.c) ---- */
enum quic_conn_state {
	QC_HANDSHAKE = 0,
	QC_READY,
	QC_CLOSING, /* we sent CONNECTION_CLOSE: answer packets with it for a while */
	QC_DEAD,    /* callbacks delivered; freed from the loop */
};

struct quic_conn {
	struct quic_endpoint *ep;
	ngtcp2_conn *conn;
	ngtcp2_crypto_conn_ref conn_ref; /* GnuTLS' session pointer (P7) */
	gnutls_session_t tls;
	struct quic_tls *tls_cfg; /* the settings tls was made with (a reference) */
	void *user;
	enum quic_conn_state state;
	struct quic_sock *sock; /* the socket of the current path */
	ngtcp2_path_storage ps; /* the current path as we gave it to ngtcp2 */
	struct event *timer, *kick;
	uint64_t created_ns, ready_ns;
	uint64_t last_rx_ns; /* the last packet ngtcp2 took from the peer */
	uint64_t last_stream_ns; /* stream data last went either way */
	unsigned probing : 1; /* keep-alive shortened to QUIC_PROBE_NS after stream data came */
	uint64_t bytes_sent, bytes_recv, pkts_sent, pkts_recv, lost_closed;
	char *peer_identity;
	char security[64];
	char alpn_error[96]; /* set by the server's ClientHello hook */
	/* close */
	struct quic_close_info close;
	int close_pending;   /* conn_closed is still to be delivered */
	int announced;       /* the owner knows this connection */
	uint8_t *close_pkt;
	size_t close_pkt_len;
	uint64_t closing_deadline;
	/* flags set in ngtcp2 callbacks, acted on afterwards (P11) */
	unsigned ev_ready : 1, ev_streams : 1, ev_path : 1, ev_path_ok : 1, dirty : 1,
		write_blocked : 1, in_dispatch : 1, want_streams : 1;
	TAILQ_HEAD(, quic_stream) sendq;
	TAILQ_HEAD(, quic_stream) notifyq;
	LIST_HEAD(, quic_stream) streams;
	LIST_ENTRY(quic_conn) link;
	LIST_ENTRY(quic_conn) dirty_link;
	LIST_ENTRY(quic_conn) blocked_link;
};

struct quic_endpoint {
	struct event_base *base;
	struct quic_config cfg;
	struct quic_callbacks cb;
	void *arg;
	struct quic_tls *tls; /* for new connections */
	struct quic_cid_table cids;
	LIST_HEAD(, quic_sock) socks;
	LIST_HEAD(, quic_conn) conns;
	LIST_HEAD(, quic_conn) dirty;   /* touched by received packets: write after the batch */
	LIST_HEAD(, quic_conn) blocked; /* waiting for a socket to drain */
	struct quic_tx_batch *tx;
	uint8_t *rx_buf;
	struct event *reap; /* closes dead sockets outside their own callbacks */
	int gso_off;
};

uint64_t quic_now(void);
/* Hands a datagram to its connection (or makes one). */
void quic_conn_input(struct quic_sock *s, const struct sockaddr *local,
		     const struct sockaddr *remote, socklen_t remote_len, uint8_t *pkt, size_t len);
/* After a receive batch: write and deliver callbacks for the connections it touched. */
void quic_endpoint_after_input(struct quic_endpoint *ep);
void quic_conn_schedule(struct quic_conn *c);
/* The kernel reported an ICMP error (err: ECONNREFUSED, EHOSTUNREACH...) for a datagram we
 * sent to remote from s. */
void quic_conn_unreachable(struct quic_sock *s, const struct sockaddr *remote, int err);

#endif
