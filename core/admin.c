/* Admin socket: "status\n" -> JSON (the fields are listed in proxyctl(1)). */
#include "config.h"
#include "admin.h"
#include "agent.h"
#include "json_out.h"
#include "log.h"
#include "loop.h"
#include "server.h"
#include "tcp_edge.h"
#include "http_edge.h"
#include "provider.h"
#include "port_registry.h"
#include "peers.h"
#include "relay.h"
#include "rendezvous.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define ADMIN_MAX_LINE 256

static struct evconnlistener *admin_listener;
static char admin_path[256];
static uint64_t started_ms;

static void status_json(struct evbuffer *out)
{
	const char *role = server_running() && agent_running() ? "server+agent"
			   : server_running()			 ? "server"
			   : agent_running()			 ? "agent"
			   : http_edge_running()		 ? "http"
			   : providers_running()		 ? "provider"
								 : "none";
	evbuffer_add_printf(out, "{\"version\":\"%s\",\"role\":\"%s\",\"pid\":%d,\"uptime_s\":%llu,",
			    PACKAGE_VERSION, role, (int)getpid(),
			    (unsigned long long)((loop_now_ms() - started_ms) / 1000));
	evbuffer_add_printf(out, "\"sessions\":[");
	int first = 1;
	if (server_running())
		server_status_sessions(out, &first);
	if (agent_running())
		agent_status_sessions(out, &first);
	evbuffer_add_printf(out, "],\"listeners\":[");
	first = 1;
	if (server_running()) {
		server_status_listeners(out, &first);
		tcp_edge_status_listeners(out, &first);
	}
	if (http_edge_running())
		http_edge_status_listeners(out, &first);
	evbuffer_add_printf(out, "],\"providers\":[");
	providers_status(out);
	/* The ports agents report (agent.report_ports): what the VM-host proxy opens. */
	evbuffer_add_printf(out, "],\"reported_ports\":[");
	port_registry_status(out);
	/* Agent to agent: the path to each other agent and its direct attempts. */
	evbuffer_add_printf(out, "],\"peers\":[");
	first = 1;
	if (agent_running())
		peers_status(out, &first);
	evbuffer_add_printf(out, "]}\n");
}

/* Prometheus text format. */
static void metrics_text(struct evbuffer *out)
{
	evbuffer_add_printf(out, "# TYPE proxyd_uptime_seconds gauge\nproxyd_uptime_seconds %llu\n",
			    (unsigned long long)((loop_now_ms() - started_ms) / 1000));
	if (agent_running())
		peers_metrics(out);
	if (server_running()) {
		struct relay_stats rs;
		relay_get_stats(&rs);
		evbuffer_add_printf(out,
				    "# TYPE proxyd_relay_streams_total counter\n"
				    "proxyd_relay_streams_total %llu\n"
				    "# TYPE proxyd_relay_refused_total counter\n"
				    "proxyd_relay_refused_total{reason=\"acl\"} %llu\n"
				    "proxyd_relay_refused_total{reason=\"offline\"} %llu\n",
				    (unsigned long long)rs.relayed, (unsigned long long)rs.refused_acl,
				    (unsigned long long)rs.refused_offline);
		rendezvous_metrics(out);
	}
}

struct admin_reply {
	struct bufferevent *bev; /* NULL once the client left */
};

static void reply_client_event(struct bufferevent *bev, short what, void *arg)
{
	struct admin_reply *r = arg;
	bufferevent_free(bev);
	r->bev = NULL;
}

static void client_write_done(struct bufferevent *bev, void *arg);
static void client_event(struct bufferevent *bev, short what, void *arg);

void admin_reply_send(struct admin_reply *r, struct evbuffer *body)
{
	if (r->bev) {
		struct evbuffer *out = bufferevent_get_output(r->bev);
		if (body)
			evbuffer_add_buffer(out, body);
		else
			evbuffer_add_printf(out, "{\"error\":\"out of memory\"}\n");
		bufferevent_setcb(r->bev, NULL, client_write_done, client_event, NULL);
		bufferevent_enable(r->bev, EV_WRITE);
	}
	free(r);
}

