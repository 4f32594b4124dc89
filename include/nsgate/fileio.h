/* SPDX-License-Identifier: MIT */
/*
 * Whole files in and out, the one way every module reads and writes them:
 * a whole file into a malloc'ed buffer (with a size cap), a small one into
 * the caller's buffer, and a write that readers see whole or not at all.
 * What nsgate writes lives in directories others could have planted names
 * in (a crash's leftovers, or root's mistakes): the *_at functions work
 * relative to a directory descriptor and never follow a symbolic link at
 * the name they are given.
 */
#ifndef NSGATE_FILEIO_H
#define NSGATE_FILEIO_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Read all of path into *ret (malloc'ed, NUL-terminated; "" for an empty
 * file) and its length into *ret_len (may be NULL; the text may hold NUL
 * bytes, the length counts them). Regular files and streams (pipes,
 * /dev/stdin) alike; a read interrupted by a signal is retried. -EISDIR for
 * a directory, -EFBIG when the file holds more than max bytes (SIZE_MAX:
 * no cap), -ENOMEM, or the -errno of open or read. *ret is set only on
 * success. A pipe or FIFO that nothing is written to (or closed) within
 * FILE_STREAM_WAIT_MS gives -ETIMEDOUT: no path can make nsgate wait for
 * ever on a FIFO without a writer. */
#define FILE_STREAM_WAIT_MS 10000
int file_read_all(const char *path, size_t max, char **ret, size_t *ret_len);

/* Read path into buf of len bytes (len >= 1) and NUL-terminate it. Returns
 * the length; -EFBIG when the file fills buf (len - 1 bytes or more, so it
 * may go on: buf then holds the first len - 1 bytes, terminated); -errno. */
int file_read_small(const char *path, char *buf, size_t len);
/* The same for name in directory dirfd; a symbolic link there is refused
 * (-ELOOP), a FIFO does not block. */
int file_read_small_at(int dirfd, const char *name, char *buf, size_t len);

/* fsync the file before it replaces path: for what must survive a power
 * loss, not for what lives in /run. */
#define FILE_SYNC 1u

/*
 * Replace name in directory dirfd with data: written to "NAME.nsgate-tmp"
 * in the same directory, then renamed over name, so a reader sees the old
 * file or the new one, never half of either. The file gets exactly mode,
 * whatever the umask. The tmp name is created afresh (O_EXCL, O_NOFOLLOW):
 * whatever is there already (a kill's leftover, a planted link) is unlinked
 * first, never written through. A link at name itself is replaced, not
 * followed. On failure the temporary file is removed and name is untouched.
 * flags: 0 or FILE_SYNC. 0 or -errno.
 */
int file_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
			 unsigned flags);
/*
 * Rewrite regular file name of dirfd in place with data (the same inode:
 * what a bind mount of it shows changes too, where a rename would leave
 * the mount on the old file), or create it as file_write_atomic_at does
 * when it is missing. A link, a file with more than one hard link, or
 * anything but a regular file at name is replaced, never written through. Not atomic for readers: one who reads
 * during the write may see part of the old text after the new. 0 or -errno.
 */
int file_rewrite_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode);
/* Make name of dirfd a symbolic link to target, atomically (a link made
 * at "NAME.nsgate-tmp", then renamed over whatever name was). 0 or -errno. */
int file_symlink_atomic_at(int dirfd, const char *name, const char *target);
/* The same for path: its directory is opened first, refusing a link at
 * the directory's own name (-ENOTDIR); links further up are followed. */
int file_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		      unsigned flags);

/* Create the directory when it is missing. */
#define FILE_DIR_CREATE 1u

/* Open directory name of dirfd (AT_FDCWD for a path) into *ret_fd, never
 * following a link at name: -ENOTDIR when name is a link or no directory
 * (file_not_dir_why says which). With FILE_DIR_CREATE a missing one is made
 * with exactly mode (not less the umask), and *ret_created (may be NULL)
 * says whether this call made it. 0 or -errno. */
int file_dir_open_at(int dirfd, const char *name, mode_t mode, unsigned flags, int *ret_fd,
		     bool *ret_created);
/* Why name of dirfd was refused as a directory (after -ENOTDIR), for a
 * message: a symbolic link, or something else. */
const char *file_not_dir_why(int dirfd, const char *name);

/* Remove every leftover "*.nsgate-tmp" of directory dirfd (a kill between
 * a tmp's creation and its rename leaves one): regular files and links so
 * named only (a link is removed, never its target). Returns how many were
 * removed, or the first -errno (after trying the others). */
int file_tmp_sweep_at(int dirfd);

#endif
