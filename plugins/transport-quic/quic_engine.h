/* quic_engine.h: a QUIC connection engine (ngtcp2 0.12 + GnuTLS) on a libevent loop.
 *
 * The engine knows nothing of proxyd's core: a transport plugin wraps it. It runs on the
 * caller's event_base, in the caller's thread, and never blocks: one read event per UDP
 * socket, one timer per connection (ngtcp2's expiry), a write event only after EAGAIN.
 *
 * Objects
 *   endpoint   one role (server or client), TLS credentials, settings, and the UDP socket(s):
 *              a server endpoint accepts any number of connections on its socket and routes
 *              datagrams by connection id; a client endpoint dials connections from its
 *              socket (normally one). A socket may be the engine's own (quic_endpoint_bind,
 *              or implicitly at connect) or an already-bound one handed over
 *              (quic_endpoint_adopt_fd, e.g. after UDP hole punching).
 *   connection one QUIC connection: TLS 1.3, ALPN "proxyd/1", mutual TLS with PEM files
 *              (those `proxyctl pki` makes). The server requires and verifies a client
 *              certificate against its CA and exposes its CN as the peer identity (or, with
 *              no_client_cert, asks for none); the client verifies the server's chain and
 *              name.
 *   stream     a bidirectional QUIC stream: ordered bytes, FIN and reset both ways.
 *
 * Callbacks
 *   All callbacks are delivered from the event loop, never from inside an engine function
 *   the owner called, and never from inside ngtcp2: inside a callback the owner may call any
 *   function of this API (write, read, reset, close, open...). The `arg` of every callback is
 *   the endpoint's arg; per-connection and per-stream owner data are set with
 *   quic_conn_set_user / quic_stream_set_user.
 *
 * Lifetimes
 *   A connection handle is valid from conn_new (server) or quic_endpoint_connect (client)
 *   until conn_closed returns; every connection that was handed out gets exactly one
 *   conn_closed. A stream handle is valid from quic_stream_open or stream_opened until
 *   stream_closed returns; every stream gets exactly one stream_closed, before its
 *   connection's conn_closed. quic_endpoint_free() ends everything at once without callbacks.
 *
 * Errors: functions return 0 (or a count) on success and a negative errno on failure.
 */
#ifndef QUIC_ENGINE_H
#define QUIC_ENGINE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

struct event_base;
struct quic_endpoint;
struct quic_conn;
struct quic_stream;

#define QUIC_ALPN "proxyd/1"

enum quic_role { QUIC_SERVER = 1, QUIC_CLIENT = 2 };

enum quic_cc { QUIC_CC_CUBIC = 0, QUIC_CC_BBR, QUIC_CC_BBR2, QUIC_CC_RENO };

/* Endpoint settings. Zero fields take the defaults in brackets; start from
 * quic_config_default() or a zeroed struct. */
struct quic_config {
	enum quic_role role;
	/* TLS, PEM files. ca_file: the trust anchors for the peer's certificate (required,
	 * except for a server with no_client_cert). cert_file/key_file: our own certificate
	 * (required for a server; a client without one is refused by a server that requires
	 * one). server_name: what the client checks the server certificate against (and sends
	 * as SNI when it is a name) [none: the chain alone is checked]. */
	const char *ca_file;
	const char *cert_file;
	const char *key_file;
	const char *key_password; /* an encrypted PKCS#8 key, or NULL */
	const char *server_name;
	const char *alpn;         /* [QUIC_ALPN]; other values only for tests */
	/* Server: 1 asks clients for no certificate; they prove who they are some other way
	 * (proxyd's token in the control protocol) and quic_conn_peer_identity() is NULL. */
	int no_client_cert;
	enum quic_cc cc;          /* congestion control [cubic] */
	uint32_t keepalive_ms;    /* PING when idle this long [15000]; UINT32_MAX: never */
	uint32_t idle_timeout_ms; /* the connection dies after this silence [60000] */
	uint32_t handshake_timeout_ms; /* [10000] */
	uint32_t stream_window;   /* initial receive window per stream [256 KiB] */
	uint32_t max_stream_window; /* its auto-tuning cap [16 MiB] */
	uint32_t conn_window;     /* initial receive window per connection [1 MiB] */
	uint32_t max_conn_window; /* [32 MiB] */
	uint32_t max_streams;     /* concurrent bidi streams the peer may open [1024] */
	uint32_t stream_send_buffer; /* bytes a stream buffers until acked [1 MiB] */
	int no_gso;               /* 1: never use UDP_SEGMENT (sendmmsg only) */
	int log_ngtcp2;           /* 1: ngtcp2's debug log to stderr */
};

