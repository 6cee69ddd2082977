/* The agent role: dial the servers in turn, HELLO/AUTH/REGISTER, keep the session alive with
 * PING, reconnect with exponential backoff and full jitter, and serve the streams the server
 * opens by connecting to the local service. */
#include "config.h"
#include "agent.h"
#include "ctl_auth.h"
#include "ctl_channel.h"
#include "daemon.h"
#include "endpoint.h"
#include "host_api.h"
#include "json_out.h"
#include "log.h"
#include "loop.h"
#include "plugins.h"
#include "port_report.h"
#include "consumer.h"
#include "peers.h"
#include "proxy_proto.h"
#include "session.h"
#include "splice.h"

#include <assert.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <event2/util.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum agent_state { AG_IDLE, AG_DIALING, AG_HELLO, AG_AUTH, AG_REGISTER, AG_READY };

static struct {
	struct conf *conf;
	enum agent_state state;
	int server_index;  /* which entry of agent.servers is tried next */
	int attempt;       /* consecutive failures, for the backoff */
	struct proxyd_dial dial;
	struct session *s;
	uint64_t conn_id;
	char server_address[128], server_transport[32], security[128];
	uint8_t nonce[32];
	proxyd_timer *reconnect_timer, *ping_timer, *dead_timer;
	uint64_t ping_seq, last_pong_ms, connected_ms;
	double rtt_ms;
	int running, draining;
	uint64_t started_ms;
} ag;

static void connect_next(void *unused);

static void schedule_reconnect(const char *why)
{
	ag.state = AG_IDLE;
	loop_timer_stop(ag.ping_timer);
	loop_timer_stop(ag.dead_timer);
	if (!ag.running || ag.draining)
		return;
	/* Exponential backoff with full jitter: a fleet of agents that lost the same server
	 * does not come back in lockstep. */
	/* A minimum of 0 still doubles from 1 ms, so it reaches reconnect_max too. */
	uint64_t cap = ag.conf->agt.reconnect_min_ms ? (uint64_t)ag.conf->agt.reconnect_min_ms : 1;
	for (int i = 0; i < ag.attempt && cap < (uint64_t)ag.conf->agt.reconnect_max_ms; i++)
		cap *= 2;
	if (cap > (uint64_t)ag.conf->agt.reconnect_max_ms)
		cap = (uint64_t)ag.conf->agt.reconnect_max_ms;
	uint32_t r = 0;
	RAND_bytes((unsigned char *)&r, sizeof r);
	uint64_t delay = (uint64_t)r % (cap + 1);
	ag.attempt++;
	log_msg(PROXYD_LOG_WARN, "agent", ag.conn_id, "%s; reconnecting in %llu ms", why,
		(unsigned long long)delay);
	loop_timer_start(ag.reconnect_timer, delay, 0);
}

const struct conf_service *agent_find_service(const char *name)
{
	for (int i = 0; i < ag.conf->agt.n_services; i++) {
		const struct conf_service *s = &ag.conf->agt.services[i];
		if (name[0] ? strcmp(s->name, name) == 0 : s->is_default)
			return s;
	}
	return NULL;
}

/* ---- serving a stream: connect to the local service, then splice ---- */

struct pending_local {
	struct stream *st;
	struct bufferevent *bev;
	char address[128];
	char client[64];    /* the user's address, as the server saw it */
	int proxy_protocol; /* the service's, copied: a reload may change it meanwhile */
	uint64_t conn_id;
};

static void pending_reset(struct stream *st, void *arg, uint32_t code, const char *reason)
{
	struct pending_local *pl = arg;
	bufferevent_free(pl->bev);
	stream_release(pl->st);
	free(pl);
}

static void pending_ignore(struct stream *st, void *arg)
{
	/* Bytes and FIN wait in the stream until the splice takes over. */
}

static const struct stream_cbs pending_cbs = {
	.on_data = pending_ignore,
	.on_fin = pending_ignore,
	.on_reset = pending_reset,
};

/* Queue the PROXY protocol header ahead of everything the splice will write. The stream-open
 * header carries only the user's address, so the destination is the service's own address
 * (doc/PROTOCOL.md, 5.2). */
