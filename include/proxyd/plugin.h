/*
 * proxyd/plugin.h — the stable C ABI between the proxyd core and its plugins.
 *
 * This is the only header a plugin includes. Build against it with
 *     cc -shared -fPIC $(pkg-config --cflags proxyd-plugin) -o my-plugin.so my.c
 * and install the result into $(pkg-config --variable=plugindir proxyd-plugin).
 *
 * How a plugin is found and checked
 * ---------------------------------
 * A plugin is a shared object that exports ONE data symbol, `proxyd_plugin_descriptor`
 * (declare it with PROXYD_PLUGIN_DECLARE below). It is data, not a function, so the host
 * can check it without running any plugin code. The host reads, in this order, and stops at
 * the first failure with "expected X, got Y" in its message:
 *   1. magic          == PROXYD_PLUGIN_MAGIC
 *   2. abi_major      == the host's PROXYD_ABI_MAJOR
 *   3. abi_minor      <= the host's PROXYD_ABI_MINOR (a plugin built for a newer host is refused)
 *   4. size           <= sizeof(struct proxyd_plugin_descriptor) of the host, and ops_size
 *                        <= the host's size of that kind's ops table
 *   5. required callbacks are present (init, fini, and those marked REQUIRED per kind)
 *   6. name is unique among loaded plugins
 * Only then is init() called. A plugin must not do work in ELF constructors.
 *
 * Ownership and threading
 * -----------------------
 * proxyd runs one libevent loop in one thread. Every callback below runs on that thread and
 * must not block. Strings passed to a callback are valid only for the duration of the call
 * unless said otherwise; copy what you keep. Whoever allocates frees, except where a
 * function's comment says ownership moves.
 *
 * Versioning (the rules)
 * ----------------------
 *  - Adding a function at the END of struct proxyd_host, or a field at the END of an ops table
 *    or of the descriptor: bump PROXYD_ABI_MINOR. Old plugins keep working: the host copies
 *    an older, shorter ops table into a zero-filled table of its own size, and a plugin must
 *    check host->size (PROXYD_HOST_HAS) before calling a function newer than its own build.
 *  - Changing or removing anything, or reordering: bump PROXYD_ABI_MAJOR, reset MINOR to 0.
 *
 * Changelog
 * ---------
 *  2026-11-22  1.0  First stable ABI: descriptor, host table (log, config, loop, timers,
 *                   fd watches, byte-stream connections), transport/router/provider ops.
 *  2026-12-01  1.1  The HTTP edge calls routers: host->req_field and host->req_header read
 *                   the request a router decides on; struct proxyd_route_result gains
 *                   host (Host rewrite), response_headers (e.g. Set-Cookie on MATCH) and
 *                   message (the body text of a REJECT), appended after add_headers.
 *  2026-12-01  1.2  Providers report to the core: host->provider_report (state, public URL,
 *                   pid, restarts, for `proxyctl status` and the other parts of proxyd) and
 *                   host->provider_stopped (an asynchronous stop() has finished);
 *                   struct proxyd_provider_status. host->agent_online: whether an agent
 *                   id has a live session on this server (router-subdomain reads
 *                   "agent-1" as a whole id, not as agent "agent" port 1, when such an
 *                   agent is connected).
 *  2026-12-01  1.3  Transports with native streams (QUIC): the transport owns the streams
 *                   and their flow control, the core owns what travels on them. Opaque
 *                   proxyd_conn and proxyd_stream; transport ops stream_open, stream_write,
 *                   stream_shutdown, stream_reset, stream_resume_read, stream_release,
 *                   conn_close and conn_stats appended; host->native_accepted,
 *                   native_connected, stream_arrived, stream_data, stream_fin,
 *                   stream_reset_in, stream_writable and conn_closed appended;
 *                   struct proxyd_conn_stats. Byte-stream transports are unchanged.

 *  2026-12-01  1.4  Asynchronous routing (the VM-host proxy's resolvers): verdict
 *                   PROXYD_ROUTE_PENDING with struct proxyd_route_result's new last field
 *                   `wait`, and host->route_resume(wait) once the router can decide (the
 *                   core then asks the chain again); router ops gain target_failed (the
 *                   edge could not connect to a direct address). host->agent_port: the TCP
 *                   ports an agent at an address reports listening (agent.report_ports),
 *                   with their labels. host->cfg_elem_int: an integer element of an array
 *                   (ports = [ 8080, 3000 ]). (1.3 is the native-stream transports'.)
 *  2026-12-02  1.5  Direct paths between agents (transport udp-punch): opaque
 *                   proxyd_direct (one attempt), transport ops direct_prepare,
 *                   direct_start and direct_cancel appended, struct
 *                   proxyd_direct_attempt; host->direct_gathered, direct_connected and
 *                   direct_failed appended; PROXYD_ROLE_DIRECT for check() on an agent's
 *                   `direct` section. The connection a direct attempt yields is a native
 *                   one (1.3 ops and host calls).
 */
