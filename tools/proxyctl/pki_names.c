/* What the operator types for a certificate: agent ids, server names, subjectAltName
 * entries, validity in days. Pure functions over strings: names also become file names
 * (DIR/NAME.crt), so none may hold a "/" and leave the PKI directory. */
#include "config.h"
#include "pki.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

int pki_agent_id_check(const char *id)
{
	size_t n = strlen(id);
	if (n == 0 || n > PKI_AGENT_ID_MAX)
		return -EINVAL;
	for (size_t i = 0; i < n; i++)
		if (!is_alnum(id[i]) && id[i] != '.' && id[i] != '_' && id[i] != '-')
			return -EINVAL;
	return 0;
}

int pki_is_ip(const char *s)
{
	unsigned char addr[16];
	return inet_pton(AF_INET, s, addr) == 1 || inet_pton(AF_INET6, s, addr) == 1;
}

/* RFC 1123 host names, plus "_" which private DNS zones use: labels of 1..63 characters,
 * at most 253 in all, no trailing dot (certificates never carry one). Where WILDCARD_OK
 * (--san), "*." may stand first for exactly one whole label, followed by at least two more
 * labels ("*.example.com", not "*.com", which a browser would refuse); never in a file
 * name. */
static int dns_name_check(const char *name, int wildcard_ok)
{
	int wildcard = wildcard_ok && strncmp(name, "*.", 2) == 0;
	if (wildcard)
		name += 2;
	size_t n = strlen(name), label = 0;
	int labels = 1;
	if (n == 0 || n + (wildcard ? 2 : 0) > 253 || name[0] == '.' || name[0] == '-' ||
	    name[n - 1] == '.' || strstr(name, ".."))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (name[i] == '.') {
			labels++;
			label = 0;
		} else if (!is_alnum(name[i]) && name[i] != '-' && name[i] != '_') {
			return -EINVAL;
		} else if (++label > 63) {
			return -EINVAL;
		}
	}
	return wildcard && labels < 2 ? -EINVAL : 0;
}

int pki_server_name_check(const char *name)
{
	if (pki_is_ip(name))
		return 0;
	/* The name is also the CN, and RFC 5280's ub-common-name is 64; longer names still
	 * fit in --san. */
	return strlen(name) > PKI_CN_MAX ? -EINVAL : dns_name_check(name, 0);
}

static int append(char *out, size_t out_len, size_t *pos, const char *type, const char *value,
		  size_t value_len)
{
	int n = snprintf(out + *pos, out_len - *pos, "%s%s:%.*s", *pos ? "," : "", type,
			 (int)value_len, value);
	if (n < 0 || (size_t)n >= out_len - *pos)
		return -ENOSPC;
	*pos += (size_t)n;
	return 0;
}

int pki_san_build(enum pki_role role, const char *name, const char *extra, char *out,
		  size_t out_len, char *err, size_t err_len)
{
	size_t pos = 0;
	int rc;

	if (out_len == 0)
		return -ENOSPC;
	out[0] = '\0';
	if ((rc = append(out, out_len, &pos, "DNS", name, strlen(name))) != 0)
		return rc;
	if (role == PKI_SERVER && pki_is_ip(name) &&
	    (rc = append(out, out_len, &pos, "IP", name, strlen(name))) != 0)
		return rc;

	for (const char *p = extra; p && *p;) {
		while (*p == ' ')
			p++;
		const char *end = strchr(p, ',');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char entry[300];
		if (len >= sizeof entry) {
			snprintf(err, err_len, "--san entry too long: %.40s...", p);
			return -EINVAL;
		}
		memcpy(entry, p, len);
		entry[len] = '\0';

		if (strncmp(entry, "DNS:", 4) == 0 && dns_name_check(entry + 4, 1) == 0) {
			rc = append(out, out_len, &pos, "DNS", entry + 4, len - 4);
		} else if (strncmp(entry, "IP:", 3) == 0 && pki_is_ip(entry + 3)) {
			rc = append(out, out_len, &pos, "IP", entry + 3, len - 3);
		} else if (strncmp(entry, "DNS:", 4) == 0 && strchr(entry, '*')) {
			snprintf(err, err_len,
				 "bad --san entry '%s': a wildcard must be the whole first label, "
				 "followed by at least two more (DNS:*.example.com)",
				 entry);
			return -EINVAL;
		} else {
			snprintf(err, err_len,
				 "bad --san entry '%s': expected DNS:host.name, DNS:*.domain.name "
				 "or IP:address",
				 entry);
			return -EINVAL;
		}
		if (rc != 0)
			return rc;
		p = end ? end + 1 : p + len;
	}
	return 0;
}

int pki_days_parse(const char *s, int *days)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < 1 || v > PKI_MAX_DAYS)
		return -EINVAL;
	*days = (int)v;
	return 0;
}
