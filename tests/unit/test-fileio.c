/* SPDX-License-Identifier: MIT */
/* fileio: whole-file reads with a cap, small reads, atomic writes that no
 * planted name redirects, directories opened without following links, the
 * tmp sweep; all in a throwaway directory. */
#include "unit.h"

#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "nsgate/common.h"
#include "nsgate/fileio.h"

struct dir {
	char path[64];
};

static int dir_setup(void **state)
{
	struct dir *d = calloc(1, sizeof(*d));

	if (!d)
		return -1;
	snprintf(d->path, sizeof(d->path), "/tmp/nsgate-fileio-XXXXXX");
	if (!mkdtemp(d->path)) {
		free(d);
		return -1;
	}
	*state = d;
	return 0;
}

static void remove_tree(const char *path)
{
	DIR *dd = opendir(path);
	struct dirent *de;

	if (!dd) {
		unlink(path);
		return;
	}
	while ((de = readdir(dd))) {
		char sub[PATH_MAX];

		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(sub, sizeof(sub), "%s/%s", path, de->d_name);
		remove_tree(sub);
	}
	closedir(dd);
	rmdir(path);
}

static int dir_teardown(void **state)
{
	struct dir *d = *state;

	remove_tree(d->path);
	free(d);
	return 0;
}

static const char *in(void **state, const char *name)
{
	static char path[PATH_MAX];
	struct dir *d = *state;

	snprintf(path, sizeof(path), "%s/%s", d->path, name);
	return path;
}

static void put(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

/* Whether dir holds any name ending in ".nsgate-tmp". */
static bool tmp_left(void **state)
{
	struct dir *d = *state;
	DIR *dd = opendir(d->path);
	struct dirent *de;
	bool found = false;

	assert_non_null(dd);
	while ((de = readdir(dd)))
		if (strstr(de->d_name, ".nsgate-tmp"))
			found = true;
	closedir(dd);
	return found;
}

/* The text comes back whole, NUL bytes counted, a NUL after it; an empty
 * file gives "". */
static void test_read_all(void **state)
{
	static const struct { const char *data; size_t len; } cases[] = {
		{ "a\0b\n", 4 },
		{ "", 0 },
	};
	const char *p = in(state, "f");

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *buf = NULL;
		size_t len = 99;

		put(p, cases[i].data, cases[i].len);
		assert_int_equal(file_read_all(p, 100, &buf, &len), 0);
		assert_int_equal(len, cases[i].len);
		assert_memory_equal(buf, cases[i].data, cases[i].len + 1);
		free(buf);
		buf = NULL;
		assert_int_equal(file_read_all(p, 100, &buf, NULL), 0);
		free(buf);
	}
}

static void test_read_all_cap(void **state)
{
	const char *p = in(state, "big");
	char data[64], *buf = NULL;
	size_t len;

	memset(data, 'x', sizeof(data));
	put(p, data, sizeof(data));
	/* Exactly the cap is fine, one byte more is not. */
	assert_int_equal(file_read_all(p, 64, &buf, &len), 0);
	assert_int_equal(len, 64);
	free(buf);
	buf = NULL;
	assert_int_equal(file_read_all(p, 63, &buf, &len), -EFBIG);
	assert_null(buf);
}

/* A pipe has no size to check first: the cap is applied as it is read. */
static void test_read_all_stream(void **state)
{
	char path[64], data[10000], *buf = NULL;
	size_t len;
	int fds[2];

	memset(data, 'y', sizeof(data));
	for (int cap = 0; cap < 2; cap++) {
		assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
		assert_int_equal(write(fds[1], data, sizeof(data)), (ssize_t)sizeof(data));
		close(fds[1]);
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fds[0]);
		if (cap) {
			assert_int_equal(file_read_all(path, 9999, &buf, &len), -EFBIG);
		} else {
			assert_int_equal(file_read_all(path, SIZE_MAX, &buf, &len), 0);
			assert_int_equal(len, sizeof(data));
			assert_int_equal(buf[len], '\0');
			free(buf);
			buf = NULL;
		}
		close(fds[0]);
	}
}

static void test_read_all_errors(void **state)
{
	struct dir *d = *state;
	char *buf = NULL;

	assert_int_equal(file_read_all(in(state, "missing"), 100, &buf, NULL), -ENOENT);
	assert_int_equal(file_read_all(d->path, 100, &buf, NULL), -EISDIR);
	assert_null(buf);
}

