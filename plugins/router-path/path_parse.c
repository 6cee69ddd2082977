/* router-path's pure parsers (see path_parse.h). */
#include "config.h"
#include "path_parse.h"

#include <errno.h>
#include <string.h>

static int id_char(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static int ids_valid(const char *p, size_t n, size_t max)
{
	if (n == 0 || n > max)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!id_char((unsigned char)p[i]))
			return 0;
	return 1;
}

int rp_agent_valid(const char *p, size_t n)
{
	return ids_valid(p, n, RP_AGENT_MAX);
}

int rp_service_valid(const char *p, size_t n)
{
	return ids_valid(p, n, RP_SERVICE_MAX);
}

int rp_spec_parse(const char *p, size_t n, char agent[RP_AGENT_MAX + 1],
		  char service[RP_SERVICE_MAX + 1])
{
	const char *colon = memchr(p, ':', n);
	size_t an = colon ? (size_t)(colon - p) : n;
	if (!rp_agent_valid(p, an))
		return -EINVAL;
	size_t sn = 0;
	if (colon) {
		sn = n - an - 1;
		/* "agent:" names no service: a typo, not the default service. */
		if (!rp_service_valid(colon + 1, sn))
			return -EINVAL;
		memcpy(service, colon + 1, sn);
	}
	memcpy(agent, p, an);
	agent[an] = '\0';
	service[sn] = '\0';
	return 0;
}

/* Bytes a path segment may hold unescaped (RFC 3986 pchar without pct-encoded) and '/'. */
static int path_char(unsigned char c)
{
	if (id_char(c) || c == '~' || c == '/')
		return 1;
	return strchr("!$&'()*+,;=:@", c) != NULL && c != '\0';
}

int rp_prefix_valid(const char *p, size_t n, const char **why)
{
	if (n == 0 || p[0] != '/' || p[n - 1] != '/') {
		*why = "expected a path that starts and ends with '/', such as \"/proxy/\"";
		return -EINVAL;
	}
	if (n > RP_PREFIX_MAX) {
		*why = "too long (at most 256 bytes)";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		if (!path_char((unsigned char)p[i])) {
			*why = "only unescaped path characters may appear (no '?', '#', '%', spaces)";
			return -EINVAL;
		}
	}
	return 0;
}

int rp_cookie_name_valid(const char *p, size_t n)
{
	if (n == 0 || n > RP_COOKIE_NAME_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)p[i];
		/* RFC 9110 tchar */
		if (!(id_char(c) || strchr("!#$%&'*+^`|~", c)) || c == '\0')
			return 0;
	}
	return 1;
}

int rp_origin_path(const char *path, size_t n, const char **out, size_t *out_len)
{
	if (n > 0 && path[0] == '/') {
		*out = path;
		*out_len = n;
		return 0;
	}
	/* absolute-form: scheme "://" authority [ path ] */
	size_t i = 0;
	while (i < n && ((path[i] >= 'a' && path[i] <= 'z') || (path[i] >= 'A' && path[i] <= 'Z') ||
			 (i > 0 && ((path[i] >= '0' && path[i] <= '9') || path[i] == '+' ||
				    path[i] == '-' || path[i] == '.'))))
		i++;
	if (i == 0 || n - i < 3 || memcmp(path + i, "://", 3) != 0)
		return -EINVAL;
	const char *authority = path + i + 3;
	const char *slash = memchr(authority, '/', n - i - 3);
	if (slash) {
		*out = slash;
		*out_len = (size_t)(path + n - slash);
	} else {
		*out = "/";
		*out_len = 1;
	}
	return 0;
}

enum rp_verdict rp_split_path(const char *prefix, size_t prefix_len, const char *path, size_t n,
			      struct rp_split *out)
{
	memset(out, 0, sizeof *out);
	if (n < prefix_len || memcmp(path, prefix, prefix_len) != 0)
		return RP_OUTSIDE;
	const char *seg = path + prefix_len;
	size_t left = n - prefix_len;
	const char *slash = memchr(seg, '/', left);
	size_t seg_len = slash ? (size_t)(slash - seg) : left;
	if (seg_len == 0) {
		out->why = "expected an agent id after the prefix";
		return RP_BAD;
	}
	if (rp_spec_parse(seg, seg_len, out->agent, out->service) < 0) {
		out->why = "invalid agent: expected <agent> or <agent>:<service>, an agent id of 1-64 "
			   "and a service of 1-63 of A-Z a-z 0-9 . _ -";
		return RP_BAD;
	}
	if (!slash)
		return RP_REDIRECT;
	out->rest = slash;
	out->rest_len = (size_t)(path + n - slash);
	return RP_MATCH;
}

static int ows(char c)
{
	return c == ' ' || c == '\t';
}

int rp_cookie_get(const char *line, size_t n, const char *name, unsigned nth, const char **value,
		  size_t *value_len)
{
	size_t name_len = strlen(name);
	size_t i = 0;
	while (i < n) {
		const char *semi = memchr(line + i, ';', n - i);
		size_t end = semi ? (size_t)(semi - line) : n;
		/* One pair in [i, end): trim around the name and the value. */
		size_t a = i, b = end;
		while (a < b && ows(line[a]))
			a++;
		while (b > a && ows(line[b - 1]))
			b--;
		const char *eq = memchr(line + a, '=', b - a);
		if (eq) {
			size_t ne = (size_t)(eq - line);
			while (ne > a && ows(line[ne - 1]))
				ne--;
			size_t vs = (size_t)(eq - line) + 1;
			while (vs < b && ows(line[vs]))
				vs++;
			if (ne - a == name_len && memcmp(line + a, name, name_len) == 0) {
				if (nth == 0) {
					const char *v = line + vs;
					size_t vn = b - vs;
					if (vn >= 2 && v[0] == '"' && v[vn - 1] == '"') {
						v++;
						vn -= 2;
					}
					*value = v;
					*value_len = vn;
					return 1;
				}
				nth--;
			}
		}
		i = end + 1;
	}
	return 0;
}

int rp_visible_ascii(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)p[i] <= 0x20 || (unsigned char)p[i] >= 0x7f)
			return 0;
	return 1;
}
