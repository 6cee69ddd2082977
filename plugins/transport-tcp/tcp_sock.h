/* Socket-level helpers shared by the listening and dialing sides: the options every
 * session socket gets, and addresses printed the way operators read them. */
#ifndef PROXYD_TCP_SOCK_H
#define PROXYD_TCP_SOCK_H

#include <stddef.h>
#include <sys/socket.h>

/* "[v6]:port" plus NUL at most. */
#define TCP_ADDR_TEXT_MAX 64

/* TCP_NODELAY, and with keepalive_s > 0, SO_KEEPALIVE with probes after keepalive_s idle
 * seconds. Returns 0 or -errno. */
int tcp_sock_tune(int fd, int keepalive_s);

/* "1.2.3.4:80" or "[2001:db8::1]:80"; IPv4-mapped IPv6 is shown as IPv4. */
void tcp_sockaddr_format(const struct sockaddr *sa, socklen_t len, char *buf, size_t buflen);

#endif
