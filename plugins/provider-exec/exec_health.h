/* provider-exec: one health check, without blocking. For an http:// URL, a GET of health_path
 * through the public URL: healthy when any HTTP status line comes back except 502, 503 and
 * 504 (what tunnel services answer when their far end is gone). For an https:// URL, a TCP
 * connect to its host and port only: checking TLS and HTTP through a real tunnel service
 * needs the network this check is most often run without, and a tunnel whose program is
 * alive and whose edge accepts connections is the common failure boundary. Without a URL, a
 * TCP connect to the local service (the program being alive is checked by the caller).
 * Names are resolved with libevent's asynchronous resolver. */
#ifndef PX_EXEC_HEALTH_H
#define PX_EXEC_HEALTH_H

struct px_health;
struct event_base;
struct evdns_base;

/* ok: 1 healthy, 0 not (why says what failed). Called exactly once, never from inside
 * px_health_start; the check frees itself after the call. */
typedef void (*px_health_fn)(void *arg, int ok, const char *why);

/* Check url (http:// or https://), or host:port with a plain connect when url is NULL. */
struct px_health *px_health_start(struct event_base *base, struct evdns_base *dns,
				  const char *url, const char *path, const char *host, int port,
				  unsigned timeout_ms, px_health_fn done, void *arg);
/* Abandon a check in progress: no callback follows. */
void px_health_cancel(struct px_health *h);

#endif
