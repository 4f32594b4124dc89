/* SPDX-License-Identifier: MIT */
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "nsgate/common.h"
#include "nsgate/fileio.h"

#define TMP_SUFFIX ".nsgate-tmp"

/* read(), retried when a signal interrupts it: -errno or the count. */
static ssize_t read_some(int fd, char *buf, size_t n)
{
	ssize_t r;

	do
		r = read(fd, buf, n);
	while (r < 0 && errno == EINTR);
	return r < 0 ? -errno : r;
}

/* A pipe or FIFO: wait, with a deadline, until its writer has written or
 * closed. A FIFO no process ever opens for writing gives -ETIMEDOUT instead
 * of an endless wait (or, read at once, an empty file). */
static int stream_wait(int fd)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	int r;

	do
		r = poll(&p, 1, FILE_STREAM_WAIT_MS);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return r == 0 ? -ETIMEDOUT : 0;
}

int file_read_all(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap;
	struct stat st;

	/* O_NOCTTY: a terminal given as the file must not become ours.
	 * O_NONBLOCK: opening a FIFO nobody writes to would wait for a writer
	 * forever; see stream_wait. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
	if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
		int r = stream_wait(fd);
		if (r < 0)
			return r;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK) < 0)
		return -errno;
	if (S_ISREG(st.st_mode) && (uintmax_t)st.st_size > max)
		return -EFBIG;
	/* A regular file's size is known: one read fills it, the next sees
	 * the end. A stream's is not (and /proc files say 0): grow as it comes. */
	cap = S_ISREG(st.st_mode) && st.st_size > 0 ? (size_t)st.st_size + 1 : 4096;
	buf = malloc(cap);
	if (!buf)
		return -ENOMEM;
	for (;;) {
		ssize_t n;

		if (len == cap && GROW(buf, cap, len + 1) < 0)
			return -ENOMEM;
		n = read_some(fd, buf + len, cap - len);
		if (n < 0)
			return (int)n;
		if (n == 0)
			break;
		len += n;
		if (len > max)
			return -EFBIG;
	}
	/* Growing before each read leaves room: at the end len < cap. */
	buf[len] = '\0';
	if (ret_len)
		*ret_len = len;
	*ret = TAKE_PTR(buf);
	return 0;
}

/* Read fd into buf (file_read_small's contract); fd is closed. */
static int read_small_fd(int fd, char *buf, size_t len)
{
	_cleanup_close_ int f = fd;
	size_t n = 0;
	ssize_t r;

	if (f < 0)
		return -errno;
	while (n < len - 1) {
		r = read_some(f, buf + n, len - 1 - n);
		if (r < 0)
			return (int)r;
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	return n == len - 1 ? -EFBIG : (int)n;
}

int file_read_small(const char *path, char *buf, size_t len)
{
	return read_small_fd(open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY), buf, len);
}

int file_read_small_at(int dirfd, const char *name, char *buf, size_t len)
{
	/* O_NONBLOCK: a FIFO planted under the name must not hang the read. */
	return read_small_fd(openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW |
						 O_NONBLOCK),
			     buf, len);
}

static int write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		p += n;
		len -= n;
	}
	return 0;
}

/* A fresh tmp, never an old one: O_EXCL with O_CREAT opens no existing name,
 * a symbolic link (dangling or not) included, so a planted link cannot
 * redirect the write. What is there is a leftover of a kill or planted;
 * unlinkat removes the name itself (a link, never its target), then one
 * more try: a name that comes back at once is someone racing us. */
static int tmp_create(int dirfd, const char *tmp)
{
	const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY;
	int fd = openat(dirfd, tmp, flags, 0600);

	if (fd < 0 && errno == EEXIST) {
		if (unlinkat(dirfd, tmp, 0) < 0 && errno != ENOENT)
			return -errno;
		fd = openat(dirfd, tmp, flags, 0600);
	}
	return fd < 0 ? -errno : fd;
}

int file_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			 unsigned flags)
{
	char tmp[NAME_MAX + 1];
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s" TMP_SUFFIX, name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = tmp_create(dirfd, tmp);
	if (fd < 0)
		return fd;
	/* The mode asked for, whatever the caller's umask (027 or 077 would
	 * keep non-root readers out of what they must read). */
	r = fchmod(fd, mode) < 0 ? -errno : 0;
	if (r == 0)
		r = write_all(fd, data, len);
	if (r == 0 && (flags & FILE_SYNC) && fsync(fd) < 0)
		r = -errno;
	/* close reports what a network or full file system deferred. */
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0)
		unlinkat(dirfd, tmp, 0);
	return r;
}

