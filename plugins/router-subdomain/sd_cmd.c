/* router-subdomain's command resolver (resolve_cmd, see sd_resolve.h): the command runs with
 * the name in its arguments, its standard output is the answer (sd_parse_cmd_output).
 *
 * The loop never waits for it. fork() and exec in a process group of its own (stdin
 * /dev/null, stdout and stderr non-blocking pipes watched with host->watch_new, every other
 * descriptor closed, PR_SET_PDEATHSIG so it dies with proxyd); the end of the process is
 * seen through a pidfd on the loop (Linux 5.3) or, without one, a 50 ms timer, each time
 * with waitpid(pid, WNOHANG) on that one pid, so no SIGCHLD handler is needed and no other
 * child is reaped. A command that takes longer than resolve_timeout gets SIGKILL, its group
 * too; a cancelled one as well, and is then reaped in the background. */
#define _GNU_SOURCE 1 /* pipe2 */
#include "config.h"
#include "sd_host.h"
#include "sd_resolve.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define POLL_MS 50
#define ARG_MAX_LEN 4096
#define STDERR_KEEP 200

struct sd_cmd {
	pid_t pid;
	int status, reaped, timed_out, too_long;
	int pidfd;
	int out_fd, err_fd;
	proxyd_watch *out_w, *err_w, *pid_w;
	proxyd_timer *timeout, *poll;
	char *out;
	size_t out_len;
	char err_line[STDERR_KEEP + 1];
	size_t err_len;
	long long timeout_ms;
	int not_found_status;
	char name[64];
	sd_done_fn done;
	void *arg;
};

/* Killed commands not reaped yet (cancelled with their route): reaped by a shared timer. */
struct orphan {
	struct orphan *next;
	pid_t pid;
};
static struct orphan *orphans;
static proxyd_timer *orphan_timer;

static void reap_orphans(void *unused)
{
	for (struct orphan **p = &orphans; *p;) {
		struct orphan *o = *p;
		pid_t r = waitpid(o->pid, NULL, WNOHANG);
		if (r == o->pid || (r < 0 && errno == ECHILD)) {
			*p = o->next;
			free(o);
		} else {
			p = &o->next;
		}
	}
	if (!orphans && orphan_timer) {
		sd_host->timer_free(orphan_timer);
		orphan_timer = NULL;
	}
}

static void adopt(pid_t pid)
{
	if (waitpid(pid, NULL, WNOHANG) == pid)
		return;
	struct orphan *o = malloc(sizeof *o);
	if (!o)
		return; /* a zombie until proxyd exits: better than blocking the loop */
	o->pid = pid;
	o->next = orphans;
	orphans = o;
	if (!orphan_timer && (orphan_timer = sd_host->timer_new(reap_orphans, NULL)))
		sd_host->timer_start(orphan_timer, POLL_MS, 1);
}

void sd_cmd_reap_all(void)
{
	/* At exit: the orphans were sent SIGKILL, so this is short. */
	while (orphans) {
		struct orphan *o = orphans;
		orphans = o->next;
		waitpid(o->pid, NULL, 0);
		free(o);
	}
	if (orphan_timer) {
		sd_host->timer_free(orphan_timer);
		orphan_timer = NULL;
	}
}

static void close_pipe(int *fd, proxyd_watch **w)
{
	if (*w)
		sd_host->watch_free(*w);
	*w = NULL;
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void release(struct sd_cmd *l)
{
	close_pipe(&l->out_fd, &l->out_w);
	close_pipe(&l->err_fd, &l->err_w);
	if (l->pid_w)
		sd_host->watch_free(l->pid_w);
	if (l->pidfd >= 0)
		close(l->pidfd);
	if (l->timeout)
		sd_host->timer_free(l->timeout);
	if (l->poll)
		sd_host->timer_free(l->poll);
	free(l->out);
	free(l);
}

static void exit_text(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "killed by signal %d", WTERMSIG(status));
	else
		snprintf(out, len, "ended with wait status %d", status);
}

