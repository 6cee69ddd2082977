/* See peer_refuse.h. */
#include "config.h"
#include "peer_refuse.h"
#include "peer_wire.h"
#include "session.h"

#include <event2/buffer.h>

static void drain(struct stream *st, void *arg)
{
	struct evbuffer *in = stream_input(st);
	size_t n = evbuffer_get_length(in);
	evbuffer_drain(in, n);
	stream_consumed(st, n);
}

static void finished(struct stream *st, void *arg)
{
	drain(st, arg);
	stream_release(st);
}

static void reset(struct stream *st, void *arg, uint32_t code, const char *reason)
{
	stream_release(st);
}

static const struct stream_cbs refuse_cbs = {
	.on_data = drain,
	.on_fin = finished,
	.on_reset = reset,
};

void peer_refuse(struct stream *st, uint32_t code, const char *reason)
{
	uint8_t f[PEER_FRAME_HEADER + 4 + PEER_REASON_MAX];
	size_t n = peer_encode_rst(f, code, reason);
	stream_set_cbs(st, &refuse_cbs, NULL);
	drain(st, NULL);
	stream_write(st, f, n);
	stream_shutdown(st);
	if (stream_peer_finished(st))
		stream_release(st);
}