int file_rewrite_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode)
{
	struct stat st;
	ssize_t w;
	int fd = openat(dirfd, name, O_WRONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), r = 0;

	/* ELOOP: a link; a FIFO or device would not be opened O_NONBLOCK
	 * for long: both go through the rename path, which replaces them. */
	if (fd < 0)
		return errno == ENOENT || errno == ELOOP || errno == ENXIO ?
		       file_write_atomic_at(dirfd, name, data, len, mode, 0) : -errno;
	if (fstat(fd, &st) < 0)
		r = -errno;
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1) {
		/* A hard link may be another file of the host's: never written. */
		close(fd);
		return file_write_atomic_at(dirfd, name, data, len, mode, 0);
	}
	/* One write of the whole text, then the old tail cut off. */
	if (r == 0) {
		w = pwrite(fd, data, len, 0);
		r = w < 0 ? -errno : (size_t)w != len ? -EIO : 0;
	}
	if (r == 0 && ftruncate(fd, (off_t)len) < 0)
		r = -errno;
	if (close(fd) < 0 && r == 0)
		r = -errno;
	return r;
}

int file_symlink_atomic_at(int dirfd, const char *name, const char *target)
{
	char tmp[NAME_MAX + 1];
	int r = 0;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s" TMP_SUFFIX, name) >= sizeof(tmp))
		return -ENAMETOOLONG;
	if (symlinkat(target, dirfd, tmp) < 0) {
		if (errno != EEXIST || unlinkat(dirfd, tmp, 0) < 0 || symlinkat(target, dirfd, tmp) < 0)
			return -errno;
	}
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		unlinkat(dirfd, tmp, 0);
	}
	return r;
}

/* Split path into its directory (opened, never following a link at its
 * last component) and the name in it. */
static int parent_open(const char *path, int *ret_fd, const char **ret_name)
{
	char dir[PATH_MAX];
	const char *slash = strrchr(path, '/');
	size_t dl;

	if (!slash) {
		*ret_name = path;
		return file_dir_open_at(AT_FDCWD, ".", 0, 0, ret_fd, NULL);
	}
	dl = slash == path ? 1 : (size_t)(slash - path);
	if (dl >= sizeof(dir))
		return -ENAMETOOLONG;
	memcpy(dir, path, dl);
	dir[dl] = '\0';
	*ret_name = slash + 1;
	return file_dir_open_at(AT_FDCWD, dir, 0, 0, ret_fd, NULL);
}

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      unsigned flags)
{
	_cleanup_close_ int dirfd = -1;
	const char *name;
	int r = parent_open(path, &dirfd, &name);

	if (r < 0)
		return r;
	return file_write_atomic_at(dirfd, name, data, len, mode, flags);
}

int file_dir_open_at(int dirfd, const char *name, mode_t mode, unsigned flags, int *ret_fd,
		     bool *ret_created)
{
	const int oflags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;
	bool created = false;
	int fd = openat(dirfd, name, oflags);

	if (fd < 0 && errno == ENOENT && (flags & FILE_DIR_CREATE)) {
		/* EEXIST: made by a concurrent run between the two calls. */
		if (mkdirat(dirfd, name, mode) == 0)
			created = true;
		else if (errno != EEXIST)
			return -errno;
		fd = openat(dirfd, name, oflags);
	}
	/* O_NOFOLLOW refuses a link with ELOOP, O_DIRECTORY anything else
	 * with ENOTDIR: both are "not a directory we may use". */
	if (fd < 0)
		return errno == ELOOP ? -ENOTDIR : -errno;
	/* mkdir's mode is less the umask: set what was asked for. */
	if (created && fchmod(fd, mode) < 0) {
		int r = -errno;

		close(fd);
		return r;
	}
	if (ret_created)
		*ret_created = created;
	*ret_fd = fd;
	return 0;
}

const char *file_not_dir_why(int dirfd, const char *name)
{
	struct stat st;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
		return "is a symbolic link, not a directory (nsgate does not follow it)";
	return "is not a directory";
}

/* Whether entry de of dirfd is a leftover tmp file sweep may remove: named
 * so, and a regular file or a link (a directory so named is not ours). */
static bool is_tmp_entry(int dirfd, const struct dirent *de)
{
	size_t l = strlen(de->d_name), sl = strlen(TMP_SUFFIX);
	struct stat st;

	if (l <= sl || strcmp(de->d_name + l - sl, TMP_SUFFIX))
		return false;
	if (de->d_type == DT_REG || de->d_type == DT_LNK)
		return true;
	if (de->d_type != DT_UNKNOWN)
		return false;
	return fstatat(dirfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	       (S_ISREG(st.st_mode) || S_ISLNK(st.st_mode));
}

int file_tmp_sweep_at(int dirfd)
{
	/* A description of its own: readdir moves its offset, and dirfd's
	 * must stay where the caller had it. */
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int n = 0, r = 0;
	struct dirent *de;
	DIR *d;

	if (fd < 0)
		return -errno;
	d = fdopendir(fd);
	if (!d) {
		r = -errno;
		close(fd);
		return r;
	}
	while ((de = readdir(d)))
		if (is_tmp_entry(dirfd, de)) {
			if (unlinkat(dirfd, de->d_name, 0) == 0)
				n++;
			else if (errno != ENOENT && r == 0)
				r = -errno;
		}
	closedir(d);
	return r < 0 ? r : n;
}
