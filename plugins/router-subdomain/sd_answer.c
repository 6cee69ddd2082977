/* router-subdomain's direct mode: resolver answers (see sd_answer.h). */
#include "config.h"
#include "sd_answer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PATH_PARTS_MAX 16

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\v' || c == '\f';
}

int sd_addr_parse(const char *s, size_t n, char out[SD_ADDR_MAX], int *v6, const char **why)
{
	char buf[SD_ADDR_MAX];
	if (n == 0 || n >= sizeof buf) {
		*why = n ? "too long for an IP address" : "empty";
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (memchr(s, '\0', n)) {
		*why = "not an IP address";
		return -EINVAL;
	}
	struct in_addr a4;
	struct in6_addr a6;
	if (inet_pton(AF_INET, buf, &a4) == 1) {
		uint32_t h = ntohl(a4.s_addr);
		if (h == 0 || (h >> 28) == 0xe || h == 0xffffffffu) {
			*why = "an unspecified, multicast or broadcast address";
			return -EINVAL;
		}
		inet_ntop(AF_INET, &a4, out, SD_ADDR_MAX);
		*v6 = 0;
		return 0;
	}
	if (inet_pton(AF_INET6, buf, &a6) == 1) {
		static const uint8_t zero[16];
		if (memcmp(&a6, zero, 16) == 0 || a6.s6_addr[0] == 0xff) {
			*why = "an unspecified or multicast address";
			return -EINVAL;
		}
		inet_ntop(AF_INET6, &a6, out, SD_ADDR_MAX);
		*v6 = 1;
		return 0;
	}
	*why = "not an IP address (names are not looked up: give 172.30.0.2 or fd00::2)";
	return -EINVAL;
}

int sd_port_parse(const char *s, size_t n, uint16_t *port)
{
	if (n == 0 || n > 5 || s[0] == '0')
		return -EINVAL;
	unsigned v = 0;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return -EINVAL;
	*port = (uint16_t)v;
	return 0;
}

static int add_port(struct sd_answer *out, uint16_t port, const char **why)
{
	for (size_t i = 0; i < out->n_ports; i++)
		if (out->ports[i] == port)
			return 0;
	if (out->n_ports == SD_VM_PORTS_MAX) {
		*why = "more than 32 ports";
		return -EINVAL;
	}
	out->ports[out->n_ports++] = port;
	return 0;
}

enum sd_result sd_parse_cmd_output(const char *buf, size_t len, struct sd_answer *out,
				   const char **why)
{
	memset(out, 0, sizeof *out);
	size_t i = 0;
	while (i < len && blank(buf[i]))
		i++;
	if (i == len)
		return SD_NOT_FOUND;
	size_t end = i;
	while (end < len && buf[end] != '\n')
		end++;
	/* The first word: the address. */
	size_t w = i;
	while (w < end && !blank(buf[w]) && buf[w] != ',')
		w++;
	if (sd_addr_parse(buf + i, w - i, out->address, &out->v6, why) < 0)
		return SD_BAD;
	for (i = w; i < end;) {
		while (i < end && (blank(buf[i]) || buf[i] == ','))
			i++;
		if (i == end)
			break;
		w = i;
		while (w < end && !blank(buf[w]) && buf[w] != ',')
			w++;
		uint16_t port;
		if (sd_port_parse(buf + i, w - i, &port) < 0) {
			*why = "after the address, expected port numbers from 1 to 65535";
			return SD_BAD;
		}
		if (add_port(out, port, why) < 0)
			return SD_BAD;
		i = w;
	}
	return SD_FOUND;
}

static int ci_prefix(const char *p, size_t n, const char *want)
{
	size_t k = strlen(want);
	if (n < k)
		return 0;
	for (size_t i = 0; i < k; i++) {
		char c = p[i];
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if (c != want[i])
			return 0;
	}
	return 1;
}

/* The Content-Length of a head (the lines after the status line), or -1 when there is none
 * (or it is not a plain number). */
static long long content_length(const char *h, size_t n)
{
	long long cl = -1;
	for (size_t pos = 0; pos < n;) {
		const char *nl = memchr(h + pos, '\n', n - pos);
		size_t end = nl ? (size_t)(nl - h) : n;
		const char *line = h + pos;
		size_t ll = end - pos;
		if (ci_prefix(line, ll, "content-length:")) {
			size_t i = 15;
			while (i < ll && (line[i] == ' ' || line[i] == '\t'))
				i++;
			long long v = 0;
			size_t d = i;
			while (i < ll && line[i] >= '0' && line[i] <= '9' && v < (1LL << 40))
				v = v * 10 + (line[i++] - '0');
			while (i < ll && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
				i++;
			if (i == d || i != ll)
				return -1;
			cl = v;
		}
		pos = end + 1;
	}
	return cl;
}

enum sd_result sd_parse_http_response(const char *buf, size_t len, int *status, const char **body,
				      size_t *body_len, const char **why)
{
	/* "HTTP/1.x NNN" */
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') ||
	    buf[8] != ' ' || buf[9] < '1' || buf[9] > '5' || buf[10] < '0' || buf[10] > '9' ||
	    buf[11] < '0' || buf[11] > '9' || (len > 12 && buf[12] != ' ' && buf[12] != '\r' &&
					       buf[12] != '\n')) {
		*why = "the lookup service's answer is not an HTTP/1.x response";
		return SD_BAD;
	}
	*status = (buf[9] - '0') * 100 + (buf[10] - '0') * 10 + (buf[11] - '0');
	const char *end = NULL;
	size_t skip = 0;
	for (size_t i = 12; i + 1 < len && !end; i++) {
		if (buf[i] == '\n' && buf[i + 1] == '\n')
			end = buf + i, skip = 2;
		else if (buf[i] == '\n' && i + 2 < len && buf[i + 1] == '\r' && buf[i + 2] == '\n')
			end = buf + i, skip = 3;
	}
	if (!end) {
		*why = "the lookup service's response ended in its head";
		return SD_BAD;
	}
	if (*status == 404 || *status == 410)
		return SD_NOT_FOUND;
	if (*status != 200) {
		*why = "the lookup service did not answer 200";
		return SD_BAD;
	}
	const char *first_nl = memchr(buf, '\n', len);
	size_t head_len = (size_t)(end - first_nl);
	long long cl = content_length(first_nl + 1, head_len > 0 ? head_len - 1 : 0);
	*body = end + skip;
	*body_len = len - (size_t)(*body - buf);
	if (cl >= 0) {
		if ((unsigned long long)cl > *body_len) {
			*why = "the lookup service's response is shorter than its Content-Length";
			return SD_BAD;
		}
		*body_len = (size_t)cl;
	}
	return SD_FOUND;
}

static int path_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '_' || c == '-';
}

