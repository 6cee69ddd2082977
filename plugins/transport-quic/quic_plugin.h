/* What the parts of transport-quic share: the plugin's state, the entry points of the
 * listening side (quic_listen.c), the dialing side (quic_dial.c) and the native-stream glue
 * (quic_native.c). quic_plugin.c wires them to the ABI's ops table.
 *
 * Prefixes: quic_ is the engine (quic_engine.h), qt_ this plugin. */
#ifndef PROXYD_QUIC_PLUGIN_H
#define PROXYD_QUIC_PLUGIN_H

#include "proxyd/plugin.h"
#include "quic_config.h"
#include "quic_engine.h"

#include <sys/queue.h>
#include <sys/socket.h>

struct event;
struct event_base;
struct evdns_base;
struct qt_conn;
struct qt_dial;
struct qt_server;

/* How many bytes of a stream are handed to the core at a time. */
#define QT_READ_CHUNK (64 * 1024)
/* "[v6]:port" plus NUL at most. */
#define QT_ADDR_TEXT_MAX 64

/* An engine connection's user pointer is one of these; the first field tells which. */
enum qt_kind {
	QT_KIND_DIAL = 1, /* a client connection still handshaking (struct qt_dial) */
	QT_KIND_CONN = 2, /* a connection offered to the core (struct qt_conn) */
	QT_KIND_DIRECT = 3, /* transport-udp-punch: a direct attempt still handshaking */
};

/* An endpoint whose last use is over, freed from the loop (never inside its own callbacks,
 * which run in the engine's code for that endpoint). */
struct qt_reap {
	struct quic_endpoint *ep;
	struct qt_reap *next;
};

struct qt_plugin {
	const struct proxyd_host *host;
	proxyd_plugin *self;
	struct event_base *base;
	int native;             /* the host has the ABI 1.3 native-stream functions */
	struct evdns_base *dns; /* made on the first dial to a name */
	uint8_t *rbuf;          /* QT_READ_CHUNK bytes: reads from streams into the core */
	LIST_HEAD(, qt_server) servers; /* listening, or draining after unlisten */
	LIST_HEAD(, qt_dial) dials;
	LIST_HEAD(, qt_conn) conns;
	struct qt_reap *reap;
	struct event *reap_ev;
};

#define QT_LOG(p, level, conn_id, ...) (p)->host->log((p)->self, (level), (conn_id), __VA_ARGS__)

/* ---- quic_sockaddr.c ---- */
/* "1.2.3.4:80" or "[2001:db8::1]:80"; IPv4-mapped IPv6 is shown as IPv4. */
void qt_sockaddr_format(const struct sockaddr *sa, char *buf, size_t len);

/* ---- quic_plugin.c ---- */
/* Free ep from the loop, soon (ep NULL: only run the reaping soon, for retired servers). */
void qt_reap_endpoint(struct qt_plugin *p, struct quic_endpoint *ep);
/* Free every endpoint waiting for it, now (only from the loop, outside engine callbacks). */
void qt_reap_now(struct qt_plugin *p);

/* ---- quic_listen.c: the server side ---- */
int qt_listen_start(struct qt_plugin *p, const struct qt_endpoint *ep, proxyd_listener *l,
		    void **listener_state);
void qt_listen_stop(void *listener_state);
/* Free the server endpoints that have neither a listener nor connections any more. */
void qt_listen_reap(struct qt_plugin *p);
/* Every server endpoint and its connections, at plugin fini. */
void qt_listen_free_all(struct qt_plugin *p);

/* ---- quic_dial.c: the agent side ---- */
/* Read entry and start dialing it; the outcome reaches the host from the loop, never from
 * inside this call. -ENOMEM only when nothing could be set up (then no callback follows). */
int qt_dial_start(struct qt_plugin *p, const proxyd_cfg *entry, proxyd_dial *d,
		  void **dial_state);
void qt_dial_cancel(void *dial_state);
void qt_dial_free_all(struct qt_plugin *p);

/* ---- quic_native.c: connections handed to the core, and their streams ---- */
struct qt_conn {
	enum qt_kind kind; /* QT_KIND_CONN */
	struct qt_plugin *p;
	struct quic_conn *qc;         /* NULL once the engine has closed it */
	proxyd_conn *core;            /* the core's handle, once it took the connection */
	uint64_t conn_id;
	int server;                   /* accepted (1) or dialed (0) */
	struct qt_server *srv;        /* accepted: the endpoint it came in on */
	struct quic_endpoint *own_ep; /* dialed: the endpoint it owns */
	char peer[QT_ADDR_TEXT_MAX];
	unsigned core_closed : 1;     /* the core's conn_close op: no more host calls */
	unsigned direct : 1;          /* a direct path between agents (transport-udp-punch) */
	struct event *resume_ev;      /* reads the core asked for (stream_resume_read) */
	TAILQ_HEAD(, qt_stream) resumeq;
	LIST_HEAD(, qt_stream) streams;
	LIST_ENTRY(qt_conn) link;
};

/* A connection state for a ready engine connection (before the hand-over); NULL when out of
 * memory. It becomes qc's user. */
struct qt_conn *qt_conn_new(struct qt_plugin *p, struct quic_conn *qc, uint64_t conn_id,
			    int server);
/* Frees the state and its streams (not the engine connection; qc's user becomes NULL). */
void qt_conn_free(struct qt_conn *c);
/* What the core is told about the peer; the strings live as long as c's engine connection. */
void qt_conn_peer_info(const struct qt_conn *c, struct proxyd_peer_info *info);
/* Refuse a connection the core did not take, or that may not be handed over: close it and
 * forget it. */
void qt_conn_refuse(struct qt_conn *c, uint32_t code, const char *reason);
/* The engine closed a connection that was offered to the core: tell the core (unless it
 * closed it itself) and free the state. */
void qt_conn_engine_closed(struct qt_conn *c, const struct quic_close_info *info);

/* The engine's callbacks for connections offered to the core, the same on both sides. */
void qt_on_path_changed(struct quic_conn *qc, int ok, void *arg);
void qt_on_stream_opened(struct quic_stream *s, void *arg);
void qt_on_stream_readable(struct quic_stream *s, void *arg);
void qt_on_stream_writable(struct quic_stream *s, void *arg);
void qt_on_stream_reset(struct quic_stream *s, enum quic_dir dir, uint64_t code, void *arg);
void qt_on_stream_closed(struct quic_stream *s, uint64_t code, void *arg);

/* The ABI 1.3 ops. */
int qt_stream_open(void *conn_state, proxyd_stream *st, void **stream_state);
size_t qt_stream_write(void *stream_state, const void *data, size_t len);
void qt_stream_shutdown(void *stream_state);
void qt_stream_reset(void *stream_state, uint32_t code);
void qt_stream_resume_read(void *stream_state);
void qt_stream_release(void *stream_state);
void qt_conn_close(void *conn_state, uint32_t code, const char *reason);
int qt_conn_stats(void *conn_state, struct proxyd_conn_stats *out);

#endif
