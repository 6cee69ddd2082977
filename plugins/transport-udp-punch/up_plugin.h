/* What the parts of transport-udp-punch share. up_plugin.c is the plugin's face to the core
 * (descriptor, init/fini, check, ops), up_config.c reads the keys, up_stun_server.c is the
 * server side (a STUN responder on server.listen), up_direct.c one direct attempt (gather,
 * punch, QUIC). The QUIC connection a direct attempt yields is driven by transport-quic's
 * native-stream glue (quic_native.c, compiled in), so its state is transport-quic's qt_plugin,
 * embedded here.
 *
 * Prefixes: up_ this plugin, qt_ the glue, quic_ the engine, stun_/punch_msg_/cand_ the pure
 * codecs. */
#ifndef PROXYD_UP_PLUGIN_H
#define PROXYD_UP_PLUGIN_H

#include "proxyd/plugin.h"
#include "quic_plugin.h"
#include "cand.h"

#include <sys/queue.h>
#include <sys/socket.h>

#define UP_NAME "udp-punch"
#define UP_STUN_MAX 8
#define UP_DEFAULT_PUNCH_TIMEOUT_MS 3000
#define UP_DEFAULT_IDLE_TIMEOUT_S 5
/* A dead direct path is noticed within the idle timeout; the keepalive keeps NAT mappings
 * and the idle timer fed. */
#define UP_KEEPALIVE_MS 1000
#define UP_HANDSHAKE_TIMEOUT_MS 5000
#define UP_PUNCH_INTERVAL_MS 50
/* STUN: retransmit after 250 ms, doubling up to 500 ms; give up at 1500 ms (4 sends). */
#define UP_STUN_RTO_MS 250
#define UP_STUN_RTO_MAX_MS 500
#define UP_STUN_GIVE_UP_MS 1500

struct up_direct;
struct up_stun_server;

/* An agent's `direct` section. */
struct up_direct_cfg {
	size_t n_stun;
	struct sockaddr_storage stun[UP_STUN_MAX];
	socklen_t stun_len[UP_STUN_MAX];
	struct sockaddr_storage bind;
	socklen_t bind_len;
	char *cert, *key, *ca;
	unsigned punch_timeout_ms;
	unsigned idle_timeout_s;
};

/* A server.listen entry. */
struct up_listen_cfg {
	struct sockaddr_storage addr;
	socklen_t addr_len;
	char text[64];
};

struct up_reap {
	struct quic_endpoint *ep;
	struct up_reap *next;
};

struct up_plugin {
	struct qt_plugin qt; /* for quic_native.c: host, self, base, rbuf, conns */
	const struct proxyd_host *host;
	proxyd_plugin *self;
	struct event_base *base;
	int direct_ok; /* the host has the 1.3 and 1.5 functions */
	LIST_HEAD(, up_direct) directs;
	LIST_HEAD(, up_stun_server) servers;
	struct up_reap *reap;
	struct event *reap_ev;
};

#define UP_LOG(p, level, conn_id, ...) (p)->host->log((p)->self, (level), (conn_id), __VA_ARGS__)

/* ---- up_plugin.c ---- */
/* Free ep from the loop soon (never inside its own callbacks). */
void up_reap_endpoint(struct up_plugin *p, struct quic_endpoint *ep);
uint64_t up_now_ms(void);

/* ---- up_config.c ---- */
int up_direct_cfg_read(const struct proxyd_host *host, const proxyd_cfg *cfg,
		       struct up_direct_cfg *out);
void up_direct_cfg_clear(struct up_direct_cfg *c);
/* Loads the TLS files as the engine will (for check). */
int up_direct_cfg_check_files(const struct proxyd_host *host, const proxyd_cfg *cfg,
			      const struct up_direct_cfg *c);
int up_listen_cfg_read(const struct proxyd_host *host, const proxyd_cfg *entry,
		       struct up_listen_cfg *out);

/* ---- up_stun_server.c ---- */
int up_stun_server_start(struct up_plugin *p, const struct up_listen_cfg *c,
			 void **listener_state);
void up_stun_server_stop(void *listener_state);
/* The bound address (tests listen on port 0). */
int up_stun_server_addr(void *listener_state, struct sockaddr_storage *ss, socklen_t *len);

/* ---- up_direct.c ---- */
int up_direct_prepare(struct up_plugin *p, const proxyd_cfg *cfg, proxyd_direct *d,
		      void **direct_state);
int up_direct_start(void *direct_state, const struct proxyd_direct_attempt *a);
void up_direct_cancel(void *direct_state);
void up_direct_free_all(struct up_plugin *p);

#endif
