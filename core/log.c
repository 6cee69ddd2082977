/* Log lines: "2026-11-22T10:00:00.123Z warn [transport-tcp] conn=7: message". */
#include "config.h"
#include "log.h"

#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <sys/time.h>
#include <time.h>

static int current_level = PROXYD_LOG_INFO;
static enum log_target current_target = LOG_TO_STDERR;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

void log_setup(int level, enum log_target target)
{
	current_level = level;
	if (target == LOG_TO_SYSLOG && current_target != LOG_TO_SYSLOG)
		openlog("proxyd", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	current_target = target;
}

int log_level(void)
{
	return current_level;
}

int log_level_parse(const char *name)
{
	for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
		if (strcmp(name, level_names[i]) == 0)
			return i;
	return -1;
}

void log_msgv(int level, const char *who, uint64_t conn_id, const char *fmt, va_list ap)
{
	if (level > current_level)
		return;
	if (level < PROXYD_LOG_ERROR)
		level = PROXYD_LOG_ERROR;
	if (level > PROXYD_LOG_DEBUG)
		level = PROXYD_LOG_DEBUG;

	char msg[2048];
	vsnprintf(msg, sizeof msg, fmt, ap);
	char conn[32] = "";
	if (conn_id)
		snprintf(conn, sizeof conn, " conn=%llu", (unsigned long long)conn_id);

	if (current_target == LOG_TO_SYSLOG) {
		static const int prio[] = {LOG_ERR, LOG_WARNING, LOG_INFO, LOG_DEBUG};
		syslog(prio[level], "[%s]%s: %s", who ? who : "core", conn, msg);
		return;
	}
	struct timeval tv;
	gettimeofday(&tv, NULL);
	struct tm tm;
	gmtime_r(&tv.tv_sec, &tm);
	char ts[32];
	strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(stderr, "%s.%03dZ %s [%s]%s: %s\n", ts, (int)(tv.tv_usec / 1000), level_names[level],
		who ? who : "core", conn, msg);
}

void log_msg(int level, const char *who, uint64_t conn_id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_msgv(level, who, conn_id, fmt, ap);
	va_end(ap);
}
