/* The TLS link (see tcp_link.h).
 *
 * Why it is built this way. The core gets a filter bufferevent (bufferevent_filter_new) whose
 * input and output filters run SSL_read/SSL_write over the buffers of a plain socket
 * bufferevent underneath, through a BIO of ours that reads and writes those evbuffers. It used
 * to get libevent's socket-based OpenSSL bufferevent, which moved 1-2 Gbit/s through a tunnel
 * on loopback at 4-6 CPU s/GiB per side, nearly all of it in syscalls and the kernel, not in
 * AES-GCM (doc/PERFORMANCE.md):
 *   - it calls SSL_read on the socket, so every TLS record costs a read() for its header and
 *     one or more for its body, and it takes about one record per loop turn;
 *   - it cannot use larger reads (SSL read-ahead) because it asks SSL_pending(), which does
 *     not count read-ahead records: data would sit in OpenSSL until the next socket event;
 *   - libevent 2.1's evbuffer_read() reads at most 4096 bytes per call whatever
 *     max_single_read says, so a socket bufferevent alone is no better.
 * libevent's OpenSSL *filter* (bufferevent_openssl_filter_new) decrypts from memory but was
 * measured no faster: it reserves max_single_read (256 KiB, set by the core) of fresh buffer
 * per SSL_read, so bulk transfers spent their time in page faults of new heap memory, and it
 * cuts one TLS record per evbuffer chain (a 9-byte record after every 32 KiB frame).
 * So here:
 *   - after libevent's 4 KiB read of the socket we read whatever else it holds, LINK_READ
 *     per readv(), before the input filter runs: one wakeup carries dozens of records;
 *   - each SSL_read writes one whole record (16 KiB reserved, never more) into the core's
 *     input, so no plaintext is ever left inside OpenSSL: what is not decrypted yet is still
 *     in the socket bufferevent, where libevent's filter knows to come back for it (the
 *     problem SSL_pending() had cannot happen);
 *   - SSL_write gets 16 KiB at a time across frame boundaries, so records are full;
 *   - watermarks on the socket bufferevent bound the ciphertext we hold both ways and leave
 *     the core's own output backpressure (OUT_HIGH in session.c) working.
 *
 * What the core relies on (plugin.h's hand-over contract) is kept: client data that arrives
 * with the Finished is decrypted into the input before BEV_EVENT_CONNECTED is reported; a
 * peer that closes without close_notify is an error, never EOF, so a truncated stream cannot
 * look complete; a read error is an error even though it leaves the socket at EOF. */
#include "config.h"
#include "tcp_link.h"
#include "tcp_tls.h"

#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <stdlib.h>
#include <sys/uio.h>

/* What libevent 2.1's evbuffer_read() takes per call at most. */
#define LIBEVENT_READ_MAX 4096
/* Per readv() beyond libevent's own. Larger reservations make evbuffer chains that malloc
 * serves with mmap(): fresh pages and page faults for every chain (measured: slower). */
#define LINK_READ (64 * 1024)
/* Ciphertext waiting to be decrypted (the core's input is full): stop reading the socket past
 * this, so a peer cannot make us buffer without bound. */
#define LINK_IN_HIGH (1024 * 1024)
/* Ciphertext waiting for the socket; refilled from the core's output below the low mark, so
 * the socket never runs dry while the core has data. */
#define LINK_OUT_HIGH (512 * 1024)
#define LINK_OUT_LOW (256 * 1024)
/* Per writev() of ciphertext. */
#define LINK_WRITE (1024 * 1024)
/* The largest TLS record's plaintext. */
#define RECORD (16 * 1024)

struct tcp_link {
	SSL *ssl;
	BIO_METHOD *bio_method;
	struct bufferevent *bev;   /* the filter: what the core holds */
	struct bufferevent *under; /* the socket bufferevent */
	void *filter_arg;          /* libevent's argument for its callbacks on under */
	unsigned long error;       /* the OpenSSL error that failed the link */
	unsigned connected : 1, closed : 1, failed : 1;
};

