/* qt_sockaddr_format: addresses as the logs and status show them. A file of its own because
 * transport-udp-punch compiles the native-stream glue (quic_native.c), which uses it, without
 * the rest of this plugin. */
#include "config.h"
#include "quic_plugin.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>

void qt_sockaddr_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char host[INET6_ADDRSTRLEN] = "?";
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
		inet_ntop(AF_INET, &in->sin_addr, host, sizeof host);
		snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], host, sizeof host);
			snprintf(buf, len, "%s:%u", host, (unsigned)ntohs(in6->sin6_port));
		} else {
			inet_ntop(AF_INET6, &in6->sin6_addr, host, sizeof host);
			snprintf(buf, len, "[%s]:%u", host, (unsigned)ntohs(in6->sin6_port));
		}
	} else {
		snprintf(buf, len, "?");
	}
}
