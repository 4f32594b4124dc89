/* SPDX-License-Identifier: MIT */
/*
 * Whole files in and out, the one way every module reads and writes them:
 * a whole file into a malloc'ed buffer (with a size cap), a small one into
 * the caller's buffer, and a write that readers see whole or not at all.
 */
#ifndef NSGATE_FILEIO_H
#define NSGATE_FILEIO_H

#include <stddef.h>
#include <sys/types.h>

/* Read all of path into *ret (malloc'ed, NUL-terminated; "" for an empty
 * file) and its length into *ret_len (may be NULL; the text may hold NUL
 * bytes, the length counts them). Regular files and streams (pipes,
 * /dev/stdin) alike; a read interrupted by a signal is retried. -EISDIR for
 * a directory, -EFBIG when the file holds more than max bytes (SIZE_MAX:
 * no cap), -ENOMEM, or the -errno of open or read. *ret is set only on
 * success. */
int file_read_all(const char *path, size_t max, char **ret, size_t *ret_len);

/* Read path into buf of len bytes (len >= 1) and NUL-terminate it. Returns
 * the length; -EFBIG when the file fills buf (len - 1 bytes or more, so it
 * may go on: buf then holds the first len - 1 bytes, terminated); -errno. */
int file_read_small(const char *path, char *buf, size_t len);

/* fsync the file before it replaces path: for what must survive a power
 * loss, not for what lives in /run. */
#define FILE_SYNC 1u

/*
 * Replace path with data: written to "PATH.nsgate-tmp" in the same
 * directory (created with mode, less the umask), then renamed over path, so
 * a reader sees the old file or the new one, never half of either. On
 * failure the temporary file is removed and path is untouched. flags: 0 or
 * FILE_SYNC. 0 or -errno.
 */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      unsigned flags);

#endif