/* libevent's callbacks on the bufferevent under a filter: the same functions for every
 * filter, wrapped by ours. */
static bufferevent_data_cb filter_readcb, filter_writecb;
static bufferevent_event_cb filter_eventcb;

/* ---- the BIO: ciphertext in and out of the socket bufferevent's buffers ---- */

/* One type number for all our BIOs; 0 until the first link. */
static int bio_type;

static int bio_read(BIO *b, char *out, int len)
{
	struct tcp_link *l = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	struct evbuffer *in = bufferevent_get_input(l->under);
	if (evbuffer_get_length(in) == 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	return evbuffer_remove(in, out, (size_t)len);
}

static int bio_write(BIO *b, const char *data, int len)
{
	struct tcp_link *l = BIO_get_data(b);
	BIO_clear_retry_flags(b);
	/* Memory, not the socket: always all of it. The watermarks are applied before
	 * SSL_write is called, never by refusing here (a half-written record would make OpenSSL
	 * insist on the same buffer next time). */
	return evbuffer_add(bufferevent_get_output(l->under), data, (size_t)len) == 0 ? len : -1;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	switch (cmd) {
	case BIO_CTRL_FLUSH:
		return 1;
	case BIO_CTRL_PENDING: {
		struct tcp_link *l = BIO_get_data(b);
		return (long)evbuffer_get_length(bufferevent_get_input(l->under));
	}
	case BIO_CTRL_WPENDING:
		return 0;
	default:
		return 0;
	}
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

/* The method lives as long as the link (link_free frees it after the SSL): a process-wide
 * one would have no safe moment to be freed, because links are freed by libevent's
 * finalizers after the plugin's fini, and one never freed would leak when the plugin is
 * unloaded. */
static BIO *bio_new(struct tcp_link *l)
{
	if (!bio_type) {
		int t = BIO_get_new_index();
		if (t == -1)
			return NULL;
		bio_type = t | BIO_TYPE_SOURCE_SINK;
	}
	BIO_METHOD *m = BIO_meth_new(bio_type, "proxyd evbuffer");
	if (!m || !BIO_meth_set_read(m, bio_read) || !BIO_meth_set_write(m, bio_write) ||
	    !BIO_meth_set_ctrl(m, bio_ctrl) || !BIO_meth_set_create(m, bio_create)) {
		BIO_meth_free(m);
		return NULL;
	}
	BIO *b = BIO_new(m);
	if (!b) {
		BIO_meth_free(m);
		return NULL;
	}
	BIO_set_data(b, l);
	l->bio_method = m;
	return b;
}

/* ---- failures ---- */

/* Report what and why to the core (or the handshake's owner), once. Deferred: the filter was
 * made with BEV_OPT_DEFER_CALLBACKS, so nobody frees us inside our own filter call. */
static void link_fail(struct tcp_link *l, short what, int sock_err)
{
	if (l->failed)
		return;
	l->failed = 1;
	if (!l->error)
		l->error = tcp_tls_take_error();
	else
		ERR_clear_error();
	bufferevent_disable(l->under, EV_READ);
	EVUTIL_SET_SOCKET_ERROR(sock_err);
	bufferevent_trigger_event(l->bev, what | BEV_EVENT_ERROR, 0);
}

/* ---- the filters ---- */

static int handshake(struct tcp_link *l)
{
	ERR_clear_error();
	int r = SSL_do_handshake(l->ssl);
	if (r == 1) {
		l->connected = 1;
		/* Reported after this filter call has put any early data in the input. */
		bufferevent_trigger_event(l->bev, BEV_EVENT_CONNECTED, 0);
		return 0;
	}
	int e = SSL_get_error(l->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
		return 1;
	link_fail(l, BEV_EVENT_READING, 0);
	return -1;
}

static enum bufferevent_filter_result input_filter(struct evbuffer *src, struct evbuffer *dst,
						   ev_ssize_t limit,
						   enum bufferevent_flush_mode mode, void *arg)
{
	struct tcp_link *l = arg;
	if (l->failed || l->closed)
		return BEV_ERROR;
	if (!l->connected) {
		int rc = handshake(l);
		if (rc != 0)
			return rc > 0 ? BEV_NEED_MORE : BEV_ERROR;
	}
	size_t produced = 0;
	while (limit < 0 || produced < (size_t)limit) {
		struct evbuffer_iovec v;
		/* One whole record per call, so none is left half-read inside OpenSSL. */
		if (evbuffer_reserve_space(dst, RECORD, &v, 1) != 1)
			break;
		ERR_clear_error();
		int r = SSL_read(l->ssl, v.iov_base, RECORD);
		if (r > 0) {
			v.iov_len = (size_t)r;
			evbuffer_commit_space(dst, &v, 1);
			produced += (size_t)r;
			continue;
		}
		evbuffer_commit_space(dst, &v, 0);
		int e = SSL_get_error(l->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
			break;
		if (e == SSL_ERROR_ZERO_RETURN) {
			/* close_notify: the only clean end of a link. */
			l->closed = 1;
			ERR_clear_error();
			bufferevent_disable(l->under, EV_READ);
			bufferevent_trigger_event(l->bev, BEV_EVENT_EOF | BEV_EVENT_READING, 0);
			break;
		}
		link_fail(l, BEV_EVENT_READING, 0);
		break;
	}
	return produced ? BEV_OK : l->failed ? BEV_ERROR : BEV_NEED_MORE;
}

static enum bufferevent_filter_result output_filter(struct evbuffer *src, struct evbuffer *dst,
						    ev_ssize_t limit,
						    enum bufferevent_flush_mode mode, void *arg)
{
	struct tcp_link *l = arg;
	if (l->failed || !l->connected)
		return BEV_NEED_MORE;
	size_t before = evbuffer_get_length(dst);
	size_t len;
	while ((len = evbuffer_get_length(src)) > 0 &&
	       (limit < 0 || evbuffer_get_length(dst) - before < (size_t)limit)) {
		size_t n = len < RECORD ? len : RECORD;
		/* Full records across frame boundaries: from the buffer itself when the bytes are
		 * contiguous there, else gathered (one small copy is cheaper than a record). */
		unsigned char gather[RECORD];
		const void *p;
		struct evbuffer_iovec v;
		if (evbuffer_peek(src, (ev_ssize_t)n, NULL, &v, 1) == 1 && v.iov_len >= n)
			p = v.iov_base;
		else if (evbuffer_copyout(src, gather, n) == (ev_ssize_t)n)
			p = gather;
		else
			break;
		ERR_clear_error();
		int r = SSL_write(l->ssl, p, (int)n);
		if (r <= 0) {
			link_fail(l, BEV_EVENT_WRITING, 0);
			return BEV_ERROR;
		}
		evbuffer_drain(src, (size_t)r);
	}
	return evbuffer_get_length(dst) > before ? BEV_OK : BEV_NEED_MORE;
}

/* ---- the socket underneath ---- */

/* Up to LINK_IN_HIGH of what the socket holds into in. 0, or -errno on a socket error (EOF is
 * left to libevent's next read: it is sticky). */
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

static void under_read(struct bufferevent *under, void *arg)
{
	struct tcp_link *l = arg;
	struct evbuffer *in = bufferevent_get_input(under);
	/* libevent read min(what the socket held, 4 KiB): with less than that buffered the
	 * socket is empty, and another read would only cost a syscall that says EAGAIN (once
	 * per request on request/response traffic). A bufferevent's input is frozen at the end
	 * except while libevent itself reads. */
	int rc = 0;
	if (evbuffer_get_length(in) >= LIBEVENT_READ_MAX) {
		evbuffer_unfreeze(in, 0);
		rc = read_socket(bufferevent_getfd(under), in);
		evbuffer_freeze(in, 0);
	}
	filter_readcb(under, l->filter_arg);
	if (rc < 0)
		/* Our read took the error; libevent's next one would see a plain EOF. */
		link_fail(l, BEV_EVENT_READING, -rc);
}

static void under_write(struct bufferevent *under, void *arg)
{
	struct tcp_link *l = arg;
	filter_writecb(under, l->filter_arg);
}

static void under_event(struct bufferevent *under, short what, void *arg)
{
	struct tcp_link *l = arg;
	int sock_err = EVUTIL_SOCKET_ERROR();
	if (l->failed || l->closed)
		return;
	if (what & BEV_EVENT_EOF) {
		/* Whatever the core had no room for yet is still ciphertext here: decrypt it now,
		 * the close_notify may be in it. */
		bufferevent_flush(l->bev, EV_READ, BEV_FLUSH);
		if (evbuffer_get_length(bufferevent_get_input(l->bev)))
			bufferevent_trigger(l->bev, EV_READ, BEV_TRIG_IGNORE_WATERMARKS);
		if (l->closed || l->failed)
			return;
		/* A FIN without close_notify: the stream may be cut short; never call it EOF. */
		link_fail(l, BEV_EVENT_READING, 0);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		link_fail(l, what & (BEV_EVENT_READING | BEV_EVENT_WRITING), sock_err);
		return;
	}
	filter_eventcb(under, what, l->filter_arg);
}

static void link_free(void *arg)
{
	struct tcp_link *l = arg;
	SSL_free(l->ssl); /* and the BIO */
	BIO_meth_free(l->bio_method);
	free(l);
}

struct bufferevent *tcp_link_new(struct event_base *base, evutil_socket_t fd, SSL *ssl,
				 int accepting, struct tcp_link **linkp)
{
	struct tcp_link *l = calloc(1, sizeof *l);
	BIO *bio = l ? bio_new(l) : NULL;
	/* No deferred callbacks underneath: the filter's own are deferred, which is what keeps
	 * the core's (and the handshake owner's) callbacks out of our stack frames. */
	struct bufferevent *under =
		bio ? bufferevent_socket_new(base, fd, BEV_OPT_CLOSE_ON_FREE) : NULL;
	if (!under) {
		BIO_free(bio);
		if (l)
			BIO_meth_free(l->bio_method);
		free(l);
		SSL_free(ssl);
		evutil_closesocket(fd);
		return NULL;
	}
	l->ssl = ssl;
	l->under = under;
	SSL_set_bio(ssl, bio, bio);
	l->bev = bufferevent_filter_new(under, input_filter, output_filter,
					BEV_OPT_CLOSE_ON_FREE | BEV_OPT_DEFER_CALLBACKS, link_free, l);
	if (!l->bev) {
		/* It took nothing over: under (and with it fd) and l are still ours. */
		bufferevent_free(under);
		link_free(l);
		return NULL;
	}
	/* The filter's callbacks on under, wrapped: larger reads, and EOF without close_notify
	 * reported as the error it is. They are the same functions for every filter. */
	bufferevent_data_cb rcb, wcb;
	bufferevent_event_cb ecb;
	bufferevent_getcb(under, &rcb, &wcb, &ecb, &l->filter_arg);
	filter_readcb = rcb;
	filter_writecb = wcb;
	filter_eventcb = ecb;
	bufferevent_setcb(under, under_read, under_write, under_event, l);
	bufferevent_setwatermark(under, EV_READ, 0, LINK_IN_HIGH);
	bufferevent_setwatermark(under, EV_WRITE, LINK_OUT_LOW, LINK_OUT_HIGH);
	bufferevent_set_max_single_read(under, LINK_READ);
	bufferevent_set_max_single_write(under, LINK_WRITE);
	if (accepting)
		SSL_set_accept_state(ssl);
	else
		SSL_set_connect_state(ssl);
	/* Read from the start: handshake messages, and the data that may ride with them. */
	bufferevent_enable(l->bev, EV_READ | EV_WRITE);
	if (!accepting)
		handshake(l); /* the ClientHello; a failure is reported through the event */
	*linkp = l;
	return l->bev;
}

SSL *tcp_link_ssl(const struct tcp_link *link)
{
	return link->ssl;
}

unsigned long tcp_link_error(const struct tcp_link *link)
{
	return link->error;
}