#ifndef PROXYD_PLUGIN_H
#define PROXYD_PLUGIN_H

#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PROXYD_PLUGIN_MAGIC 0x50525859u /* "PRXY" */
#define PROXYD_ABI_MAJOR 1
#define PROXYD_ABI_MINOR 5

/* The name of the one exported symbol. */
#define PROXYD_PLUGIN_SYMBOL "proxyd_plugin_descriptor"

#if defined(__GNUC__)
#define PROXYD_EXPORT __attribute__((visibility("default")))
#define PROXYD_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define PROXYD_EXPORT
#define PROXYD_PRINTF(f, a)
#endif

/* ---- Opaque handles: the core owns them; plugins only pass them back. ---- */
typedef struct proxyd_plugin proxyd_plugin;     /* this plugin, as the host knows it */
typedef struct proxyd_cfg proxyd_cfg;           /* a node of the configuration tree */
typedef struct proxyd_timer proxyd_timer;       /* a one-shot or repeating timer */
typedef struct proxyd_watch proxyd_watch;       /* a readiness watch on a file descriptor */
typedef struct proxyd_listener proxyd_listener; /* a server-side endpoint the core asked for */
typedef struct proxyd_dial proxyd_dial;         /* one outgoing connection attempt */
typedef struct proxyd_request proxyd_request;   /* a read-only HTTP request head (routers) */
typedef struct proxyd_provider proxyd_provider; /* one configured provider instance */
typedef struct proxyd_route_wait proxyd_route_wait; /* a request waiting for a router (1.4) */
struct proxyd_provider_status;
typedef struct proxyd_conn proxyd_conn;         /* a native-stream connection (ABI 1.3) */
typedef struct proxyd_stream proxyd_stream;     /* one stream of such a connection */
struct proxyd_conn_stats;
typedef struct proxyd_direct proxyd_direct;     /* one direct-path attempt (ABI 1.5) */
struct proxyd_direct_attempt;

enum proxyd_plugin_kind {
	PROXYD_KIND_TRANSPORT = 1,
	PROXYD_KIND_ROUTER = 2,
	PROXYD_KIND_PROVIDER = 3,
};

enum proxyd_log_level {
	PROXYD_LOG_ERROR = 0,
	PROXYD_LOG_WARN = 1,
	PROXYD_LOG_INFO = 2,
	PROXYD_LOG_DEBUG = 3,
};

/* fd watch events (may be or-ed). */
#define PROXYD_WATCH_READ 0x02
#define PROXYD_WATCH_WRITE 0x04

/* Which side of a connection an endpoint configuration describes. */
enum proxyd_role {
	PROXYD_ROLE_SERVER = 1, /* an entry of server.listen */
	PROXYD_ROLE_AGENT = 2,  /* an entry of agent.servers */
	PROXYD_ROLE_DIRECT = 3, /* ABI 1.5: an agent's `direct` section (direct paths) */
};

/* What a transport knows about the peer of a connection it hands to the core. */
struct proxyd_peer_info {
	uint32_t size;            /* sizeof(struct proxyd_peer_info) as the plugin compiled it */
	const char *address;      /* "host:port" of the peer, for logs */
	const char *identity;     /* verified peer identity (certificate CN), or NULL */
	const char *security;     /* e.g. "TLSv1.3 TLS_AES_256_GCM_SHA384", or "plain" */
	int verified;             /* 1 when the identity was cryptographically verified */
};

/*
 * The host function table, handed to init(). It starts with its own size and only grows at
 * the end. Test for a function newer than ABI 1.0 with PROXYD_HOST_HAS(host, member).
 */
