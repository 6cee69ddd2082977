/* The server role (see server.h): transport listeners, the agent handshake (HELLO, AUTH,
 * REGISTER), the registry, duplicate-id decisions, liveness, and stream opening. */
#include "config.h"
#include "server.h"
#include "ctl_auth.h"
#include "ctl_channel.h"
#include "daemon.h"
#include "endpoint.h"
#include "host_api.h"
#include "json_out.h"
#include "log.h"
#include "loop.h"
#include "plugins.h"
#include "port_registry.h"
#include "peer_acl.h"
#include "relay.h"
#include "rendezvous.h"
#include "session.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIVENESS_PROBE_MS 2000

enum ac_state { AC_HELLO, AC_AUTH, AC_REGISTER, AC_READY };

struct agent_conn {
	struct agent_conn *next;
	struct session *s;
	uint64_t conn_id;
	enum ac_state state;
	char id[CONF_ID_MAX + 1];
	char address[96], security[128], identity[128], transport[32];
	int verified;
	uint8_t nonce[32];       /* ours, sent in HELLO */
	uint8_t agent_nonce[32]; /* the agent's, from its HELLO */
	int has_agent_nonce;
	struct ctl_service services[64];
	int n_services;
	uint64_t started_ms, last_seen_ms;
	proxyd_timer *timer;
	/* Duplicate id: a newcomer waits while the incumbent is probed for life. */
	struct agent_conn *probing;   /* on the newcomer: the incumbent */
	struct agent_conn *newcomer;  /* on the incumbent: who waits for the verdict */
	uint64_t probe_seq;
	unsigned rr; /* round-robin counter for load-balanced ids */
};

struct listener_entry {
	struct listener_entry *next;
	struct proxyd_listener l;
	char address[128];
	char transport[32];
};

static struct {
	struct conf *conf;
	struct agent_conn *conns;
	struct listener_entry *listeners;
	int running, draining;
	unsigned rr;
} srv;

static const struct session_cbs server_session_cbs;

int server_running(void)
{
	return srv.running;
}

static int is_load_balanced(const char *id)
{
	for (int i = 0; i < srv.conf->srv.n_load_balanced; i++)
		if (strcmp(srv.conf->srv.load_balanced[i], id) == 0)
			return 1;
	return 0;
}

static const struct conf_token *find_token(const char *id)
{
	for (int i = 0; i < srv.conf->srv.n_tokens; i++)
		if (strcmp(srv.conf->srv.tokens[i].id, id) == 0)
			return &srv.conf->srv.tokens[i];
	return NULL;
}

static void conn_unlink(struct agent_conn *ac)
{
	for (struct agent_conn **p = &srv.conns; *p; p = &(*p)->next)
		if (*p == ac) {
			*p = ac->next;
			return;
		}
}

static void conn_free(struct agent_conn *ac)
{
	conn_unlink(ac);
	port_registry_drop(ac->conn_id);
	if (ac->probing)
		ac->probing->newcomer = NULL;
	if (ac->newcomer)
		ac->newcomer->probing = NULL;
	loop_timer_free(ac->timer);
	session_free(ac->s);
	free(ac);
}

static void fail(struct agent_conn *ac, uint32_t code, const char *fmt, ...) PROXYD_PRINTF(3, 4);
static void fail(struct agent_conn *ac, uint32_t code, const char *fmt, ...)
{
	char reason[256];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(reason, sizeof reason, fmt, ap);
	va_end(ap);
	log_msg(PROXYD_LOG_WARN, "server", ac->conn_id, "agent %s from %s refused: %s",
		ac->id[0] ? ac->id : "(unidentified)", ac->address, reason);
	ctl_fail(ac->s, code, reason);
}

static void send_simple(struct agent_conn *ac, uint16_t type)
{
	struct ctl_msg m;
	memset(&m, 0, sizeof m);
	m.type = type;
	ctl_send(ac->s, &m);
}

