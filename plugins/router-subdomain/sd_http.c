/* router-subdomain's HTTP lookup (resolve_url, see sd_resolve.h): one GET per lookup over a
 * plain connection to the address the URL's host resolved to when the file was read (the loop
 * never waits for DNS), HTTP/1.0 with Connection: close, so the response ends where the
 * connection does. The response and its JSON are read by sd_answer.c's pure parsers. A
 * hand-made request on a bufferevent rather than evhttp: a lookup is cancelled by freeing two
 * objects, with no library callback that could still arrive. */
#include "config.h"
#include "sd_host.h"
#include "sd_resolve.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/util.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_MAX_LEN 4096

struct sd_http {
	struct bufferevent *bev;
	proxyd_timer *timeout;
	const struct sd_http_conf *conf;
	char name[64];
	sd_done_fn done;
	void *arg;
};

static void release(struct sd_http *l)
{
	if (l->bev)
		bufferevent_free(l->bev);
	if (l->timeout)
		sd_host->timer_free(l->timeout);
	free(l);
}

static void finish(struct sd_http *l, enum sd_result r, const struct sd_answer *ans,
		   const char *why)
{
	sd_done_fn done = l->done;
	void *arg = l->arg;
	release(l);
	done(arg, r, ans, why);
}

static void fail(struct sd_http *l, const char *why)
{
	finish(l, SD_BAD, NULL, why);
}

/* The connection ended: the whole response is in the input buffer. */
static void answer(struct sd_http *l)
{
	struct evbuffer *in = bufferevent_get_input(l->bev);
	size_t len = evbuffer_get_length(in);
	const char *buf = (const char *)evbuffer_pullup(in, (ev_ssize_t)len);
	int status = 0;
	const char *body = NULL, *why = NULL;
	size_t body_len = 0;
	if (!buf)
		buf = "";
	enum sd_result r = sd_parse_http_response(buf, len, &status, &body, &body_len, &why);
	if (r == SD_NOT_FOUND) {
		finish(l, SD_NOT_FOUND, NULL, NULL);
		return;
	}
	if (r == SD_BAD) {
		char w[200];
		if (status)
			snprintf(w, sizeof w, "the lookup service answered %d", status);
		else
			snprintf(w, sizeof w, "%s", why);
		fail(l, w);
		return;
	}
	struct sd_answer ans;
	char jwhy[300];
	r = sd_parse_json_answer(body, body_len, l->conf->addr_path, l->conf->ports_path, &ans, jwhy,
				 sizeof jwhy);
	if (r == SD_BAD)
		fail(l, jwhy);
	else
		finish(l, r, r == SD_FOUND ? &ans : NULL, NULL);
}

static void on_read(struct bufferevent *bev, void *arg)
{
	struct sd_http *l = arg;
	if (evbuffer_get_length(bufferevent_get_input(bev)) > SD_ANSWER_MAX)
		fail(l, "the lookup service's response is larger than 64 KiB");
}

static void on_event(struct bufferevent *bev, short what, void *arg)
{
	struct sd_http *l = arg;
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (what & BEV_EVENT_EOF) {
		answer(l);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		char why[200];
		snprintf(why, sizeof why, "cannot reach the lookup service: %s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		fail(l, why);
	}
}

static void on_timeout(void *arg)
{
	struct sd_http *l = arg;
	char why[100];
	snprintf(why, sizeof why, "the lookup service did not answer within %lld s",
		 l->conf->timeout_ms / 1000);
	fail(l, why);
}

struct sd_http *sd_http_start(const struct sd_http_conf *c, const char *name, sd_done_fn done,
			      void *arg, char *err, size_t errlen)
{
	char path[PATH_MAX_LEN];
	if (sd_expand(c->path, name, path, sizeof path) < 0) {
		snprintf(err, errlen, "the URL is too long with the name in it");
		return NULL;
	}
	struct sd_http *l = calloc(1, sizeof *l);
	if (!l) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	l->conf = c;
	l->done = done;
	l->arg = arg;
	snprintf(l->name, sizeof l->name, "%s", name);
	l->bev = bufferevent_socket_new(sd_host->event_base(), -1, BEV_OPT_CLOSE_ON_FREE);
	l->timeout = sd_host->timer_new(on_timeout, l);
	if (!l->bev || !l->timeout ||
	    evbuffer_add_printf(bufferevent_get_output(l->bev),
				"GET %s HTTP/1.0\r\nHost: %s\r\nAccept: application/json\r\n"
				"User-Agent: proxyd/%s\r\nConnection: close\r\n\r\n",
				path, c->host, PACKAGE_VERSION) < 0) {
		snprintf(err, errlen, "out of memory");
		release(l);
		return NULL;
	}
	bufferevent_setcb(l->bev, on_read, NULL, on_event, l);
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	if (bufferevent_socket_connect(l->bev, (struct sockaddr *)&c->ss, (int)c->sslen) < 0) {
		snprintf(err, errlen, "cannot reach the lookup service: %s",
			 evutil_socket_error_to_string(EVUTIL_SOCKET_ERROR()));
		release(l);
		return NULL;
	}
	sd_host->timer_start(l->timeout, (uint64_t)c->timeout_ms, 0);
	return l;
}

void sd_http_cancel(struct sd_http *l)
{
	if (l)
		release(l);
}
