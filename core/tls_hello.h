/* The server name (SNI, RFC 6066) of a TLS ClientHello, read from the first bytes a client
 * sent, before any TLS library sees them: the HTTPS edge decides from it whether to pass the
 * still-encrypted connection to an agent or to end TLS itself, and with which certificate.
 * A pure function over a buffer: no allocation, no I/O, so it can be fuzzed. */
#ifndef PROXYD_CORE_TLS_HELLO_H
#define PROXYD_CORE_TLS_HELLO_H

#include <stddef.h>
#include <stdint.h>

/* The longest host name returned (RFC 1035 text form, no trailing dot); sni_cap must be at
 * least TLS_SNI_MAX + 1. */
#define TLS_SNI_MAX 253
/* The largest ClientHello handshake message taken, its 4-byte header included. Real ones are
 * 200 bytes to 2 KiB (a post-quantum key share adds about 1.2 KiB). */
#define TLS_HELLO_MAX_MSG (16 * 1024)
/* The most records the ClientHello may be split into. Clients split only a hello larger than
 * a record (16 KiB, which is over TLS_HELLO_MAX_MSG anyway) or, to dodge censoring
 * middleboxes, into a few small records. */
#define TLS_HELLO_MAX_RECORDS 64
/* The most bytes tls_hello_sni() ever needs: with this many bytes it does not return
 * -EAGAIN. A caller reading into a buffer pulls up min(available, TLS_HELLO_MAX_INPUT). */
#define TLS_HELLO_MAX_INPUT (TLS_HELLO_MAX_MSG + 5 * TLS_HELLO_MAX_RECORDS)

/* Read the ClientHello at the start of buf, [buf, buf + len): TLS records of content type
 * handshake whose payloads, joined, begin with one ClientHello message (which may span
 * several records).
 *
 * Returns
 *   1        the ClientHello is complete and names a host: sni holds it, NUL-terminated,
 *            lower-cased, checked to be a DNS name (letters, digits, '-', '_', labels of 1
 *            to 63, at most TLS_SNI_MAX, no trailing dot). A client puts no IP address in
 *            SNI, but one that does gets it back as written (it is valid DNS text);
 *   0        the ClientHello is complete and has no server_name extension, or one without
 *            a host_name entry (clients connecting to an IP address send none): sni is "";
 *   -EAGAIN  buf ends before the ClientHello does, and what is there is valid so far; call
 *            again with more bytes. Never returned when len >= TLS_HELLO_MAX_INPUT;
 *   -EPROTO  the bytes are not a TLS ClientHello, or a malformed one: *err says why ("not
 *            TLS (plain HTTP?)" when they look like an HTTP request, "SSLv2-style
 *            ClientHello: not supported", a field that does not fit, a bad host name ...);
 *   -EMSGSIZE the ClientHello is larger than TLS_HELLO_MAX_MSG or in more than
 *            TLS_HELLO_MAX_RECORDS records (*err says which).
 * err may be NULL; *err is a static string. sni must have room for TLS_SNI_MAX + 1 bytes
 * (an assertion); on any result but 1 it holds "".
 *
 * Each call reads from the start of buf: a caller waiting for more bytes calls again with
 * the longer buffer (the cost is bounded by TLS_HELLO_MAX_INPUT per call). Bytes after the
 * ClientHello are not looked at. Errors in the record and handshake headers are found as
 * soon as those bytes arrive; the body is checked once it is complete. */
int tls_hello_sni(const uint8_t *buf, size_t len, char *sni, size_t sni_cap, const char **err);

#endif
