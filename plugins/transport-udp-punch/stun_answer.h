/* Answering a STUN Binding request (RFC 8489): the part both STUN ports share, udp-punch's own
 * listener and transport-quic's listening socket (which answers STUN too, so an agent can learn
 * its public address from the very port it speaks QUIC to). Pure: bytes and an address in,
 * bytes out. */
#ifndef PROXYD_STUN_ANSWER_H
#define PROXYD_STUN_ANSWER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define STUN_ANSWER_SOFTWARE "proxyd"

/* The Binding success response to req/len, which came from `from`, in out (cap bytes; 548 are
 * always enough). Returns its length, or 0 with *why (a static phrase, for a debug log) when
 * req is not a valid Binding request or does not fit. *unknown_attrs tells how many
 * comprehension-required attributes were ignored (RFC 8489 would answer 420; an ICE client's
 * PRIORITY and the like are harmless, and the address is what every client wants). */
size_t stun_answer(const uint8_t *req, size_t len, const struct sockaddr *from, uint8_t *out,
		   size_t cap, const char **why, size_t *unknown_attrs);

#endif
