/* Joins two streams end to end (the relay: a consumer agent's stream to a provider agent's):
 * bytes move both ways with backpressure (a side takes from one stream only what the other
 * can send soon, so the slower agent's window paces the faster one), a FIN is passed on as a
 * FIN, and a reset on either side resets the other. */
#ifndef PROXYD_CORE_STREAM_JOIN_H
#define PROXYD_CORE_STREAM_JOIN_H

#include <stdint.h>

struct stream;

/* Takes ownership of both streams (releases them when done). Bytes already waiting in either
 * stream's input are passed on at once. Returns 0, or -1 (out of memory: both are reset and
 * released). */
int stream_join(struct stream *a, struct stream *b, uint64_t conn_id);

#endif
