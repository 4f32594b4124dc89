/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>

#include "nsgate/fileio.h"
#include "nsgate/isolate.h"
#include "nsgate/netns.h"
#include "nsgate/nsgate.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

/* When the command has ended, what it started gets SIGTERM and this long to
 * exit before SIGKILL (documented in nsgate.8). */
#define REAP_GRACE_MS 2000
/* Then SIGKILL rounds, each waiting this long, at most REAP_KILL_ROUNDS: a
 * process can fork between our look at /proc and the signal, and one in
 * uninterruptible sleep dies only when it wakes; we do not wait for ever. */
#define REAP_KILL_ROUND_MS 100
#define REAP_KILL_ROUNDS 10

_Static_assert(sizeof(struct nsg_err) <= PIPE_BUF, "the child's error must fit one pipe write");

/* Drop to user: groups, gid, uid, in that order (each needs the one before's
 * privilege), and the environment a login would give. */
static int become(const char *user)
{
	struct passwd *pw = getpwnam(user);

	if (!pw)
		return -ESRCH;
	if (initgroups(pw->pw_name, pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 ||
	    setuid(pw->pw_uid) < 0)
		return -errno;
	setenv("HOME", pw->pw_dir, 1);
	setenv("USER", pw->pw_name, 1);
	setenv("LOGNAME", pw->pw_name, 1);
	return 0;
}

/* If nsgate dies, so does the command: its network is going away. This
 * is all a process can ask for itself: when nsgate is SIGKILLed, only the
 * command gets the signal, and what it started is its to end. A PID 1
 * (pid1) gets SIGKILL, as it ignores a SIGTERM it has no handler for, and
 * its end is its whole namespace's. False when nsgate is dead already
 * (before the prctl): its read end of the error pipe, the only one left
 * (the child closed its own), is gone. getppid() could not tell: PID 1's
 * parent is outside its namespace, 0 to it. */
static bool parent_death_signal(bool pid1, int err_fd)
{
	struct pollfd p = { .fd = err_fd, .events = POLLOUT };

	prctl(PR_SET_PDEATHSIG, pid1 ? SIGKILL : SIGTERM);
	return poll(&p, 1, 0) >= 0 && !(p.revents & POLLERR);
}

/* In the child: never returns. A failure before the command runs goes to
 * the parent as the struct nsg_err itself, over err_fd (close-on-exec: the
 * parent reads EOF once execvp succeeded), for the CLI to report. */
static void child(const struct run_request *rq, const sigset_t *old, int err_fd)
{
	struct nsg_err e = { 0 };
	int r;

	if (!parent_death_signal(rq->pid, err_fd))
		_exit(126);
	/* The signals nsgate passes on must be able to end the command, even
	 * when nsgate was started ignoring them (a shell's background job
	 * ignores SIGINT and SIGQUIT). */
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		signal(forwarded[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, old, NULL);
	/* The mounts and the host name need root: the user switch comes after. */
	r = netns_enter(rq->netns_path, rq->etc_name, &e);
	if (r == 0)
		r = isolate_enter(rq->pid, rq->hostname, &e);
	if (r == 0 && rq->user) {
		r = become(rq->user);
		if (r < 0)
			nsg_fail(&e, r, r == -ESRCH ? "no such user" : NULL, "--user \"%s\"", rq->user);
		/* A new uid clears the parent-death signal: asked for again. */
		else if (!parent_death_signal(rq->pid, err_fd))
			_exit(126);
	}
	if (r == 0) {
		int err;

		execvp(rq->argv[0], rq->argv);
		err = errno;
		/* As a shell tells them apart (127 and 126): a command that is not
		 * there, and anything else that keeps it from running. A detail
		 * netns_enter got past is no part of this error. */
		e = (struct nsg_err){ 0 };
		nsg_fail_kind(&e, err == ENOENT ? NSG_KIND_CMD_NOT_FOUND : NSG_KIND_CMD_CANNOT_RUN,
			      -err, NULL, "exec \"%s\"", rq->argv[0]);
	} else {
		e.kind = NSG_KIND_CMD_CANNOT_RUN;
	}
	/* At most PIPE_BUF bytes: written at once, and the pipe holds it until
	 * the parent, done waiting, reads it. */
	if (write(err_fd, &e, sizeof(e)) != sizeof(e))
		_exit(126);
	_exit(e.kind == NSG_KIND_CMD_NOT_FOUND ? 127 : 126);
}

/* After the child is gone: the error it sent, if it never ran the command. */
static int child_error(int fd, struct nsg_err *e)
{
	struct nsg_err ce;
	ssize_t n;

	do
		n = read(fd, &ce, sizeof(ce));
	while (n < 0 && errno == EINTR);
	if (n < 0)
		return nsg_fail(e, -errno, NULL, "reading the command's start-up error");
	if (n != sizeof(ce) || ce.code >= 0)
		return 0;  /* EOF: execvp succeeded (or the child died before it) */
	ce.what[sizeof(ce.what) - 1] = '\0';
	ce.why[sizeof(ce.why) - 1] = '\0';
	if (e)
		*e = ce;
	return ce.code;
}

/* ------------------------------------------------ what the command left */

DEFINE_CLEANUP(DIR, closedir)

/* A process as /proc/PID/stat tells it: its parent, and when it started
 * (clock ticks since boot). */
struct proc_info {
	pid_t pid, ppid;
	unsigned long long start;
};

static int proc_info_read(pid_t pid, struct proc_info *pi)
{
	char path[32], buf[1024];
	unsigned long long start;
	const char *p;
	int ppid, r;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	r = file_read_small(path, buf, sizeof(buf));
	if (r < 0 && r != -EFBIG)  /* -EFBIG: buf holds far more than field 22 */
		return r;
	/* The name, in parentheses, may hold anything: fields start after the
	 * last ')'. Then state, ppid, 17 more, starttime (proc(5)). */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 1, " %*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u"
			 " %*d %*d %*d %*d %*d %*d %llu", &ppid, &start) != 2)
		return -EINVAL;
	*pi = (struct proc_info){ .pid = pid, .ppid = ppid, .start = start };
	return 0;
}