int sd_json_path_valid(const char *path, const char **why)
{
	size_t parts = 0, len = 0;
	for (const char *p = path;; p++) {
		if (*p == '.' || *p == '\0') {
			if (len == 0) {
				*why = "expected names or indexes separated by dots, such as \"network.ip\"";
				return -EINVAL;
			}
			if (++parts > PATH_PARTS_MAX) {
				*why = "more than 16 parts";
				return -EINVAL;
			}
			len = 0;
			if (*p == '\0')
				return 0;
			continue;
		}
		if (!path_char(*p) || ++len > 63) {
			*why = "each part is 1-63 of A-Z a-z 0-9 _ -";
			return -EINVAL;
		}
	}
}

/* The value at a valid path, or NULL (absent). */
static json_t *json_at(json_t *root, const char *path)
{
	json_t *cur = root;
	char part[64];
	for (const char *p = path; cur;) {
		size_t n = strcspn(p, ".");
		if (n >= sizeof part)
			return NULL;
		memcpy(part, p, n);
		part[n] = '\0';
		if (json_is_array(cur)) {
			char *endp;
			unsigned long idx = strtoul(part, &endp, 10);
			cur = *endp || part[0] == '-' ? NULL : json_array_get(cur, idx);
		} else if (json_is_object(cur)) {
			cur = json_object_get(cur, part);
		} else {
			return NULL;
		}
		if (!p[n])
			return cur;
		p += n + 1;
	}
	return NULL;
}

/* The reason an answer is unusable, into the caller's why_buf. */
#define BAD(...) (snprintf(why_buf, why_len, __VA_ARGS__), SD_BAD)

enum sd_result sd_parse_json_answer(const char *body, size_t len, const char *addr_path,
				    const char *ports_path, struct sd_answer *out, char *why_buf,
				    size_t why_len)
{
	memset(out, 0, sizeof *out);
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr);
	if (!root)
		return BAD("the answer is not JSON: %s", jerr.text);
	enum sd_result r = SD_FOUND;
	const char *why = NULL;
	json_t *a = json_at(root, addr_path);
	if (!a) {
		r = BAD("the answer has nothing at \"%s\"", addr_path);
	} else if (json_is_null(a)) {
		r = SD_NOT_FOUND;
	} else if (!json_is_string(a)) {
		r = BAD("the answer's \"%s\" is not a string", addr_path);
	} else if (sd_addr_parse(json_string_value(a), json_string_length(a), out->address,
				 &out->v6, &why) < 0) {
		snprintf(why_buf, why_len, "the answer's \"%s\" is %s", addr_path, why);
		r = SD_BAD;
	}
	json_t *p = r == SD_FOUND && ports_path ? json_at(root, ports_path) : NULL;
	if (p && !json_is_null(p)) {
		size_t n = json_is_array(p) ? json_array_size(p) : 1;
		for (size_t i = 0; i < n && r == SD_FOUND; i++) {
			json_t *v = json_is_array(p) ? json_array_get(p, i) : p;
			json_int_t x = json_is_integer(v) ? json_integer_value(v) : 0;
			if (x < 1 || x > 65535) {
				r = BAD("the answer's \"%s\" is not a port or a list of ports (1-65535)",
					ports_path);
			} else if (add_port(out, (uint16_t)x, &why) < 0) {
				r = BAD("the answer's \"%s\": more than 32 ports", ports_path);
			}
		}
	}
	json_decref(root);
	if (r != SD_FOUND)
		memset(out, 0, sizeof *out);
	return r;
}