struct proxyd_host {
	uint32_t size;
	uint16_t abi_major;
	uint16_t abi_minor;

	/* Logging. One line per call; the host adds time, level, the plugin's name and, when
	 * conn_id is not 0, "conn=<id>". Never pass secrets. */
	void (*log)(proxyd_plugin *self, int level, uint64_t conn_id, const char *fmt, ...)
		PROXYD_PRINTF(4, 5);
	void (*vlog)(proxyd_plugin *self, int level, uint64_t conn_id, const char *fmt,
		     va_list ap);
	/* A fresh connection id, unique in this process, for log lines. */
	uint64_t (*next_conn_id)(void);

	/* Configuration. A proxyd_cfg is valid until the configuration is reloaded or the
	 * plugin's fini. Reading a key marks it as known: any key no one reads is reported by
	 * `proxyd -t` as unknown. The getters return 0, -ENOENT when the key is absent, or
	 * -EINVAL after recording "file:line: key: expected <type>" as a configuration error.
	 * Strings stay valid as long as the cfg node. */
	int (*cfg_string)(const proxyd_cfg *group, const char *key, const char **out);
	int (*cfg_int)(const proxyd_cfg *group, const char *key, long long *out);
	int (*cfg_bool)(const proxyd_cfg *group, const char *key, int *out);
	/* A child group, list or array by key; NULL if absent (marks it known). */
	const proxyd_cfg *(*cfg_child)(const proxyd_cfg *group, const char *key);
	/* Elements of a list or array (and members of a group), by index. */
	int (*cfg_count)(const proxyd_cfg *node);
	const proxyd_cfg *(*cfg_elem)(const proxyd_cfg *node, int index);
	/* The scalar value of an element itself (for arrays of strings). */
	const char *(*cfg_elem_string)(const proxyd_cfg *node);
	/* Record a configuration error at node's file and line; makes -t fail. */
	void (*cfg_error)(const proxyd_cfg *node, const char *fmt, ...) PROXYD_PRINTF(2, 3);
	/* Resolve a path from the configuration relative to the config file's directory.
	 * Writes into buf (size len); returns buf, or NULL if it does not fit. */
	const char *(*cfg_path)(const proxyd_cfg *node, const char *path, char *buf, size_t len);

	/* The event loop. Returns the `struct event_base *` of libevent 2.1, the framework's
	 * loop: a transport may create bufferevents on it. Routers and providers need not. */
	void *(*event_base)(void);
	/* Timers: cb runs on the loop thread. timer_start re-arms (after_ms from now; repeat
	 * when `repeat` is non-zero). timer_free cancels and frees; safe inside cb. */
	proxyd_timer *(*timer_new)(void (*cb)(void *arg), void *arg);
	void (*timer_start)(proxyd_timer *t, uint64_t after_ms, int repeat);
	void (*timer_stop)(proxyd_timer *t);
	void (*timer_free)(proxyd_timer *t);
	/* fd watches: cb(fd, events, arg) with PROXYD_WATCH_* bits; persistent until freed. */
	proxyd_watch *(*watch_new)(int fd, int events, void (*cb)(int fd, int events, void *arg),
				   void *arg);
	void (*watch_free)(proxyd_watch *w);

	/* Byte-stream transports hand finished (handshaken, authenticated) connections to the
	 * core. `bev` is a `struct bufferevent *` on the host's event_base; ownership moves to
	 * the core, which frees it (and with BEV_OPT_CLOSE_ON_FREE, the socket). The core
	 * multiplexes proxyd streams over it. info is copied.
	 * Hand-over contract: clear your own callbacks on bev first; the core sets its own,
	 * enables reading, and consumes any bytes already in the input buffer (TLS 1.3 lets a
	 * client's first data arrive with its Finished). A peer that closes without TLS
	 * close_notify shows up to the core as a bufferevent error, not EOF. */
	void (*listener_accepted)(proxyd_listener *l, void *bev, const struct proxyd_peer_info *info);
	void (*dial_connected)(proxyd_dial *d, void *bev, const struct proxyd_peer_info *info);
	/* A dial that failed; reason is shown to the operator. After this call the plugin
	 * forgets d; the core calls no dial_cancel for it. */
	void (*dial_failed)(proxyd_dial *d, int err, const char *reason);

