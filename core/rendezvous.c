/* Direct-path rendezvous on the server: see rendezvous.h. */
#include "config.h"
#include "rendezvous.h"
#include "daemon.h"
#include "log.h"
#include "loop.h"
#include "peer_acl.h"
#include "server.h"

#include <event2/buffer.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#define PENDING_TIMEOUT_MS 15000

struct pending {
	LIST_ENTRY(pending) link;
	uint64_t id, started_ms;
	char from[65], to[65];
	uint8_t key[32];
	char allowed_back[CTL_ALLOWED_MAX + 1]; /* what `to` may reach on `from`, for GO */
	proxyd_timer *timer;
};

static LIST_HEAD(, pending) pendings = LIST_HEAD_INITIALIZER(pendings);
static struct {
	uint64_t requests, offered, refused, answered_no, results_ok, results_failed;
} st;

static void pending_free(struct pending *p)
{
	LIST_REMOVE(p, link);
	loop_timer_free(p->timer);
	explicit_bzero(p->key, sizeof p->key);
	free(p);
}

static void go_refuse(const char *to_agent, const char *peer, uint64_t attempt, const char *why)
{
	struct ctl_msg m;
	memset(&m, 0, sizeof m);
	m.type = CTL_DIRECT_GO;
	m.attempt = attempt;
	snprintf(m.peer, sizeof m.peer, "%s", peer);
	m.code = 1;
	ctl_set_reason(&m, why);
	server_send_ctl(to_agent, &m);
}

static void pending_expired(void *arg)
{
	struct pending *p = arg;
	go_refuse(p->from, p->to, p->id, "the other agent did not answer the offer");
	pending_free(p);
}

static void on_request(const char *from, const struct ctl_msg *m)
{
	st.requests++;
	const struct conf *c = daemon_conf();
	char why[200];
	if (!m->peer[0] || strcmp(m->peer, from) == 0) {
		go_refuse(from, m->peer, 0, "a direct path needs another agent");
		return;
	}
	if (!peer_acl_allows(c->srv.relay_allow, c->srv.n_relay_allow, from, m->peer, NULL)) {
		st.refused++;
		snprintf(why, sizeof why, "server.relay.allow lets %s reach nothing on %s", from, m->peer);
		go_refuse(from, m->peer, 0, why);
		return;
	}
	if (!server_agent_online(m->peer)) {
		st.refused++;
		go_refuse(from, m->peer, 0, "the other agent is offline");
		return;
	}
	struct pending *p = calloc(1, sizeof *p);
	if (!p || !(p->timer = loop_timer_new(pending_expired, p))) {
		free(p);
		go_refuse(from, m->peer, 0, "out of memory");
		return;
	}
	RAND_bytes((unsigned char *)&p->id, sizeof p->id);
	RAND_bytes(p->key, sizeof p->key);
	p->started_ms = loop_now_ms();
	snprintf(p->from, sizeof p->from, "%s", from);
	snprintf(p->to, sizeof p->to, "%s", m->peer);
	LIST_INSERT_HEAD(&pendings, p, link);
	loop_timer_start(p->timer, PENDING_TIMEOUT_MS, 0);
	struct ctl_msg o;
	memset(&o, 0, sizeof o);
	o.type = CTL_DIRECT_OFFER;
	o.attempt = p->id;
	snprintf(o.peer, sizeof o.peer, "%s", from);
	snprintf(o.candidates, sizeof o.candidates, "%s", m->candidates);
	memcpy(o.key, p->key, sizeof o.key);
	o.has_key = 1;
	/* Each side learns which of its services the other may reach over the direct path, so
	 * the server's rule holds there as on the relay. */
	server_allowed_services(from, p->to, o.allowed, sizeof o.allowed);
	server_allowed_services(p->to, from, p->allowed_back, sizeof p->allowed_back);
	server_send_ctl(p->to, &o);
	st.offered++;
	log_msg(PROXYD_LOG_INFO, "rendezvous", 0, "direct attempt %016llx: %s (%s) -> %s",
		(unsigned long long)p->id, from, m->candidates, p->to);
}

