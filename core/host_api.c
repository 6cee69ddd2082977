/* The functions behind struct proxyd_host: thin adapters from the ABI to core modules. */
#include "config.h"
#include "host_api.h"
#include "cfg.h"
#include "endpoint.h"
#include "http_request.h"
#include "log.h"
#include "native_host.h"
#include "peers.h"
#include "session.h"
#include "loop.h"
#include "plugins.h"
#include "provider.h"
#include "server.h"
#include "port_registry.h"
#include "route_wait.h"

#include <stdarg.h>

static void host_vlog(proxyd_plugin *self, int level, uint64_t conn_id, const char *fmt,
		      va_list ap) PROXYD_PRINTF(4, 0);
static void host_vlog(proxyd_plugin *self, int level, uint64_t conn_id, const char *fmt,
		      va_list ap)
{
	log_msgv(level, self ? self->label : "plugin", conn_id, fmt, ap);
}

static void host_log(proxyd_plugin *self, int level, uint64_t conn_id, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	host_vlog(self, level, conn_id, fmt, ap);
	va_end(ap);
}

uint64_t host_next_conn_id(void)
{
	static uint64_t next;
	return ++next;
}

static void *host_event_base(void)
{
	return loop_base();
}

static void host_listener_accepted(proxyd_listener *l, void *bev,
				   const struct proxyd_peer_info *info)
{
	struct session_link link = {.bev = bev};
	l->on_accept(l->owner, &link, info);
}

static void host_dial_connected(proxyd_dial *d, void *bev, const struct proxyd_peer_info *info)
{
	struct session_link link = {.bev = bev};
	d->finished = 1;
	d->transport_state = NULL;
	d->on_connected(d->owner, &link, info);
}

static void host_dial_failed(proxyd_dial *d, int err, const char *reason)
{
	d->finished = 1;
	d->transport_state = NULL;
	d->on_failed(d->owner, err, reason);
}

static const struct proxyd_host table = {
	.size = sizeof(struct proxyd_host),
	.abi_major = PROXYD_ABI_MAJOR,
	.abi_minor = PROXYD_ABI_MINOR,
	.log = host_log,
	.vlog = host_vlog,
	.next_conn_id = host_next_conn_id,
	.cfg_string = cfg_get_string,
	.cfg_int = cfg_get_int,
	.cfg_bool = cfg_get_bool,
	.cfg_child = cfg_get_child,
	.cfg_count = cfg_count,
	.cfg_elem = cfg_elem,
	.cfg_elem_string = cfg_elem_string,
	.cfg_error = cfg_error,
	.cfg_path = cfg_path,
	.event_base = host_event_base,
	.timer_new = loop_timer_new,
	.timer_start = loop_timer_start,
	.timer_stop = loop_timer_stop,
	.timer_free = loop_timer_free,
	.watch_new = loop_watch_new,
	.watch_free = loop_watch_free,
	.listener_accepted = host_listener_accepted,
	.dial_connected = host_dial_connected,
	.dial_failed = host_dial_failed,
	.req_field = http_request_field,
	.req_header = http_request_header,
	.provider_report = provider_host_report,
	.provider_stopped = provider_host_stopped,
	.agent_online = server_agent_online,
	.native_accepted = native_host_accepted,
	.native_connected = native_host_connected,
	.stream_arrived = native_host_stream_arrived,
	.stream_data = native_host_stream_data,
	.stream_fin = native_host_stream_fin,
	.stream_reset_in = native_host_stream_reset_in,
	.stream_writable = native_host_stream_writable,
	.conn_closed = native_host_conn_closed,
	.route_resume = route_wait_resume,
	.agent_port = port_registry_agent_port,
	.cfg_elem_int = cfg_elem_int,
	.direct_gathered = peers_host_direct_gathered,
	.direct_connected = peers_host_direct_connected,
	.direct_failed = peers_host_direct_failed,
};

const struct proxyd_host *host_table(void)
{
	return &table;
}
