/* The host function table handed to plugins (struct proxyd_host in plugin.h). */
#ifndef PROXYD_CORE_HOST_API_H
#define PROXYD_CORE_HOST_API_H

#include "proxyd/plugin.h"

const struct proxyd_host *host_table(void);
uint64_t host_next_conn_id(void);

#endif
