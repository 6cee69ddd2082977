/* Pure parsers for endpoint addresses, host names and certificate pins (see tcp_addr.h). */
#include "config.h"
#include "tcp_addr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <string.h>

static int is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Hand-rolled rather than strtol: the input is not NUL-terminated, and "+80", " 80" or
 * "0x50" must be refused, not quietly accepted. */
static int parse_port(const char *s, size_t len, uint16_t *out)
{
	if (len == 0 || len > 5)
		return -EINVAL;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!is_digit(s[i]))
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	*out = (uint16_t)v;
	return 0;
}

/* Letters, digits, '-' and '_' (seen in real internal names), labels of 1 to 63 characters
 * not starting or ending with '-'. A name whose last label is all digits is refused: the
 * system resolver would read "10.1" as an address, which is never what the user meant. */
static int hostname_valid(const char *s, size_t len)
{
	if (len == 0 || len > TCP_HOST_MAX)
		return 0;
	size_t label_start = 0;
	int label_numeric = 1;
	for (size_t i = 0; i <= len; i++) {
		if (i == len || s[i] == '.') {
			size_t n = i - label_start;
			if (n == 0 || n > 63 || s[label_start] == '-' || s[i - 1] == '-')
				return 0;
			if (i == len && label_numeric)
				return 0;
			label_start = i + 1;
			label_numeric = 1;
			continue;
		}
		char c = s[i];
		if (!(is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' ||
		      c == '_'))
			return 0;
		if (!is_digit(c))
			label_numeric = 0;
	}
	return 1;
}

static int literal_is(int af, const char *s, size_t len)
{
	char buf[64];
	unsigned char addr[16];
	if (len == 0 || len >= sizeof buf)
		return 0;
	memcpy(buf, s, len);
	buf[len] = '\0';
	return inet_pton(af, buf, addr) == 1;
}

int tcp_host_classify(const char *s, size_t len, enum tcp_host_kind *kind)
{
	if (literal_is(AF_INET, s, len))
		*kind = TCP_HOST_IPV4;
	else if (literal_is(AF_INET6, s, len))
		*kind = TCP_HOST_IPV6;
	else if (hostname_valid(s, len))
		*kind = TCP_HOST_NAME;
	else
		return -EINVAL;
	return 0;
}

int tcp_hostport_parse(const char *s, size_t len, struct tcp_hostport *out, const char **why)
{
	const char *host;
	size_t host_len;
	const char *port;
	size_t port_len;

	memset(out, 0, sizeof *out);
	if (len == 0) {
		*why = "empty";
		return -EINVAL;
	}
	if (s[0] == '[') {
		const char *close = memchr(s, ']', len);
		if (!close) {
			*why = "missing ']' after the IPv6 address";
			return -EINVAL;
		}
		host = s + 1;
		host_len = (size_t)(close - host);
		size_t rest = len - (size_t)(close - s) - 1;
		if (rest == 0 || close[1] != ':') {
			*why = "missing ':port' after ']'";
			return -EINVAL;
		}
		port = close + 2;
		port_len = rest - 1;
		if (!literal_is(AF_INET6, host, host_len)) {
			*why = "not an IPv6 address inside [ ]";
			return -EINVAL;
		}
		out->kind = TCP_HOST_IPV6;
	} else {
		const char *colon = NULL;
		for (size_t i = len; i > 0; i--)
			if (s[i - 1] == ':') {
				colon = s + i - 1;
				break;
			}
		if (!colon) {
			*why = "missing ':port'";
			return -EINVAL;
		}
		host = s;
		host_len = (size_t)(colon - s);
		port = colon + 1;
		port_len = len - host_len - 1;
		if (memchr(host, ':', host_len)) {
			*why = "an IPv6 address needs brackets, e.g. \"[::1]:9090\"";
			return -EINVAL;
		}
		if (host_len == 0) {
			*why = "missing host before ':' (use \"0.0.0.0:port\" or \"[::]:port\" for all "
			       "addresses)";
			return -EINVAL;
		}
		if (tcp_host_classify(host, host_len, &out->kind) < 0 ||
		    out->kind == TCP_HOST_IPV6) {
			*why = "host is neither an IPv4 address nor a valid host name";
			return -EINVAL;
		}
	}
	if (parse_port(port, port_len, &out->port) < 0) {
		*why = "port must be a number from 1 to 65535";
		return -EINVAL;
	}
	memcpy(out->host, host, host_len);
	out->host[host_len] = '\0';
	return 0;
}

int tcp_pin_parse(const char *s, size_t len, uint8_t out[TCP_PIN_LEN])
{
	static const char prefix[] = "sha256:";
	const size_t plen = sizeof prefix - 1;
	if (len != plen + 2 * TCP_PIN_LEN || memcmp(s, prefix, plen) != 0)
		return -EINVAL;
	for (size_t i = 0; i < TCP_PIN_LEN; i++) {
		int hi = hex_value(s[plen + 2 * i]), lo = hex_value(s[plen + 2 * i + 1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		out[i] = (uint8_t)(hi << 4 | lo);
	}
	return 0;
}

void tcp_pin_format(const uint8_t pin[TCP_PIN_LEN], char buf[TCP_PIN_TEXT_MAX])
{
	static const char digits[] = "0123456789abcdef";
	memcpy(buf, "sha256:", 7);
	for (size_t i = 0; i < TCP_PIN_LEN; i++) {
		buf[7 + 2 * i] = digits[pin[i] >> 4];
		buf[7 + 2 * i + 1] = digits[pin[i] & 15];
	}
	buf[TCP_PIN_TEXT_MAX - 1] = '\0';
}
