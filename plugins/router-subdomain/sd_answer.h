/* router-subdomain's direct mode, the pure parts: what a resolver answers for a VM's name
 * (a command's output, an HTTP lookup's response and its JSON), the addresses an answer may
 * give (IP literals, within configured networks) and the templates a lookup is made from.
 * Functions over (pointer, length), no I/O, so they are unit-tested (test_sd_answer.c) and
 * fuzzed (fuzz_sd_answer.c) apart from the plugin. */
#ifndef PROXYD_ROUTER_SUBDOMAIN_SD_ANSWER_H
#define PROXYD_ROUTER_SUBDOMAIN_SD_ANSWER_H

#include <stddef.h>
#include <stdint.h>

#define SD_ADDR_MAX 46    /* INET6_ADDRSTRLEN */
#define SD_VM_PORTS_MAX 32 /* ports a resolver may open for one VM */
#define SD_ANSWER_MAX 65536 /* a command's output or an HTTP response, at most */

struct sd_answer {
	char address[SD_ADDR_MAX]; /* canonical text: "172.30.0.2", "fd00::2" */
	int v6;
	uint16_t ports[SD_VM_PORTS_MAX]; /* this VM's own open ports, beyond the route's */
	size_t n_ports;
};

enum sd_result {
	SD_FOUND,     /* *out filled */
	SD_NOT_FOUND, /* the resolver knows no such name */
	SD_BAD,       /* the answer is unusable: *why says how */
};

/* An IP literal, IPv4 or IPv6 (no brackets, no zone, no port), to the canonical text in out
 * (*v6 set). The unspecified and multicast addresses are refused. 0 or -EINVAL with *why. */
int sd_addr_parse(const char *s, size_t n, char out[SD_ADDR_MAX], int *v6, const char **why);

/* A port list item: decimal 1..65535, no sign or leading zero. 0 or -EINVAL. */
int sd_port_parse(const char *s, size_t n, uint16_t *port);

/* A resolve_cmd's standard output. Only blanks (or nothing): SD_NOT_FOUND. Else the first
 * line that is not blank: "ADDRESS [PORT ...]" (ports separated by blanks or commas, at most
 * SD_VM_PORTS_MAX); later lines are ignored. */
enum sd_result sd_parse_cmd_output(const char *buf, size_t len, struct sd_answer *out,
				   const char **why);

/* The HTTP lookup's response, as read to the end of the connection (HTTP/1.0, or 1.1 with
 * Connection: close): status 200 with the body; 404 or 410: SD_NOT_FOUND; anything else,
 * or a response that is not HTTP: SD_BAD. A Content-Length cuts the body. On SD_FOUND,
 * *body and *body_len point into buf; *status is set whenever a status line was read. */
enum sd_result sd_parse_http_response(const char *buf, size_t len, int *status, const char **body,
				      size_t *body_len, const char **why);

/* A path into a JSON document: names and array indexes separated by dots ("network.ip",
 * "interfaces.0.addr"); each part 1..63 of A-Z a-z 0-9 _ -. 0 or -EINVAL with *why. */
int sd_json_path_valid(const char *path, const char **why);

/* A JSON answer: the address is the string at addr_path (null there: SD_NOT_FOUND); with
 * ports_path, the VM's own ports are the integer or array of integers there (absent or null:
 * none). why_buf (why_len bytes) holds the reason on SD_BAD. */
enum sd_result sd_parse_json_answer(const char *body, size_t len, const char *addr_path,
				    const char *ports_path, struct sd_answer *out, char *why_buf,
				    size_t why_len);

/* A network an answer's address must be in: "172.30.0.0/16", "fd00::/8", or a single
 * address. Bits outside the prefix must be zero. */
struct sd_net {
	uint8_t addr[16]; /* IPv4 as ::ffff:a.b.c.d */
	unsigned bits;    /* of the 128 */
};
int sd_net_parse(const char *s, size_t n, struct sd_net *out, const char **why);
/* Is the canonical address (from sd_addr_parse) in net? */
int sd_net_contains(const struct sd_net *net, const char *address);

/* resolve_url: "http://HOST[:PORT][/PATH]", HOST a name, an IPv4 address or [IPv6]; no
 * user info, no fragment, no blank or control character. host (host_cap bytes) gets HOST
 * without brackets, *port the port (80 by default), *path the rest ("" when none). 0 or
 * -EINVAL with *why. "{name}" may appear in the path only. */
int sd_url_parse(const char *url, char *host, size_t host_cap, uint16_t *port, const char **path,
		 const char **why);

/* A template with "{name}" in it (resolve_url, resolve_cmd arguments): every "{name}"
 * replaced by name into out (cap bytes, NUL-terminated). -ENOSPC when it does not fit. */
int sd_expand(const char *tmpl, const char *name, char *out, size_t cap);

#endif