static int send_proxy_header(struct pending_local *pl)
{
	uint8_t hdr[PROXY_PROTO_ENCODE_MAX];
	int n = proxy_proto_encode(pl->proxy_protocol, pl->client, pl->address, hdr, sizeof hdr);
	if (n == -EINVAL) {
		/* No usable user address (an empty one, or not numeric): the service still gets
		 * the header it requires, saying the source is unknown. */
		log_msg(PROXYD_LOG_DEBUG, "agent", pl->conn_id,
			"stream %u: client address '%s' is not ip:port; PROXY header says UNKNOWN",
			stream_id(pl->st), pl->client);
		n = proxy_proto_encode(pl->proxy_protocol, NULL, NULL, hdr, sizeof hdr);
	}
	assert(n > 0);
	return bufferevent_write(pl->bev, hdr, (size_t)n);
}

static void local_event(struct bufferevent *bev, short what, void *arg)
{
	struct pending_local *pl = arg;
	if (what & BEV_EVENT_CONNECTED) {
		evutil_socket_t fd = bufferevent_getfd(bev);
		int one = 1;
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (pl->proxy_protocol && send_proxy_header(pl) < 0) {
			stream_reset(pl->st, RST_INTERNAL, "out of memory");
			stream_release(pl->st);
			bufferevent_free(bev);
			free(pl);
			return;
		}
		splice_start(pl->st, bev, pl->conn_id);
		free(pl);
		return;
	}
	char reason[200];
	int err = EVUTIL_SOCKET_ERROR();
	snprintf(reason, sizeof reason, "connect %s: %s", pl->address,
		 err ? evutil_socket_error_to_string(err) : "failed");
	log_msg(PROXYD_LOG_WARN, "agent", pl->conn_id, "stream %u: %s", stream_id(pl->st), reason);
	stream_reset(pl->st, RST_REFUSED, reason);
	stream_release(pl->st);
	bufferevent_free(bev);
	free(pl);
}

static void on_stream(struct session *s, void *owner, struct stream *st, const struct open_header *oh)
{
	if (oh->kind == OPEN_KIND_PEER || oh->kind == OPEN_KIND_PEER_PING) {
		peers_incoming(st, oh); /* another agent's, through the relay */
		return;
	}
	const struct conf_service *svc = agent_find_service(oh->service);
	if (!svc) {
		char reason[128];
		snprintf(reason, sizeof reason, "no service '%s' on agent %s",
			 oh->service[0] ? oh->service : "(default)", ag.conf->agt.id);
		stream_reset(st, RST_NO_SERVICE, reason);
		stream_release(st);
		return;
	}
	struct pending_local *pl = calloc(1, sizeof *pl);
	struct sockaddr_storage ss;
	int sslen = sizeof ss;
	if (!pl || evutil_parse_sockaddr_port(svc->address, (struct sockaddr *)&ss, &sslen) != 0) {
		free(pl);
		stream_reset(st, RST_INTERNAL, "bad service address");
		stream_release(st);
		return;
	}
	pl->st = st;
	pl->conn_id = host_next_conn_id();
	snprintf(pl->address, sizeof pl->address, "%s", svc->address);
	snprintf(pl->client, sizeof pl->client, "%s", oh->client);
	pl->proxy_protocol = svc->proxy_protocol;
	pl->bev = bufferevent_socket_new(loop_base(), -1, BEV_OPT_CLOSE_ON_FREE);
	stream_set_cbs(st, &pending_cbs, pl);
	bufferevent_setcb(pl->bev, NULL, NULL, local_event, pl);
	log_msg(PROXYD_LOG_DEBUG, "agent", pl->conn_id, "stream %u from %s to service %s (%s)",
		stream_id(st), oh->client, svc->name, svc->address);
	if (bufferevent_socket_connect(pl->bev, (struct sockaddr *)&ss, sslen) < 0) {
		/* Immediate failures are reported through local_event's path as well. */
		local_event(pl->bev, BEV_EVENT_ERROR, pl);
	}
}

/* ---- control protocol ---- */