	/* ---- ABI 1.1: the request a router decides on (valid only during route()). ---- */
	/* One part of the request head, enum proxyd_req_field. Returns 1 with *value and *len
	 * set (value NOT NUL-terminated, peer text: escape before logging), or 0 when the
	 * request has no such part (no SNI on a plain connection, no query). */
	int (*req_field)(const proxyd_request *req, int field, const char **value, size_t *len);
	/* The value of the nth (from 0) header field named name (case-insensitive); a
	 * repeated field (Cookie, Set-Cookie) is one entry per line. Returns 1 or 0. */
	int (*req_header)(const proxyd_request *req, const char *name, unsigned nth,
			  const char **value, size_t *len);

	/* ---- ABI 1.2 ---- */
	/* Providers tell the core what they are doing. */
	/* The provider's state as it changed (st is copied; call it whenever a field changes).
	 * The core shows it in `proxyctl status` and keeps the URL for the other parts of
	 * proxyd. */
	void (*provider_report)(proxyd_provider *p, const struct proxyd_provider_status *st);
	/* A stop() has finished: every process the provider started is gone. Call it exactly
	 * once per stop(), possibly from inside stop() itself. */
	void (*provider_stopped)(proxyd_provider *p);
	/* 1 when an agent with this id has a live, registered session on this server (0 in a
	 * process without the server role). For routers that must tell an agent id from
	 * something else the name could mean. */
	int (*agent_online)(const char *agent_id);

	/* ---- ABI 1.3: transports with native streams (QUIC) ----
	 * Instead of one byte stream that the core multiplexes, such a transport hands over a
	 * connection whose streams it carries itself, with their own flow control. The core
	 * writes the same stream-open header as the first bytes of every stream it opens, and
	 * the dialer's first stream is the control stream (doc/NATIVE-STREAMS.md); a transport
	 * only moves bytes. conn_state and stream_state are the transport's; proxyd_conn and
	 * proxyd_stream are the core's. Rules:
	 *  - Every call below is made from the loop, never from inside one of the transport
	 *    ops (the core calls ops from inside these calls: write, resume, reset...).
	 *  - After conn_closed, or after the core's conn_close op, neither side calls the other
	 *    about that connection or its streams again.
	 *  - After the core's stream_release op, the transport calls nothing for that stream. */
	/* A server-side connection whose handshake is complete (peer identity verified). The
	 * core returns its handle, or NULL when it refuses the connection: the transport then
	 * closes it and forgets it. */
	proxyd_conn *(*native_accepted)(proxyd_listener *l, void *conn_state,
					const struct proxyd_peer_info *info);
	/* The dial finished (a client reports it once the handshake is confirmed, i.e. the
	 * server accepted its certificate). NULL: refused, as above. After this call the
	 * plugin forgets d, as after dial_connected. */
	proxyd_conn *(*native_connected)(proxyd_dial *d, void *conn_state,
					 const struct proxyd_peer_info *info);
	/* The peer opened a stream. The core returns its handle, or NULL to refuse it (the
	 * transport then resets the stream and forgets it). */
	proxyd_stream *(*stream_arrived)(proxyd_conn *c, void *stream_state);
	/* Bytes of the stream, in order. The core copies them all and returns how many more it
	 * wants now: 0 means stop offering until the stream_resume_read op. Reading only what
	 * the core takes is what makes a slow reader stall only its own stream. */
	size_t (*stream_data)(proxyd_stream *st, const void *data, size_t len);
	/* The peer finished sending (after all its bytes were delivered). */
	void (*stream_fin)(proxyd_stream *st);
	/* The peer aborted the stream (RESET_STREAM or STOP_SENDING) with its code. */
	void (*stream_reset_in)(proxyd_stream *st, uint32_t code);
	/* There is room again after a short stream_write op. */
	void (*stream_writable)(proxyd_stream *st);
	/* The connection is gone (peer close, idle timeout, error); reason is for the log.
	 * The core resets its streams itself. */
	void (*conn_closed)(proxyd_conn *c, uint32_t code, const char *reason);

