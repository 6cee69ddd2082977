/* Pure parsers for the transport's configuration values: "host:port" endpoints, host names
 * and certificate pins. No I/O, no allocation, so they can be fuzzed (fuzz_tcp_addr.c) and
 * unit-tested (test_tcp_addr.c) without the plugin around them. */
#ifndef PROXYD_TCP_ADDR_H
#define PROXYD_TCP_ADDR_H

#include <stddef.h>
#include <stdint.h>

#define TCP_HOST_MAX 253 /* longest DNS name in text form */
#define TCP_PIN_LEN 32   /* SHA-256 */

enum tcp_host_kind {
	TCP_HOST_NAME = 0, /* resolve it */
	TCP_HOST_IPV4 = 4,
	TCP_HOST_IPV6 = 6,
};

struct tcp_hostport {
	char host[TCP_HOST_MAX + 1]; /* without brackets, NUL-terminated */
	uint16_t port;
	enum tcp_host_kind kind;
};

/* Parse "1.2.3.4:9090", "[::1]:9090" or "name.example:9090" (s need not be NUL-terminated).
 * Returns 0, or -EINVAL with *why set to a static phrase for the operator. */
int tcp_hostport_parse(const char *s, size_t len, struct tcp_hostport *out, const char **why);

/* Classify a bare host: a literal address (kind 4 or 6) or a syntactically valid DNS name.
 * Returns 0 or -EINVAL. */
int tcp_host_classify(const char *s, size_t len, enum tcp_host_kind *kind);

/* Parse "sha256:<64 hex digits>" (either case). Returns 0 or -EINVAL. */
int tcp_pin_parse(const char *s, size_t len, uint8_t out[TCP_PIN_LEN]);

/* Write "sha256:<hex>" into buf; needs 7 + 64 + 1 bytes. */
#define TCP_PIN_TEXT_MAX (7 + 2 * TCP_PIN_LEN + 1)
void tcp_pin_format(const uint8_t pin[TCP_PIN_LEN], char buf[TCP_PIN_TEXT_MAX]);

#endif