void quic_config_default(struct quic_config *cfg);

/* Why a connection ended. */
enum quic_close_kind {
	QUIC_CLOSE_APPLICATION = 1, /* quic_conn_close() on one side: code and reason are its */
	QUIC_CLOSE_TRANSPORT,       /* a QUIC protocol error (code is the transport error) */
	QUIC_CLOSE_HANDSHAKE,       /* TLS refused: bad/missing/expired certificate, ALPN... */
	QUIC_CLOSE_IDLE,            /* idle timeout (no packets for idle_timeout_ms) */
	QUIC_CLOSE_HANDSHAKE_TIMEOUT,
	QUIC_CLOSE_INTERNAL,        /* a local failure (memory, socket) */
	QUIC_CLOSE_UNREACHABLE,     /* ICMP says nothing answers at the peer's address (its port
	                             * is closed: a crashed peer, a dial to the wrong port), and
	                             * nothing was heard from it for a while (1 s for a client, 3 s
	                             * for a server), or the handshake was not done; code is the
	                             * errno */
};

struct quic_close_info {
	enum quic_close_kind kind;
	int by_peer;        /* 1: the peer closed (its CONNECTION_CLOSE); 0: we did */
	uint64_t code;      /* application or transport error code */
	char reason[256];   /* a human-readable sentence; for APPLICATION the peer's reason */
	int cert_refused;   /* HANDSHAKE: a certificate (or its absence) was refused, by us or by
	                     * the peer: trying again with the same files will not help */
};

enum quic_dir { QUIC_DIR_READ = 1, QUIC_DIR_WRITE = 2 };

/* stream_closed's code when the connection ended before the stream did. */
#define QUIC_STREAM_CONN_CLOSED UINT64_MAX

struct quic_callbacks {
	/* Server: a client's first packet made a connection (handshake not done yet). Optional. */
	void (*conn_new)(struct quic_conn *c, void *arg);
	/* The connection is usable. Client: handshake CONFIRMED (the server accepted our
	 * certificate). Server: handshake complete, the client's certificate verified and
	 * quic_conn_peer_identity() set. */
	void (*conn_ready)(struct quic_conn *c, void *arg);
	/* The connection is over; after return the handle is gone. */
	void (*conn_closed)(struct quic_conn *c, const struct quic_close_info *info, void *arg);
	/* The peer opened a stream (its user data is NULL). */
	void (*stream_opened)(struct quic_stream *s, void *arg);
	/* Bytes or the FIN are waiting: quic_stream_read until it returns 0. Fires again only
	 * after more arrive. */
	void (*stream_readable)(struct quic_stream *s, void *arg);
	/* A write was short (or returned 0) and its buffer has room again. */
	void (*stream_writable)(struct quic_stream *s, void *arg);
	/* The peer reset its sending side (dir READ: RESET_STREAM; unread data is dropped) or
	 * asked us to stop (dir WRITE: STOP_SENDING; writes now fail with -EPIPE), with its
	 * application code. */
	void (*stream_reset)(struct quic_stream *s, enum quic_dir dir, uint64_t code, void *arg);
	/* The stream is finished both ways (FINs acked, or reset) and its input was read to the
	 * end or dropped; code is the reset code, 0, or QUIC_STREAM_CONN_CLOSED. After return
	 * the handle is gone. */
	void (*stream_closed)(struct quic_stream *s, uint64_t code, void *arg);
	/* Client: quic_conn_migrate finished (ok 1: the new path is validated). Server: the
	 * client's address changed (migration or NAT rebinding) and was validated (ok 1). */
	void (*path_changed)(struct quic_conn *c, int ok, void *arg);
	/* quic_stream_open returned -EAGAIN earlier and the peer allows more streams now. */
	void (*streams_available)(struct quic_conn *c, void *arg);
	/* A datagram on one of the endpoint's sockets that is no packet of any connection
	 * (its connection id is unknown and, on a server, it is no acceptable Initial): STUN or
	 * hole-punching traffic that shares the socket (transport-udp-punch). The fixed bit
	 * (0x40) cannot tell QUIC from the rest with ngtcp2 0.12, which greases it (notes P2),
	 * so only what QUIC did not claim comes here. Optional (NULL: dropped). Runs from the
	 * socket's read event: the owner may send on fd, but must not free the endpoint. */
	void (*non_quic_datagram)(struct quic_endpoint *ep, int fd, const struct sockaddr *from,
				  socklen_t fromlen, const uint8_t *pkt, size_t len, void *arg);
};

