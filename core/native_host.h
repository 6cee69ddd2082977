/* The host functions of ABI 1.3 (native-stream transports), implemented in session_native.c
 * and put in the host table by host_api.c. See plugin.h for their contracts. */
#ifndef PROXYD_CORE_NATIVE_HOST_H
#define PROXYD_CORE_NATIVE_HOST_H

#include "proxyd/plugin.h"

proxyd_conn *native_host_accepted(proxyd_listener *l, void *conn_state,
				  const struct proxyd_peer_info *info);
proxyd_conn *native_host_connected(proxyd_dial *d, void *conn_state,
				   const struct proxyd_peer_info *info);
proxyd_stream *native_host_stream_arrived(proxyd_conn *c, void *stream_state);
size_t native_host_stream_data(proxyd_stream *st, const void *data, size_t len);
void native_host_stream_fin(proxyd_stream *st);
void native_host_stream_reset_in(proxyd_stream *st, uint32_t code);
void native_host_stream_writable(proxyd_stream *st);
void native_host_conn_closed(proxyd_conn *c, uint32_t code, const char *reason);

#endif
