/* Logging for the core and, through the host table, for plugins: one line per message with
 * time, level, who is speaking (core part or plugin name) and an optional connection id. */
#ifndef PROXYD_CORE_LOG_H
#define PROXYD_CORE_LOG_H

#include <stdarg.h>
#include <stdint.h>
#include "proxyd/plugin.h"

enum log_target { LOG_TO_STDERR, LOG_TO_SYSLOG };

void log_setup(int level, enum log_target target);
int log_level(void);
/* Parse "error", "warn", "info", "debug"; -1 if unknown. */
int log_level_parse(const char *name);

void log_msgv(int level, const char *who, uint64_t conn_id, const char *fmt, va_list ap)
	PROXYD_PRINTF(4, 0);
void log_msg(int level, const char *who, uint64_t conn_id, const char *fmt, ...)
	PROXYD_PRINTF(4, 5);

#define log_err(who, ...) log_msg(PROXYD_LOG_ERROR, who, 0, __VA_ARGS__)
#define log_warn(who, ...) log_msg(PROXYD_LOG_WARN, who, 0, __VA_ARGS__)
#define log_info(who, ...) log_msg(PROXYD_LOG_INFO, who, 0, __VA_ARGS__)
#define log_debug(who, ...) log_msg(PROXYD_LOG_DEBUG, who, 0, __VA_ARGS__)

#endif