static void on_hello(struct agent_conn *ac, const struct ctl_msg *m)
{
	int version = ctl_version_pick(CTL_VERSION_MIN, CTL_VERSION_MAX, m->version_min, m->version_max);
	if (version < 0) {
		fail(ac, CTL_CODE_VERSION, "no common protocol version: agent speaks %u-%u, server %d-%d",
		     m->version_min, m->version_max, CTL_VERSION_MIN, CTL_VERSION_MAX);
		return;
	}
	if (m->role != CTL_ROLE_AGENT) {
		fail(ac, CTL_CODE_PROTOCOL, "HELLO from a peer that is not an agent");
		return;
	}
	struct ctl_msg r;
	memset(&r, 0, sizeof r);
	r.type = CTL_HELLO;
	r.version = (uint16_t)version;
	snprintf(r.node_id, sizeof r.node_id, "server");
	r.role = CTL_ROLE_SERVER;
	if (ctl_auth_nonce(ac->nonce) != 0) {
		fail(ac, CTL_CODE_INTERNAL, "no randomness for the nonce");
		return;
	}
	memcpy(r.nonce, ac->nonce, sizeof r.nonce);
	r.has_nonce = 1;
	ctl_send(ac->s, &r);
	ac->state = AC_AUTH;
	memcpy(ac->agent_nonce, m->nonce, sizeof ac->agent_nonce);
	ac->has_agent_nonce = m->has_nonce;
}

static struct agent_conn *find_ready(const char *id, struct agent_conn *except)
{
	for (struct agent_conn *c = srv.conns; c; c = c->next)
		if (c != except && c->state == AC_READY && strcmp(c->id, id) == 0)
			return c;
	return NULL;
}

static void accept_auth(struct agent_conn *ac)
{
	ac->state = AC_REGISTER;
	send_simple(ac, CTL_AUTH_OK);
	log_msg(PROXYD_LOG_INFO, "server", ac->conn_id, "agent %s authenticated (%s) from %s",
		ac->id, ac->verified && ac->identity[0] ? "certificate" : "token", ac->address);
}

static void probe_timeout(void *arg)
{
	struct agent_conn *newcomer = arg;
	struct agent_conn *old = newcomer->probing;
	if (!old)
		return;
	log_msg(PROXYD_LOG_INFO, "server", old->conn_id,
		"agent %s: previous session did not answer within %d ms; replacing it", old->id,
		LIVENESS_PROBE_MS);
	old->newcomer = NULL;
	newcomer->probing = NULL;
	struct ctl_msg m;
	memset(&m, 0, sizeof m);
	m.type = CTL_ERROR;
	m.code = CTL_CODE_REPLACED;
	ctl_set_reason(&m, "a new session for this agent id replaced this one");
	ctl_send(old->s, &m);
	conn_free(old);
	accept_auth(newcomer);
}

static void on_auth(struct agent_conn *ac, const struct ctl_msg *m)
{
	if (!m->agent_id[0]) {
		fail(ac, CTL_CODE_AUTH, "AUTH without an agent id");
		return;
	}
	snprintf(ac->id, sizeof ac->id, "%s", m->agent_id);

	if (ac->verified && ac->identity[0]) {
		if (strcmp(ac->identity, m->agent_id) != 0) {
			fail(ac, CTL_CODE_IDENTITY, "certificate is for '%s' but the agent calls itself '%s'",
			     ac->identity, m->agent_id);
			return;
		}
	} else {
		const struct conf_token *t = find_token(m->agent_id);
		if (!t) {
			fail(ac, CTL_CODE_AUTH,
			     "unknown agent: no client certificate and no token configured for '%s'",
			     m->agent_id);
			return;
		}
		if (!m->has_proof || !ac->has_agent_nonce ||
		    ctl_auth_verify((const uint8_t *)t->token, strlen(t->token), ac->nonce,
				    ac->agent_nonce, m->agent_id, m->proof) != 0) {
			fail(ac, CTL_CODE_AUTH, "wrong token for agent '%s'", m->agent_id);
			return;
		}
	}
	struct agent_conn *old = find_ready(ac->id, ac);
	if (old && !is_load_balanced(ac->id)) {
		if (old->newcomer) {
			fail(ac, CTL_CODE_LIMIT, "agent id '%s' is already being taken over", ac->id);
			return;
		}
		/* Is the incumbent alive? A dead one (crashed agent, lost network) is replaced,
		 * so a returning agent is never locked out; a live one keeps its place. */
		struct ctl_msg ping;
		memset(&ping, 0, sizeof ping);
		ping.type = CTL_PING;
		ping.seq = old->probe_seq = ((uint64_t)1 << 63) | ac->conn_id;
		ping.time_ns = loop_now_ms() * 1000000;
		ctl_send(old->s, &ping);
		old->newcomer = ac;
		ac->probing = old;
		loop_timer_start(ac->timer, LIVENESS_PROBE_MS, 0);
		return;
	}
	accept_auth(ac);
}

