/* router-subdomain's pure matching (see subdomain_match.h). */
#include "config.h"
#include "subdomain_match.h"

#include <errno.h>
#include <string.h>

int sd_label_valid(const char *p, size_t n)
{
	if (n == 0 || n > SD_LABEL_MAX || p[0] == '-' || p[n - 1] == '-')
		return 0;
	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'))
			return 0;
	}
	return 1;
}

int sd_domain_normalize(const char *in, size_t n, char out[SD_DOMAIN_MAX + 1], const char **why)
{
	if (n > 0 && in[0] == '.')
		in++, n--;
	if (n > 0 && in[n - 1] == '.')
		n--;
	if (n == 0) {
		*why = "expected a domain name such as \"example.com\"";
		return -EINVAL;
	}
	if (n > SD_DOMAIN_MAX) {
		*why = "longer than 253 bytes";
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++) {
		char c = in[i];
		out[i] = c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
	}
	out[n] = '\0';
	for (size_t start = 0; start <= n;) {
		const char *dot = memchr(out + start, '.', n - start);
		size_t end = dot ? (size_t)(dot - out) : n;
		if (!sd_label_valid(out + start, end - start)) {
			*why = "each label must be 1-63 of a-z 0-9 - and not start or end with '-'";
			return -EINVAL;
		}
		start = end + 1;
	}
	return 0;
}

enum sd_kind sd_match(const char *host, size_t n, const char *const *bases, size_t n_bases,
		      const char **label, size_t *label_len)
{
	if (n > 0 && host[n - 1] == '.')
		n--;
	size_t best_len = 0;
	int found = 0, bare = 0;
	for (size_t i = 0; i < n_bases; i++) {
		size_t bl = strlen(bases[i]);
		if (bl == 0 || bl > n || (found && bl <= best_len))
			continue;
		if (memcmp(host + n - bl, bases[i], bl) != 0)
			continue;
		if (bl == n) {
			bare = 1;
		} else if (host[n - bl - 1] == '.') {
			bare = 0;
		} else {
			continue; /* "xexample.com" is not under "example.com" */
		}
		found = 1;
		best_len = bl;
	}
	if (!found || bare)
		return SD_NONE;
	size_t pre = n - best_len - 1;
	if (memchr(host, '.', pre))
		return SD_DEEP;
	*label = host;
	*label_len = pre;
	return sd_label_valid(host, pre) ? SD_NAME : SD_BAD_LABEL;
}

int sd_split_port(const char *label, size_t n, size_t *name_len, unsigned *port)
{
	size_t d = n;
	while (d > 0 && label[d - 1] >= '0' && label[d - 1] <= '9')
		d--;
	size_t digits = n - d;
	if (digits == 0 || digits > 5 || d < 2 || label[d - 1] != '-' || label[d] == '0')
		return 0;
	unsigned v = 0;
	for (size_t i = d; i < n; i++)
		v = v * 10 + (unsigned)(label[i] - '0');
	if (v > 65535 || !sd_label_valid(label, d - 1))
		return 0;
	*name_len = d - 1;
	*port = v;
	return 1;
}
