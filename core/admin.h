/* The admin unix socket behind `proxyctl status`: a client writes one command line, the
 * daemon answers with one JSON object and closes. */
#ifndef PROXYD_CORE_ADMIN_H
#define PROXYD_CORE_ADMIN_H

#include "conf.h"

int admin_start(const struct conf_admin *a);
void admin_stop(void);

#endif