static void on_register(struct agent_conn *ac, const struct ctl_msg *m)
{
	ac->n_services = m->n_services;
	memcpy(ac->services, m->services, sizeof(m->services[0]) * (size_t)m->n_services);
	ac->state = AC_READY;
	loop_timer_start(ac->timer, (uint64_t)srv.conf->srv.idle_timeout_ms, 0);
	send_simple(ac, CTL_REGISTER_OK);
	char list[512] = "";
	size_t used = 0;
	for (int i = 0; i < ac->n_services && used < sizeof list; i++) {
		int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", ac->services[i].name);
		if (w > 0)
			used += (size_t)w;
	}
	log_msg(PROXYD_LOG_INFO, "server", ac->conn_id, "agent %s registered %d service(s): %s", ac->id,
		ac->n_services, ac->n_services ? list : "(none)");
}

static void on_pong(struct agent_conn *ac, const struct ctl_msg *m)
{
	if (ac->newcomer && m->seq == ac->probe_seq) {
		struct agent_conn *newcomer = ac->newcomer;
		ac->newcomer = NULL;
		newcomer->probing = NULL;
		loop_timer_stop(newcomer->timer);
		fail(newcomer, CTL_CODE_LIMIT, "agent id '%s' is already connected from %s", ac->id,
		     ac->address);
	}
}

/* An agent's listening ports (agent.report_ports), for the VM-host proxy's allow-list. */
static void server_ports_reported(struct agent_conn *ac, const struct ctl_msg *m)
{
	if (port_registry_set(ac->conn_id, ac->address, ac->id, m->ports, m->n_ports) < 0) {
		log_msg(PROXYD_LOG_WARN, "server", ac->conn_id, "agent %s: ports report from %s ignored",
			ac->id, ac->address);
		return;
	}
	char list[400] = "";
	size_t used = 0;
	for (int i = 0; i < m->n_ports && used < sizeof list; i++) {
		int w = snprintf(list + used, sizeof list - used, "%s%u%s%s%s", i ? ", " : "",
				 m->ports[i].port, m->ports[i].label[0] ? " (" : "", m->ports[i].label,
				 m->ports[i].label[0] ? ")" : "");
		if (w > 0)
			used += (size_t)w;
	}
	log_msg(PROXYD_LOG_INFO, "server", ac->conn_id, "agent %s reports %d listening port(s): %s",
		ac->id, m->n_ports, m->n_ports ? list : "(none)");
}

static void on_control(struct session *s, void *owner, struct evbuffer *in)
{
	struct agent_conn *ac = owner;
	struct ctl_msg m;
	const char *err = NULL;
	int rc;
	while (!session_is_closed(s) && (rc = ctl_next(in, &m, &err)) != 0) {
		if (rc < 0) {
			fail(ac, CTL_CODE_PROTOCOL, "malformed control message: %s", err ? err : "?");
			return;
		}
		ac->last_seen_ms = loop_now_ms();
		if (ac->state == AC_READY)
			loop_timer_start(ac->timer, (uint64_t)srv.conf->srv.idle_timeout_ms, 0);
		switch (m.type) {
		case CTL_HELLO:
			if (ac->state != AC_HELLO)
				fail(ac, CTL_CODE_PROTOCOL, "unexpected HELLO");
			else
				on_hello(ac, &m);
			break;
		case CTL_AUTH:
			if (ac->state != AC_AUTH || ac->probing)
				fail(ac, CTL_CODE_PROTOCOL, "unexpected AUTH");
			else
				on_auth(ac, &m);
			break;
		case CTL_REGISTER:
			if (ac->state != AC_REGISTER && ac->state != AC_READY)
				fail(ac, CTL_CODE_PROTOCOL, "REGISTER before authentication");
			else
				on_register(ac, &m);
			break;
		case CTL_PING: {
			struct ctl_msg r = m;
			r.type = CTL_PONG;
			ctl_send(s, &r);
			break;
		}
		case CTL_PONG:
			on_pong(ac, &m);
			break;
		case CTL_GOAWAY:
			log_msg(PROXYD_LOG_INFO, "server", ac->conn_id, "agent %s is going away: %s", ac->id,
				m.reason);
			session_peer_goaway(ac->s);
			break;
		case CTL_ERROR:
			log_msg(PROXYD_LOG_WARN, "server", ac->conn_id, "agent %s reports error %u: %s",
				ac->id, m.code, m.reason);
			break;
		case CTL_PORTS:
			if (ac->state == AC_READY)
				server_ports_reported(ac, &m);
			break;
		case CTL_DIRECT_REQUEST:
		case CTL_DIRECT_ANSWER:
		case CTL_DIRECT_RESULT:
			if (ac->state == AC_READY)
				rendezvous_on_control(ac->id, &m);
			break;
		default:
			break; /* unknown types are skipped: newer agents may send them */
		}
	}
}

