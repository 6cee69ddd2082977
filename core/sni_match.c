/* Host-name patterns (see sni_match.h). The wildcard is only ever a whole first label, so a
 * match is a suffix comparison plus a check that the part before it is one label. */
#include "config.h"
#include "sni_match.h"

#include <string.h>
#include <strings.h>

static int name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_';
}

/* Labels of 1..63 name characters joined by single dots; returns the number of labels, 0
 * when s is not such a name. */
static int dns_labels(const char *s)
{
	size_t n = strlen(s), label = 0;
	int labels = 0;
	if (n == 0 || n > SNI_NAME_MAX)
		return 0;
	for (size_t i = 0; i <= n; i++) {
		if (s[i] == '.' || s[i] == '\0') {
			if (label == 0)
				return 0;
			labels++;
			label = 0;
		} else if (!name_char(s[i]) || ++label > 63) {
			return 0;
		}
	}
	return labels;
}

int sni_pattern_is_wildcard(const char *pattern)
{
	return pattern[0] == '*' && pattern[1] == '.' && strlen(pattern) <= SNI_NAME_MAX &&
	       dns_labels(pattern + 2) >= 2;
}

int sni_pattern_valid(const char *pattern)
{
	return sni_pattern_is_wildcard(pattern) || dns_labels(pattern) > 0;
}

int sni_pattern_match(const char *pattern, const char *name)
{
	if (!sni_pattern_valid(pattern) || name[0] == '\0')
		return 0;
	if (!sni_pattern_is_wildcard(pattern))
		return strcasecmp(pattern, name) == 0;
	/* "*.example.com": name is "L.example.com" with L one non-empty label. */
	const char *suffix = pattern + 1; /* ".example.com" */
	size_t sn = strlen(suffix), nn = strlen(name);
	if (nn <= sn || nn - sn > 63 || strcasecmp(name + nn - sn, suffix) != 0)
		return 0;
	for (size_t i = 0; i < nn - sn; i++)
		if (!name_char(name[i]))
			return 0; /* a dot (two labels) or a byte no label holds */
	return 1;
}