static int proc_info_cmp(const void *a, const void *b)
{
	pid_t x = ((const struct proc_info *)a)->pid, y = ((const struct proc_info *)b)->pid;

	return (x > y) - (x < y);
}

/* Whether p was forked before cmd, so cannot be what cmd started. In the
 * same clock tick (10 ms), by pid: pids are handed out in increasing order,
 * short of the counter wrapping around within that tick. */
static bool older_than(const struct proc_info *p, const struct proc_info *cmd)
{
	return p->start < cmd->start || (p->start == cmd->start && p->pid < cmd->pid);
}

/* Every process not older than cmd, sorted by pid: only those can be what
 * cmd started. 0 or -errno; *ret (*ret_n of them) to free. */
static int procs_after(const struct proc_info *cmd, struct proc_info **ret, size_t *ret_n)
{
	_cleanup_(closedirp) DIR *d = opendir("/proc");
	struct proc_info *v = NULL, pi;
	size_t n = 0, cap = 0;
	struct dirent *de;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);

		if (*end || pid <= 0 || pid > INT_MAX)
			continue;  /* not a process */
		if (proc_info_read((pid_t)pid, &pi) < 0 || older_than(&pi, cmd))
			continue;  /* gone, or older than the command */
		if (GROW(v, cap, n + 1) < 0)
			break;  /* out of memory: signal those we have */
		v[n++] = pi;
	}
	if (n)
		qsort(v, n, sizeof(*v), proc_info_cmp);
	*ret = v;
	*ret_n = n;
	return 0;
}

/* Whether v[i] descends from self through processes of v alone, that is
 * through processes started after the command. At most n steps up, so
 * that a pid reused while we read /proc cannot loop us. */
static bool descends_from(const struct proc_info *v, size_t n, size_t i, pid_t self)
{
	pid_t p = v[i].ppid;

	for (size_t step = 0; p != self && step < n; step++) {
		struct proc_info key = { .pid = p };
		const struct proc_info *up = bsearch(&key, v, n, sizeof(*v), proc_info_cmp);

		if (!up)
			return false;
		p = up->ppid;
	}
	return p == self;
}

