/* The labels file of agent.report_ports (see port_labels.h). */
#include "config.h"
#include "port_labels.h"

#include <string.h>

static int label_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '.' || c == '_' || c == '-';
}

static int blank(char c)
{
	return c == ' ' || c == '\t' || c == '\r';
}

/* One line without its newline: 1 with *e set, 0 for a blank or comment line, -1 (with *why)
 * for anything else. */
static int parse_line(const char *p, size_t n, struct port_label *e, const char **why)
{
	size_t i = 0;
	while (i < n && blank(p[i]))
		i++;
	if (i == n || p[i] == '#')
		return 0;
	unsigned long port = 0;
	size_t d = i;
	while (i < n && p[i] >= '0' && p[i] <= '9' && i - d < 6)
		port = port * 10 + (unsigned long)(p[i++] - '0');
	if (i == d || (i < n && !blank(p[i])) || p[d] == '0' || port > 65535) {
		*why = "expected a port number from 1 to 65535 first";
		return -1;
	}
	while (i < n && blank(p[i]))
		i++;
	size_t l = i;
	while (i < n && label_char(p[i]))
		i++;
	if (i == l) {
		*why = "expected a label after the port (1-31 of A-Z a-z 0-9 . _ -)";
		return -1;
	}
	if (i - l > PORT_LABEL_MAX) {
		*why = "label longer than 31 characters";
		return -1;
	}
	size_t label_end = i;
	while (i < n && blank(p[i]))
		i++;
	if (i < n && p[i] != '#') {
		*why = i > label_end ? "more than one label" : "label with characters outside A-Z a-z 0-9 . _ -";
		return -1;
	}
	e->port = (uint16_t)port;
	memcpy(e->label, p + l, label_end - l);
	e->label[label_end - l] = '\0';
	return 1;
}

size_t port_labels_parse(const char *text, size_t len, struct port_label *out, size_t max,
			 unsigned *bad_line, const char **why)
{
	size_t found = 0, pos = 0;
	unsigned line = 0;
	*bad_line = 0;
	*why = NULL;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - text) : len;
		struct port_label e;
		const char *w = NULL;
		line++;
		int r = parse_line(text + pos, end - pos, &e, &w);
		if (r > 0) {
			size_t k = found < max ? found : max;
			if (port_labels_find(out, k, e.port)) {
				r = -1;
				w = "port given twice";
			} else {
				if (found < max)
					out[found] = e;
				found++;
			}
		}
		if (r < 0 && !*bad_line) {
			*bad_line = line;
			*why = w;
		}
		pos = end + 1;
	}
	return found;
}

const char *port_labels_find(const struct port_label *l, size_t n, uint16_t port)
{
	for (size_t i = 0; i < n; i++)
		if (l[i].port == port)
			return l[i].label;
	return NULL;
}
