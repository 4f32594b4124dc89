/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>

#include "nsgate/netns.h"
#include "nsgate/state.h"

/* /run/netns must be a shared mount point, so that a namespace mounted here
 * shows up in every mount namespace (iproute2 does the same). Not
 * recursively, as iproute2 does: that walks every namespace mounted here
 * (10,000 gateways, 10,000 mounts) on every up, and a mount made beneath a
 * shared one is shared already. */
static int run_dir_prepare(void)
{
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED, NULL) == 0)
		return 0;
	if (errno != EINVAL)
		return -errno;
	/* Not a mount point yet: make it one, then shared. */
	if (mount(NETNS_RUN_DIR, NETNS_RUN_DIR, "none", MS_BIND | MS_REC, NULL) < 0)
		return -errno;
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) < 0)
		return -errno;
	return 0;
}

int netns_new(int *ret_fd, uint64_t *ret_ino, struct nsg_err *e)
{
	_cleanup_close_ int self = -1, fd = -1;
	int r;

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0)
		return nsg_fail(e, -errno, NULL, "/proc/thread-self/ns/net");
	if (unshare(CLONE_NEWNET) < 0)
		return nsg_fail(e, -errno, NULL, "new network namespace");
	fd = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	r = fd < 0 ? -errno : 0;
	/* Going back must not fail: everything after would act in the new namespace. */
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	if (r == 0)
		r = netns_ident(fd, ret_ino);
	if (r < 0)
		return nsg_fail(e, r, NULL, "new network namespace");
	*ret_fd = TAKE_FD(fd);
	return 0;
}

int netns_pin(const char *name, int fd, struct nsg_err *e)
{
	char path[PATH_MAX], src[64];
	int pfd, r;

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	r = run_dir_prepare();
	if (r < 0)
		return nsg_fail(e, r, NULL, "%s", NETNS_RUN_DIR);
	/* The placeholder ip netns add makes too: an empty file of mode 0. */
	pfd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0);
	if (pfd < 0)
		return nsg_fail(e, -errno, errno == EEXIST ? "a namespace of that name exists already "
				"(attach it with --netns)" : NULL, "netns \"%s\"", name);
	close(pfd);
	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	if (mount(src, path, "none", MS_BIND, NULL) < 0) {
		r = -errno;
		unlink(path);
		return nsg_fail(e, r, NULL, "netns \"%s\"", name);
	}
	return 0;
}

static bool is_nsfs(const char *path)
{
	struct statfs sf;

	return statfs(path, &sf) == 0 && sf.f_type == NSFS_MAGIC;
}

int netns_delete(const char *name, uint64_t ino)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	/* lstat crosses the mount on the last name, not a symbolic link. */
	if (lstat(path, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ESTALE;
	if (is_nsfs(path)) {
		if (ino && (uint64_t)st.st_ino != ino)
			return -ESTALE;
		/* MNT_DETACH: a process still inside keeps the namespace alive, as
		 * with ip netns del. UMOUNT_NOFOLLOW: a link swapped in since the
		 * lstat is not followed to some other mount. */
		if (umount2(path, MNT_DETACH | UMOUNT_NOFOLLOW) < 0 && errno != EINVAL)
			return -errno;
	} else if (!S_ISREG(st.st_mode) || st.st_size != 0) {
		return -ESTALE;
	}
	/* Unmounted now, or the placeholder a kill left before the mount. */
	if (unlink(path) < 0)
		return -errno;
	return 0;
}

int netns_ident(int fd, uint64_t *ret_ino)
{
	struct stat st;

	if (fstat(fd, &st) < 0)
		return -errno;
	*ret_ino = (uint64_t)st.st_ino;
	return 0;
}

int netns_open(const char *path, int *ret_fd, struct nsg_err *e)
{
	_cleanup_close_ int fd = -1, self = -1;
	char again[64];
	struct statfs sf;
	struct stat a, b;
	int type, real;

	/* O_PATH first: opening a FIFO (or a device) for reading could block,
	 * or do whatever opening that device does. Only an nsfs file is
	 * opened for real. */
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT && !strncmp(path, "/proc/", 6))
			return nsg_fail(e, -ESRCH, "no such process", "netns \"%s\"", path);
		/* Nothing of that name: the user's argument is wrong, not the system. */
		if (err == ENOENT || err == ENOTDIR || err == ELOOP)
			return nsg_fail_kind(e, NSG_KIND_INPUT, -err, NULL, "netns \"%s\"", path);
		return nsg_fail(e, -err, NULL, "netns \"%s\"", path);
	}
	if (fstatfs(fd, &sf) < 0 || sf.f_type != NSFS_MAGIC)
		return nsg_fail(e, -EINVAL, "not a network namespace", "netns \"%s\"", path);
	snprintf(again, sizeof(again), "/proc/self/fd/%d", fd);
	real = open(again, O_RDONLY | O_CLOEXEC);
	if (real < 0)
		return nsg_fail(e, -errno, NULL, "netns \"%s\"", path);
	close(fd);
	fd = real;
	type = ioctl(fd, NS_GET_NSTYPE);
	if (type != CLONE_NEWNET)
		return nsg_fail(e, -EINVAL, "not a network namespace", "netns \"%s\"", path);
	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0 || fstat(self, &a) < 0 || fstat(fd, &b) < 0)
		return nsg_fail(e, -errno, NULL, "netns \"%s\"", path);
	/* The peer would land on the host and be renamed eth0 there. */
	if (a.st_dev == b.st_dev && a.st_ino == b.st_ino)
		return nsg_fail_kind(e, NSG_KIND_INPUT, -EBUSY, "is the host's own network namespace",
				     "netns \"%s\"", path);
	*ret_fd = TAKE_FD(fd);
	return 0;
}