/* Done when the process is reaped and both pipes are at their end. */
static void maybe_finish(struct sd_cmd *l)
{
	if (!l->reaped || l->out_fd >= 0 || l->err_fd >= 0)
		return;
	char why[400], how[64];
	struct sd_answer ans;
	enum sd_result r = SD_BAD;
	const char *pwhy = NULL;
	exit_text(l->status, how, sizeof how);
	if (l->timed_out) {
		snprintf(why, sizeof why, "the command took longer than %lld s (killed)",
			 l->timeout_ms / 1000);
	} else if (l->too_long) {
		snprintf(why, sizeof why, "the command wrote more than %d bytes (killed)", SD_ANSWER_MAX);
	} else if (WIFEXITED(l->status) && WEXITSTATUS(l->status) == 0) {
		r = sd_parse_cmd_output(l->out, l->out_len, &ans, &pwhy);
		if (r == SD_BAD)
			snprintf(why, sizeof why, "the command's output is not \"ADDRESS [PORT ...]\": %s",
				 pwhy);
	} else if (WIFEXITED(l->status) && WEXITSTATUS(l->status) == l->not_found_status) {
		r = SD_NOT_FOUND;
	} else {
		snprintf(why, sizeof why, "the command %s", how);
	}
	if (r == SD_BAD && l->err_line[0])
		sd_host->log(sd_plugin, PROXYD_LOG_WARN, 0, "resolve_cmd for %s %s; it said: %s", l->name,
			     how, l->err_line);
	sd_done_fn done = l->done;
	void *arg = l->arg;
	release(l);
	done(arg, r, r == SD_FOUND ? &ans : NULL, r == SD_BAD ? why : NULL);
}

static void try_reap(struct sd_cmd *l)
{
	if (l->reaped)
		return;
	/* Look without reaping first: while the command is a zombie its pid, and so its group
	 * id, cannot be reused, so what it left running in its group can be killed safely. */
	siginfo_t si;
	memset(&si, 0, sizeof si);
	if (waitid(P_PID, (id_t)l->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == 0)
		return; /* still running */
	kill(-l->pid, SIGKILL);
	int st = 0;
	pid_t r = waitpid(l->pid, &st, WNOHANG);
	if (r == l->pid || (r < 0 && errno == ECHILD)) {
		l->reaped = 1;
		l->status = r == l->pid ? st : 0;
		if (l->pid_w) {
			sd_host->watch_free(l->pid_w);
			l->pid_w = NULL;
		}
		if (l->poll)
			sd_host->timer_stop(l->poll);
	}
}

static void on_pid(int fd, int events, void *arg)
{
	struct sd_cmd *l = arg;
	try_reap(l);
	maybe_finish(l);
}

static void on_poll(void *arg)
{
	struct sd_cmd *l = arg;
	try_reap(l);
	maybe_finish(l);
}

/* The first line of stderr, cleaned, for the log; the rest is read and dropped. */
static void keep_err(struct sd_cmd *l, const char *buf, size_t n)
{
	for (size_t i = 0; i < n && l->err_len < STDERR_KEEP; i++) {
		char c = buf[i];
		if (c == '\n') {
			l->err_len = STDERR_KEEP; /* one line is enough */
			break;
		}
		l->err_line[l->err_len++] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	l->err_line[l->err_len < STDERR_KEEP ? l->err_len : STDERR_KEEP] = '\0';
}

static void kill_now(struct sd_cmd *l)
{
	kill(-l->pid, SIGKILL);
	kill(l->pid, SIGKILL);
	/* A grandchild outside the group could hold the pipes open: stop waiting for them. */
	close_pipe(&l->out_fd, &l->out_w);
	close_pipe(&l->err_fd, &l->err_w);
}

static void on_output(int fd, int events, void *arg)
{
	struct sd_cmd *l = arg;
	int is_out = fd == l->out_fd;
	char buf[4096];
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {
			if (is_out)
				close_pipe(&l->out_fd, &l->out_w);
			else
				close_pipe(&l->err_fd, &l->err_w);
			maybe_finish(l);
			return;
		}
		if (!is_out) {
			keep_err(l, buf, (size_t)n);
			continue;
		}
		if (l->out_len + (size_t)n > SD_ANSWER_MAX) {
			l->too_long = 1;
			kill_now(l);
			maybe_finish(l);
			return;
		}
		memcpy(l->out + l->out_len, buf, (size_t)n);
		l->out_len += (size_t)n;
	}
}

static void on_timeout(void *arg)
{
	struct sd_cmd *l = arg;
	l->timed_out = 1;
	kill_now(l);
	try_reap(l);
	maybe_finish(l);
}

static void close_from(int lowest)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowest, ~0u, 0) == 0)
		return;
