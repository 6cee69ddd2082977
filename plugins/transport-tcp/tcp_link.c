/* The TLS link (see tcp_link.h).
 *
 * Why it is built this way. The link is libevent's OpenSSL *filter* bufferevent over a plain
 * socket bufferevent, not the socket-based OpenSSL bufferevent, and the socket's reads are
 * topped up by us. Measured on loopback (bench/tunnel.sh, doc/PERFORMANCE.md), the
 * socket-based one moved 1-2 Gbit/s at 4-5 CPU s/GiB per side, nearly all of it in
 * syscalls, not in AES-GCM:
 *   - it calls SSL_read on the socket, so every TLS record costs a read() for its header and
 *     one or more for its body, and each loop turn takes one record;
 *   - it cannot use SSL read-ahead (it asks SSL_pending(), which does not count read-ahead
 *     records, so data would sit in OpenSSL until the next socket event);
 *   - libevent 2.1's evbuffer_read() never reads more than 4096 bytes per call, whatever
 *     max_single_read says, so a plain socket bufferevent is no better by itself.
 * Here records are decrypted from memory (the filter's BIO reads the socket bufferevent's
 * input), and after libevent's 4 KiB read we read whatever else the socket holds, up to
 * LINK_READ per call, before the filter runs: one wakeup then carries dozens of records.
 * Writes were never the problem (libevent writes up to max_single_write per writev), they
 * only need the watermarks below for backpressure.
 *
 * Semantics kept from the socket-based bufferevent: BEV_EVENT_CONNECTED after the handshake;
 * client data that arrives with the Finished is decrypted into the input the core reads
 * first; a FIN without close_notify is BEV_EVENT_ERROR (libevent's filter reports the
 * underlying EOF as an error unless dirty shutdown is allowed, which we never do), and a
 * read error is passed on as an error, never as EOF. */
#include "config.h"
#include "tcp_link.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <sys/uio.h>

/* Per readv(): 256 KiB is more than a loopback socket usually holds, and 16 records. */
#define LINK_READ (256 * 1024)
/* Ciphertext waiting for the filter (it stops taking when the core's input is full): stop
 * reading the socket past this, so a peer cannot make us buffer without bound. */
#define LINK_IN_HIGH (1024 * 1024)
/* Ciphertext waiting for the socket. The filter encrypts into the socket bufferevent's output
 * only up to the high mark, so the core's own output (and its OUT_HIGH backpressure) is what
 * fills when the socket is slow; refilling at half keeps the socket busy meanwhile. */
#define LINK_OUT_HIGH (512 * 1024)
#define LINK_OUT_LOW (256 * 1024)
/* Per writev() of ciphertext. */
#define LINK_WRITE (1024 * 1024)

/* libevent's read callback for the socket under an open OpenSSL filter; the same function
 * for every link. */
static bufferevent_data_cb filter_readcb;

/* Read what the socket holds into under's input. Returns 0, or -errno on a socket error
 * (EOF is left for libevent's own read to find: it is sticky). */
static int read_socket(evutil_socket_t fd, struct evbuffer *in)
{
	while (evbuffer_get_length(in) < LINK_IN_HIGH) {
		struct evbuffer_iovec v[2];
		int n = evbuffer_reserve_space(in, LINK_READ, v, 2);
		if (n <= 0)
			return 0; /* no memory: libevent's reads still make progress */
		struct iovec iov[2];
		size_t want = 0;
		for (int i = 0; i < n; i++) {
			iov[i].iov_base = v[i].iov_base;
			iov[i].iov_len = v[i].iov_len;
			want += v[i].iov_len;
		}
		ssize_t r = readv(fd, iov, n);
		if (r <= 0) {
			int err = r < 0 ? errno : 0;
			evbuffer_commit_space(in, v, 0);
			if (r == 0 || err == EAGAIN || err == EWOULDBLOCK || err == EINTR)
				return 0;
			return -err;
		}
		size_t left = (size_t)r;
		int used = 0;
		for (; used < n && left; used++) {
			if (v[used].iov_len > left)
				v[used].iov_len = left;
			left -= v[used].iov_len;
		}
		evbuffer_commit_space(in, v, used);
		if ((size_t)r < want)
			return 0; /* the socket is empty */
	}
	return 0;
}

static int top_up(struct bufferevent *under)
{
	struct evbuffer *in = bufferevent_get_input(under);
	/* A bufferevent's input is frozen at the end except while libevent itself reads. */
	evbuffer_unfreeze(in, 0);
	int rc = read_socket(bufferevent_getfd(under), in);
	evbuffer_freeze(in, 0);
	return rc;
}

static void link_readcb(struct bufferevent *under, void *filter)
{
	int rc = top_up(under);
	filter_readcb(under, filter);
	if (rc < 0) {
		/* Our read took the error from the socket; libevent's would now see EOF. Report
		 * it as what it is (the filter passes errors on). */
		bufferevent_disable(under, EV_READ);
		EVUTIL_SET_SOCKET_ERROR(-rc);
		bufferevent_trigger_event(under, BEV_EVENT_ERROR | BEV_EVENT_READING, 0);
	}
}

struct bufferevent *tcp_link_new(struct event_base *base, evutil_socket_t fd, SSL *ssl,
				 int accepting)
{
	/* No deferred callbacks underneath: the filter's own are deferred, which is what keeps
	 * the core's callbacks out of our stack frames. */
	struct bufferevent *under = bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE);
	if (!under) {
		SSL_free(ssl);
		evutil_closesocket(fd);
		return NULL;
	}
	/* The filter frees ssl when it fails; every failure a fresh SSL can meet (allocation)
	 * comes before it takes its reference on under, so under is still ours to free. */
	struct bufferevent *link = bufferevent_openssl_filter_new(
		base, under, ssl, accepting ? BUFFEREVENT_SSL_ACCEPTING : BUFFEREVENT_SSL_CONNECTING,
		BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS);
	if (!link) {
		bufferevent_free(under);
		return NULL;
	}
	/* Set after the filter's constructor, which resets under's read watermark. */
	bufferevent_setwatermark(under, EV_READ, 0, LINK_IN_HIGH);
	bufferevent_setwatermark(under, EV_WRITE, LINK_OUT_LOW, LINK_OUT_HIGH);
	bufferevent_set_max_single_read(under, LINK_READ);
	bufferevent_set_max_single_write(under, LINK_WRITE);
	return link;
}

void tcp_link_opened(struct bufferevent *link)
{
	struct bufferevent *under = bufferevent_get_underlying(link);
	bufferevent_data_cb rcb = NULL, wcb = NULL;
	bufferevent_event_cb ecb = NULL;
	void *arg = NULL;
	if (!under)
		return;
	bufferevent_getcb(under, &rcb, &wcb, &ecb, &arg);
	if (!rcb || rcb == link_readcb)
		return;
	/* The filter installed its data-phase callbacks when the handshake finished; wrap the
	 * read one. Every link has the same one, so one saved pointer serves them all. */
	if (!filter_readcb)
		filter_readcb = rcb;
	if (rcb != filter_readcb)
		return; /* not what we know how to wrap: stay correct, just slower */
	bufferevent_setcb(under, link_readcb, wcb, ecb, arg);
}