/* A network member's hosts: a link named hosts to a network's hosts file of
 * nsgate's own (NET_HOSTS_DIR/NET.hosts), its target into src. Any other
 * link is not followed. */
static bool net_hosts_link(int dir, const char *name, char *src, size_t len)
{
	static const char prefix[] = NET_HOSTS_DIR "/";
	ssize_t n;

	if (strcmp(name, "hosts"))
		return false;
	n = readlinkat(dir, name, src, len - 1);
	if (n <= 0 || (size_t)n >= len - 1)
		return false;
	src[n] = '\0';
	return !strncmp(src, prefix, sizeof(prefix) - 1) && !strchr(src + sizeof(prefix) - 1, '/') &&
	       n > (ssize_t)strlen(NET_HOSTS_SUFFIX) &&
	       !strcmp(src + n - strlen(NET_HOSTS_SUFFIX), NET_HOSTS_SUFFIX);
}

/* Bind /etc/netns/NAME's files over /etc's, like ip netns exec; a NAME
 * that is a symbolic link, and links inside it, are not followed (they
 * could point anywhere: a gateway's resolv.conf is nsgate's own file),
 * but for a network member's hosts (net_hosts_link). */
static int bind_etc(const char *name)
{
	char dir[PATH_MAX];
	struct dirent *de;
	int fd;
	DIR *d;

	snprintf(dir, sizeof(dir), NETNS_ETC_DIR "/%s", name);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	while ((de = readdir(d))) {
		char src[PATH_MAX + 256], dst[PATH_MAX];
		struct stat st;

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    fstatat(fd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
			continue;
		if (S_ISLNK(st.st_mode)) {
			if (!net_hosts_link(fd, de->d_name, src, sizeof(src)))
				continue;
		} else {
			snprintf(src, sizeof(src), "%s/%s", dir, de->d_name);
		}
		snprintf(dst, sizeof(dst), "/etc/%s", de->d_name);
		/* Like ip netns exec: a file that cannot be bound is skipped. */
		mount(src, dst, "none", MS_BIND, NULL);
	}
	closedir(d);
	return 0;
}

int netns_enter(const char *path, const char *etc_name, struct nsg_err *e)
{
	_cleanup_close_ int fd = -1;
	unsigned long sysflags = 0;
	struct statvfs sv;
	int r;

	r = netns_open(path, &fd, e);
	if (r < 0 && r != -EBUSY)
		return r;
	if (fd < 0)
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (setns(fd, CLONE_NEWNET) < 0)
		return nsg_fail(e, -errno, NULL, "entering netns \"%s\"", path);
	/* A private mount namespace, so the /sys and /etc binds below stay ours. */
	if (unshare(CLONE_NEWNS) < 0)
		return nsg_fail(e, -errno, NULL, "mount namespace");
	if (mount("", "/", "none", MS_SLAVE | MS_REC, NULL) < 0)
		return nsg_fail(e, -errno, NULL, "making / a slave mount");
	/* /sys shows the namespace it was mounted in: remount it for this one. */
	if (statvfs("/sys", &sv) == 0 && (sv.f_flag & ST_RDONLY))
		sysflags = MS_RDONLY;
	if (umount2("/sys", MNT_DETACH) == 0)
		mount(etc_name, "/sys", "sysfs", sysflags, NULL);
	r = bind_etc(etc_name);
	if (r < 0)
		return nsg_fail(e, r, NULL, "/etc/netns/%s", etc_name);
	return 0;
}

int netns_exec(const char *path, const char *etc_name, char *const argv[], struct nsg_err *e)
{
	int err, r = netns_enter(path, etc_name, e);

	/* The command cannot run (126) when the namespace cannot be entered;
	 * a namespace that is gone is a failure like a gateway that is gone. */
	if (r < 0) {
		if (e)
			e->kind = r == -ENOENT ? NSG_KIND_NOT_FOUND : NSG_KIND_CMD_CANNOT_RUN;
		return r;
	}
	execvp(argv[0], argv);
	err = errno;
	/* A detail netns_enter got past is no part of this error. */
	if (e)
		*e = (struct nsg_err){ 0 };
	return nsg_fail_kind(e, err == ENOENT ? NSG_KIND_CMD_NOT_FOUND : NSG_KIND_CMD_CANNOT_RUN,
			     -err, NULL, "exec \"%s\"", argv[0]);
}