static void send_hello(void)
{
	struct ctl_msg m;
	memset(&m, 0, sizeof m);
	m.type = CTL_HELLO;
	m.version_min = CTL_VERSION_MIN;
	m.version_max = CTL_VERSION_MAX;
	snprintf(m.node_id, sizeof m.node_id, "%s", ag.conf->agt.id);
	m.role = CTL_ROLE_AGENT;
	if (ctl_auth_nonce(ag.nonce) == 0) {
		memcpy(m.nonce, ag.nonce, sizeof m.nonce);
		m.has_nonce = 1;
	}
	ctl_send(ag.s, &m);
	ag.state = AG_HELLO;
}

static void send_auth(const struct ctl_msg *hello)
{
	struct ctl_msg m;
	memset(&m, 0, sizeof m);
	m.type = CTL_AUTH;
	snprintf(m.agent_id, sizeof m.agent_id, "%s", ag.conf->agt.id);
	const char *token = ag.conf->agt.token;
	if (token && hello->has_nonce &&
	    ctl_auth_proof((const uint8_t *)token, strlen(token), hello->nonce, ag.nonce,
			   ag.conf->agt.id, m.proof) == 0)
		m.has_proof = 1;
	ctl_send(ag.s, &m);
	ag.state = AG_AUTH;
}

static void send_register(void)
{
	struct ctl_msg m;
	memset(&m, 0, sizeof m);
	m.type = CTL_REGISTER;
	for (int i = 0; i < ag.conf->agt.n_services && i < CTL_MAX_SERVICES; i++) {
		const struct conf_service *s = &ag.conf->agt.services[i];
		snprintf(m.services[i].name, sizeof m.services[i].name, "%s", s->name);
		m.services[i].kind = (uint8_t)s->kind;
		m.services[i].is_default = (uint8_t)s->is_default;
		m.n_services++;
	}
	ctl_send(ag.s, &m);
	ag.state = AG_REGISTER;
}

/* Dead server detection: the deadline is re-armed to two intervals at every PONG, so a
 * server that stops answering is given up exactly two intervals after its last answer. */
static void arm_liveness(void)
{
	ag.last_pong_ms = loop_now_ms();
	loop_timer_start(ag.dead_timer, 2 * (uint64_t)ag.conf->agt.ping_interval_ms, 0);
}

static void liveness_expired(void *unused)
{
	if (ag.state != AG_READY || !ag.s)
		return;
	char why[256];
	snprintf(why, sizeof why, "server %s did not answer PING for %llu ms", ag.server_address,
		 (unsigned long long)(loop_now_ms() - ag.last_pong_ms));
	struct session *s = ag.s;
	ag.s = NULL;
	session_free(s);
	peers_server_lost();
	schedule_reconnect(why);
}

static void send_ping(void *unused)
{
	if (ag.state != AG_READY)
		return;
	struct ctl_msg m;
	memset(&m, 0, sizeof m);
	m.type = CTL_PING;
	m.seq = ++ag.ping_seq;
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	m.time_ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	ctl_send(ag.s, &m);
}

static void on_control(struct session *s, void *owner, struct evbuffer *in)
{
	struct ctl_msg m;
	const char *err = NULL;
	int rc;
	while (ag.s == s && !session_is_closed(s) && (rc = ctl_next(in, &m, &err)) != 0) {
		if (rc < 0) {
			ctl_fail(s, CTL_CODE_PROTOCOL, "malformed control message");
			log_msg(PROXYD_LOG_WARN, "agent", ag.conn_id, "malformed control message: %s",
				err ? err : "?");
			return;
		}
		switch (m.type) {
		case CTL_HELLO:
			if (ag.state != AG_HELLO)
				break;
			if (m.version < CTL_VERSION_MIN || m.version > CTL_VERSION_MAX) {
				log_msg(PROXYD_LOG_ERROR, "agent", ag.conn_id,
					"server %s chose protocol version %u, outside our %d-%d",
					ag.server_address, m.version, CTL_VERSION_MIN, CTL_VERSION_MAX);
				ctl_fail(s, CTL_CODE_VERSION, "no common protocol version");
				return;
			}
			send_auth(&m);
			break;
		case CTL_AUTH_OK:
			if (ag.state == AG_AUTH)
				send_register();
			break;
		case CTL_REGISTER_OK:
			if (ag.state == AG_REGISTER) {
				ag.state = AG_READY;
				ag.attempt = 0;
				arm_liveness();
				ag.connected_ms = loop_now_ms();
				loop_timer_start(ag.ping_timer, (uint64_t)ag.conf->agt.ping_interval_ms, 1);
				log_msg(PROXYD_LOG_INFO, "agent", ag.conn_id,
					"registered with %s as %s (%d service(s))", ag.server_address,
					ag.conf->agt.id, ag.conf->agt.n_services);
				port_report_now();
				peers_server_ready();
			}
			break;
		case CTL_PING: {
			struct ctl_msg r = m;
			r.type = CTL_PONG;
			ctl_send(s, &r);
			break;
		}
		case CTL_PONG: {
			arm_liveness();
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
			if (m.time_ns && m.time_ns <= now)
				ag.rtt_ms = (double)(now - m.time_ns) / 1e6;
			break;
		}
		case CTL_ERROR:
			log_msg(PROXYD_LOG_ERROR, "agent", ag.conn_id, "server %s refused us: %s (%s)",
				ag.server_address, m.reason, ctl_code_name(m.code));
			break;
		case CTL_GOAWAY:
			log_msg(PROXYD_LOG_INFO, "agent", ag.conn_id, "server %s is going away: %s",
				ag.server_address, m.reason);
			session_peer_goaway(ag.s);
			break;
		case CTL_DIRECT_OFFER:
		case CTL_DIRECT_GO:
			if (ag.state == AG_READY)
				peers_on_control(&m);
			break;
		default:
			break;
		}
	}
}

