/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "nsgate/isolate.h"

/* The mqueue file system's f_type (the kernel's MQUEUE_MAGIC, which no
 * user-space header carries). */
#define ISOLATE_MQUEUE_MAGIC 0x19800202

pid_t isolate_fork(bool new_pid)
{
	_cleanup_close_ int self = -1;
	pid_t pid;
	int err;

	if (!new_pid) {
		pid = fork();
		return pid < 0 ? -errno : pid;
	}
	self = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return -errno;
	/* Not a raw clone(CLONE_NEWPID): glibc's fork keeps the child's own
	 * idea of its thread id right (raise and abort use it). unshare moves
	 * only the children to come, and the first of them is PID 1. */
	if (unshare(CLONE_NEWPID) < 0)
		return -errno;
	pid = fork();
	err = errno;
	if (pid == 0)
		return 0;
	/* Back to our own for the children after it (a netfilter helper, a
	 * later run): that namespace dies with its PID 1, and a fork into a
	 * dead one fails. Going back to one's own cannot be refused to root;
	 * if it is, nothing nsgate forks later would work: stop here. */
	if (setns(self, CLONE_NEWPID) < 0)
		abort();
	return pid < 0 ? -err : pid;
}

/* The PID namespace's /proc, over the host's (as unshare --mount-proc
 * does): ps and /proc/PID show the command's processes only. The mount
 * namespace is netns_enter's, a slave of the host's: nothing mounted here
 * propagates to the host. */
static int proc_mount(struct nsg_err *e)
{
	struct statfs sf;

	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0)
		return nsg_fail(e, -errno, NULL, "mounting /proc");
	/* POSIX message queues are the IPC namespace's: a /dev/mqueue of the
	 * host's would list the host's. Like /sys, best effort. */
	if (statfs("/dev/mqueue", &sf) == 0 && sf.f_type == ISOLATE_MQUEUE_MAGIC)
		mount("mqueue", "/dev/mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL);
	return 0;
}

int isolate_enter(bool new_pid, const char *hostname, struct nsg_err *e)
{
	int flags = new_pid ? CLONE_NEWUTS | CLONE_NEWIPC : hostname ? CLONE_NEWUTS : 0;

	if (!flags)
		return 0;
	if (unshare(flags) < 0)
		return nsg_fail(e, -errno, NULL, new_pid ? "UTS and IPC namespaces" : "UTS namespace");
	/* Only now, in a UTS namespace of the command's own: the host's name
	 * never changes, and a failed unshare has returned above. */
	if (hostname && sethostname(hostname, strlen(hostname)) < 0)
		return nsg_fail(e, -errno, NULL, "--hostname \"%s\"", hostname);
	return new_pid ? proc_mount(e) : 0;
}
