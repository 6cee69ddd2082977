/* provider-exec: pure text functions (exec_text.h). */
#include "exec_text.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void px_lines_feed(struct px_lines *l, const char *data, size_t n, px_line_fn emit, void *arg)
{
	for (size_t i = 0; i < n; i++) {
		char ch = data[i];
		if (ch == '\n') {
			size_t len = l->len;
			if (len > 0 && l->buf[len - 1] == '\r')
				len--;
			emit(arg, l->buf, len);
			l->len = 0;
			continue;
		}
		if (l->len == sizeof l->buf) {
			emit(arg, l->buf, l->len);
			l->len = 0;
		}
		l->buf[l->len++] = ch;
	}
}

void px_lines_flush(struct px_lines *l, px_line_fn emit, void *arg)
{
	if (l->len > 0) {
		size_t len = l->len;
		if (l->buf[len - 1] == '\r')
			len--;
		emit(arg, l->buf, len);
	}
	l->len = 0;
}

/* Length of an escape sequence starting at in[0] == ESC: CSI (ESC [ params final), OSC
 * (ESC ] ... BEL or ESC \), or a two-byte escape. */
static size_t escape_len(const char *in, size_t n)
{
	if (n < 2)
		return n;
	if (in[1] == '[') {
		size_t i = 2;
		while (i < n && (unsigned char)in[i] >= 0x20 && (unsigned char)in[i] <= 0x3f)
			i++;
		while (i < n && (unsigned char)in[i] >= 0x20 && (unsigned char)in[i] <= 0x2f)
			i++;
		return i < n ? i + 1 : n;
	}
	if (in[1] == ']') {
		for (size_t i = 2; i < n; i++) {
			if (in[i] == '\a')
				return i + 1;
			if (in[i] == 0x1b && i + 1 < n && in[i + 1] == '\\')
				return i + 2;
		}
		return n;
	}
	return 2;
}

size_t px_clean_line(const char *in, size_t n, const char *secret, char *out, size_t outlen)
{
	static const char redacted[] = "[redacted]";
	size_t slen = secret ? strlen(secret) : 0;
	/* First the escapes and control bytes, then the secret: escape sequences inside a
	 * secret must not hide it from the redaction and then vanish. */
	char stack[PX_LINE_MAX + 1];
	char *tmp = n <= PX_LINE_MAX ? stack : malloc(n + 1);
	if (!tmp) {
		out[0] = '\0';
		return 0;
	}
	size_t t = 0;
	for (size_t i = 0; i < n;) {
		unsigned char ch = (unsigned char)in[i];
		if (ch == 0x1b) {
			i += escape_len(in + i, n - i);
			continue;
		}
		tmp[t++] = (ch < 0x20 && ch != '\t') || ch == 0x7f ? '?' : (char)ch;
		i++;
	}
	size_t o = 0;
	for (size_t i = 0; i < t && o + 1 < outlen;) {
		if (slen > 0 && t - i >= slen && memcmp(tmp + i, secret, slen) == 0) {
			for (size_t k = 0; k < sizeof redacted - 1 && o + 1 < outlen; k++)
				out[o++] = redacted[k];
			i += slen;
			continue;
		}
		out[o++] = tmp[i++];
	}
	/* A secret cut by the end of the buffer must not leave its start behind. */
	if (slen > 0 && o + 1 >= outlen) {
		for (size_t k = slen - 1; k > 0; k--)
			if (o >= k && memcmp(out + o - k, secret, k) == 0) {
				o -= k;
				break;
			}
	}
	out[o] = '\0';
	if (tmp != stack)
		free(tmp);
	return o;
}

int px_url_extract(const regex_t *re, const char *line, const char *tmpl, char *out, size_t outlen)
{
	regmatch_t m[2];
	if (re->re_nsub < 1 || regexec(re, line, 2, m, 0) != 0 || m[1].rm_so < 0)
		return 0;
	size_t glen = (size_t)(m[1].rm_eo - m[1].rm_so);
	const char *g = line + m[1].rm_so;
	if (glen == 0)
		return 0;
	for (size_t i = 0; i < glen; i++)
		if (isspace((unsigned char)g[i]) || g[i] == '"' || g[i] == '\'' ||
		    (unsigned char)g[i] < 0x20)
			return 0;
	const char *hole = tmpl ? strstr(tmpl, "{}") : NULL;
	size_t before = hole ? (size_t)(hole - tmpl) : 0;
	size_t after = hole ? strlen(hole + 2) : 0;
	if (before + glen + after + 1 > outlen)
		return -1;
	if (hole)
		memcpy(out, tmpl, before);
	memcpy(out + before, g, glen);
	if (hole)
		memcpy(out + before + glen, hole + 2, after);
	out[before + glen + after] = '\0';
	return 1;
}