static void on_answer(const char *from, const struct ctl_msg *m)
{
	struct pending *p;
	LIST_FOREACH(p, &pendings, link)
		if (p->id == m->attempt && strcmp(p->to, from) == 0)
			break;
	if (!p)
		return;
	if (m->code || !m->candidates[0]) {
		st.answered_no++;
		char why[300];
		snprintf(why, sizeof why, "%s declined: %s", from, m->reason[0] ? m->reason : "no candidates");
		go_refuse(p->from, p->to, p->id, why);
		pending_free(p);
		return;
	}
	struct ctl_msg g;
	memset(&g, 0, sizeof g);
	g.type = CTL_DIRECT_GO;
	g.attempt = p->id;
	snprintf(g.peer, sizeof g.peer, "%s", p->to);
	snprintf(g.candidates, sizeof g.candidates, "%s", m->candidates);
	memcpy(g.key, p->key, sizeof g.key);
	g.has_key = 1;
	snprintf(g.allowed, sizeof g.allowed, "%s", p->allowed_back);
	server_send_ctl(p->from, &g);
	log_msg(PROXYD_LOG_INFO, "rendezvous", 0, "direct attempt %016llx: %s answered (%s); punch now",
		(unsigned long long)p->id, from, m->candidates);
	pending_free(p);
}

void rendezvous_on_control(const char *from, const struct ctl_msg *m)
{
	switch (m->type) {
	case CTL_DIRECT_REQUEST:
		on_request(from, m);
		break;
	case CTL_DIRECT_ANSWER:
		on_answer(from, m);
		break;
	case CTL_DIRECT_RESULT:
		if (m->code == 0)
			st.results_ok++;
		else
			st.results_failed++;
		log_msg(PROXYD_LOG_INFO, "rendezvous", 0, "direct attempt %016llx: %s reports %s%s after %u ms",
			(unsigned long long)m->attempt, from, m->code ? "failure at " : "a direct path to ",
			m->code ? m->step : m->peer, m->elapsed_ms);
		break;
	default:
		break;
	}
}

void rendezvous_agent_gone(const char *id)
{
	struct pending *p, *tmp;
	for (p = LIST_FIRST(&pendings); p; p = tmp) {
		tmp = LIST_NEXT(p, link);
		if (strcmp(p->to, id) == 0) {
			go_refuse(p->from, p->to, p->id, "the other agent went away");
			pending_free(p);
		} else if (strcmp(p->from, id) == 0) {
			pending_free(p);
		}
	}
}

void rendezvous_metrics(struct evbuffer *out)
{
	evbuffer_add_printf(out,
			    "# TYPE proxyd_rendezvous_requests_total counter\n"
			    "proxyd_rendezvous_requests_total %llu\n"
			    "# TYPE proxyd_rendezvous_offers_total counter\n"
			    "proxyd_rendezvous_offers_total %llu\n"
			    "# TYPE proxyd_rendezvous_refused_total counter\n"
			    "proxyd_rendezvous_refused_total %llu\n"
			    "# TYPE proxyd_rendezvous_declined_total counter\n"
			    "proxyd_rendezvous_declined_total %llu\n"
			    "# TYPE proxyd_rendezvous_results_total counter\n"
			    "proxyd_rendezvous_results_total{ok=\"true\"} %llu\n"
			    "proxyd_rendezvous_results_total{ok=\"false\"} %llu\n",
			    (unsigned long long)st.requests, (unsigned long long)st.offered,
			    (unsigned long long)st.refused, (unsigned long long)st.answered_no,
			    (unsigned long long)st.results_ok, (unsigned long long)st.results_failed);
}

void rendezvous_stop(void)
{
	struct pending *p;
	while ((p = LIST_FIRST(&pendings)))
		pending_free(p);
}
