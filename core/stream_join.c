/* Stream <-> stream join: see stream_join.h. */
#include "config.h"
#include "stream_join.h"
#include "frame.h"
#include "log.h"
#include "session.h"

#include <event2/buffer.h>
#include <stdlib.h>

struct join_side {
	struct join *j;
	struct stream *st;
	unsigned fin_in : 1,   /* this stream's peer finished sending */
		fin_out : 1;   /* ... and we passed it on to the other stream */
};

struct join {
	struct join_side side[2];
	uint64_t conn_id;
	int busy, dead;
};

static void pump(struct join *j, int from)
{
	struct join_side *in = &j->side[from], *out = &j->side[!from];
	struct evbuffer *buf = stream_input(in->st);
	size_t have = evbuffer_get_length(buf);
	if (have) {
		size_t space = stream_send_space(out->st);
		size_t n = have < space ? have : space;
		if (n) {
			stream_write_buffer(out->st, buf, n);
			if (j->dead)
				return;
			stream_consumed(in->st, n);
		}
	}
	if (in->fin_in && !in->fin_out && evbuffer_get_length(buf) == 0) {
		in->fin_out = 1;
		stream_shutdown(out->st);
	}
	if (j->side[0].fin_out && j->side[1].fin_out)
		j->dead = 1;
}

static void enter(struct join *j)
{
	j->busy++;
}

static void leave(struct join *j)
{
	if (--j->busy > 0 || !j->dead)
		return;
	stream_release(j->side[0].st);
	stream_release(j->side[1].st);
	free(j);
}

static int side_of(struct join *j, struct stream *st)
{
	return j->side[0].st == st ? 0 : 1;
}

static void on_data(struct stream *st, void *arg)
{
	struct join_side *s = arg;
	struct join *j = s->j;
	enter(j);
	if (!j->dead)
		pump(j, side_of(j, st));
	leave(j);
}

static void on_fin(struct stream *st, void *arg)
{
	struct join_side *s = arg;
	struct join *j = s->j;
	enter(j);
	s->fin_in = 1;
	if (!j->dead)
		pump(j, side_of(j, st));
	leave(j);
}

static void on_reset(struct stream *st, void *arg, uint32_t code, const char *reason)
{
	struct join_side *s = arg;
	struct join *j = s->j;
	enter(j);
	if (!j->dead) {
		j->dead = 1;
		log_msg(PROXYD_LOG_DEBUG, "relay", j->conn_id, "stream %u reset (%s): %s", stream_id(st),
			frame_rst_name(code), reason);
		stream_reset(j->side[!side_of(j, st)].st, code, reason);
	}
	leave(j);
}

/* The other stream has room again: move what waits on this side's partner. */
static void on_writable(struct stream *st, void *arg)
{
	struct join_side *s = arg;
	struct join *j = s->j;
	enter(j);
	if (!j->dead)
		pump(j, !side_of(j, st));
	leave(j);
}

static const struct stream_cbs join_cbs = {
	.on_data = on_data,
	.on_fin = on_fin,
	.on_reset = on_reset,
	.on_writable = on_writable,
};

int stream_join(struct stream *a, struct stream *b, uint64_t conn_id)
{
	struct join *j = calloc(1, sizeof *j);
	if (!j) {
		stream_reset(a, RST_INTERNAL, "out of memory");
		stream_reset(b, RST_INTERNAL, "out of memory");
		stream_release(a);
		stream_release(b);
		return -1;
	}
	j->conn_id = conn_id;
	j->side[0].j = j->side[1].j = j;
	j->side[0].st = a;
	j->side[1].st = b;
	j->side[0].fin_in = stream_peer_finished(a) ? 1 : 0;
	j->side[1].fin_in = stream_peer_finished(b) ? 1 : 0;
	stream_set_cbs(a, &join_cbs, &j->side[0]);
	stream_set_cbs(b, &join_cbs, &j->side[1]);
	enter(j);
	pump(j, 0);
	if (!j->dead)
		pump(j, 1);
	leave(j);
	return 0;
}