	/* ---- ABI 1.4 ---- */
	/* A router that answered PROXYD_ROUTE_PENDING can decide now. Call it exactly once per
	 * PENDING, from any callback on the loop thread, also from route_free (a router freed by
	 * a reload resumes what still waits on it). The core routes that request again on a
	 * later loop turn, never from inside this call, with the configuration then in force
	 * and the same `wait` value in out->wait (so a router may recognize the request); when
	 * the request is gone by then (the client left, a timeout), nothing happens. After the
	 * call the handle belongs to the core again. */
	void (*route_resume)(proxyd_route_wait *wait);
	/* Does the agent whose session comes from `ip` (the address the server sees,
	 * "172.30.0.5" or "fd00::5") report TCP port `port` as listening? Agents report with
	 * agent.report_ports. Returns 1 (the port's label copied into label, "" when it has
	 * none; label may be NULL), 0 when that agent does not report the port, or -ENOENT when
	 * no agent at ip reports ports (or this process has no server role). */
	int (*agent_port)(const char *ip, unsigned port, char *label, size_t label_len);
	/* The integer value of an element itself (for arrays of integers, as cfg_elem_string is
	 * for strings): 0, or -EINVAL when it is not an integer (nothing recorded: say what is
	 * wrong with cfg_error). */
	int (*cfg_elem_int)(const proxyd_cfg *node, long long *out);

	/* ---- ABI 1.5: direct paths between agents (doc/DIRECT-PATHS.md) ----
	 * One proxyd_direct is one attempt to reach one peer agent directly. The transport
	 * reports each step once, from the loop, never from inside its own op. */
	/* direct_prepare finished: the attempt's socket is bound and these are its candidates,
	 * "host 10.0.1.2:40112,srflx 198.18.0.11:40112" (type, a space, ip:port; a comma
	 * between candidates; at most PROXYD_DIRECT_CANDIDATES_MAX bytes). detail says what
	 * the STUN servers answered, for the log. A NULL candidates means preparing failed
	 * (detail says why) and the attempt is over: the transport forgets d. */
	void (*direct_gathered)(proxyd_direct *d, const char *candidates, const char *detail);
	/* The direct connection is up: the peer answered authenticated punches and the QUIC
	 * handshake completed with the certificate of attempt->peer_id. conn_state is a native
	 * connection (ABI 1.3 ops of the same transport; the initiator's side is the dialer).
	 * The core returns its handle, or NULL to refuse it (the transport closes it). Either
	 * way the attempt is over: the transport forgets d. */
	proxyd_conn *(*direct_connected)(proxyd_direct *d, void *conn_state,
					 const struct proxyd_peer_info *info);
	/* The attempt failed at `step` ("bind", "stun", "punch", "handshake", "identity"), with
	 * a reason for the operator. The transport forgets d. */
	void (*direct_failed)(proxyd_direct *d, const char *step, const char *reason);
};

#define PROXYD_HOST_HAS(host, member)                                                         \
	((host)->size >= offsetof(struct proxyd_host, member) + sizeof((host)->member) &&          \
	 (host)->member != NULL)

/*
 * Transport ops. A transport carries sessions between proxyd nodes (agent <-> server).
 * REQUIRED: check, listen, unlisten, dial, dial_cancel.
 */
struct proxyd_transport_ops {
	/* Validate one endpoint entry (server.listen[i] for ROLE_SERVER, agent.servers[i] for
	 * ROLE_AGENT) by reading its keys with host->cfg_*; report problems with cfg_error.
	 * Returns 0 when usable. Runs for `proxyd -t` and before listen/dial. */
	int (*check)(void *plugin_state, const proxyd_cfg *endpoint, int role);
	/* Start accepting on an endpoint; hand each connection to host->listener_accepted.
	 * *listener_state is passed back to unlisten. Returns 0 or -errno (logged by plugin). */
	int (*listen)(void *plugin_state, const proxyd_cfg *endpoint, proxyd_listener *l,
		      void **listener_state);
	void (*unlisten)(void *listener_state);
	/* Begin connecting to a server endpoint; finish with exactly one of
	 * host->dial_connected or host->dial_failed, never from inside dial() itself.
	 * A non-zero return (-ENOMEM, say) means the dial never started: no callback follows.
	 * dial_failed's err is a negative errno: -ECONNREFUSED etc. for connect errors,
	 * -ETIMEDOUT, -EHOSTUNREACH (name resolution), -EACCES (peer identity refused:
	 * retrying will not help), -EPROTO (TLS), -ECONNRESET, -EINVAL (configuration). */
	int (*dial)(void *plugin_state, const proxyd_cfg *endpoint, proxyd_dial *d,
		    void **dial_state);
	/* Abandon a dial in progress; no host callback follows. */
	void (*dial_cancel)(void *dial_state);

