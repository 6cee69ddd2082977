/* Writing a socket bufferevent's output at once instead of waiting for the loop to report
 * the socket writable: a small message then costs one writev and no epoll_ctl pair. */
#ifndef PROXYD_CORE_SOCK_FLUSH_H
#define PROXYD_CORE_SOCK_FLUSH_H

struct bufferevent;

/* For a plain socket bufferevent whose owner leaves EV_WRITE disabled while its output is
 * empty. Writes what is queued; returns 1 when nothing is left (EV_WRITE disabled), 0 when
 * bytes are left (EV_WRITE enabled, so the write callback follows once the socket drains),
 * -1 on a socket error (errno says which). An empty output returns 1 and writes nothing. */
int sock_flush(struct bufferevent *bev);

#endif
