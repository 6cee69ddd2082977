/* Reading a plain socket bufferevent's input ourselves. libevent 2.1 asks the kernel how much
 * is readable (an ioctl) before every read and then reads at most 4 KiB: two syscalls per
 * small message and a loop turn per 4 KiB of a large one. A reader reads into a stack
 * buffer first (a small message costs one read and a copy of its bytes, and no buffer
 * memory is held between messages) and, when that fills, straight into the input in large
 * pieces until the socket is empty. The owner keeps the bufferevent for writing and leaves
 * its EV_READ disabled for good. */
#ifndef PROXYD_CORE_SOCK_READ_H
#define PROXYD_CORE_SOCK_READ_H

struct bufferevent;
struct sock_reader;

/* cb(arg, status) after each read: status 0 when bytes were added to the bufferevent's
 * input, 1 at EOF (the reader then stops), -errno on a socket error (it stops too); with 1
 * or -errno, bytes read in the same wakeup are in the input as well. cb may free the
 * reader. */
struct sock_reader *sock_reader_new(struct bufferevent *bev, void (*cb)(void *arg, int status),
				    void *arg);
/* Start or stop reading (backpressure). A reader that saw EOF or an error stays stopped. */
void sock_reader_enable(struct sock_reader *r, int on);
void sock_reader_free(struct sock_reader *r);

#endif
