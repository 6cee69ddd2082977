/* The labels file of agent.report_ports: names for ports, written by the VM's user, e.g.
 *     # port  label
 *     3000    app
 *     5173    vite
 * One "PORT LABEL" per line; '#' starts a comment; blank lines are skipped. A label is 1..31
 * of [A-Za-z0-9._-] (what the PORTS control message carries). Pure, fuzzed
 * (fuzz/fuzz_port_labels.c). */
#ifndef PROXYD_CORE_PORT_LABELS_H
#define PROXYD_CORE_PORT_LABELS_H

#include <stddef.h>
#include <stdint.h>

#define PORT_LABEL_MAX 31

struct port_label {
	uint16_t port;
	char label[PORT_LABEL_MAX + 1];
};

/* Parse text: stores up to max entries in out and returns how many there are. A line that is
 * not "PORT LABEL" (port 1..65535, a valid label, nothing after it but a comment) is skipped;
 * the first such line's number (from 1) goes to *bad_line with *why, else *bad_line is 0. A
 * port given twice keeps its first label (the later line counts as bad), as far as max
 * entries are kept to compare with. */
size_t port_labels_parse(const char *text, size_t len, struct port_label *out, size_t max,
			 unsigned *bad_line, const char **why);

/* The label of port in l[0..n), or NULL. */
const char *port_labels_find(const struct port_label *l, size_t n, uint16_t port);

#endif
