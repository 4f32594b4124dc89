/* SPDX-License-Identifier: MIT */
/*
 * The global lock: one flock on /run/nsgate/lock serialises the nsgate
 * commands that change anything, with a deadline, and a waiter's error names
 * the holder.
 */
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <time.h>

#include "nsgate/fileio.h"
#include "nsgate/lock.h"
#include "nsgate/state.h"

#define LOCK_FILE STATE_DIR "/lock"
#define LOCK_TIMEOUT_DEFAULT 30
#define LOCK_TIMEOUT_MAX 86400
/* The holder's pid, right-aligned in a fixed width: rewriting it needs no
 * ftruncate (the uncontended lock stays open + flock + pwrite). */
#define LOCK_PID_FMT "%10d\n"
#define LOCK_PID_LEN 11

/* NSGATE_LOCK_TIMEOUT: seconds to wait for the lock, 0 to fail at once.
 * Unset or empty: the default. Anything else but a whole number up to a
 * day is a usage error, found at the first lock (not ignored: a typo must
 * not silently mean 30 s). */
static int lock_timeout(unsigned *ret, struct nsg_err *e)
{
	const char *v = getenv("NSGATE_LOCK_TIMEOUT");
	unsigned long s;

	*ret = LOCK_TIMEOUT_DEFAULT;
	if (!v || !*v)
		return 0;
	if (spec_parse_uint(v, LOCK_TIMEOUT_MAX, &s) < 0)
		return nsg_fail_kind(e, NSG_KIND_INPUT, -EINVAL,
				     "must be a whole number of seconds from 0 to 86400",
				     "NSGATE_LOCK_TIMEOUT \"%.32s\"", v);
	*ret = s;
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* flock with a deadline: polled, 1 ms doubling to 25 ms between tries (a
 * blocking flock cannot be given one without a signal, and a library must
 * not take SIGALRM from its caller). -ETIMEDOUT when the deadline passes. */
int lock_wait(int fd, unsigned timeout_s)
{
	int64_t end;
	long delay = 1;

	if (flock(fd, LOCK_EX | LOCK_NB) == 0)
		return 0;
	end = now_ms() + (int64_t)timeout_s * 1000;
	for (;;) {
		int64_t left;

		if (errno != EWOULDBLOCK && errno != EINTR)
			return -errno;
		left = end - now_ms();
		if (left <= 0)
			return -ETIMEDOUT;
		usleep((useconds_t)(left < delay ? left : delay) * 1000);
		delay = delay * 2 > 25 ? 25 : delay * 2;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			return 0;
	}
}

/* The kernel's word on who holds the flock of fd: its line in /proc/locks
 * ("1: FLOCK  ADVISORY  WRITE PID MAJ:MIN:INODE 0 EOF"; waiters' lines
 * read "1: -> FLOCK ..."). It also names a holder that wrote no pid (an
 * older nsgate, flock(1)). 0 when not found. */
pid_t lock_holder_kernel(int fd)
{
	_cleanup_free_ char *text = NULL;
	struct stat st;
	pid_t pid = 0;

	if (fstat(fd, &st) < 0 || file_read_all("/proc/locks", 16 << 20, &text, NULL) < 0)
		return 0;
	for (char *line = text, *nl; !pid && *line; line = nl ? nl + 1 : line + strlen(line)) {
		unsigned maj, min;
		unsigned long long ino;
		int p;

		nl = strchr(line, '\n');
		if (sscanf(line, "%*d: FLOCK %*s %*s %d %x:%x:%llu", &p, &maj, &min, &ino) == 4 &&
		    maj == major(st.st_dev) && min == minor(st.st_dev) && ino == st.st_ino && p > 0)
			pid = p;
	}
	return pid;
}

/* Who holds the lock: the kernel's word, else the pid the holder wrote if
 * that process lives (a dead one's is a previous holder's). 0: unknown. */
static pid_t lock_holder(int fd)
{
	char buf[LOCK_PID_LEN + 1];
	pid_t pid = lock_holder_kernel(fd);
	ssize_t n;
	int p;

	if (pid > 0)
		return pid;
	n = pread(fd, buf, sizeof(buf) - 1, 0);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	if (sscanf(buf, "%d", &p) != 1 || p <= 0 || (kill(p, 0) < 0 && errno == ESRCH))
		return 0;
	return p;
}

static int lock_fail(int fd, int r, unsigned timeout_s, struct nsg_err *e)
{
	char who[32] = "another process", why[96];
	pid_t pid;

	if (r != -ETIMEDOUT)
		return nsg_fail(e, r, NULL, "%s", LOCK_FILE);
	pid = lock_holder(fd);
	if (pid > 0)
		snprintf(who, sizeof(who), "pid %d", (int)pid);
	if (timeout_s)
		snprintf(why, sizeof(why), "held by %s for more than %us", who, timeout_s);
	else
		snprintf(why, sizeof(why), "held by %s (NSGATE_LOCK_TIMEOUT=0)", who);
	return nsg_fail_kind(e, NSG_KIND_BUSY, r, why, "%s", LOCK_FILE);
}

/* The lock file as it must be: no link followed (a planted one to a
 * dangling path would create its target), a regular file (the pid is
 * written into it: never into a device node planted there). */
static int lock_open(int *ret_fd, struct nsg_err *e)
{
	_cleanup_close_ int fd = open(LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
							 O_NOCTTY | O_CLOEXEC, 0600);
	struct stat st;

	if (fd < 0 && errno == ELOOP)
		return nsg_fail(e, -ELOOP, "is a symbolic link (nsgate does not follow it)", "%s",
				LOCK_FILE);
	if (fd < 0)
		return nsg_fail(e, -errno, NULL, "%s", LOCK_FILE);
	if (fstat(fd, &st) < 0)
		return nsg_fail(e, -errno, NULL, "%s", LOCK_FILE);
	if (!S_ISREG(st.st_mode))
		return nsg_fail(e, -EINVAL, "is not a regular file", "%s", LOCK_FILE);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* The holder's pid into the lock file, for the next waiter's message
 * only: a failed write costs nothing but that (/proc/locks still names
 * the holder), so it is not an error. */
static void lock_mark(int fd)
{
	char pid[LOCK_PID_LEN + 1];

	snprintf(pid, sizeof(pid), LOCK_PID_FMT, (int)getpid());
	if (pwrite(fd, pid, LOCK_PID_LEN, 0) != LOCK_PID_LEN)
		return;
}

int lock_take(int *ret_fd, struct nsg_err *e)
{
	_cleanup_close_ int fd = -1;
	unsigned timeout;
	int r = lock_timeout(&timeout, e);

	if (r < 0)
		return r;
	r = state_dir_ready(e);
	if (r < 0)
		return r;
	r = lock_open(&fd, e);
	if (r < 0)
		return r;
	r = lock_wait(fd, timeout);
	if (r < 0)
		return lock_fail(fd, r, timeout, e);
	lock_mark(fd);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

void lock_release(int fd)
{
	/* Explicitly: a child forked meanwhile (the one nftx_close leaves to
	 * release the nfnetlink socket) shares the open file, and a close alone
	 * would keep the lock held until that child exits. */
	flock(fd, LOCK_UN);
	close(fd);
}
