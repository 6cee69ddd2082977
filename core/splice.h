/* The splice engine: joins a stream to a connected socket and moves bytes both ways with
 * backpressure (a full socket stops window updates; a closed window stops socket reads),
 * carries half-closes across, and turns a reset into a TCP RST so a user never sees a
 * truncated transfer that looks complete. */
#ifndef PROXYD_CORE_SPLICE_H
#define PROXYD_CORE_SPLICE_H

#include <stdint.h>

struct stream;
struct bufferevent;

/* Takes ownership of both; frees itself when both directions are finished or either side
 * aborts. conn_id is for log lines. */
int splice_start(struct stream *st, struct bufferevent *bev, uint64_t conn_id);

#endif