/*
 * Send sig to what the command started and is still there: our descendants
 * (its orphans come to us, the subreaper) forked after the command. That
 * leaves out nsgate's own helpers, forked before it (the one releasing a
 * netfilter socket). SIGCONT after any signal but SIGKILL: a stopped
 * process acts on it only once continued.
 */
static void signal_leftovers(pid_t self, const struct proc_info *cmd, int sig)
{
	_cleanup_free_ struct proc_info *v = NULL;
	size_t n = 0;

	if (procs_after(cmd, &v, &n) < 0)
		return;  /* no /proc: the SIGKILL rounds end by their bound */
	for (size_t i = 0; i < n; i++) {
		if (!descends_from(v, n, i, self))
			continue;
		kill(v[i].pid, sig);
		if (sig != SIGKILL)
			kill(v[i].pid, SIGCONT);
	}
}

/* Reap every child that has ended. Returns cmd when it was among them (its
 * wait status in *status), else 0 while children are left, -ECHILD once
 * none is: no descendant is left either, orphans being ours. */
static pid_t reap_ended(pid_t cmd, int *status)
{
	pid_t w, got = 0;
	int st;

	while ((w = waitpid(-1, &st, WNOHANG)) > 0) {
		if (w == cmd) {
			*status = st;
			got = w;
		}
	}
	if (got)
		return got;
	return w < 0 && errno == ECHILD ? -ECHILD : 0;
}

static long long now_ms(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1000LL + t.tv_nsec / 1000000;
}

/* The next signal of set, waiting at most until deadline (now_ms()'s
 * clock; 0: no limit): its number, -ETIMEDOUT at the deadline, or -EINTR. */
static int next_signal(const sigset_t *set, long long deadline, siginfo_t *si)
{
	long long left = deadline - now_ms();
	struct timespec ts;
	int sig;

	if (!deadline) {
		sig = sigwaitinfo(set, si);
	} else if (left <= 0) {
		return -ETIMEDOUT;
	} else {
		ts = (struct timespec){ .tv_sec = left / 1000, .tv_nsec = left % 1000 * 1000000 };
		sig = sigtimedwait(set, si, &ts);
	}
	if (sig < 0)
		return errno == EAGAIN ? -ETIMEDOUT : -EINTR;
	return sig;
}

/* Reap until no child is left (0), for at most ms (-ETIMEDOUT). Woken by
 * SIGCHLD, not by polling. A signal nsgate passes on ends the wait early
 * (-EINTR): a second Ctrl-C or SIGTERM cuts the grace short. */
static int wait_childless(const sigset_t *set, long ms)
{
	long long end = now_ms() + ms;
	siginfo_t si;
	int st, sig;

	while (reap_ended(0, &st) != -ECHILD) {
		sig = next_signal(set, end, &si);
		if (sig == -ETIMEDOUT)
			return -ETIMEDOUT;
		if (sig > 0 && sig != SIGCHLD)
			return -EINTR;
	}
	return 0;
}

/* The command has ended: so does everything it started, daemons in their
 * own session included. SIGTERM, REAP_GRACE_MS to exit, then SIGKILL in
 * bounded rounds until no child is left. */
static void end_leftovers(pid_t self, const struct proc_info *cmd, const sigset_t *set)
{
	int st;

	if (reap_ended(0, &st) == -ECHILD)
		return;  /* the common case: nothing left, no look at /proc */
	signal_leftovers(self, cmd, SIGTERM);
	if (wait_childless(set, REAP_GRACE_MS) == 0)
		return;
	for (int i = 0; i < REAP_KILL_ROUNDS; i++) {
		signal_leftovers(self, cmd, SIGKILL);
		if (wait_childless(set, REAP_KILL_ROUND_MS) == 0)
			return;
	}
}

/* Whether pid handles sig or ignores it (/proc/PID/status): it has chosen
 * what sig does to it. Unreadable: false. */
static bool sig_chosen(pid_t pid, int sig)
{
	unsigned long long ign, cgt;
	char path[32], buf[4096];
	const char *i, *c;
	int r;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	r = file_read_small(path, buf, sizeof(buf));
	if (r < 0 && r != -EFBIG)  /* -EFBIG: the masks come long before 4 KiB */
		return false;
	i = strstr(buf, "\nSigIgn:");
	c = strstr(buf, "\nSigCgt:");
	if (!i || !c || sscanf(i, "\nSigIgn: %llx", &ign) != 1 ||
	    sscanf(c, "\nSigCgt: %llx", &cgt) != 1)
		return false;
	return ((ign | cgt) >> (sig - 1)) & 1;
}

