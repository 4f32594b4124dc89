/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
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

int file_read_all(const char *path, size_t max, char **ret, size_t *ret_len)
{
	_cleanup_close_ int fd = -1;
	_cleanup_free_ char *buf = NULL;
	size_t len = 0, cap;
	struct stat st;

	/* O_NOCTTY: a terminal given as the file must not become ours. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISDIR(st.st_mode))
		return -EISDIR;
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

int file_read_small(const char *path, char *buf, size_t len)
{
	_cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	size_t n = 0;
	ssize_t r;

	if (fd < 0)
		return -errno;
	while (n < len - 1) {
		r = read_some(fd, buf + n, len - 1 - n);
		if (r < 0)
			return (int)r;
		if (r == 0)
			break;
		n += r;
	}
	buf[n] = '\0';
	return n == len - 1 ? -EFBIG : (int)n;
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

int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      unsigned flags)
{
	char tmp[PATH_MAX];
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s" TMP_SUFFIX, path) >= sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0)
		return -errno;
	r = write_all(fd, data, len);
	if (r == 0 && (flags & FILE_SYNC) && fsync(fd) < 0)
		r = -errno;
	/* close reports what a network or full file system deferred. */
	if (close(fd) < 0 && r == 0)
		r = -errno;
	if (r == 0 && rename(tmp, path) < 0)
		r = -errno;
	if (r < 0)
		unlink(tmp);
	return r;
}