/* "ping AGENT [COUNT [best|relay|direct]]" */
static int start_ping(struct bufferevent *bev, const char *args)
{
	char agent[128] = "", via[16] = "best";
	int count = 3;
	if (sscanf(args, "%127s %d %15s", agent, &count, via) < 1)
		return -1;
	if (strcmp(via, "best") != 0 && strcmp(via, "relay") != 0 && strcmp(via, "direct") != 0)
		return -1;
	struct admin_reply *r = calloc(1, sizeof *r);
	if (!r)
		return -1;
	r->bev = bev;
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, NULL, reply_client_event, r);
	peers_ping(agent, count, via, r);
	return 0;
}

static void client_write_done(struct bufferevent *bev, void *arg)
{
	bufferevent_free(bev);
}

static void client_event(struct bufferevent *bev, short what, void *arg)
{
	bufferevent_free(bev);
}

static void client_read(struct bufferevent *bev, void *arg)
{
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_LF);
	if (!line) {
		if (evbuffer_get_length(in) > ADMIN_MAX_LINE)
			bufferevent_free(bev);
		return;
	}
	struct evbuffer *out = bufferevent_get_output(bev);
	if (strncmp(line, "ping ", 5) == 0 && start_ping(bev, line + 5) == 0) {
		free(line);
		return;
	}
	if (strcmp(line, "status") == 0)
		status_json(out);
	else if (strcmp(line, "metrics") == 0)
		metrics_text(out);
	else {
		evbuffer_add_printf(out, "{\"error\":");
		json_str(out, "unknown command (known: status, metrics, ping AGENT [COUNT [best|relay|direct]])");
		evbuffer_add_printf(out, "}\n");
	}
	free(line);
	bufferevent_disable(bev, EV_READ);
	bufferevent_setcb(bev, NULL, client_write_done, client_event, NULL);
}

static void on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int salen,
		      void *arg)
{
	struct bufferevent *bev = bufferevent_socket_new(loop_base(), fd, BEV_OPT_CLOSE_ON_FREE);
	if (!bev) {
		close(fd);
		return;
	}
	bufferevent_setcb(bev, client_read, NULL, client_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void mkdir_parent(const char *path)
{
	char dir[256];
	snprintf(dir, sizeof dir, "%s", path);
	char *slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return;
	*slash = '\0';
	if (mkdir(dir, 0755) != 0 && errno != EEXIST)
		log_warn("admin", "cannot create %s: %s", dir, strerror(errno));
}

int admin_start(const struct conf_admin *a)
{
	if (!started_ms)
		started_ms = loop_now_ms();
	if (admin_listener && strcmp(admin_path, a->socket) == 0) {
		chmod(admin_path, a->mode);
		return 0;
	}
	admin_stop();
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	if (strlen(a->socket) >= sizeof sun.sun_path) {
		log_err("admin", "socket path too long: %s", a->socket);
		return -1;
	}
	snprintf(sun.sun_path, sizeof sun.sun_path, "%s", a->socket);
	mkdir_parent(a->socket);
	/* A socket file left by a crashed daemon would make bind fail; remove only sockets. */
	struct stat stt;
	if (lstat(a->socket, &stt) == 0 && S_ISSOCK(stt.st_mode))
		unlink(a->socket);
	/* Create it with the final mode already: no window where it is wider. */
	mode_t old = umask(0777 & ~a->mode);
	admin_listener = evconnlistener_new_bind(loop_base(), on_accept, NULL, LEV_OPT_CLOSE_ON_FREE, 16,
						 (struct sockaddr *)&sun, sizeof sun);
	umask(old);
	if (!admin_listener) {
		log_err("admin", "cannot listen on %s: %s", a->socket, strerror(errno));
		return -1;
	}
	chmod(a->socket, a->mode);
	snprintf(admin_path, sizeof admin_path, "%s", a->socket);
	log_info("admin", "status on %s (mode %04o)", a->socket, a->mode);
	return 0;
}

void admin_stop(void)
{
	if (!admin_listener)
		return;
	evconnlistener_free(admin_listener);
	admin_listener = NULL;
	unlink(admin_path);
	admin_path[0] = '\0';
}
