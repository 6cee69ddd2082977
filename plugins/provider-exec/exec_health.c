/* provider-exec: health checks over libevent (exec_health.h). */
#include "exec_health.h"
#include "exec_text.h"

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/dns.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

struct px_health {
	struct bufferevent *bev;
	struct event *timer;  /* the whole check's deadline */
	struct event *defer;  /* reports an early failure on the next loop turn */
	int http;             /* send a GET and read the status line */
	char request[700];
	char why[320];
	px_health_fn done;
	void *arg;
};

static void health_free(struct px_health *h)
{
	if (h->bev)
		bufferevent_free(h->bev);
	if (h->timer)
		event_free(h->timer);
	if (h->defer)
		event_free(h->defer);
	free(h);
}

static void report(struct px_health *h, int ok, const char *why)
{
	px_health_fn done = h->done;
	void *arg = h->arg;
	char text[320];
	snprintf(text, sizeof text, "%s", why ? why : "");
	health_free(h);
	done(arg, ok, text);
}

static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	report(arg, 0, "no answer within the health timeout");
}

static void on_defer(evutil_socket_t fd, short what, void *arg)
{
	struct px_health *h = arg;
	report(h, 0, h->why);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct px_health *h = arg;
	struct evbuffer *in = bufferevent_get_input(bev);
	size_t len;
	char *line = evbuffer_readln(in, &len, EVBUFFER_EOL_CRLF);
	if (!line) {
		if (evbuffer_get_length(in) > 4096)
			report(h, 0, "the answer is not HTTP");
		return;
	}
	int code = px_http_status(line, len);
	free(line);
	char why[64];
	if (code < 0) {
		report(h, 0, "the answer is not HTTP");
	} else if (code == 502 || code == 503 || code == 504) {
		snprintf(why, sizeof why, "HTTP %d", code);
		report(h, 0, why);
	} else {
		report(h, 1, NULL);
	}
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct px_health *h = arg;
	if (what & BEV_EVENT_CONNECTED) {
		if (!h->http) {
			report(h, 1, NULL);
			return;
		}
		bufferevent_write(bev, h->request, strlen(h->request));
		bufferevent_enable(bev, EV_READ);
		return;
	}
	char why[320];
	int dns_err = bufferevent_socket_get_dns_error(bev);
	if (dns_err)
		snprintf(why, sizeof why, "cannot resolve: %s", evutil_gai_strerror(dns_err));
	else if (what & BEV_EVENT_EOF)
		snprintf(why, sizeof why, "connection closed without an answer");
	else
		snprintf(why, sizeof why, "%s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
	report(h, 0, why);
}

struct px_health *px_health_start(struct event_base *base, struct evdns_base *dns,
				  const char *url, const char *path, const char *host, int port,
				  unsigned timeout_ms, px_health_fn done, void *arg)
{
	struct px_health *h = calloc(1, sizeof *h);
	if (!h)
		return NULL;
	h->done = done;
	h->arg = arg;
	char scheme[8], uhost[256], upath[512];
	int uport = port;
	if (url) {
		if (px_split_url(url, scheme, sizeof scheme, uhost, sizeof uhost, &uport, upath,
				 sizeof upath) < 0) {
			snprintf(h->why, sizeof h->why, "cannot check URL %s", url);
			goto defer;
		}
		host = uhost;
		h->http = strcmp(scheme, "http") == 0;
		char hosthdr[300];
		int v6 = strchr(uhost, ':') != NULL;
		if (uport == (h->http ? 80 : 443))
			snprintf(hosthdr, sizeof hosthdr, v6 ? "[%s]" : "%s", uhost);
		else
			snprintf(hosthdr, sizeof hosthdr, v6 ? "[%s]:%d" : "%s:%d", uhost, uport);
		snprintf(h->request, sizeof h->request,
			 "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: proxyd-health\r\n"
			 "Connection: close\r\n\r\n",
			 path && *path ? path : "/", hosthdr);
	}
	h->timer = evtimer_new(base, on_deadline, h);
	/* Deferred callbacks: a name resolved at once (a literal, /etc/hosts) must not report
	 * from inside bufferevent_socket_connect_hostname, before the caller has h. */
	h->bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!h->timer || !h->bev) {
		snprintf(h->why, sizeof h->why, "out of memory");
		goto defer;
	}
	struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
	evtimer_add(h->timer, &tv);
	bufferevent_setcb(h->bev, on_read, NULL, on_event, h);
	if (bufferevent_socket_connect_hostname(h->bev, dns, AF_UNSPEC, host, uport) != 0) {
		snprintf(h->why, sizeof h->why, "cannot connect to %s:%d", host, uport);
		bufferevent_setcb(h->bev, NULL, NULL, NULL, NULL);
		goto defer;
	}
	return h;
defer:
	h->defer = evtimer_new(base, on_defer, h);
	if (!h->defer) {
		health_free(h);
		return NULL;
	}
	struct timeval now = {0, 0};
	evtimer_add(h->defer, &now);
	return h;
}

void px_health_cancel(struct px_health *h)
{
	if (h)
		health_free(h);
}
