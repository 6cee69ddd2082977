/* Which roles a configuration asks for, and starting, re-applying and stopping them. */
#ifndef PROXYD_CORE_ROLES_H
#define PROXYD_CORE_ROLES_H

#include "daemon.h"

extern const struct role_hooks roles_default;

#endif