static void test_read_small(void **state)
{
	const char *p = in(state, "s");
	char buf[8];

	put(p, "12345\n", 6);
	assert_int_equal(file_read_small(p, buf, sizeof(buf)), 6);
	assert_string_equal(buf, "12345\n");
	/* Filling the buffer: it may go on. The start is kept, terminated. */
	put(p, "1234567", 7);
	assert_int_equal(file_read_small(p, buf, sizeof(buf)), -EFBIG);
	assert_string_equal(buf, "1234567");
	put(p, "", 0);
	assert_int_equal(file_read_small(p, buf, sizeof(buf)), 0);
	assert_string_equal(buf, "");
	assert_int_equal(file_read_small(in(state, "missing"), buf, sizeof(buf)), -ENOENT);
}

static void test_write_replaces(void **state)
{
	const char *p = in(state, "w");
	char buf[32];
	struct stat st;
	mode_t old = umask(022);

	put(p, "old content, longer\n", 20);
	assert_int_equal(file_write_atomic(p, "new\n", 4, 0600, 0), 0);
	assert_int_equal(file_read_small(p, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "new\n");
	assert_false(tmp_left(state));
	/* A new file takes the mode asked for. */
	p = in(state, "w2");
	assert_int_equal(file_write_atomic(p, "x", 1, 0640, FILE_SYNC), 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0640);
	assert_int_equal(file_write_atomic(p, "", 0, 0640, 0), 0);
	assert_int_equal(file_read_small(p, buf, sizeof(buf)), 0);
	assert_false(tmp_left(state));
	umask(old);
}

static void test_write_fails_clean(void **state)
{
	char path[PATH_MAX], buf[8];

	/* No such directory: nothing is created. */
	snprintf(path, sizeof(path), "%s", in(state, "nodir/f"));
	assert_int_equal(file_write_atomic(path, "x", 1, 0644, 0), -ENOENT);
	/* The rename fails (a non-empty directory is in the way) after the
	 * temporary file was written: it must be gone, the target untouched.
	 * Works as root too, unlike a read-only directory. */
	snprintf(path, sizeof(path), "%s", in(state, "busy"));
	assert_int_equal(mkdir(path, 0755), 0);
	put(in(state, "busy/inside"), "keep", 4);
	assert_true(file_write_atomic(path, "x", 1, 0644, 0) < 0);
	assert_false(tmp_left(state));
	assert_int_equal(file_read_small(in(state, "busy/inside"), buf, sizeof(buf)), 4);
}

/* A symbolic link name -> target, both in the test's directory. */
static int plant_link(void **state, const char *target, const char *name)
{
	char t[PATH_MAX];

	snprintf(t, sizeof(t), "%s", in(state, target));
	return symlink(t, in(state, name));
}

/* The text of path (a small file), for comparisons. */
static const char *text_of(const char *path)
{
	static char buf[64];

	assert_true(file_read_small(path, buf, sizeof(buf)) >= 0);
	return buf;
}

/* A link planted at the tmp name (to a victim, or dangling) is replaced,
 * never written through: the victim keeps its text, no target appears. */
static void test_write_tmp_link(void **state)
{
	char victim[PATH_MAX], dangling[PATH_MAX], target[PATH_MAX];
	struct stat st;

	snprintf(victim, sizeof(victim), "%s", in(state, "victim"));
	snprintf(dangling, sizeof(dangling), "%s", in(state, "nowhere"));
	snprintf(target, sizeof(target), "%s", in(state, "t"));
	put(victim, "sentinel", 8);
	assert_int_equal(symlink(victim, in(state, "t.nsgate-tmp")), 0);
	assert_int_equal(file_write_atomic(target, "new\n", 4, 0644, 0), 0);
	assert_string_equal(text_of(victim), "sentinel");
	assert_string_equal(text_of(target), "new\n");
	assert_int_equal(lstat(target, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_false(tmp_left(state));
	assert_int_equal(symlink(dangling, in(state, "t.nsgate-tmp")), 0);
	assert_int_equal(file_write_atomic(target, "again", 5, 0644, 0), 0);
	assert_int_equal(lstat(dangling, &st), -1);
	assert_string_equal(text_of(target), "again");
	assert_false(tmp_left(state));
}

/* A leftover regular tmp (a kill between create and rename) is replaced:
 * also one that is a hard link to another file, which must not be
 * truncated through it. */
static void test_write_tmp_leftover(void **state)
{
	char victim[PATH_MAX], target[PATH_MAX];

	snprintf(victim, sizeof(victim), "%s", in(state, "victim"));
	snprintf(target, sizeof(target), "%s", in(state, "t"));
	put(in(state, "t.nsgate-tmp"), "half a file", 11);
	assert_int_equal(file_write_atomic(target, "whole\n", 6, 0644, 0), 0);
	assert_string_equal(text_of(target), "whole\n");
	assert_false(tmp_left(state));
	put(victim, "sentinel", 8);
	assert_int_equal(link(victim, in(state, "t.nsgate-tmp")), 0);
	assert_int_equal(file_write_atomic(target, "x", 1, 0644, 0), 0);
	assert_string_equal(text_of(victim), "sentinel");
	assert_string_equal(text_of(target), "x");
	assert_false(tmp_left(state));
}

/* The mode is the one asked for, whatever the umask: 077 narrows nothing,
 * 0 widens nothing; a file that was there gets it too. */
static void test_write_mode_exact(void **state)
{
	static const struct { mode_t umask, mode; } cases[] = {
		{ 077, 0644 }, { 027, 0644 }, { 0, 0600 }, { 077, 0600 },
	};
	const char *p = in(state, "m");
	mode_t old = umask(022);
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		umask(cases[i].umask);
		assert_int_equal(file_write_atomic(p, "x", 1, cases[i].mode, 0), 0);
		assert_int_equal(stat(p, &st), 0);
		assert_int_equal(st.st_mode & 07777, cases[i].mode);
	}
	umask(old);
}

/* Relative to a directory descriptor; a directory given by path whose own
 * name is a link is refused, and nothing lands where it points. */
static void test_write_at_and_parent_link(void **state)
{
	struct dir *d = *state;
	char path[PATH_MAX];
	int fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(file_write_atomic_at(fd, "a", "at\n", 3, 0644, 0), 0);
	assert_string_equal(text_of(in(state, "a")), "at\n");
	close(fd);
	assert_int_equal(mkdir(in(state, "real"), 0755), 0);
	assert_int_equal(plant_link(state, "real", "link"), 0);
	snprintf(path, sizeof(path), "%s", in(state, "link/f"));
	assert_int_equal(file_write_atomic(path, "x", 1, 0644, 0), -ENOTDIR);
	assert_int_equal(access(in(state, "real/f"), F_OK), -1);
}

/* Rewritten in place: the same inode, shorter text cut; a missing file is
 * made with the mode; a link or a hard-linked file at the name is
 * replaced, and what it pointed at or shared is left as it was. */
static void test_rewrite_at(void **state)
{
	struct dir *d = *state;
	char target[PATH_MAX];
	struct stat a, b;
	int fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	assert_true(fd >= 0);
	assert_int_equal(file_rewrite_at(fd, "h", "long text\n", 10, 0644), 0);
	assert_int_equal(stat(in(state, "h"), &a), 0);
	assert_int_equal(a.st_mode & 07777, 0644);
	assert_int_equal(file_rewrite_at(fd, "h", "short\n", 6, 0644), 0);
	assert_string_equal(text_of(in(state, "h")), "short\n");
	assert_int_equal(stat(in(state, "h"), &b), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	/* A symbolic link: replaced by a file, its target untouched. */
	assert_int_equal(file_write_atomic_at(fd, "target", "keep\n", 5, 0644, 0), 0);
	assert_int_equal(plant_link(state, "target", "l"), 0);
	assert_int_equal(file_rewrite_at(fd, "l", "new\n", 4, 0644), 0);
	assert_int_equal(lstat(in(state, "l"), &a), 0);
	assert_true(S_ISREG(a.st_mode));
	assert_string_equal(text_of(in(state, "target")), "keep\n");
	/* A hard link to another file: replaced, the other file untouched. */
	snprintf(target, sizeof(target), "%s", in(state, "target"));
	assert_int_equal(link(target, in(state, "hard")), 0);
	assert_int_equal(file_rewrite_at(fd, "hard", "new\n", 4, 0644), 0);
	assert_string_equal(text_of(in(state, "hard")), "new\n");
	assert_string_equal(text_of(in(state, "target")), "keep\n");
	close(fd);
}

/* A link made over whatever was at the name, file or link. */
static void test_symlink_atomic(void **state)
{
	struct dir *d = *state;
	char buf[64];
	int fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ssize_t n;

	assert_true(fd >= 0);
	assert_int_equal(file_write_atomic_at(fd, "h", "file\n", 5, 0644, 0), 0);
	assert_int_equal(file_symlink_atomic_at(fd, "h", "/run/nsgate/networks/a.hosts"), 0);
	n = readlinkat(fd, "h", buf, sizeof(buf) - 1);
	assert_true(n > 0);
	buf[n] = '\0';
	assert_string_equal(buf, "/run/nsgate/networks/a.hosts");
	assert_int_equal(file_symlink_atomic_at(fd, "h", "/run/nsgate/networks/b.hosts"), 0);
	n = readlinkat(fd, "h", buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = '\0';
	assert_string_equal(buf, "/run/nsgate/networks/b.hosts");
	assert_int_equal(faccessat(fd, "h.nsgate-tmp", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	close(fd);
}

static void test_dir_open(void **state)
{
	struct dir *d = *state;
	mode_t old = umask(077);
	bool created = false;
	struct stat st;
	int dfd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC), fd = -1;

	assert_true(dfd >= 0);
	assert_int_equal(file_dir_open_at(dfd, "new", 0, 0, &fd, NULL), -ENOENT);
	/* Made with exactly the mode, under umask 077. */
	assert_int_equal(file_dir_open_at(dfd, "new", 0755, FILE_DIR_CREATE, &fd, &created), 0);
	assert_true(created);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0755);
	close(fd);
	/* There already: opened, not made, its mode left as it is. */
	assert_int_equal(chmod(in(state, "new"), 0700), 0);
	assert_int_equal(file_dir_open_at(dfd, "new", 0755, FILE_DIR_CREATE, &fd, &created), 0);
	assert_false(created);
	assert_int_equal(fstat(fd, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0700);
	close(fd);
	/* A link to a directory and a file: refused, nothing made through it. */
	assert_int_equal(plant_link(state, "new", "ln"), 0);
	assert_int_equal(plant_link(state, "gone", "dangling"), 0);
	put(in(state, "file"), "x", 1);
	assert_int_equal(file_dir_open_at(dfd, "ln", 0755, FILE_DIR_CREATE, &fd, NULL), -ENOTDIR);
	assert_contains(file_not_dir_why(dfd, "ln"), "symbolic link");
	assert_int_equal(file_dir_open_at(dfd, "dangling", 0755, FILE_DIR_CREATE, &fd, NULL), -ENOTDIR);
	assert_int_equal(access(in(state, "gone"), F_OK), -1);
	assert_int_equal(file_dir_open_at(dfd, "file", 0755, FILE_DIR_CREATE, &fd, NULL), -ENOTDIR);
	assert_string_equal(file_not_dir_why(dfd, "file"), "is not a directory");
	close(dfd);
	umask(old);
}

/* Every *.nsgate-tmp file or link goes (the link, not its target); a
 * directory so named, the bare suffix and other files stay. */
static void test_tmp_sweep(void **state)
{
	struct dir *d = *state;
	int fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct stat st;

	assert_true(fd >= 0);
	put(in(state, "victim"), "sentinel", 8);
	put(in(state, "a.state.nsgate-tmp"), "half", 4);
	assert_int_equal(plant_link(state, "victim", "b.nsgate-tmp"), 0);
	assert_int_equal(plant_link(state, "nowhere", "c.nsgate-tmp"), 0);
	assert_int_equal(mkdir(in(state, "d.nsgate-tmp"), 0755), 0);
	put(in(state, ".nsgate-tmp"), "x", 1);
	put(in(state, "keep.state"), "x", 1);
	assert_int_equal(file_tmp_sweep_at(fd), 3);
	assert_string_equal(text_of(in(state, "victim")), "sentinel");
	assert_int_equal(lstat(in(state, "b.nsgate-tmp"), &st), -1);
	assert_int_equal(stat(in(state, "d.nsgate-tmp"), &st), 0);
	assert_int_equal(stat(in(state, ".nsgate-tmp"), &st), 0);
	assert_int_equal(stat(in(state, "keep.state"), &st), 0);
	/* Again on the same descriptor: the first sweep did not move it. */
	put(in(state, "e.nsgate-tmp"), "x", 1);
	assert_int_equal(file_tmp_sweep_at(fd), 1);
	close(fd);
}

/* Reading relative to a directory: a link is refused, a FIFO read at once. */
static void test_read_small_at(void **state)
{
	struct dir *d = *state;
	int fd = open(d->path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	char buf[16];

	assert_true(fd >= 0);
	put(in(state, "f"), "abc", 3);
	assert_int_equal(plant_link(state, "f", "l"), 0);
	assert_int_equal(mkfifo(in(state, "fifo"), 0600), 0);
	assert_int_equal(file_read_small_at(fd, "f", buf, sizeof(buf)), 3);
	assert_string_equal(buf, "abc");
	assert_int_equal(file_read_small_at(fd, "l", buf, sizeof(buf)), -ELOOP);
	assert_int_equal(file_read_small_at(fd, "fifo", buf, sizeof(buf)), 0);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_all, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_all_cap, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_all_stream, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_all_errors, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_small, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_write_replaces, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_write_fails_clean, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_write_tmp_link, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_write_tmp_leftover, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_write_mode_exact, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_write_at_and_parent_link, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_rewrite_at, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_symlink_atomic, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_dir_open, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_tmp_sweep, dir_setup, dir_teardown),
		cmocka_unit_test_setup_teardown(test_read_small_at, dir_setup, dir_teardown),
	};

	return cmocka_run_group_tests_name("fileio", tests, NULL, NULL);
}