	/* ---- ABI 1.3: native streams (see the host functions of 1.3). A transport that hands
	 * over connections with host->native_accepted / native_connected sets all of these;
	 * a byte-stream transport leaves them NULL. The loader refuses a table with some but
	 * not all of them. ---- */
	/* Open a bidirectional stream; 0, -EAGAIN (the peer's stream limit: try later) or
	 * -errno. */
	int (*stream_open)(void *conn_state, proxyd_stream *st, void **stream_state);
	/* Take up to len bytes (flow control and a bounded send buffer decide how many) and
	 * return how many were taken; when fewer than len, host->stream_writable follows once
	 * there is room. Returns 0 for a stream whose sending side is gone. */
	size_t (*stream_write)(void *stream_state, const void *data, size_t len);
	/* FIN after the bytes taken so far. */
	void (*stream_shutdown)(void *stream_state);
	/* Abort both ways with an application code (RESET_STREAM and STOP_SENDING). */
	void (*stream_reset)(void *stream_state, uint32_t code);
	/* host->stream_data returned 0 earlier and the core has room again: offer more (from
	 * the loop, not from inside this call). */
	void (*stream_resume_read)(void *stream_state);
	/* The core is done with the stream. If the transport still has bytes to send (a FIN
	 * was asked for), they leave; bytes still arriving are read and dropped. The
	 * transport frees its state whenever the protocol is done with the stream. */
	void (*stream_release)(void *stream_state);
	/* Close the connection (a clean close with an application code and reason; streams
	 * end with it). No host call about it follows. */
	void (*conn_close)(void *conn_state, uint32_t code, const char *reason);
	/* Fill *out (out->size is the core's size; fill only what fits); 0 or -errno. */
	int (*conn_stats)(void *conn_state, struct proxyd_conn_stats *out);

	/* ---- ABI 1.5: direct paths between agents (optional; all three or none). ----
	 * The server side of such a transport is its listen op: a UDP port that answers STUN
	 * Binding requests (RFC 8489) for the agents' candidate gathering. */
	/* Begin an attempt towards one peer: bind a new UDP socket as the `direct` section
	 * (cfg, checked with PROXYD_ROLE_DIRECT) says and gather candidates: its host
	 * addresses and what the configured STUN servers see. Finish with
	 * host->direct_gathered. Non-zero return: nothing started, no callback follows. */
	int (*direct_prepare)(void *plugin_state, const proxyd_cfg *cfg, proxyd_direct *d,
			      void **direct_state);
	/* Punch towards the peer's candidates and connect QUIC over the same socket, as *a
	 * says (copy what you keep). Only after direct_gathered. Finish with
	 * host->direct_connected or host->direct_failed. */
	int (*direct_start)(void *direct_state, const struct proxyd_direct_attempt *a);
	/* Abandon the attempt (any time before its final host call); no callback follows. */
	void (*direct_cancel)(void *direct_state);
};

#define PROXYD_DIRECT_CANDIDATES_MAX 512
#define PROXYD_DIRECT_KEY_LEN 32

/* One direct attempt as the server arranged it (ABI 1.5). */
struct proxyd_direct_attempt {
	uint32_t size;               /* sizeof as the core compiled it */
	uint64_t id;                 /* the server's attempt id (in every punch) */
	const uint8_t *key;          /* PROXYD_DIRECT_KEY_LEN bytes from the server for this
	                              * attempt only: punches carry an HMAC with it */
	const char *peer_id;         /* the peer agent; its certificate's CN must be this */
	const char *peer_candidates; /* the peer's, in direct_gathered's format */
	int initiator;               /* 1: we dial QUIC (client); 0: we accept (server) */
	uint32_t punch_timeout_ms;   /* give up punching after this long */
};

