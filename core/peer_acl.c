/* Agent-to-agent access rules: see peer_acl.h. */
#include "config.h"
#include "peer_acl.h"

#include <string.h>

static int match(const char *pattern, const char *value)
{
	return strcmp(pattern, "*") == 0 || strcmp(pattern, value) == 0;
}

int peer_acl_allows(const struct peer_rule *rules, int n, const char *from, const char *to,
		    const char *service)
{
	for (int i = 0; i < n; i++) {
		const struct peer_rule *r = &rules[i];
		if (!match(r->from, from))
			continue;
		if (to && r->to && !match(r->to, to))
			continue;
		if (!service || r->n_services == 0)
			return 1;
		for (int k = 0; k < r->n_services; k++)
			if (match(r->services[k], service))
				return 1;
	}
	return 0;
}
