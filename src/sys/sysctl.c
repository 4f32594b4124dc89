/* SPDX-License-Identifier: MIT */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "nsgate/common.h"
#include "nsgate/fileio.h"
#include "nsgate/sysctl.h"

static void key_path(const char *key, char path[256])
{
	snprintf(path, 256, "/proc/sys/%s", key);
}

int sysctl_read(const char *key, char *buf, size_t len)
{
	char path[256];
	int n;

	key_path(key, path);
	n = file_read_small(path, buf, len);
	/* A value longer than buf is cut to fit, as a single read() cut it
	 * before: callers read short values. */
	if (n == -EFBIG)
		n = (int)len - 1;
	if (n < 0)
		return n;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		n--;
	buf[n] = '\0';
	return 0;
}

int sysctl_write(const char *key, const char *value)
{
	char path[256];
	_cleanup_close_ int fd = -1;
	size_t len = strlen(value);

	key_path(key, path);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, value, len) != (ssize_t)len)
		return -errno;
	return 0;
}