struct quic_conn_stats {
	uint64_t rtt_us, min_rtt_us, rttvar_us; /* smoothed RTT, minimum, variance */
	uint64_t cwnd;                          /* congestion window, bytes */
	uint64_t bytes_sent, bytes_recv;        /* UDP payload bytes */
	uint64_t pkts_sent, pkts_recv;          /* UDP datagrams */
	uint64_t pkts_lost;   /* packets carrying stream data declared lost (ngtcp2 0.12 counts
	                       * no others) */
	uint64_t handshake_us; /* from creation to ready */
};

/* ---- endpoints ---- */

/* A new endpoint on base, with no socket yet. Loads the TLS files; on failure returns
 * -EINVAL (or -ENOMEM) and writes the reason into err. cb and arg are kept. */
int quic_endpoint_new(struct event_base *base, const struct quic_config *cfg,
		      const struct quic_callbacks *cb, void *arg, struct quic_endpoint **out,
		      char *err, size_t errlen);
/* Loads cfg's TLS files the way quic_endpoint_new does, without an endpoint (a configuration
 * check). On failure *which is "ca" (the trust file) or "cert" (certificate and key) and
 * err says why; -EINVAL or -ENOMEM. */
int quic_config_check(const struct quic_config *cfg, const char **which, char *err,
		      size_t errlen);
/* New settings for the connections an endpoint makes or accepts from now on (a reload);
 * those it has keep theirs. The role cannot change. On failure nothing changes, *which and
 * err as for quic_config_check. */
int quic_endpoint_reconfigure(struct quic_endpoint *ep, const struct quic_config *cfg,
			      const char **which, char *err, size_t errlen);
/* Binds a UDP socket to addr (a server's listening address; a client's local address). */
int quic_endpoint_bind(struct quic_endpoint *ep, const struct sockaddr *addr, socklen_t len);
/* Takes an already-bound UDP socket (e.g. hole-punched); the endpoint owns and closes it. */
int quic_endpoint_adopt_fd(struct quic_endpoint *ep, int fd);
/* The address of the endpoint's current (first) socket. */
int quic_endpoint_local_addr(struct quic_endpoint *ep, struct sockaddr_storage *ss,
			     socklen_t *len);
/* Ends every connection at once (no packets, no callbacks) and frees the endpoint. */
void quic_endpoint_free(struct quic_endpoint *ep);

/* ---- connections ---- */

/* Client: dials remote from the endpoint's socket (binds an ephemeral one of the remote's
 * family if it has none). conn_ready or conn_closed follows. */
int quic_endpoint_connect(struct quic_endpoint *ep, const struct sockaddr *remote,
			  socklen_t len, void *user, struct quic_conn **out);
