/* See sock_addr.h. */
#include "config.h"
#include "sock_addr.h"

#include <event2/util.h>
#include <netinet/in.h>
#include <stdio.h>

void sock_addr_text(const struct sockaddr *sa, char *out, size_t cap)
{
	char ip[48];
	snprintf(out, cap, "?");
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
		evutil_inet_ntop(AF_INET, &in->sin_addr, ip, sizeof ip);
		snprintf(out, cap, "%s:%d", ip, ntohs(in->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
		evutil_inet_ntop(AF_INET6, &in6->sin6_addr, ip, sizeof ip);
		snprintf(out, cap, "[%s]:%d", ip, ntohs(in6->sin6_port));
	}
}
