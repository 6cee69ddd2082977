/* agent.report_ports (see port_report.h). Reading /proc and a small file on the loop is
 * acceptable: both are in memory or the page cache and bounded (READ_MAX). */
#include "config.h"
#include "port_report.h"
#include "agent.h"
#include "ctl_channel.h"
#include "log.h"
#include "loop.h"
#include "port_labels.h"
#include "proc_tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

_Static_assert(PORT_LABEL_MAX == CTL_PORT_LABEL_MAX, "labels travel in PORTS messages");

/* /proc/net/tcp holds every socket, not only listeners: a busy VM's may be large. */
#define READ_MAX (8u << 20)
#define LABELS_MAX (64u << 10)
#define LISTENERS_MAX 4096

static struct {
	struct conf *conf;
	proxyd_timer *timer;
	uint64_t sent_conn_id; /* the session the last report went to */
	struct ctl_msg last;   /* what it said */
	unsigned last_bad_line;
} pr;

/* The whole file, up to max bytes, NUL-terminated; NULL with errno. */
static char *read_file(const char *path, size_t max, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return NULL;
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap + 1);
	while (buf) {
		if (n == cap) {
			if (cap >= max)
				break; /* what fits is enough: the report is cut, not lost */
			cap = cap * 2 > max ? max : cap * 2;
			char *grown = realloc(buf, cap + 1);
			if (!grown) {
				free(buf);
				buf = NULL;
				break;
			}
			buf = grown;
		}
		ssize_t r = read(fd, buf + n, cap - n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		n += (size_t)r;
	}
	int saved = errno;
	close(fd);
	if (buf) {
		buf[n] = '\0';
		*len = n;
	}
	errno = saved;
	return buf;
}

static size_t scan_listeners(struct proc_tcp_listener *l, size_t max)
{
	static const char *const files[] = {"/proc/net/tcp", "/proc/net/tcp6"};
	size_t n = 0;
	for (size_t f = 0; f < 2; f++) {
		size_t len;
		char *text = read_file(files[f], READ_MAX, &len);
		if (!text) {
			/* No IPv6 in the kernel: no tcp6. */
			if (f == 0)
				log_msg(PROXYD_LOG_WARN, "agent", 0, "report_ports: cannot read %s: %s", files[f],
					strerror(errno));
			continue;
		}
		size_t got = proc_tcp_parse(text, len, l + n, max - n, NULL);
		n += got < max - n ? got : max - n;
		free(text);
	}
	return n;
}

static size_t read_labels(struct port_label *labels, size_t max)
{
	const char *path = pr.conf->agt.report_labels;
	if (!path)
		return 0;
	size_t len;
	char *text = read_file(path, LABELS_MAX, &len);
	if (!text) {
		/* The user may not have written one (yet). */
		if (errno != ENOENT)
			log_msg(PROXYD_LOG_WARN, "agent", 0, "report_ports: cannot read %s: %s", path,
				strerror(errno));
		return 0;
	}
	unsigned bad_line;
	const char *why;
	size_t n = port_labels_parse(text, len, labels, max, &bad_line, &why);
	free(text);
	/* Said once per mistake, not every interval. */
	if (bad_line && bad_line != pr.last_bad_line)
		log_msg(PROXYD_LOG_WARN, "agent", 0, "report_ports: %s:%u: %s (line ignored)", path,
			bad_line, why);
	pr.last_bad_line = bad_line;
	return n < max ? n : max;
}

/* The report as it stands now. */
static void build(struct ctl_msg *m)
{
	static struct proc_tcp_listener listeners[LISTENERS_MAX];
	static struct port_label labels[CTL_MAX_PORTS * 4];
	uint16_t ports[CTL_MAX_PORTS];
	memset(m, 0, sizeof *m);
	m->type = CTL_PORTS;
	size_t n = scan_listeners(listeners, LISTENERS_MAX);
	size_t np = proc_tcp_reachable_ports(listeners, n, ports, CTL_MAX_PORTS);
	size_t nl = read_labels(labels, sizeof labels / sizeof labels[0]);
	for (size_t i = 0; i < np; i++) {
		struct ctl_port *p = &m->ports[m->n_ports++];
		p->port = ports[i];
		const char *label = port_labels_find(labels, nl, ports[i]);
		if (label)
			snprintf(p->label, sizeof p->label, "%s", label);
	}
}

static int same(const struct ctl_msg *a, const struct ctl_msg *b)
{
	return a->n_ports == b->n_ports &&
	       memcmp(a->ports, b->ports, sizeof a->ports[0] * (size_t)a->n_ports) == 0;
}

static void report(int force)
{
	uint64_t conn_id;
	struct session *s = agent_ready_session(&conn_id);
	if (!s || !pr.conf || !pr.conf->agt.report_ports)
		return;
	static struct ctl_msg m;
	build(&m);
	if (!force && conn_id == pr.sent_conn_id && same(&m, &pr.last))
		return;
	if (ctl_send(s, &m) != 0) {
		log_msg(PROXYD_LOG_WARN, "agent", conn_id, "report_ports: the report could not be sent");
		return;
	}
	pr.last = m;
	pr.sent_conn_id = conn_id;
	char list[300] = "";
	size_t used = 0;
	for (int i = 0; i < m.n_ports && used < sizeof list; i++) {
		int w = snprintf(list + used, sizeof list - used, "%s%u%s%s%s", i ? ", " : "",
				 m.ports[i].port, m.ports[i].label[0] ? " (" : "", m.ports[i].label,
				 m.ports[i].label[0] ? ")" : "");
		if (w > 0)
			used += (size_t)w;
	}
	log_msg(PROXYD_LOG_INFO, "agent", conn_id, "reported %d listening port(s): %s", m.n_ports,
		m.n_ports ? list : "(none)");
}

static void tick(void *unused)
{
	report(0);
}

void port_report_apply(struct conf *c)
{
	pr.conf = c;
	if (!pr.timer)
		return;
	if (c->agt.report_ports) {
		loop_timer_start(pr.timer, (uint64_t)c->agt.report_interval_ms, 1);
		report(0);
	} else {
		loop_timer_stop(pr.timer);
	}
}

void port_report_start(struct conf *c)
{
	pr.timer = loop_timer_new(tick, NULL);
	pr.sent_conn_id = 0;
	port_report_apply(c);
}

void port_report_now(void)
{
	report(1);
}

void port_report_stop(void)
{
	loop_timer_free(pr.timer);
	pr.timer = NULL;
	pr.conf = NULL;
}
