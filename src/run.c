/* SPDX-License-Identifier: MIT */
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>

#include "nsgate/netns.h"
#include "nsgate/run.h"

static const int forwarded[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT };

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

/* In the child: never returns. Exit codes 126/127 as a shell gives them. */
static void child(const char *netns_path, const char *etc_name, const char *user,
		  char *const argv[], const sigset_t *old)
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
		execvp(argv[0], argv);
		r = nsg_fail(&e, -errno, NULL, "exec \"%s\"", argv[0]);
	}
	fprintf(stderr, "nsgate: %s: %s\n", e.what, nsg_err_reason(&e));
	_exit(r == -ENOENT && !strncmp(e.what, "exec", 4) ? 127 : 126);
}

int run_command(const char *netns_path, const char *etc_name, const char *user,
		char *const argv[], int *ret_status, struct nsg_err *e)
{
	sigset_t set, old;
	siginfo_t si;
	pid_t pid;
	int status;

	/* Signals are taken synchronously with sigwaitinfo: blocked from before
	 * the fork, so none is lost in between. */
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(forwarded); i++)
		sigaddset(&set, forwarded[i]);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);

	pid = fork();
	if (pid < 0) {
		int err = -errno;
		sigprocmask(SIG_SETMASK, &old, NULL);
		return nsg_fail(e, err, NULL, "fork");
	}
	if (pid == 0)
		child(netns_path, etc_name, user, argv, &old);

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
	*ret_status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	return 0;
}
