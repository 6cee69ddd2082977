/* cand.h: candidate lists, "host 10.0.1.2:40112,srflx 198.18.0.11:40112" (the format of
 * host->direct_gathered and proxyd_direct_attempt.peer_candidates), and "ip:port" literals.
 * Pure: no I/O, so the parser is unit-tested (test_cand.c) and fuzzed (fuzz_punch_msg.c). */
#ifndef PROXYD_UP_CAND_H
#define PROXYD_UP_CAND_H

#include <stddef.h>
#include <sys/socket.h>

#define CAND_MAX 12

enum cand_type { CAND_HOST = 1, CAND_SRFLX = 2 };

struct cand {
	enum cand_type type;
	struct sockaddr_storage addr;
	socklen_t len;
};

struct cand_list {
	struct cand c[CAND_MAX];
	size_t n;
};

/* "1.2.3.4:80" or "[2001:db8::1]:80" (literal addresses only; allow_zero_port for a local
 * address to bind). 0, or -EINVAL with *why a static phrase. */
int cand_parse_ipport(const char *s, int allow_zero_port, struct sockaddr_storage *out,
		      socklen_t *len, const char **why);

/* Adds a candidate unless the address is already listed (whatever its type). 1 added, 0
 * already there, -ENOSPC. */
int cand_add(struct cand_list *l, enum cand_type type, const struct sockaddr *sa, socklen_t len);

/* The list as text; entries that would not fit in len are left out. Returns the count
 * written. */
size_t cand_format(const struct cand_list *l, char *buf, size_t len);

/* Parses a peer's list. Entries of an unknown type are skipped (a newer peer may offer
 * more); a malformed entry fails the whole list. 0 or -EINVAL with *why. */
int cand_parse(const char *s, struct cand_list *out, const char **why);

/* "1.2.3.4:80" / "[v6]:80" */
void cand_addr_format(const struct sockaddr *sa, char *buf, size_t len);

#endif
