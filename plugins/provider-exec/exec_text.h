/* provider-exec's pure text functions: a program's output cut into lines, made safe to log
 * (escape sequences and control bytes gone, the secret redacted), the public URL taken out
 * of a line with a POSIX regular expression, restart backoff, URL splitting, and names
 * (state files, environment overrides). No I/O; unit-tested and fuzzed. */
#ifndef PX_EXEC_TEXT_H
#define PX_EXEC_TEXT_H

#include <regex.h>
#include <stddef.h>
#include <stdint.h>

#define PX_LINE_MAX 1024
#define PX_URL_MAX 512

/* A line splitter for one output stream. Lines end at '\n' (a '\r' before it is dropped);
 * a line longer than PX_LINE_MAX is emitted in PX_LINE_MAX pieces. */
struct px_lines {
	char buf[PX_LINE_MAX];
	size_t len;
};
typedef void (*px_line_fn)(void *arg, const char *line, size_t len);
void px_lines_feed(struct px_lines *l, const char *data, size_t n, px_line_fn emit, void *arg);
/* At end of stream: emit what is left, if anything. */
void px_lines_flush(struct px_lines *l, px_line_fn emit, void *arg);

/* Make a line fit for a log: ANSI escape sequences removed, other control bytes and DEL
 * become '?', and every occurrence of secret (when not NULL or empty) becomes "[redacted]".
 * Writes a NUL-terminated string to out (size outlen > 0), truncated if it must be;
 * returns its length. */
size_t px_clean_line(const char *in, size_t n, const char *secret, char *out, size_t outlen);

/* The URL in line: the first group of re, put in place of "{}" in tmpl (tmpl NULL: the group
 * itself). Returns 1 with out set, 0 when the line does not match (or the group is empty or
 * holds a blank or a quote), -1 when the result does not fit. line is NUL-terminated. */
int px_url_extract(const regex_t *re, const char *line, const char *tmpl, char *out, size_t outlen);

/* Restart delay after `attempt` consecutive failures (0 = the first): min_ms * 2^attempt,
 * at most max_ms. */
uint64_t px_backoff_ms(unsigned attempt, uint64_t min_ms, uint64_t max_ms);

/* "<dir>/<name>.url"; 0, or -1 when it does not fit. */
int px_state_path(const char *dir, const char *name, char *out, size_t len);

/* The environment variable that overrides key for provider name: PROXYD_PROVIDER_<NAME>_<KEY>
 * with the name upper-cased and every byte other than A-Z 0-9 turned into '_'. 0 or -1. */
int px_env_name(const char *name, const char *key, char *out, size_t len);

/* "host:port" (IPv6 in brackets) split; host without brackets. 0, or -1 when malformed or
 * the port is not 1-65535. */
int px_split_hostport(const char *s, char *host, size_t hostlen, int *port);

/* An http:// or https:// URL split into scheme ("http"/"https"), host, port (the scheme's
 * default when none) and path ("/" when none). 0, or -1. */
int px_split_url(const char *url, char *scheme, size_t schemelen, char *host, size_t hostlen,
		 int *port, char *path, size_t pathlen);

/* The status code of an HTTP/1.x status line, or -1 when line is not one. */
int px_http_status(const char *line, size_t n);

#endif
