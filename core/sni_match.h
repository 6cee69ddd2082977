/* Host-name patterns for SNI routes and certificate names: an exact name, or "*." and a
 * name, where "*" stands for exactly one whole label (RFC 6125 section 6.4.3, without the
 * partial-label forms such as "w*.example.com" that it permits and browsers refuse). Pure
 * functions over strings. */
#ifndef PROXYD_CORE_SNI_MATCH_H
#define PROXYD_CORE_SNI_MATCH_H

/* The longest pattern or name (a DNS name in text form, no trailing dot). */
#define SNI_NAME_MAX 253

/* Is pattern a name or a wildcard this module matches? A name: labels of 1..63 letters,
 * digits, '-' and '_', separated by single dots, at most SNI_NAME_MAX in all, no leading or
 * trailing dot. A wildcard: "*." followed by such a name of at least two labels
 * ("*.example.com", not "*.com", which would cover a whole top-level domain, nor "*").
 * Case does not matter. Returns 1 or 0. */
int sni_pattern_valid(const char *pattern);

/* Does name match pattern? Both are compared case-insensitively. An exact pattern matches
 * the same name; "*.example.com" matches "a.example.com" but neither "example.com" nor
 * "a.b.example.com". An invalid pattern matches nothing, and neither does an empty name.
 * Returns 1 or 0. */
int sni_pattern_match(const char *pattern, const char *name);

/* Is pattern a (valid) wildcard? Callers that prefer exact matches ask this. */
int sni_pattern_is_wildcard(const char *pattern);

#endif