/* What a native-stream transport says about one connection (ABI 1.3), for status. */
struct proxyd_conn_stats {
	uint32_t size;          /* the core's sizeof(struct proxyd_conn_stats) */
	uint64_t rtt_us;        /* smoothed round-trip time, 0 when unknown */
	uint64_t bytes_sent;    /* on the wire, with the transport's overhead */
	uint64_t bytes_received;
	uint64_t packets_lost;  /* 0 where the transport does not count them */
	char path[96];          /* e.g. "udp 10.0.0.2:4433 <- 10.0.0.9:51234" */
};

/* Parts of a request, for host->req_field. */
enum proxyd_req_field {
	PROXYD_REQ_METHOD = 1, /* "GET" */
	PROXYD_REQ_TARGET = 2, /* the request-target as sent: "/a/b?c=d" */
	PROXYD_REQ_PATH = 3,   /* the target up to '?': "/a/b" */
	PROXYD_REQ_QUERY = 4,  /* after '?', without it: "c=d"; 0 when there is no '?' */
	PROXYD_REQ_HOST = 5,   /* the authority's host, lower-case, without port or brackets */
	PROXYD_REQ_PORT = 6,   /* the authority's port as written; 0 when none was given */
	PROXYD_REQ_CLIENT = 7, /* the user's address, "ip:port" or "[ip6]:port" */
	PROXYD_REQ_SCHEME = 8, /* "http" or "https" (TLS ended by proxyd) */
	PROXYD_REQ_SNI = 9,    /* the TLS server name the client sent; 0 without TLS or SNI */
};

/* Router verdicts. */
enum proxyd_route_verdict {
	PROXYD_ROUTE_NEXT = 0,   /* not mine; ask the next router */
	PROXYD_ROUTE_MATCH = 1,  /* *out filled: send it there */
	PROXYD_ROUTE_REJECT = 2, /* answer with out->status */
	/* ABI 1.4: not decided yet, only when PROXYD_ROUTE_RESULT_HAS(out, wait) (without a wait
	 * handle a router must decide now, e.g. REJECT 503). The router keeps out->wait and
	 * calls host->route_resume(wait) exactly once when it can decide; out is not read. */
	PROXYD_ROUTE_PENDING = 3,
};

/* What a router fills in on MATCH or REJECT. Buffers belong to the core and hold at least
 * the given sizes; write NUL-terminated strings. */
struct proxyd_route_result {
	uint32_t size;
	int status;           /* REJECT: the HTTP status to answer with */
	char *agent;          /* MATCH: agent id, or "" for a direct address */
	size_t agent_len;
	char *service;        /* MATCH: the agent's service name, or "" for its default */
	size_t service_len;
	char *address;        /* MATCH: a direct "host:port" instead of an agent, or "" */
	size_t address_len;
	char *path;           /* MATCH: the rewritten path, or "" to keep it */
	size_t path_len;
	char *add_headers;    /* MATCH/REJECT: "Name: value\r\n" lines to add to the request
				 (MATCH) or response (REJECT) */
	size_t add_headers_len;
	/* ABI 1.1: a plugin built for 1.0 does not know them and leaves them empty. */
	char *host;           /* MATCH: the Host to send the service, or "" to keep it */
	size_t host_len;
	char *response_headers; /* MATCH: "Name: value\r\n" lines to add to the response */
	size_t response_headers_len;
	char *message;        /* REJECT: a short text for the response body, or "" */
	size_t message_len;
	/* ABI 1.4: the handle a router keeps when it answers PROXYD_ROUTE_PENDING; NULL where
	 * the caller cannot wait. */
	proxyd_route_wait *wait;
};

/* Does the host's result struct have this field (one added after ABI 1.0), with a buffer?
 * A router built for a newer minor than the host it runs on is refused, but one built for
 * 1.1 may fill 1.1 fields only through this test, which stays right under later hosts. */
#define PROXYD_ROUTE_RESULT_HAS(out, field)                                                   \
	((out)->size >= offsetof(struct proxyd_route_result, field) + sizeof((out)->field) &&      \
	 (out)->field != NULL)

/*
 * Router ops. Routers run in configuration order on each request head.
 * REQUIRED: route_new, route_free, route.
 */
