/* See stun_answer.h. */
#include "config.h"
#include "stun_answer.h"
#include "stun.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>

static int to_stun_addr(const struct sockaddr *sa, struct stun_addr *out)
{
	memset(out, 0, sizeof *out);
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const void *)sa;
		out->family = 4;
		memcpy(out->ip, &in->sin_addr, 4);
		out->port = ntohs(in->sin_port);
		return 0;
	}
	if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const void *)sa;
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
			out->family = 4;
			memcpy(out->ip, &in6->sin6_addr.s6_addr[12], 4);
		} else {
			out->family = 6;
			memcpy(out->ip, &in6->sin6_addr, 16);
		}
		out->port = ntohs(in6->sin6_port);
		return 0;
	}
	return -EAFNOSUPPORT;
}

size_t stun_answer(const uint8_t *req, size_t len, const struct sockaddr *from, uint8_t *out,
		   size_t cap, const char **why, size_t *unknown_attrs)
{
	struct stun_msg m;
	*unknown_attrs = 0;
	if (stun_decode(req, len, &m, why) < 0)
		return 0;
	if (m.type != STUN_BINDING_REQUEST) {
		*why = "not a Binding request (only those are answered)";
		return 0;
	}
	*unknown_attrs = m.n_unknown;
	struct stun_addr src;
	if (to_stun_addr(from, &src) < 0) {
		*why = "the source is neither IPv4 nor IPv6";
		return 0;
	}
	size_t n = stun_encode_binding_success(out, cap, m.txid, &src, STUN_ANSWER_SOFTWARE,
					       m.has_fingerprint);
	if (n == 0)
		*why = "the answer does not fit";
	return n;
}
