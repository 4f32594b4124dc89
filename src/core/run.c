/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "nsgate/netns.h"
#include "nsgate/nsgate.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

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

/* In the child: never returns. A failure before the command runs goes to
 * the parent as the struct nsg_err itself, over err_fd (close-on-exec: the
 * parent reads EOF once execvp succeeded), for the CLI to report. */
static void child(const char *netns_path, const char *etc_name, const char *user,
		  char *const argv[], const sigset_t *old, int err_fd)
{
	struct nsg_err e = { 0 };
	int r;

	/* If nsgate dies, so does the command: its network is going away. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	/* The signals nsgate passes on must be able to end the command, even
	 * when nsgate was started ignoring them (a shell's background job
	 * ignores SIGINT and SIGQUIT). */
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		signal(forwarded[i], SIG_DFL);
	sigprocmask(SIG_SETMASK, old, NULL);
	/* The mounts need root: the user switch comes after them. */
	r = netns_enter(netns_path, etc_name, &e);
	if (r == 0 && user) {
		r = become(user);
		if (r < 0)
			nsg_fail(&e, r, r == -ESRCH ? "no such user" : NULL, "--user \"%s\"", user);
	}
	if (r == 0) {
		int err;

		execvp(argv[0], argv);
		err = errno;
		/* As a shell tells them apart (127 and 126): a command that is not
		 * there, and anything else that keeps it from running. A detail
		 * netns_enter got past is no part of this error. */
		e = (struct nsg_err){ 0 };
		nsg_fail_kind(&e, err == ENOENT ? NSG_KIND_CMD_NOT_FOUND : NSG_KIND_CMD_CANNOT_RUN,
			      -err, NULL, "exec \"%s\"", argv[0]);
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

int run_command(const char *netns_path, const char *etc_name, const char *user,
		char *const argv[], int *ret_status, struct nsg_err *e)
{
	sigset_t set, old;
	_cleanup_close_ int rfd = -1, wfd = -1;
	int err_pipe[2], status, r;
	siginfo_t si;
	pid_t pid;

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
	pid = fork();
	if (pid < 0) {
		int err = -errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		return nsg_fail(e, err, NULL, "fork");
	}
	if (pid == 0)
		child(netns_path, etc_name, user, argv, &old, wfd);
	/* Only the child may hold the write end, so that its exec (or exit)
	 * ends the pipe. */
	close(TAKE_FD(wfd));

	for (;;) {
		if (sigwaitinfo(&set, &si) < 0)
			continue;  /* EINTR */
		if (si.si_signo == SIGCHLD) {
			if (waitpid(pid, &status, WNOHANG) == pid)
				break;
			continue;
		}
		/* From the terminal (SI_KERNEL) the whole foreground group, the
		 * command included, got it already; from kill(2), only we did. */
		if (si.si_code != SI_KERNEL)
			kill(pid, si.si_signo);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* Read only now, so that signals are passed on all along, the time the
	 * child takes to enter the namespace included. */
	r = child_error(rfd, e);
	if (r < 0)
		return r;
	*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}