static void on_closed(struct session *s, void *owner, const char *reason)
{
	if (ag.s != s) {
		session_free(s);
		return;
	}
	/* reason lives inside the session: copy it before freeing. */
	char why[300];
	snprintf(why, sizeof why, "session with %s ended: %s", ag.server_address, reason);
	ag.s = NULL;
	session_free(s);
	peers_server_lost();
	schedule_reconnect(why);
	daemon_drain_poke();
}

static void on_stream_gone(struct session *s, void *owner)
{
	daemon_drain_poke();
}

static const struct session_cbs agent_session_cbs = {
	.on_stream_gone = on_stream_gone,
	.on_stream = on_stream,
	.on_control = on_control,
	.on_closed = on_closed,
};

/* ---- dialing ---- */

static struct session *dial_connected(void *owner, const struct session_link *link,
				      const struct proxyd_peer_info *info)
{
	snprintf(ag.security, sizeof ag.security, "%s", info->security ? info->security : "?");
	ag.s = session_new(link, 1, ag.conn_id, NULL, &agent_session_cbs, NULL);
	if (!ag.s) {
		session_link_discard(link);
		schedule_reconnect("out of memory");
		return NULL;
	}
	log_msg(PROXYD_LOG_DEBUG, "agent", ag.conn_id, "connected to %s (%s)", ag.server_address,
		ag.security);
	send_hello();
	return ag.s;
}

static void dial_failed(void *owner, int err, const char *reason)
{
	char why[400];
	snprintf(why, sizeof why, "cannot reach server %s: %s", ag.server_address, reason);
	schedule_reconnect(why);
}

static void connect_next(void *unused)
{
	if (!ag.running || ag.draining)
		return;
	const proxyd_cfg *list = cfg_get_child(ag.conf->agent, "servers");
	int n = cfg_count(list);
	const proxyd_cfg *e = cfg_elem(list, ag.server_index % n);
	ag.server_index = (ag.server_index + 1) % n;
	const char *tname = "tcp", *addr = "?";
	cfg_get_string(e, "transport", &tname);
	cfg_get_string(e, "address", &addr);
	snprintf(ag.server_address, sizeof ag.server_address, "%s", addr);
	snprintf(ag.server_transport, sizeof ag.server_transport, "%s", tname);
	struct proxyd_plugin *t = plugins_find(PROXYD_KIND_TRANSPORT, tname);
	ag.conn_id = host_next_conn_id();
	memset(&ag.dial, 0, sizeof ag.dial);
	ag.dial.transport = t;
	ag.dial.on_connected = dial_connected;
	ag.dial.on_failed = dial_failed;
	ag.state = AG_DIALING;
	if (!t || t->ops.transport.dial(t->state, e, &ag.dial, &ag.dial.transport_state) != 0)
		schedule_reconnect("cannot start dialing");
}

