/* router-subdomain: the host table and this plugin's handle, set once by init() and shared by
 * the plugin's files (the direct mode's resolvers log and use the loop through them). */
#ifndef PROXYD_ROUTER_SUBDOMAIN_SD_HOST_H
#define PROXYD_ROUTER_SUBDOMAIN_SD_HOST_H

#include <stdint.h>

#include <proxyd/plugin.h>

extern const struct proxyd_host *sd_host;
extern proxyd_plugin *sd_plugin;

/* Monotonic milliseconds (plugins have no clock from the host). */
uint64_t sd_now_ms(void);

#endif