void quic_conn_set_user(struct quic_conn *c, void *user);
void *quic_conn_user(const struct quic_conn *c);
struct quic_endpoint *quic_conn_endpoint(const struct quic_conn *c);
/* The peer certificate's CN once ready (server: the client's; client: the server's), or
 * NULL. */
const char *quic_conn_peer_identity(const struct quic_conn *c);
/* "TLSv1.3 AES-128-GCM" style text for status output. */
const char *quic_conn_security(const struct quic_conn *c);
int quic_conn_peer_addr(const struct quic_conn *c, struct sockaddr_storage *ss, socklen_t *len);
int quic_conn_local_addr(const struct quic_conn *c, struct sockaddr_storage *ss, socklen_t *len);
void quic_conn_get_stats(const struct quic_conn *c, struct quic_conn_stats *st);
/* A clean close: CONNECTION_CLOSE with an application code and reason (GOAWAY maps here).
 * Every stream gets stream_closed, then the connection conn_closed (by_peer 0), from the
 * loop. */
int quic_conn_close(struct quic_conn *c, uint64_t code, const char *reason);
/* Client: moves the connection to a new local UDP socket (fd >= 0: that bound socket, owned
 * by the engine from now; fd < 0: a fresh ephemeral port on the current local address) and
 * starts path validation; traffic moves at once. path_changed reports the outcome. Needs a
 * ready connection: -EAGAIN before, or when the server has issued no spare connection id. */
int quic_conn_migrate(struct quic_conn *c, int fd);

/* ---- streams ---- */

/* Opens a bidirectional stream. -EAGAIN: the peer's stream limit is reached (wait for
 * streams_available); -ENOTCONN: the connection is not ready or is closing. */
int quic_stream_open(struct quic_conn *c, void *user, struct quic_stream **out);
int64_t quic_stream_id(const struct quic_stream *s);
struct quic_conn *quic_stream_conn(const struct quic_stream *s);
void quic_stream_set_user(struct quic_stream *s, void *user);
void *quic_stream_user(const struct quic_stream *s);
/* Copies up to len bytes into the stream's send buffer (bounded by stream_send_buffer) and
 * returns how many it took; when that is less than len, stream_writable follows once there
 * is room. Flow control and congestion are handled underneath: a peer that does not read
 * fills our buffer and stops taking bytes. -EPIPE: the write side was shut (FIN, reset,
 * STOP_SENDING). */
ssize_t quic_stream_write(struct quic_stream *s, const void *buf, size_t len);
/* Room in the send buffer now. */
size_t quic_stream_write_space(const struct quic_stream *s);
/* FIN after the buffered bytes. */
int quic_stream_shutdown(struct quic_stream *s);
/* Copies up to len received bytes out, in order, and gives the peer as much new stream
 * credit as was read: a reader that stops reading stalls only its stream, which then holds at
 * most its window of unread bytes (connection credit is returned as bytes arrive, so a
 * stalled stream cannot use up the connection's). Returns 0 when nothing is buffered;
 * quic_stream_eof() then tells the FIN. */
ssize_t quic_stream_read(struct quic_stream *s, void *buf, size_t len);
size_t quic_stream_readable_bytes(const struct quic_stream *s);
/* 1 when the peer's FIN was read (every byte before it has been read). */
int quic_stream_eof(const struct quic_stream *s);
/* Aborts both directions: RESET_STREAM and STOP_SENDING with code. The owner is done with
 * the stream: unread input is dropped, and stream_closed (with this code) follows from the
 * loop, with no other callbacks before it. */
int quic_stream_reset(struct quic_stream *s, uint64_t code);

/* ---- for tests ---- */

/* Simulates a NAT rebinding under a client: its socket is replaced by a new one on another
 * port, while ngtcp2 keeps believing the old local address. */
int quic_endpoint_rebind_for_test(struct quic_endpoint *ep);

#endif