static void on_stream(struct session *s, void *owner, struct stream *st, const struct open_header *oh)
{
	struct agent_conn *ac = owner;
	/* What agents open towards the server is for other agents: the relay. */
	if ((oh->kind == OPEN_KIND_PEER || oh->kind == OPEN_KIND_PEER_PING) && ac->state == AC_READY) {
		relay_stream(ac->id, ac->conn_id, st, oh);
		return;
	}
	stream_reset(st, RST_NO_SERVICE, "the server offers no services to agents");
	stream_release(st);
}

static void on_closed(struct session *s, void *owner, const char *reason)
{
	struct agent_conn *ac = owner;
	if (ac->state == AC_READY) {
		log_msg(PROXYD_LOG_INFO, "server", ac->conn_id, "agent %s disconnected: %s", ac->id, reason);
		if (!find_ready(ac->id, ac))
			rendezvous_agent_gone(ac->id);
	}
	struct agent_conn *newcomer = ac->newcomer;
	conn_free(ac);
	if (newcomer) {
		/* The incumbent died while being probed: the newcomer takes its place now. */
		newcomer->probing = NULL;
		loop_timer_stop(newcomer->timer);
		accept_auth(newcomer);
	}
	daemon_drain_poke();
}

static void on_stream_gone(struct session *s, void *owner)
{
	daemon_drain_poke();
}

static const struct session_cbs server_session_cbs = {
	.on_stream_gone = on_stream_gone,
	.on_stream = on_stream,
	.on_control = on_control,
	.on_closed = on_closed,
};

static void conn_timer(void *arg)
{
	struct agent_conn *ac = arg;
	if (ac->probing) {
		probe_timeout(ac);
		return;
	}
	if (ac->state != AC_READY)
		fail(ac, CTL_CODE_TIMEOUT, "handshake not finished within %lld s",
		     srv.conf->srv.handshake_timeout_ms / 1000);
	else
		fail(ac, CTL_CODE_TIMEOUT, "nothing heard for %lld s", srv.conf->srv.idle_timeout_ms / 1000);
}

static struct session *on_accept(void *owner, const struct session_link *link,
				 const struct proxyd_peer_info *info)
{
	struct listener_entry *le = owner;
	if (srv.draining) {
		session_link_discard(link);
		return NULL;
	}
	struct agent_conn *ac = calloc(1, sizeof *ac);
	if (!ac) {
		session_link_discard(link);
		return NULL;
	}
	ac->conn_id = host_next_conn_id();
	snprintf(ac->address, sizeof ac->address, "%s", info->address ? info->address : "?");
	snprintf(ac->security, sizeof ac->security, "%s", info->security ? info->security : "?");
	snprintf(ac->identity, sizeof ac->identity, "%s", info->identity ? info->identity : "");
	snprintf(ac->transport, sizeof ac->transport, "%s", le->transport);
	ac->verified = info->verified;
	ac->started_ms = ac->last_seen_ms = loop_now_ms();
	ac->timer = loop_timer_new(conn_timer, ac);
	ac->s = session_new(link, 0, ac->conn_id, NULL, &server_session_cbs, ac);
	if (!ac->s || !ac->timer) {
		if (!ac->s)
			session_link_discard(link);
		loop_timer_free(ac->timer);
		session_free(ac->s);
		free(ac);
		return NULL;
	}
	ac->next = srv.conns;
	srv.conns = ac;
	loop_timer_start(ac->timer, (uint64_t)srv.conf->srv.handshake_timeout_ms, 0);
	log_msg(PROXYD_LOG_DEBUG, "server", ac->conn_id, "connection from %s over %s (%s)", ac->address,
		le->transport, ac->security);
	return ac->s;
}

