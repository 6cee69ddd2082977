/* The router chain (see http_route.h). */
#include "config.h"
#include "http_route.h"
#include "plugins.h"
#include "route_wait.h"

#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

static int auth_ok(const struct conf_http_route *r, const proxyd_request *req)
{
	const char *v;
	size_t n;
	if (!http_request_header(req, "authorization", 0, &v, &n))
		return 0;
	size_t want = strlen(r->basic_auth);
	/* Constant time: the length of a password is all a timing attack may learn. */
	return n == want && CRYPTO_memcmp(v, r->basic_auth, n) == 0;
}

/* Router output is peer-influenced text headed for a header block: a CR or LF that does not
 * end a line it meant to write would let it inject fields. Keep whole "Name: value\r\n" lines
 * only. */
static void sanitize_lines(char *s)
{
	size_t w = 0, line_start = 0;
	for (size_t i = 0; s[i]; i++) {
		char c = s[i];
		if (c == '\r' && s[i + 1] == '\n') {
			s[w++] = '\r';
			s[w++] = '\n';
			i++;
			line_start = w;
			continue;
		}
		if (c == '\r' || c == '\n' || ((unsigned char)c < 0x20 && c != '\t'))
			continue;
		s[w++] = c;
	}
	/* An unterminated last line is dropped rather than glued to what follows. */
	s[line_start < w ? line_start : w] = '\0';
}

void http_route(const struct conf_http *h, const proxyd_request *req, proxyd_route_wait *wait,
		struct route_decision *d)
{
	d->status = 0;
	d->pending = 0;
	d->agent[0] = d->service[0] = d->address[0] = d->path[0] = d->host[0] = '\0';
	d->add_headers[0] = d->response_headers[0] = d->message[0] = '\0';
	d->drop_authorization = 0;
	d->route_name = NULL;
	for (int i = 0; i < h->n_routes; i++) {
		const struct conf_http_route *r = &h->routes[i];
		struct proxyd_route_result out = {
			.size = sizeof out,
			.agent = d->agent, .agent_len = sizeof d->agent,
			.service = d->service, .service_len = sizeof d->service,
			.address = d->address, .address_len = sizeof d->address,
			.path = d->path, .path_len = sizeof d->path,
			.add_headers = d->add_headers, .add_headers_len = sizeof d->add_headers,
			.host = d->host, .host_len = sizeof d->host,
			.response_headers = d->response_headers,
			.response_headers_len = sizeof d->response_headers,
			.message = d->message, .message_len = sizeof d->message,
			.wait = wait,
		};
		int v = r->router->ops.router.route(r->state, req, &out);
		if (v == PROXYD_ROUTE_NEXT) {
			/* Whatever a declining router scribbled does not carry over. */
			d->agent[0] = d->service[0] = d->address[0] = d->path[0] = d->host[0] = '\0';
			d->add_headers[0] = d->response_headers[0] = d->message[0] = '\0';
			continue;
		}
		d->route_name = r->name;
		if (v == PROXYD_ROUTE_PENDING) {
			d->agent[0] = d->service[0] = d->address[0] = d->path[0] = d->host[0] = '\0';
			d->add_headers[0] = d->response_headers[0] = d->message[0] = '\0';
			if (!wait) {
				d->status = 500;
				snprintf(d->message, sizeof d->message,
					 "router '%s' did not decide and this request cannot wait", r->name);
				return;
			}
			route_wait_taken(wait);
			d->pending = 1;
			return;
		}
		sanitize_lines(d->add_headers);
		sanitize_lines(d->response_headers);
		if (v == PROXYD_ROUTE_REJECT) {
			d->status = out.status >= 300 && out.status <= 599 ? out.status : 403;
			return;
		}
		if (v != PROXYD_ROUTE_MATCH || (!d->agent[0] && !d->address[0])) {
			d->status = 500;
			snprintf(d->message, sizeof d->message, "router '%s' gave no target", r->name);
			d->add_headers[0] = '\0';
			return;
		}
		if (r->basic_auth) {
			if (!auth_ok(r, req)) {
				d->status = 401;
				snprintf(d->add_headers, sizeof d->add_headers,
					 "WWW-Authenticate: Basic realm=\"%s\", charset=\"UTF-8\"\r\n", r->realm);
				snprintf(d->message, sizeof d->message, "credentials required");
				return;
			}
			d->drop_authorization = 1;
		}
		if (!d->host[0] && r->host_rewrite)
			snprintf(d->host, sizeof d->host, "%s", r->host_rewrite);
		/* A path or Host with a space or control byte would break the request line or
		 * smuggle a field: refuse rather than send it. */
		if ((d->path[0] && (d->path[0] != '/' || strpbrk(d->path, " \t\r\n"))) ||
		    strpbrk(d->host, " \t\r\n/")) {
			d->status = 500;
			snprintf(d->message, sizeof d->message, "router '%s' gave an invalid path or host",
				 r->name);
		}
		return;
	}
	d->status = 404;
	snprintf(d->message, sizeof d->message, "no route for this host and path");
}

void http_route_target_failed(const struct conf_http *h, const char *address, const char *reason)
{
	for (int i = 0; i < h->n_routes; i++) {
		const struct conf_http_route *r = &h->routes[i];
		if (r->router->ops.router.target_failed)
			r->router->ops.router.target_failed(r->state, address, reason);
	}
}