int agent_start(struct conf *c)
{
	ag.conf = c;
	ag.running = 1;
	ag.started_ms = loop_now_ms();
	ag.reconnect_timer = loop_timer_new(connect_next, NULL);
	ag.ping_timer = loop_timer_new(send_ping, NULL);
	ag.dead_timer = loop_timer_new(liveness_expired, NULL);
	if (!ag.reconnect_timer || !ag.ping_timer || !ag.dead_timer)
		return -1;
	if (!c->agt.token)
		log_msg(PROXYD_LOG_DEBUG, "agent", 0, "no token configured: relying on a client certificate");
	port_report_start(c);
	if (peers_start(c) < 0 || consumer_start(c) < 0)
		return -1;
	connect_next(NULL);
	return 0;
}

void agent_stop(void)
{
	ag.running = 0;
	port_report_stop();
	consumer_stop();
	peers_stop();
	if (ag.state == AG_DIALING && !ag.dial.finished && ag.dial.transport_state)
		ag.dial.transport->ops.transport.dial_cancel(ag.dial.transport_state);
	if (ag.s) {
		session_free(ag.s);
		ag.s = NULL;
	}
	loop_timer_free(ag.reconnect_timer);
	loop_timer_free(ag.ping_timer);
	loop_timer_free(ag.dead_timer);
	ag.reconnect_timer = ag.ping_timer = ag.dead_timer = NULL;
}

void agent_set_conf(struct conf *c)
{
	ag.conf = c;
	/* Services may have changed: tell the server now. A changed server list applies at
	 * the next reconnect. */
	if (ag.s && ag.state == AG_READY) {
		send_register();
		ag.state = AG_READY;
	}
	port_report_apply(c);
	consumer_set_conf(c);
	peers_set_conf(c);
}

int agent_running(void)
{
	return ag.running;
}

void agent_drain_begin(void)
{
	ag.draining = 1;
	loop_timer_stop(ag.reconnect_timer);
	if (ag.s) {
		struct ctl_msg m;
		memset(&m, 0, sizeof m);
		m.type = CTL_GOAWAY;
		snprintf(m.reason, sizeof m.reason, "agent shutting down");
		ctl_send(ag.s, &m);
		session_goaway(ag.s, 0, "agent shutting down");
	}
}

int agent_busy(void)
{
	if (!ag.s)
		return 0;
	struct session_stats st;
	session_stats(ag.s, &st);
	return st.streams_open > 0;
}

void agent_status_sessions(struct evbuffer *out, int *first)
{
	if (!ag.s || ag.state != AG_READY)
		return;
	struct session_stats st;
	session_stats(ag.s, &st);
	json_sep(out, first);
	evbuffer_add_printf(out, "{\"id\":%llu,\"peer\":\"server\",\"address\":",
			    (unsigned long long)ag.conn_id);
	json_str(out, ag.server_address);
	evbuffer_add_printf(out, ",\"transport\":");
	json_str(out, ag.server_transport);
	evbuffer_add_printf(out, ",\"security\":");
	json_str(out, ag.security);
	evbuffer_add_printf(out, ",\"rtt_ms\":%.3f,\"age_s\":%llu,\"services\":[", ag.rtt_ms,
			    (unsigned long long)((loop_now_ms() - ag.connected_ms) / 1000));
	int f2 = 1;
	for (int i = 0; i < ag.conf->agt.n_services; i++) {
		const struct conf_service *s = &ag.conf->agt.services[i];
		json_sep(out, &f2);
		evbuffer_add_printf(out, "{\"name\":");
		json_str(out, s->name);
		evbuffer_add_printf(out, ",\"kind\":\"%s\",\"default\":%s}",
				    s->kind == OPEN_KIND_HTTP ? "http" : "tcp", s->is_default ? "true" : "false");
	}
	evbuffer_add_printf(out,
			    "],\"streams_open\":%u,\"streams_total\":%llu,\"bytes_in\":%llu,\"bytes_out\":%llu}",
			    st.streams_open, (unsigned long long)st.streams_total,
			    (unsigned long long)st.bytes_in, (unsigned long long)st.bytes_out);
}

struct session *agent_ready_session(uint64_t *conn_id)
{
	if (!ag.running || !ag.s || ag.state != AG_READY || session_is_closed(ag.s))
		return NULL;
	*conn_id = ag.conn_id;
	return ag.s;
}