/* Pass signals on to the command until it ends; its wait status. Orphans
 * that end meanwhile are reaped as they go. A PID 1 (pid1) gets only the
 * signals it has a handler for, the kernel drops those it would die of:
 * then, as `docker run` without --init does, it has REAP_GRACE_MS to end
 * before SIGKILL ends it and its namespace with it; a second signal
 * meanwhile cuts the grace short. A signal it handles or ignores is left
 * to it, as without a PID namespace (a server's SIGHUP is a reload). */
static int wait_command(pid_t pid, bool pid1, const sigset_t *set)
{
	long long kill_at = 0;  /* pid1, once signalled: when SIGKILL is due */
	int status = 0, sig;
	siginfo_t si;
	pid_t r;

	while ((r = reap_ended(pid, &status)) != pid && r != -ECHILD) {
		sig = next_signal(set, kill_at, &si);
		if (sig == -EINTR || sig == SIGCHLD)
			continue;  /* a child ended: reaped above */
		if (sig == -ETIMEDOUT || kill_at) {
			kill(pid, SIGKILL);
			kill_at = 0;  /* dies now: wait for it without a limit */
			continue;
		}
		/* From the terminal (SI_KERNEL) the whole foreground group, the
		 * command included, got it already; from kill(2), only we did. */
		if (si.si_code != SI_KERNEL)
			kill(pid, sig);
		if (pid1 && !sig_chosen(pid, sig))
			kill_at = now_ms() + REAP_GRACE_MS;
	}
	return status;
}

int run_command(const struct run_request *rq, int *ret_status, struct nsg_err *e)
{
	sigset_t set, old;
	_cleanup_close_ int rfd = -1, wfd = -1;
	int err_pipe[2], status, was_reaper = 0, r;
	pid_t self = getpid(), pid;
	struct proc_info cmd = { 0 };
	siginfo_t si;

	/* Signals are taken synchronously with sigwaitinfo: blocked from before
	 * the fork, so none is lost in between. */
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);

	if (pipe2(err_pipe, O_CLOEXEC) < 0) {
		int err = -errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		return nsg_fail(e, err, NULL, "pipe");
	}
	rfd = err_pipe[0];
	wfd = err_pipe[1];
	/* Whatever the command starts and leaves, double-forked daemons in
	 * their own session too, becomes our child when its parent dies, not
	 * init's: so that it can be found and ended with the run. */
	prctl(PR_GET_CHILD_SUBREAPER, &was_reaper);
	prctl(PR_SET_CHILD_SUBREAPER, 1);
	pid = isolate_fork(rq->pid);
	if (pid < 0) {
		prctl(PR_SET_CHILD_SUBREAPER, was_reaper);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return nsg_fail(e, pid, NULL, rq->pid ? "new PID namespace" : "fork");
	}
	if (pid == 0) {
		close(TAKE_FD(rfd));  /* nsgate's alone: parent_death_signal */
		child(rq, &old, wfd);
	}
	/* Only the child may hold the write end, so that its exec (or exit)
	 * ends the pipe. */
	close(TAKE_FD(wfd));
	/* What was forked before the command is not the command's. Read while
	 * the child is ours and unreaped (its pid cannot be reused). No /proc:
	 * all zero, and every process counts. */
	proc_info_read(pid, &cmd);

	status = wait_command(pid, rq->pid, &set);
	end_leftovers(self, &cmd, &set);
	prctl(PR_SET_CHILD_SUBREAPER, was_reaper);
	/* A signal that came after the command ended has no one to go to, and
	 * unblocked it would end nsgate before the gateway is taken down. */
	while (sigtimedwait(&set, &si, &(struct timespec){ 0 }) > 0)
		;
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* Read only now, so that signals are passed on all along, the time the
	 * child takes to enter the namespace included. */
	r = child_error(rfd, e);
	if (r < 0)
		return r;
	*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}
