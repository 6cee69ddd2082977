/* provider-exec: child processes on the event loop (exec_proc.h). */
#define _GNU_SOURCE 1 /* execvpe, pipe2 */
#include "exec_proc.h"
#include "exec_plugin.h"
#include "exec_text.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define REAP_POLL_MS 100

struct px_stream {
	int fd;
	proxyd_watch *w;
	struct px_lines lines;
};

struct px_child {
	pid_t pid;
	int reaped;
	int status;
	int pidfd;
	proxyd_watch *pid_watch;
	proxyd_timer *poll_timer; /* without pidfd: polls waitpid */
	proxyd_timer *kill_timer; /* SIGKILL after the grace period */
	struct px_stream out[2];  /* stdout, stderr */
	const struct px_child_cbs *cbs;
	void *arg;
};

struct line_ctx {
	struct px_child *c;
	int stream;
};

static void emit_line(void *arg, const char *line, size_t len)
{
	struct line_ctx *lc = arg;
	lc->c->cbs->line(lc->c->arg, lc->c, lc->stream, line, len);
}

static void stream_close(struct px_child *c, int i)
{
	struct px_stream *s = &c->out[i];
	if (s->fd < 0)
		return;
	struct line_ctx lc = {c, i + 1};
	px_lines_flush(&s->lines, emit_line, &lc);
	px_host->watch_free(s->w);
	s->w = NULL;
	close(s->fd);
	s->fd = -1;
}

/* Read what the pipe holds now: 0 when it is empty for now, 1 at end of stream or on an
 * error, 2 when there may be more (left for the next loop turn, so one chatty child cannot
 * hog the loop). */
static int stream_read(struct px_child *c, int i)
{
	struct px_stream *s = &c->out[i];
	char buf[4096];
	struct line_ctx lc = {c, i + 1};
	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n = read(s->fd, buf, sizeof buf);
		if (n > 0) {
			px_lines_feed(&s->lines, buf, (size_t)n, emit_line, &lc);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;
		return 1;
	}
	return 2;
}

static void on_output(int fd, int events, void *arg)
{
	struct px_child *c = arg;
	int i = c->out[0].fd == fd ? 0 : 1;
	if (stream_read(c, i) == 1)
		stream_close(c, i);
}

static void finish(struct px_child *c)
{
	/* Whatever the leader forked and left in its group goes with it. Linux does not reuse
	 * a pid while a process group of that id exists, so this reaches only our group. */
	kill(-c->pid, SIGKILL);
	for (int i = 0; i < 2; i++) {
		if (c->out[i].fd >= 0) {
			/* The pipes may still hold the last lines (an exec error, say); what a
			 * killed grandchild never wrote is not waited for. */
			for (int k = 0; k < 64 && stream_read(c, i) == 2; k++)
				;
			stream_close(c, i);
		}
	}
	if (c->kill_timer)
		px_host->timer_stop(c->kill_timer);
	if (c->poll_timer)
		px_host->timer_stop(c->poll_timer);
	if (c->pid_watch) {
		px_host->watch_free(c->pid_watch);
		c->pid_watch = NULL;
	}
	if (c->pidfd >= 0) {
		close(c->pidfd);
		c->pidfd = -1;
	}
	c->cbs->exited(c->arg, c, c->status);
}

static int try_reap(struct px_child *c)
{
	if (c->reaped)
		return 1;
	int st;
	pid_t r = waitpid(c->pid, &st, WNOHANG);
	if (r == c->pid) {
		c->reaped = 1;
		c->status = st;
		return 1;
	}
	if (r < 0 && errno == ECHILD) { /* someone else reaped it: treat as gone */
		c->reaped = 1;
		c->status = 0;
		return 1;
	}
	return 0;
}

static void on_pidfd(int fd, int events, void *arg)
{
	struct px_child *c = arg;
	if (try_reap(c))
		finish(c);
}

static void on_poll(void *arg)
{
	struct px_child *c = arg;
	if (try_reap(c))
		finish(c);
}