int server_agent_online(const char *agent_id)
{
	if (!srv.running)
		return 0;
	for (struct agent_conn *c = srv.conns; c; c = c->next)
		if (c->state == AC_READY && strcmp(c->id, agent_id) == 0 && !session_is_closed(c->s))
			return 1;
	return 0;
}

struct stream *server_open_stream(const char *agent_id, const char *service, uint8_t kind,
				  const char *client, const char **why)
{
	struct agent_conn *pick = NULL;
	unsigned n = 0;
	for (struct agent_conn *c = srv.conns; c; c = c->next)
		if (c->state == AC_READY && strcmp(c->id, agent_id) == 0 && !session_is_closed(c->s))
			n++;
	if (n == 0) {
		*why = "agent offline";
		return NULL;
	}
	unsigned want = srv.rr++ % n, i = 0;
	for (struct agent_conn *c = srv.conns; c; c = c->next)
		if (c->state == AC_READY && strcmp(c->id, agent_id) == 0 && !session_is_closed(c->s) &&
		    i++ == want)
			pick = c;
	/* The open header names a service; "the default" is resolved here, so the agent gets
	 * the name it registered. */
	const char *found = NULL;
	for (int k = 0; k < pick->n_services; k++)
		if (service[0] ? strcmp(pick->services[k].name, service) == 0 : pick->services[k].is_default)
			found = pick->services[k].name;
	if (!found) {
		*why = service[0] ? "the agent has no such service" : "the agent has no default service";
		return NULL;
	}
	struct open_header oh;
	memset(&oh, 0, sizeof oh);
	oh.kind = kind;
	snprintf(oh.service, sizeof oh.service, "%s", found);
	snprintf(oh.client, sizeof oh.client, "%s", client);
	struct stream *st = session_open_stream(pick->s, &oh);
	if (!st)
		*why = session_is_closed(pick->s) ? "the agent's session is closing"
						  : "the agent takes no new streams now (it is going away, "
						    "or has as many open as it allows)";
	return st;
}

void server_allowed_services(const char *from, const char *to, char *out, size_t cap)
{
	size_t used = 0;
	out[0] = '\0';
	struct agent_conn *ac = find_ready(to, NULL);
	if (!ac)
		return;
	for (int i = 0; i < ac->n_services; i++) {
		const char *svc = ac->services[i].name;
		if (!peer_acl_allows(srv.conf->srv.relay_allow, srv.conf->srv.n_relay_allow, from, to, svc))
			continue;
		int w = snprintf(out + used, cap - used, "%s%s", used ? "," : "", svc);
		if (w < 0 || (size_t)w >= cap - used) {
			out[used] = '\0';
			return;
		}
		used += (size_t)w;
	}
}

int server_send_ctl(const char *agent_id, const struct ctl_msg *m)
{
	struct agent_conn *ac = find_ready(agent_id, NULL);
	if (!ac || session_is_closed(ac->s))
		return -ENOENT;
	return ctl_send(ac->s, m);
}

struct stream *server_open_peer_stream(const char *agent_id, const struct open_header *oh,
				       const char **why)
{
	struct agent_conn *pick = find_ready(agent_id, NULL);
	if (!pick || session_is_closed(pick->s)) {
		*why = "agent offline";
		return NULL;
	}
	struct stream *st = session_open_stream(pick->s, oh);
	if (!st)
		*why = "the agent takes no new streams now";
	return st;
}

void server_set_conf(struct conf *c)
{
	srv.conf = c;
}

int server_start(struct conf *c)
{
	srv.conf = c;
	srv.running = 1;
	return server_start_listeners(c);
}