uint64_t px_backoff_ms(unsigned attempt, uint64_t min_ms, uint64_t max_ms)
{
	uint64_t d = min_ms;
	for (unsigned i = 0; i < attempt && d < max_ms; i++)
		d *= 2;
	return d < max_ms ? d : max_ms;
}

int px_state_path(const char *dir, const char *name, char *out, size_t len)
{
	int n = snprintf(out, len, "%s%s%s.url", dir, dir[0] && dir[strlen(dir) - 1] == '/' ? "" : "/",
			 name);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

int px_env_name(const char *name, const char *key, char *out, size_t len)
{
	int n = snprintf(out, len, "PROXYD_PROVIDER_%s_%s", name, key);
	if (n < 0 || (size_t)n >= len)
		return -1;
	for (char *p = out + strlen("PROXYD_PROVIDER_"); *p; p++) {
		*p = (char)toupper((unsigned char)*p);
		if (!isupper((unsigned char)*p) && !isdigit((unsigned char)*p))
			*p = '_';
	}
	return 0;
}

static int parse_port(const char *s, int *port)
{
	if (!*s || strlen(s) > 5)
		return -1;
	int v = 0;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (v < 1 || v > 65535)
		return -1;
	*port = v;
	return 0;
}

int px_split_hostport(const char *s, char *host, size_t hostlen, int *port)
{
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s)
		return -1;
	const char *h = s;
	size_t hl = (size_t)(colon - s);
	if (h[0] == '[') {
		if (hl < 3 || h[hl - 1] != ']')
			return -1;
		h++;
		hl -= 2;
	} else if (memchr(h, ':', hl)) {
		return -1; /* an IPv6 address needs brackets */
	}
	if (hl == 0 || hl >= hostlen)
		return -1;
	for (size_t i = 0; i < hl; i++)
		if (isspace((unsigned char)h[i]) || (unsigned char)h[i] < 0x20 || h[i] == '/' ||
		    h[i] == '[' || h[i] == ']')
			return -1;
	if (parse_port(colon + 1, port) < 0)
		return -1;
	memcpy(host, h, hl);
	host[hl] = '\0';
	return 0;
}

int px_split_url(const char *url, char *scheme, size_t schemelen, char *host, size_t hostlen,
		 int *port, char *path, size_t pathlen)
{
	const char *rest;
	int dport;
	if (strncmp(url, "http://", 7) == 0) {
		snprintf(scheme, schemelen, "http");
		rest = url + 7;
		dport = 80;
	} else if (strncmp(url, "https://", 8) == 0) {
		snprintf(scheme, schemelen, "https");
		rest = url + 8;
		dport = 443;
	} else {
		return -1;
	}
	size_t al = strcspn(rest, "/?#");
	char auth[300];
	if (al == 0 || al >= sizeof auth)
		return -1;
	memcpy(auth, rest, al);
	auth[al] = '\0';
	if (memchr(auth, '@', al))
		return -1;
	const char *colon = strrchr(auth, ':');
	const char *bracket = strrchr(auth, ']');
	if (colon && (!bracket || colon > bracket)) {
		if (px_split_hostport(auth, host, hostlen, port) < 0)
			return -1;
	} else {
		const char *h = auth;
		size_t hl = al;
		if (h[0] == '[') {
			if (hl < 3 || h[hl - 1] != ']')
				return -1;
			h++;
			hl -= 2;
		} else if (colon) {
			return -1;
		}
		if (hl >= hostlen)
			return -1;
		for (size_t i = 0; i < hl; i++)
			if (isspace((unsigned char)h[i]) || (unsigned char)h[i] < 0x20)
				return -1;
		memcpy(host, h, hl);
		host[hl] = '\0';
		*port = dport;
	}
	const char *p = rest + al;
	if (*p != '/')
		return snprintf(path, pathlen, "/") >= (int)pathlen ? -1 : 0;
	size_t pl = strcspn(p, "#");
	if (pl >= pathlen)
		return -1;
	for (size_t i = 0; i < pl; i++)
		if ((unsigned char)p[i] <= 0x20 || p[i] == 0x7f)
			return -1;
	memcpy(path, p, pl);
	path[pl] = '\0';
	return 0;
}

int px_http_status(const char *line, size_t n)
{
	/* "HTTP/1.x NNN" */
	if (n < 12 || memcmp(line, "HTTP/1.", 7) != 0 || !isdigit((unsigned char)line[7]) ||
	    line[8] != ' ')
		return -1;
	int code = 0;
	for (int i = 9; i < 12; i++) {
		if (!isdigit((unsigned char)line[i]))
			return -1;
		code = code * 10 + (line[i] - '0');
	}
	if (n > 12 && line[12] != ' ')
		return -1;
	return code >= 100 ? code : -1;
}