static void on_kill_timer(void *arg)
{
	struct px_child *c = arg;
	if (!c->reaped) {
		px_host->log(px_plugin, PROXYD_LOG_WARN, 0,
			     "pid %d did not stop on SIGTERM; sending SIGKILL", (int)c->pid);
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
	}
}

static void close_from(int lowest)
{
#ifdef SYS_close_range
	if (syscall(SYS_close_range, (unsigned)lowest, ~0u, 0) == 0)
		return;
#endif
	/* Without close_range: the descriptors /proc lists (opendir's own is closed too, and
	 * nothing after this needs it). */
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		int dfd = dirfd(d);
		struct dirent *e;
		while ((e = readdir(d)))
			if (atoi(e->d_name) >= lowest && atoi(e->d_name) != dfd)
				close(atoi(e->d_name));
		closedir(d);
		return;
	}
	for (int fd = lowest; fd < 65536; fd++)
		close(fd);
}

/* The guard's reaction to proxyd's death (its PR_SET_PDEATHSIG): the whole process group,
 * the guard included, goes at once. kill() is async-signal-safe. */
static void on_parent_gone(int sig)
{
	kill(0, SIGKILL);
}

/* The forked child: a small guard that leads the process group, starts the program in it
 * and stays as its parent. PR_SET_PDEATHSIG reaches only the direct child of proxyd, so the
 * guard takes it and turns it into SIGKILL for the whole group: whatever the program forked
 * dies with proxyd too. The guard ignores SIGTERM (a stop is for the program; the SIGKILL
 * after the grace period takes the guard with it) and ends the way the program ended, so
 * proxyd sees the program's exit status. Between fork and exec: async-signal-safe calls only
 * (proxyd has one thread). */
static void child_main(char *const argv[], char *const envp[], int out_w, int err_w, pid_t parent)
{
	setpgid(0, 0);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_parent_gone;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	prctl(PR_SET_PDEATHSIG, SIGUSR1);
	if (getppid() != parent) /* proxyd died before prctl took effect */
		kill(0, SIGKILL);
	/* proxyd ignores SIGPIPE; the program gets the default dispositions and mask. */
	signal(SIGPIPE, SIG_DFL);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	int devnull = open("/dev/null", O_RDONLY);
	if (devnull < 0 || dup2(devnull, 0) < 0 || dup2(out_w, 1) < 0 || dup2(err_w, 2) < 0)
		_exit(127);
	close_from(3);

	pid_t prog = fork();
	if (prog < 0)
		_exit(127);
	if (prog == 0) {
		signal(SIGUSR1, SIG_DFL);
		execvpe(argv[0], argv, envp);
		/* Goes to the stderr pipe, where proxyd logs it. */
		char msg[256];
		const char *e = strerror(errno);
		size_t n = 0;
		const char *parts[] = {"cannot run ", argv[0], ": ", e, "\n"};
		for (size_t i = 0; i < 5; i++)
			for (const char *p = parts[i]; *p && n < sizeof msg; p++)
				msg[n++] = *p;
		ssize_t w = write(2, msg, n);
		(void)w;
		_exit(127);
	}
	signal(SIGTERM, SIG_IGN);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	for (;;) {
		int st;
		pid_t r = waitpid(prog, &st, 0);
		if (r == prog) {
			if (WIFSIGNALED(st)) {
				signal(WTERMSIG(st), SIG_DFL);
				kill(getpid(), WTERMSIG(st));
			}
			_exit(WIFEXITED(st) ? WEXITSTATUS(st) : 127);
		}
		if (r < 0 && errno != EINTR)
			_exit(127);
	}
}