#endif
	for (int fd = lowest; fd < 4096; fd++)
		close(fd);
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void child(char *const argv[], int out_w, int err_w)
{
	setpgid(0, 0);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	/* proxyd ignores SIGPIPE and exec would keep that; the command gets the defaults. */
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		_exit(126);
	close_from(3);
	execvp(argv[0], argv);
	const char *msg = "cannot run the command: ";
	(void)!write(2, msg, strlen(msg));
	(void)!write(2, argv[0], strlen(argv[0]));
	(void)!write(2, ": ", 2);
	const char *e = strerror(errno);
	(void)!write(2, e, strlen(e));
	(void)!write(2, "\n", 1);
	_exit(127);
}

struct sd_cmd *sd_cmd_start(const struct sd_cmd_conf *c, const char *name, sd_done_fn done,
			    void *arg, char *err, size_t errlen)
{
	size_t argc = 0;
	while (c->argv[argc])
		argc++;
	char **argv = calloc(argc + 1, sizeof *argv);
	struct sd_cmd *l = calloc(1, sizeof *l);
	int out[2] = {-1, -1}, errp[2] = {-1, -1};
	if (!argv || !l)
		goto nomem;
	for (size_t i = 0; i < argc; i++) {
		argv[i] = malloc(ARG_MAX_LEN);
		if (!argv[i])
			goto nomem;
		if (sd_expand(c->argv[i], name, argv[i], ARG_MAX_LEN) < 0) {
			snprintf(err, errlen, "argument %zu is too long with the name in it", i);
			goto fail;
		}
	}
	l->out = malloc(SD_ANSWER_MAX);
	if (!l->out)
		goto nomem;
	l->pidfd = l->out_fd = l->err_fd = -1;
	l->timeout_ms = c->timeout_ms;
	l->not_found_status = c->not_found_status;
	l->done = done;
	l->arg = arg;
	snprintf(l->name, sizeof l->name, "%s", name);
	if (pipe2(out, O_CLOEXEC | O_NONBLOCK) < 0 || pipe2(errp, O_CLOEXEC | O_NONBLOCK) < 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	l->pid = fork();
	if (l->pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (l->pid == 0)
		child(argv, out[1], errp[1]);
	setpgid(l->pid, l->pid); /* also here: a kill of the group must not race the child's own */
	close(out[1]);
	close(errp[1]);
	out[1] = errp[1] = -1;
	l->out_fd = out[0];
	l->err_fd = errp[0];
	for (size_t i = 0; i < argc; i++)
		free(argv[i]);
	free(argv);
	argv = NULL;
	l->out_w = sd_host->watch_new(l->out_fd, PROXYD_WATCH_READ, on_output, l);
	l->err_w = sd_host->watch_new(l->err_fd, PROXYD_WATCH_READ, on_output, l);
	l->timeout = sd_host->timer_new(on_timeout, l);
#ifdef SYS_pidfd_open
	l->pidfd = (int)syscall(SYS_pidfd_open, l->pid, 0);
#endif
	if (l->pidfd >= 0)
		l->pid_w = sd_host->watch_new(l->pidfd, PROXYD_WATCH_READ, on_pid, l);
	else if ((l->poll = sd_host->timer_new(on_poll, l)))
		sd_host->timer_start(l->poll, POLL_MS, 1);
	if (!l->out_w || !l->err_w || !l->timeout || (!l->pid_w && !l->poll)) {
		snprintf(err, errlen, "out of memory");
		sd_cmd_cancel(l);
		return NULL;
	}
	sd_host->timer_start(l->timeout, (uint64_t)c->timeout_ms, 0);
	return l;
nomem:
	snprintf(err, errlen, "out of memory");
fail:
	for (int i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (errp[i] >= 0)
			close(errp[i]);
	}
	if (argv)
		for (size_t i = 0; i < argc; i++)
			free(argv[i]);
	free(argv);
	if (l)
		free(l->out);
	free(l);
	return NULL;
}

void sd_cmd_cancel(struct sd_cmd *l)
{
	if (!l)
		return;
	if (!l->reaped) {
		kill(-l->pid, SIGKILL);
		kill(l->pid, SIGKILL);
		adopt(l->pid);
	}
	release(l);
}
