/* The load-time checks of a plugin descriptor, as a pure function so they can be unit-tested
 * and fuzzed without loading anything. Name uniqueness is checked by the registry. */
#ifndef PROXYD_CORE_PLUGIN_CHECK_H
#define PROXYD_CORE_PLUGIN_CHECK_H

#include <stddef.h>
#include "proxyd/plugin.h"

/* Host-side size of the ops table for a kind, or 0 for an unknown kind. */
size_t plugin_ops_size(uint32_t kind);
const char *plugin_kind_name(uint32_t kind);

/* Checks 1-5 of plugin.h in order. Returns 0, or -1 with "what: expected X, got Y" in err. */
int plugin_check_descriptor(const struct proxyd_plugin_descriptor *d, char *err, size_t errlen);

#endif