int server_start_listeners(struct conf *c)
{
	const proxyd_cfg *list = cfg_get_child(c->server, "listen");
	for (int i = 0; i < cfg_count(list); i++) {
		const proxyd_cfg *e = cfg_elem(list, i);
		const char *tname = "tcp", *addr = "?";
		cfg_get_string(e, "transport", &tname);
		cfg_get_string(e, "address", &addr);
		struct proxyd_plugin *t = plugins_find(PROXYD_KIND_TRANSPORT, tname);
		struct listener_entry *le = calloc(1, sizeof *le);
		if (!t || !le) {
			free(le);
			return -1;
		}
		le->l.transport = t;
		le->l.on_accept = on_accept;
		le->l.owner = le;
		snprintf(le->address, sizeof le->address, "%s", addr);
		snprintf(le->transport, sizeof le->transport, "%s", tname);
		if (t->ops.transport.listen(t->state, e, &le->l, &le->l.transport_state) != 0) {
			log_err("server", "cannot listen on %s (%s)", addr, tname);
			free(le);
			return -1;
		}
		le->next = srv.listeners;
		srv.listeners = le;
		log_info("server", "accepting agents on %s (%s)", addr, tname);
	}
	return 0;
}

void server_stop_listeners(void)
{
	while (srv.listeners) {
		struct listener_entry *le = srv.listeners;
		srv.listeners = le->next;
		le->l.transport->ops.transport.unlisten(le->l.transport_state);
		free(le);
	}
}

void server_stop(void)
{
	server_stop_listeners();
	rendezvous_stop();
	while (srv.conns)
		conn_free(srv.conns);
	srv.running = 0;
}

void server_drain_begin(void)
{
	srv.draining = 1;
	for (struct agent_conn *c = srv.conns; c; c = c->next) {
		struct ctl_msg m;
		memset(&m, 0, sizeof m);
		m.type = CTL_GOAWAY;
		m.code = CTL_CODE_NONE;
		snprintf(m.reason, sizeof m.reason, "server shutting down");
		ctl_send(c->s, &m);
		session_goaway(c->s, 0, "server shutting down");
	}
}

int server_busy(void)
{
	for (struct agent_conn *c = srv.conns; c; c = c->next) {
		struct session_stats st;
		session_stats(c->s, &st);
		if (st.streams_open)
			return 1;
	}
	return 0;
}

void server_status_sessions(struct evbuffer *out, int *first)
{
	uint64_t now = loop_now_ms();
	for (struct agent_conn *c = srv.conns; c; c = c->next) {
		if (c->state != AC_READY)
			continue;
		struct session_stats st;
		session_stats(c->s, &st);
		json_sep(out, first);
		evbuffer_add_printf(out, "{\"id\":%llu,\"peer\":", (unsigned long long)c->conn_id);
		json_str(out, c->id);
		evbuffer_add_printf(out, ",\"address\":");
		json_str(out, c->address);
		evbuffer_add_printf(out, ",\"transport\":");
		json_str(out, c->transport);
		evbuffer_add_printf(out, ",\"security\":");
		json_str(out, c->security);
		evbuffer_add_printf(out, ",\"rtt_ms\":%.3f,\"age_s\":%llu,\"services\":[",
				    (double)st.rtt_us / 1000.0,
				    (unsigned long long)((now - c->started_ms) / 1000));
		int f2 = 1;
		for (int i = 0; i < c->n_services; i++) {
			json_sep(out, &f2);
			evbuffer_add_printf(out, "{\"name\":");
			json_str(out, c->services[i].name);
			evbuffer_add_printf(out, ",\"kind\":\"%s\",\"default\":%s}",
					    c->services[i].kind == OPEN_KIND_HTTP ? "http" : "tcp",
					    c->services[i].is_default ? "true" : "false");
		}
		evbuffer_add_printf(out,
				    "],\"streams_open\":%u,\"streams_total\":%llu,\"bytes_in\":%llu,"
				    "\"bytes_out\":%llu}",
				    st.streams_open, (unsigned long long)st.streams_total,
				    (unsigned long long)st.bytes_in, (unsigned long long)st.bytes_out);
	}
}

void server_status_listeners(struct evbuffer *out, int *first)
{
	for (struct listener_entry *le = srv.listeners; le; le = le->next) {
		json_sep(out, first);
		evbuffer_add_printf(out, "{\"kind\":\"transport\",\"transport\":");
		json_str(out, le->transport);
		evbuffer_add_printf(out, ",\"address\":");
		json_str(out, le->address);
		evbuffer_add(out, "}", 1);
	}
}