struct px_child *px_child_spawn(char *const argv[], char *const envp[],
				const struct px_child_cbs *cbs, void *arg, char *err, size_t errlen)
{
	int out_p[2] = {-1, -1}, err_p[2] = {-1, -1};
	struct px_child *c = calloc(1, sizeof *c);
	if (!c) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	c->pidfd = -1;
	c->out[0].fd = c->out[1].fd = -1;
	c->cbs = cbs;
	c->arg = arg;
	if (pipe2(out_p, O_CLOEXEC) != 0 || pipe2(err_p, O_CLOEXEC) != 0) {
		snprintf(err, errlen, "pipe: %s", strerror(errno));
		goto fail;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child_main(argv, envp, out_p[1], err_p[1], parent);
	/* Also here, so a kill of the group right after fork cannot miss it. */
	setpgid(pid, pid);
	c->pid = pid;
	close(out_p[1]);
	close(err_p[1]);
	c->out[0].fd = out_p[0];
	c->out[1].fd = err_p[0];
	for (int i = 0; i < 2; i++) {
		fcntl(c->out[i].fd, F_SETFL, fcntl(c->out[i].fd, F_GETFL) | O_NONBLOCK);
		c->out[i].w = px_host->watch_new(c->out[i].fd, PROXYD_WATCH_READ, on_output, c);
	}
#ifdef SYS_pidfd_open
	c->pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
#endif
	if (c->pidfd >= 0) {
		fcntl(c->pidfd, F_SETFD, FD_CLOEXEC);
		c->pid_watch = px_host->watch_new(c->pidfd, PROXYD_WATCH_READ, on_pidfd, c);
	}
	if (!c->pid_watch) {
		c->poll_timer = px_host->timer_new(on_poll, c);
		if (c->poll_timer)
			px_host->timer_start(c->poll_timer, REAP_POLL_MS, 1);
	}
	return c;
fail:
	for (int i = 0; i < 2; i++) {
		if (out_p[i] >= 0)
			close(out_p[i]);
		if (err_p[i] >= 0)
			close(err_p[i]);
	}
	free(c);
	return NULL;
}

pid_t px_child_pid(const struct px_child *c)
{
	return c->pid;
}

int px_child_running(const struct px_child *c)
{
	return c && !c->reaped;
}

void px_child_terminate(struct px_child *c, unsigned grace_ms)
{
	if (c->reaped)
		return;
	kill(-c->pid, SIGTERM);
	kill(c->pid, SIGTERM);
	if (!c->kill_timer)
		c->kill_timer = px_host->timer_new(on_kill_timer, c);
	if (c->kill_timer)
		px_host->timer_start(c->kill_timer, grace_ms, 0);
}

void px_child_free(struct px_child *c)
{
	if (!c)
		return;
	if (!c->reaped) {
		/* At exit: no callbacks, no loop; SIGKILL cannot be ignored, so this waits
		 * only for the kernel to tear the process down. */
		kill(-c->pid, SIGKILL);
		kill(c->pid, SIGKILL);
		while (waitpid(c->pid, NULL, 0) < 0 && errno == EINTR)
			;
		c->reaped = 1;
	}
	for (int i = 0; i < 2; i++) {
		if (c->out[i].w)
			px_host->watch_free(c->out[i].w);
		if (c->out[i].fd >= 0)
			close(c->out[i].fd);
	}
	if (c->pid_watch)
		px_host->watch_free(c->pid_watch);
	if (c->pidfd >= 0)
		close(c->pidfd);
	px_host->timer_free(c->poll_timer);
	px_host->timer_free(c->kill_timer);
	free(c);
}

void px_exit_text(int status, char *out, size_t len)
{
	if (WIFEXITED(status))
		snprintf(out, len, "exited with status %d", WEXITSTATUS(status));
	else if (WIFSIGNALED(status))
		snprintf(out, len, "killed by signal %d (%s)", WTERMSIG(status),
			 strsignal(WTERMSIG(status)));
	else
		snprintf(out, len, "ended (status 0x%x)", (unsigned)status);
}

int px_on_path(const char *program, const char *path)
{
	if (strchr(program, '/'))
		return access(program, X_OK) == 0;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	while (*path) {
		size_t n = strcspn(path, ":");
		char full[4096];
		if (n == 0)
			snprintf(full, sizeof full, "./%s", program);
		else
			snprintf(full, sizeof full, "%.*s/%s", (int)n, path, program);
		struct stat st;
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && access(full, X_OK) == 0)
			return 1;
		path += n;
		if (*path == ':')
			path++;
	}
	return 0;
}