struct proxyd_router_ops {
	/* One instance per entry of http.routes; read the entry's keys; 0 or -errno. */
	int (*route_new)(void *plugin_state, const proxyd_cfg *entry, void **route_state);
	void (*route_free)(void *route_state);
	/* Decide for one request: read it through host->req_field and host->req_header (ABI
	 * 1.1), fill *out, return an enum proxyd_route_verdict. Runs on the loop thread for
	 * every request: it must not block. The result buffers start as empty strings. */
	int (*route)(void *route_state, const proxyd_request *req, struct proxyd_route_result *out);
	/* ABI 1.4, optional: the edge could not connect to the direct address "ip:port" that a
	 * route of this configuration gave (reason is for logs). Called on every route of the
	 * configuration in force that has it, so a router that caches addresses can let go of
	 * a stale one (a VM that came back with another address). */
	void (*target_failed)(void *route_state, const char *address, const char *reason);
};

/* What a provider reports through host->provider_report (ABI 1.2). Strings are copied. */
struct proxyd_provider_status {
	uint32_t size;       /* sizeof(struct proxyd_provider_status) as the plugin compiled it */
	const char *state;   /* "starting", "running", "restarting", "stopping", "stopped", "idle" */
	const char *url;     /* the public URL, or NULL while there is none */
	const char *program; /* what runs ("ssh", "cloudflared", ...), or NULL */
	int pid;             /* the program's process id, 0 when none runs */
	uint32_t restarts;   /* how many times the program was restarted */
};

/*
 * Provider ops. A provider makes a local service public by some external means.
 * REQUIRED: provider_new, provider_free, start, stop.
 */
struct proxyd_provider_ops {
	/* One instance per entry of the `provider` list; read the entry's keys (copy what you
	 * keep: the entry goes away on reload); 0 or -errno. Runs for `proxyd -t` too, so it
	 * must not start anything. p is the core's handle for host->provider_* calls. */
	int (*provider_new)(void *plugin_state, const proxyd_cfg *entry, proxyd_provider *p,
			    void **provider_state);
	/* Free an instance; if anything it started still runs, end it before returning. */
	void (*provider_free)(void *provider_state);
	int (*start)(void *provider_state);
	/* Begin stopping; the plugin finishes asynchronously and then calls
	 * host->provider_stopped (ABI 1.2). */
	void (*stop)(void *provider_state);
};

/*
 * The descriptor. The identity fields come first and never move: they protect the rest.
 */
struct proxyd_plugin_descriptor {
	uint32_t magic;     /* PROXYD_PLUGIN_MAGIC */
	uint16_t abi_major; /* PROXYD_ABI_MAJOR the plugin was built against */
	uint16_t abi_minor; /* PROXYD_ABI_MINOR the plugin was built against */
	uint32_t size;      /* sizeof(struct proxyd_plugin_descriptor) as the plugin compiled it */
	uint32_t kind;      /* enum proxyd_plugin_kind */
	const char *name;   /* unique per kind-less namespace, e.g. "tcp" for transport-tcp */
	const char *version;
	/* Called once after the checks pass. *state is handed back to every op and to fini.
	 * Return 0, or -errno to refuse loading (log why through host->log first). */
	int (*init)(const struct proxyd_host *host, proxyd_plugin *self, void **state);
	/* Called once at shutdown, after every instance made through ops has been freed. */
	void (*fini)(void *state);
	/* The kind's ops table (struct proxyd_transport_ops etc.) and its compiled size. */
	const void *ops;
	uint32_t ops_size;
};

/* Declare a plugin in one line:
 *   PROXYD_PLUGIN_DECLARE(PROXYD_KIND_TRANSPORT, "tcp", "1.0", my_init, my_fini, &my_ops);
 */
#define PROXYD_PLUGIN_DECLARE(kind_, name_, version_, init_, fini_, ops_)                     \
	PROXYD_EXPORT const struct proxyd_plugin_descriptor proxyd_plugin_descriptor = {           \
		PROXYD_PLUGIN_MAGIC,                                                               \
		PROXYD_ABI_MAJOR,                                                                  \
		PROXYD_ABI_MINOR,                                                                  \
		(uint32_t)sizeof(struct proxyd_plugin_descriptor),                                 \
		(kind_),                                                                           \
		(name_),                                                                           \
		(version_),                                                                        \
		(init_),                                                                           \
		(fini_),                                                                           \
		(ops_),                                                                            \
		(uint32_t)sizeof(*(ops_)),                                                         \
	}

#ifdef __cplusplus
}
#endif
#endif /* PROXYD_PLUGIN_H */
