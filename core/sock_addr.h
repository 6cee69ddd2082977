/* A socket address as the text proxyd writes in logs, open headers and X-Forwarded-For:
 * "1.2.3.4:80" or "[2001:db8::1]:80" ("?" for another family). */
#ifndef PROXYD_CORE_SOCK_ADDR_H
#define PROXYD_CORE_SOCK_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

void sock_addr_text(const struct sockaddr *sa, char *out, size_t cap);

#endif
