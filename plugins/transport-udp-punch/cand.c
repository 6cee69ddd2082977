/* Candidate lists (see cand.h). */
#include "config.h"
#include "cand.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cand_parse_ipport(const char *s, int allow_zero_port, struct sockaddr_storage *out,
		      socklen_t *len, const char **why)
{
	char host[INET6_ADDRSTRLEN + 2];
	const char *colon = strrchr(s, ':');
	if (!colon || colon == s) {
		*why = "expected ip:port";
		return -EINVAL;
	}
	size_t hlen = (size_t)(colon - s);
	int v6 = 0;
	if (s[0] == '[') {
		if (hlen < 3 || s[hlen - 1] != ']') {
			*why = "an IPv6 address must be in brackets: [2001:db8::1]:3478";
			return -EINVAL;
		}
		s++;
		hlen -= 2;
		v6 = 1;
	}
	if (hlen == 0 || hlen >= sizeof host) {
		*why = "bad address";
		return -EINVAL;
	}
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	const char *p = colon + 1;
	char *end;
	if (!*p || strspn(p, "0123456789") != strlen(p) || strlen(p) > 5) {
		*why = "bad port";
		return -EINVAL;
	}
	unsigned long port = strtoul(p, &end, 10);
	if (port > 65535 || (port == 0 && !allow_zero_port)) {
		*why = "port out of range (1-65535)";
		return -EINVAL;
	}
	memset(out, 0, sizeof *out);
	if (v6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)out;
		if (inet_pton(AF_INET6, host, &in6->sin6_addr) != 1) {
			*why = "bad IPv6 address";
			return -EINVAL;
		}
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)port);
		*len = sizeof *in6;
		return 0;
	}
	struct sockaddr_in *in = (struct sockaddr_in *)out;
	if (inet_pton(AF_INET, host, &in->sin_addr) != 1) {
		*why = strchr(host, ':') ? "an IPv6 address must be in brackets: [2001:db8::1]:3478"
					 : "expected an IP address (names are not resolved here)";
		return -EINVAL;
	}
	in->sin_family = AF_INET;
	in->sin_port = htons((uint16_t)port);
	*len = sizeof *in;
	return 0;
}

static int same_addr(const struct sockaddr *a, const struct sockaddr *b)
{
	if (a->sa_family != b->sa_family)
		return 0;
	if (a->sa_family == AF_INET) {
		const struct sockaddr_in *x = (const void *)a, *y = (const void *)b;
		return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
	}
	const struct sockaddr_in6 *x = (const void *)a, *y = (const void *)b;
	return x->sin6_port == y->sin6_port &&
	       memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr) == 0;
}

int cand_add(struct cand_list *l, enum cand_type type, const struct sockaddr *sa, socklen_t len)
{
	if ((sa->sa_family != AF_INET && sa->sa_family != AF_INET6) ||
	    len > (socklen_t)sizeof l->c[0].addr)
		return -EINVAL;
	for (size_t i = 0; i < l->n; i++)
		if (same_addr((const struct sockaddr *)&l->c[i].addr, sa))
			return 0;
	if (l->n == CAND_MAX)
		return -ENOSPC;
	struct cand *c = &l->c[l->n++];
	memset(c, 0, sizeof *c);
	c->type = type;
	memcpy(&c->addr, sa, len);
	c->len = len;
	return 1;
}

void cand_addr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
		snprintf(buf, len, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
	} else {
		snprintf(buf, len, "?");
	}
}

size_t cand_format(const struct cand_list *l, char *buf, size_t len)
{
	size_t used = 0, count = 0;
	if (len)
		buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++) {
		char a[INET6_ADDRSTRLEN + 8], one[INET6_ADDRSTRLEN + 16];
		cand_addr_format((const struct sockaddr *)&l->c[i].addr, a, sizeof a);
		int n = snprintf(one, sizeof one, "%s%s %s", count ? "," : "",
				 l->c[i].type == CAND_HOST ? "host" : "srflx", a);
		if (n < 0 || used + (size_t)n + 1 > len)
			continue;
		memcpy(buf + used, one, (size_t)n + 1);
		used += (size_t)n;
		count++;
	}
	return count;
}

int cand_parse(const char *s, struct cand_list *out, const char **why)
{
	memset(out, 0, sizeof *out);
	while (*s) {
		const char *comma = strchr(s, ',');
		size_t n = comma ? (size_t)(comma - s) : strlen(s);
		char one[96];
		if (n == 0 || n >= sizeof one) {
			*why = n ? "candidate too long" : "empty candidate";
			return -EINVAL;
		}
		memcpy(one, s, n);
		one[n] = '\0';
		char *sp = strchr(one, ' ');
		if (!sp) {
			*why = "expected \"type ip:port\"";
			return -EINVAL;
		}
		*sp = '\0';
		enum cand_type type = strcmp(one, "host") == 0	  ? CAND_HOST
				      : strcmp(one, "srflx") == 0 ? CAND_SRFLX
								  : 0;
		if (type) {
			struct sockaddr_storage ss;
			socklen_t len;
			if (cand_parse_ipport(sp + 1, 0, &ss, &len, why) < 0)
				return -EINVAL;
			if (cand_add(out, type, (struct sockaddr *)&ss, len) < 0) {
				*why = "too many candidates";
				return -EINVAL;
			}
		}
		s += n;
		if (*s == ',') {
			s++;
			if (!*s) {
				*why = "trailing comma";
				return -EINVAL;
			}
		}
	}
	return 0;
}