static void mapped(const uint8_t v4[4], uint8_t out[16])
{
	memset(out, 0, 10);
	out[10] = out[11] = 0xff;
	memcpy(out + 12, v4, 4);
}

int sd_net_parse(const char *s, size_t n, struct sd_net *out, const char **why)
{
	char buf[64];
	if (n == 0 || n >= sizeof buf || memchr(s, '\0', n)) {
		*why = "expected a network such as \"172.30.0.0/16\" or \"fd00::/8\"";
		return -EINVAL;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *slash = strchr(buf, '/');
	unsigned bits = 0;
	int has_bits = 0;
	if (slash) {
		*slash = '\0';
		uint16_t b;
		if (strcmp(slash + 1, "0") == 0)
			b = 0;
		else if (sd_port_parse(slash + 1, strlen(slash + 1), &b) < 0 || b > 128) {
			*why = "expected a prefix length after '/'";
			return -EINVAL;
		}
		bits = b;
		has_bits = 1;
	}
	uint8_t a4[4];
	if (inet_pton(AF_INET, buf, a4) == 1) {
		if (!has_bits)
			bits = 32;
		if (bits > 32) {
			*why = "an IPv4 prefix is at most 32 bits";
			return -EINVAL;
		}
		mapped(a4, out->addr);
		out->bits = bits + 96;
	} else if (inet_pton(AF_INET6, buf, out->addr) == 1) {
		out->bits = has_bits ? bits : 128;
	} else {
		*why = "expected a network such as \"172.30.0.0/16\" or \"fd00::/8\"";
		return -EINVAL;
	}
	for (unsigned i = out->bits; i < 128; i++)
		if (out->addr[i / 8] & (0x80 >> (i % 8))) {
			*why = "address bits set past the prefix length";
			return -EINVAL;
		}
	return 0;
}

int sd_net_contains(const struct sd_net *net, const char *address)
{
	uint8_t a[16], a4[4];
	if (inet_pton(AF_INET, address, a4) == 1)
		mapped(a4, a);
	else if (inet_pton(AF_INET6, address, a) != 1)
		return 0;
	for (unsigned i = 0; i < net->bits; i++) {
		uint8_t m = (uint8_t)(0x80 >> (i % 8));
		if ((a[i / 8] & m) != (net->addr[i / 8] & m))
			return 0;
	}
	return 1;
}

int sd_url_parse(const char *url, char *host, size_t host_cap, uint16_t *port, const char **path,
		 const char **why)
{
	if (strncmp(url, "http://", 7) != 0) {
		*why = "expected http://HOST[:PORT]/PATH (https is not supported for lookups)";
		return -EINVAL;
	}
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '#') {
			*why = "a blank, control character or '#' in the URL";
			return -EINVAL;
		}
	const char *h = url + 7, *end = h + strcspn(h, "/?");
	const char *hend, *colon = NULL;
	if (*h == '[') {
		const char *close = memchr(h, ']', (size_t)(end - h));
		if (!close) {
			*why = "an IPv6 address without its ']'";
			return -EINVAL;
		}
		h++;
		hend = close;
		if (close + 1 < end) {
			if (close[1] != ':') {
				*why = "expected ':' and a port after the ']'";
				return -EINVAL;
			}
			colon = close + 1;
		}
	} else {
		colon = memchr(h, ':', (size_t)(end - h));
		hend = colon ? colon : end;
	}
	size_t hl = (size_t)(hend - h);
	if (hl == 0 || hl >= host_cap || memchr(h, '@', hl) || memchr(h, '{', hl) ||
	    memchr(h, '}', hl) || (url[7] != '[' && memchr(h, ']', hl))) {
		*why = "expected a host name or address after http://";
		return -EINVAL;
	}
	*port = 80;
	if (colon && sd_port_parse(colon + 1, (size_t)(end - colon - 1), port) < 0) {
		*why = "expected a port from 1 to 65535 after the host";
		return -EINVAL;
	}
	memcpy(host, h, hl);
	host[hl] = '\0';
	*path = end;
	return 0;
}

int sd_expand(const char *tmpl, const char *name, char *out, size_t cap)
{
	size_t used = 0, nl = strlen(name);
	for (const char *p = tmpl; *p;) {
		const char *piece = p;
		size_t n = 1;
		if (strncmp(p, "{name}", 6) == 0) {
			piece = name;
			n = nl;
			p += 6;
		} else {
			p++;
		}
		if (used + n >= cap)
			return -ENOSPC;
		memcpy(out + used, piece, n);
		used += n;
	}
	if (used >= cap)
		return -ENOSPC;
	out[used] = '\0';
	return 0;
}
