/* proxyctl status: one request line ("status\n") on the admin unix socket, the reply is
 * one JSON object read to EOF. */
#include "config.h"
#include "proxyctl.h"
#include "status.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* A wedged daemon must not wedge the operator's shell (or a monitoring script) with it. */
#define IO_TIMEOUT_S 5
/* Far above any real status reply; only there so a runaway peer cannot eat the memory. */
#define REPLY_MAX (16u << 20)

static int admin_connect(const char *path, int *out)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (strlen(path) >= sizeof sa.sun_path)
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);

	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	struct timeval tv = {.tv_sec = IO_TIMEOUT_S};
	/* SO_SNDTIMEO also bounds connect() on a unix socket whose backlog is full. */
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0 ||
	    connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	*out = fd;
	return 0;
}

static int send_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		/* MSG_NOSIGNAL: a daemon that hangs up early is an error message, not SIGPIPE. */
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -errno;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/* The reply, NUL-terminated, in *out (the caller frees). Write side stays open: the
 * daemon's end of the protocol is "answer, then close", not "wait for EOF". */
static int read_all(int fd, char **out, size_t *out_len)
{
	size_t len = 0, cap = 0;
	char *buf = NULL;
	for (;;) {
		if (cap - len < 4096) {
			cap = cap ? cap * 2 : 16384;
			char *grown = cap <= REPLY_MAX ? realloc(buf, cap + 1) : NULL;
			if (!grown) {
				free(buf);
				return cap > REPLY_MAX ? -EMSGSIZE : -ENOMEM;
			}
			buf = grown;
		}
		ssize_t n = read(fd, buf + len, cap - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int rc = errno == EAGAIN ? -ETIMEDOUT : -errno;
			free(buf);
			return rc;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	buf[len] = '\0';
	*out = buf;
	*out_len = len;
	return 0;
}

int admin_request(const char *path, const char *request, char **reply, size_t *len)
{
	int fd = -1, rc = admin_connect(path, &fd);
	if (rc != 0) {
		const char *hint = "";
		if (rc == -ENOENT || rc == -ECONNREFUSED)
			hint = " (is proxyd running? set admin.socket or use -s)";
		else if (rc == -EACCES)
			hint = " (run as root or as a user the socket's mode lets in)";
		fprintf(stderr, "proxyctl: cannot connect to %s: %s%s\n", path, strerror(-rc), hint);
		return rc;
	}
	if ((rc = send_all(fd, request, strlen(request))) == 0)
		rc = read_all(fd, reply, len);
	close(fd);
	if (rc == -ETIMEDOUT)
		fprintf(stderr, "proxyctl: %s: proxyd did not answer within %ds\n", path,
			IO_TIMEOUT_S);
	else if (rc != 0)
		fprintf(stderr, "proxyctl: %s: %s\n", path, strerror(-rc));
	return rc;
}

int cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"json", no_argument, NULL, 'j'},
		{"socket", required_argument, NULL, 's'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = getenv("PROXYD_ADMIN_SOCKET");
	int json = 0, opt;

	if (!path || !*path)
		path = STATUS_SOCKET_DEFAULT;
	optind = 0; /* glibc: start over on this argv */
	while ((opt = getopt_long(argc, argv, "+js:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'j':
			json = 1;
			break;
		case 's':
			path = optarg;
			break;
		case 'h':
			ctl_usage(stdout);
			return 0;
		default:
			return CTL_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "proxyctl: status: unexpected argument '%s'\n", argv[optind]);
		return CTL_EXIT_USAGE;
	}

	char *reply = NULL;
	size_t len = 0;
	if (admin_request(path, "status\n", &reply, &len) != 0)
		return CTL_EXIT_FAIL;

	json_error_t jerr;
	json_t *root = json_loadb(reply, len, 0, &jerr);
	int code = CTL_EXIT_FAIL;
	if (!root || !json_is_object(root)) {
		fprintf(stderr, "proxyctl: %s: the reply is not a JSON object: %s\n", path,
			root ? "wrong type" : jerr.text);
		goto out;
	}
	/* Not in the schema yet, but a daemon that refuses says why; show it rather than an
	 * empty table. */
	const json_t *error = json_object_get(root, "error");
	if (json_is_string(error)) {
		fprintf(stderr, "proxyctl: proxyd: %s\n", json_string_value(error));
		goto out;
	}
	if (json) {
		/* The daemon's bytes, checked but not re-encoded: jansson would print 0.31 as
		 * 0.30999999999999999, and scripts may rely on the daemon's own key order. */
		fwrite(reply, 1, len, stdout);
		if (len == 0 || reply[len - 1] != '\n')
			putchar('\n');
	} else {
		status_print_human(root, stdout);
	}
	code = fflush(stdout) == 0 ? 0 : CTL_EXIT_FAIL;
out:
	json_decref(root);
	free(reply);
	return code;
}
