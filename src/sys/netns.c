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

/* /run/netns must be a shared mount point, so that a namespace mounted here
 * shows up in every mount namespace (iproute2 does the same). */
static int run_dir_prepare(void)
{
	if (mkdir(NETNS_RUN_DIR, 0755) < 0 && errno != EEXIST)
		return -errno;
	if (mount("", NETNS_RUN_DIR, "none", MS_SHARED | MS_REC, NULL) == 0)
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

int netns_create(const char *name, struct nsg_err *e)
{
	char path[PATH_MAX];
	_cleanup_close_ int self = -1;
	int fd, r;

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	r = run_dir_prepare();
	if (r < 0)
		return nsg_fail(e, r, NULL, "%s", NETNS_RUN_DIR);
	fd = open(path, O_RDONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0);
	if (fd < 0)
		return nsg_fail(e, -errno, errno == EEXIST ? "a namespace of that name exists already "
				"(attach it with --netns)" : NULL, "netns \"%s\"", name);
	close(fd);

	self = open("/proc/thread-self/ns/net", O_RDONLY | O_CLOEXEC);
	if (self < 0) {
		r = -errno;
		goto fail;
	}
	if (unshare(CLONE_NEWNET) < 0) {
		r = -errno;
		goto fail;
	}
	r = mount("/proc/thread-self/ns/net", path, "none", MS_BIND, NULL) < 0 ? -errno : 0;
	/* Going back must not fail: everything after would act in the new namespace. */
	if (setns(self, CLONE_NEWNET) < 0)
		abort();
	if (r < 0)
		goto fail;
	return 0;
fail:
	unlink(path);
	return nsg_fail(e, r, NULL, "netns \"%s\"", name);
}

int netns_delete(const char *name)
{
	char path[PATH_MAX];

	snprintf(path, sizeof(path), NETNS_RUN_DIR "/%s", name);
	/* MNT_DETACH: a process still inside keeps the namespace alive, as with ip netns del. */
	if (umount2(path, MNT_DETACH) < 0 && errno != EINVAL && errno != ENOENT)
		return -errno;
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
	struct stat a, b;
	int type;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int err = errno;

		if (err == ENOENT && !strncmp(path, "/proc/", 6))
			return nsg_fail(e, -ESRCH, "no such process", "netns \"%s\"", path);
		/* Nothing of that name, or a socket (ENXIO): the user's argument
		 * is wrong, not the system. */
		if (err == ENOENT || err == ENOTDIR || err == ELOOP || err == ENXIO)
			return nsg_fail_kind(e, NSG_KIND_INPUT, -err,
					     err == ENXIO ? "not a network namespace" : NULL,
					     "netns \"%s\"", path);
		return nsg_fail(e, -err, NULL, "netns \"%s\"", path);
	}
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

static int bind_etc(const char *name)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;

	snprintf(dir, sizeof(dir), NETNS_ETC_DIR "/%s", name);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		char src[PATH_MAX + 256], dst[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(src, sizeof(src), "%s/%s", dir, de->d_name);
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
