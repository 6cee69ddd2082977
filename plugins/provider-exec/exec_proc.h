/* provider-exec: one child process on the event loop. fork() makes a small guard (a copy of
 * proxyd that never execs) in a process group of its own; the guard forks and execs the
 * program in that group and waits for it. The guard holds PR_SET_PDEATHSIG and answers
 * proxyd's death (even by SIGKILL) with SIGKILL to the whole group, so neither the program nor
 * anything it forked outlives proxyd; stops are SIGTERM to the group, SIGKILL after the grace
 * period. The guard ends as the program ended, so its exit status is the program's. stdin is
 * /dev/null, stdout and stderr are non-blocking pipes read through host->watch_new and cut
 * into lines, and every other descriptor is closed. Its end is noticed through a pidfd (Linux 5.3; readable when the
 * process exits) watched by the loop, or, without pidfds, by a 100 ms timer; either way with
 * waitpid(pid, WNOHANG) on that one pid, so proxyd never installs a SIGCHLD handler and
 * never reaps a child that is not its own. */
#ifndef PX_EXEC_PROC_H
#define PX_EXEC_PROC_H

#include <sys/types.h>

struct px_child;

struct px_child_cbs {
	/* One line of output (stream 1 stdout, 2 stderr), raw: clean it before logging. */
	void (*line)(void *arg, struct px_child *c, int stream, const char *line, size_t len);
	/* The process was reaped and its pipes drained; status as from waitpid. The child
	 * must be freed (px_child_free) by the owner, here or later. */
	void (*exited)(void *arg, struct px_child *c, int status);
};

/* Spawn argv[0] (searched on PATH) with envp. Returns the child, or NULL with err set. */
struct px_child *px_child_spawn(char *const argv[], char *const envp[],
				const struct px_child_cbs *cbs, void *arg, char *err, size_t errlen);
/* The guard's pid, which is also the process group id. */
pid_t px_child_pid(const struct px_child *c);
int px_child_running(const struct px_child *c);
/* SIGTERM to the process group now, SIGKILL after grace_ms if it is still there. */
void px_child_terminate(struct px_child *c, unsigned grace_ms);
/* Free; a child still running is killed (SIGKILL to its group) and reaped first, without
 * callbacks. */
void px_child_free(struct px_child *c);

/* "exited with status 3", "killed by signal 9 (Killed)". */
void px_exit_text(int status, char *out, size_t len);
/* Is program (a bare name) an executable file in a directory of path (a PATH value)? */
int px_on_path(const char *program, const char *path);

#endif
