/* Refusing an agent-to-agent stream with a reason that reaches the other agent whatever the
 * transport: an RST frame (peer_wire.h) inside the stream, then FIN. A stream reset would do
 * over the multiplexer, but a QUIC reset carries a code and no text, and "agent-2 may not
 * reach ssh on agent-1 (server.relay.allow)" is what the operator of the refused agent needs
 * to read. The stream is released once the other side ends it. */
#ifndef PROXYD_CORE_PEER_REFUSE_H
#define PROXYD_CORE_PEER_REFUSE_H

#include <stdint.h>

struct stream;

/* Takes the stream. */
void peer_refuse(struct stream *st, uint32_t code, const char *reason);

#endif
