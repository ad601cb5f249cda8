// SPDX-License-Identifier: MIT
/*
 * The VFS over an ext4 image (src/vfs/image.c): walking, opening as memfds
 * and stand-in directories, getdents, namespace operations, write-back, and
 * a host directory mounted over the image. The image comes from mke2fs -d
 * of a small tree; e2fsck -fn must find it clean after every test.
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "vfs/vfs.h"

static char top[128], img[PATH_MAX];
static struct kbox_lookup_ctx ctx = {.root = "/", .base = "/"};

static void run(const char *fmt, const char *a, const char *b)
{
	char cmd[3 * PATH_MAX];

	snprintf(cmd, sizeof(cmd), fmt, a, b);
	cr_assert_eq(system(cmd), 0, "%s", cmd);
}

static void setup(void)
{
	snprintf(top, sizeof(top), "/tmp/kbox-img-test-XXXXXX");
	cr_assert_not_null(mkdtemp(top));
	run("cd '%s' && mkdir -p tree/etc tree/d/sub host && echo hello >tree/etc/f && "
	    "ln -s ../etc/f tree/d/l && ln -s /etc tree/abs && echo host >host/h%s",
	    top, "");
	snprintf(img, sizeof(img), "%s/i.ext4", top);
	run("mke2fs -q -F -t ext4 -d '%s/tree' '%s' 8M", top, img);
	cr_assert_eq(kbox_vfs_mount_image("/", img, false, NULL, 0), 0);
	cr_assert(kbox_vfs_has_image());
}

/* e2fsck -fn clean (while open read-write: after kbox_vfs_image_sync()). */
static void fsck(void)
{
	run("e2fsck -fn '%s' >/dev/null 2>&1%s", img, "");
}

static void teardown(void)
{
	kbox_vfs_fini(); /* writes back and closes the image */
	fsck();
	run("rm -rf '%s'%s", top, "");
}

TestSuite(image, .init = setup, .fini = teardown);

static void read_all(int fd, char *buf, size_t size)
{
	ssize_t n = pread(fd, buf, size - 1, 0);

	cr_assert_geq(n, 0);
	buf[n] = '\0';
}

Test(image, stat_and_symlinks)
{
	struct stat st, dst;
	char buf[64];

	cr_assert_eq(kbox_vfs_stat(&ctx, "/etc/f", KBOX_LOOKUP_FOLLOW, &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	cr_assert_eq(st.st_size, 6);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/d/l", KBOX_LOOKUP_FOLLOW, &dst), 0);
	cr_assert_eq(dst.st_ino, st.st_ino);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/d/l", 0, &dst), 0);
	cr_assert(S_ISLNK(dst.st_mode));
	cr_assert_eq(kbox_vfs_readlink(&ctx, "/d/l", 0, buf, sizeof(buf)), 8);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/abs/f", KBOX_LOOKUP_FOLLOW, &dst), 0);
	cr_assert_eq(dst.st_ino, st.st_ino);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/d/sub/../../etc/./f", KBOX_LOOKUP_FOLLOW, &dst), 0);
	cr_assert_eq(dst.st_ino, st.st_ino);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/etc/f/x", 0, &dst), -ENOTDIR);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/nope", 0, &dst), -ENOENT);
}

Test(image, open_shares_one_memfd)
{
	struct stat a, b, g;
	char buf[64];
	int fd1 = kbox_vfs_open(&ctx, "/etc/f", O_RDONLY, 0, NULL);
	int fd2 = kbox_vfs_open(&ctx, "/d/l", O_RDONLY, 0, NULL);

	cr_assert_geq(fd1, 0);
	cr_assert_geq(fd2, 0);
	read_all(fd1, buf, sizeof(buf));
	cr_assert_str_eq(buf, "hello\n");
	cr_assert_eq(fstat(fd1, &a), 0);
	cr_assert_eq(fstat(fd2, &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino); /* the same memfd */
	cr_assert_eq(kbox_vfs_image_fstat(fd1, &g), 0);
	cr_assert_eq(g.st_size, 6);
	cr_assert_eq(kbox_vfs_guest_path_of_fd(fd1, buf, sizeof(buf)), 6);
	cr_assert_str_eq(buf, "/etc/f");
	close(fd1);
	close(fd2);
}

Test(image, write_then_stat_then_writeback)
{
	struct stat st;
	char buf[64];
	int fd = kbox_vfs_open(&ctx, "/new", O_CREAT | O_WRONLY | O_EXCL, 0640, NULL);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "data", 4), 4);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/new", 0, &st), 0);
	cr_assert_eq(st.st_size, 4); /* the memfd's size before write-back */
	cr_assert_eq(st.st_mode & 07777, 0640);
	cr_assert_eq(kbox_vfs_image_fsync(fd, false), 0);
	close(fd);
	cr_assert_eq(kbox_vfs_open(&ctx, "/new", O_CREAT | O_EXCL | O_RDWR, 0600, NULL), -EEXIST);
	fd = kbox_vfs_open(&ctx, "/new", O_WRONLY | O_APPEND, 0, NULL);
	cr_assert_eq(write(fd, "+", 1), 1);
	close(fd);
	fd = kbox_vfs_open(&ctx, "/new", O_RDONLY, 0, NULL);
	read_all(fd, buf, sizeof(buf));
	cr_assert_str_eq(buf, "data+");
	close(fd);
	fd = kbox_vfs_open(&ctx, "/new", O_WRONLY | O_TRUNC, 0, NULL);
	close(fd);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/new", 0, &st), 0);
	cr_assert_eq(st.st_size, 0);
	cr_assert_eq(kbox_vfs_image_sync(), 0);
	fsck();
}

static int count_entries(int fd)
{
	union {
		struct dirent64 d;
		char raw[256];
	} buf;
	long n;
	int count = 0;

	while ((n = kbox_vfs_getdents(fd, buf.raw, sizeof(buf.raw), true)) > 0) {
		for (long off = 0; off < n;) {
			unsigned short reclen;

			memcpy(&reclen, buf.raw + off + offsetof(struct dirent64, d_reclen),
			       sizeof(reclen));
			off += reclen;
			count++;
		}
	}
	cr_assert_eq(n, 0);
	return count;
}

Test(image, namespace_and_getdents)
{
	struct stat st;
	int fd;

	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/d/m", 0755), 0);
	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/d/m", 0755), -EEXIST);
	cr_assert_eq(kbox_vfs_symlink("x", &ctx, "/d/s"), 0);
	cr_assert_eq(kbox_vfs_link(&ctx, "/etc/f", 0, &ctx, "/d/h"), 0);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/etc/f", 0, &st), 0);
	cr_assert_eq(st.st_nlink, 2);
	cr_assert_eq(kbox_vfs_rename(&ctx, "/d/h", &ctx, "/d/m/h", 0), 0);
	cr_assert_eq(kbox_vfs_rmdir(&ctx, "/d/m"), -ENOTEMPTY);
	cr_assert_eq(kbox_vfs_unlink(&ctx, "/d/m/h"), 0);
	cr_assert_eq(kbox_vfs_rmdir(&ctx, "/d/m"), 0);
	fd = kbox_vfs_open(&ctx, "/d", O_RDONLY | O_DIRECTORY, 0, NULL);
	cr_assert_geq(fd, 0);
	cr_assert_eq(count_entries(fd), 5); /* . .. sub l s */
	cr_assert_eq(lseek(fd, 0, SEEK_SET), 0);
	cr_assert_eq(count_entries(fd), 5);
	close(fd);
	cr_assert_eq(kbox_vfs_chmod(&ctx, "/etc/f", 0, 0600), 0);
	cr_assert_eq(kbox_vfs_chown(&ctx, "/etc/f", 0, (uid_t)-1, getgid()), 0);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/etc/f", 0, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(kbox_vfs_truncate(&ctx, "/etc/f", 3), 0);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/etc/f", 0, &st), 0);
	cr_assert_eq(st.st_size, 3);
	cr_assert_eq(kbox_vfs_image_sync(), 0); /* bitmaps are written at a flush */
	fsck();
}

Test(image, host_mount_over_image)
{
	char p[PATH_MAX];
	struct stat root, h;
	int fd;

	snprintf(p, sizeof(p), "%s/host", top);
	cr_assert_eq(kbox_vfs_mount("/d/sub", p, false), 0);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/d/sub/h", 0, &h), 0);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/", 0, &root), 0);
	cr_assert_neq(h.st_dev, root.st_dev);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/d/sub/../l", 0, &h), 0);
	cr_assert(S_ISLNK(h.st_mode));
	fd = kbox_vfs_open(&ctx, "/d/sub/h", O_RDONLY, 0, NULL);
	cr_assert_geq(fd, 0);
	close(fd);
}

Test(image, read_only_image)
{
	kbox_vfs_fini();
	cr_assert_eq(kbox_vfs_mount_image("/", img, true, NULL, 0), 0);
	cr_assert_eq(kbox_vfs_open(&ctx, "/x", O_CREAT | O_WRONLY, 0644, NULL), -EROFS);
	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/y", 0755), -EROFS);
	cr_assert_eq(kbox_vfs_open(&ctx, "/etc/f", O_WRONLY, 0, NULL), -EROFS);
}

/* ---- spill files and the copy budget (imagestore.c, imageuse.c) ---- */

static int no_guests(int (*fn)(pid_t pid, void *arg), void *arg)
{
	(void)fn;
	(void)arg;
	return 0; /* this test process is kbox and its own only "guest" */
}

/*
 * Image file copies this process holds (memfds, named copies and spill
 * files), and into *@mem_bytes (when given) the memory the memfds and named
 * copies among them use.
 */
static int copies_held(long long *mem_bytes)
{
	char path[64], link[PATH_MAX];
	struct dirent *de;
	struct stat st;
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while ((de = readdir(d))) {
		ssize_t len;

		snprintf(path, sizeof(path), "/proc/self/fd/%.16s", de->d_name);
		len = readlink(path, link, sizeof(link) - 1);
		if (len <= 0)
			continue;
		link[len] = '\0';
		n += strstr(link, "kbox-image:") != NULL || strstr(link, "/#") != NULL;
		if (mem_bytes && strstr(link, "kbox-image:") && stat(path, &st) == 0)
			*mem_bytes += (long long)st.st_blocks * 512;
	}
	closedir(d);
	return n;
}

static int count_copies(void)
{
	return copies_held(NULL);
}

Test(image, large_file_gets_a_spill_file_written_back)
{
	char link[PATH_MAX], path[64], buf[64];
	ssize_t n;
	int fd;

	setenv("KBOX_IMAGE_SPILL", "1", 1); /* every non-empty file spills */
	fd = kbox_vfs_open(&ctx, "/etc/f", O_RDWR, 0, NULL);
	cr_assert_geq(fd, 0);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, sizeof(link) - 1);
	cr_assert_gt(n, 0);
	link[n] = '\0';
	if (!strncmp(link, "/memfd:", 7))
		cr_skip_test("no disk file system for spill files here (a memfd was used)");
	cr_expect(strstr(link, "/#") && strstr(link, "(deleted)"), "not a spill file: %s", link);
	read_all(fd, buf, sizeof(buf));
	cr_assert_str_eq(buf, "hello\n");
	cr_assert_eq(pwrite(fd, "HELLO", 5, 0), 5);
	cr_assert_eq(kbox_vfs_image_fsync(fd, false), 0);
	close(fd);
	kbox_vfs_fini(); /* closes the image: the next open reads it anew */
	cr_assert_eq(kbox_vfs_mount_image("/", img, true, NULL, 0), 0);
	setenv("KBOX_IMAGE_SPILL", "1000000", 1);
	fd = kbox_vfs_open(&ctx, "/etc/f", O_RDONLY, 0, NULL);
	cr_assert_geq(fd, 0);
	read_all(fd, buf, sizeof(buf));
	cr_assert_str_eq(buf, "HELLO\n");
	close(fd);
}

Test(image, budget_drops_unused_copies_keeps_held_ones)
{
	char name[32], buf[64];
	int held, fd;

	setenv("KBOX_IMAGE_BUDGET", "4096,2", 1);
	kbox_vfs_set_guest_walk(no_guests);
	held = kbox_vfs_open(&ctx, "/etc/f", O_RDONLY, 0, NULL);
	cr_assert_geq(held, 0);
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "/f%d", i);
		fd = kbox_vfs_open(&ctx, name, O_CREAT | O_WRONLY, 0644, NULL);
		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, name, strlen(name)), (ssize_t)strlen(name));
		close(fd);
	}
	/* kbox's own copies, plus the held fd's: far fewer than 21. */
	cr_expect_leq(count_copies(), 5, "%d copies kept", count_copies());
	/* The held file's copy was kept: a write through a new fd reaches the held one. */
	fd = kbox_vfs_open(&ctx, "/etc/f", O_WRONLY | O_APPEND, 0, NULL);
	cr_assert_eq(write(fd, "more\n", 5), 5);
	close(fd);
	read_all(held, buf, sizeof(buf));
	cr_expect_str_eq(buf, "hello\nmore\n");
	close(held);
	/* Dropped copies were written back first: every file reads back. */
	for (int i = 0; i < 20; i++) {
		snprintf(name, sizeof(name), "/f%d", i);
		fd = kbox_vfs_open(&ctx, name, O_RDONLY, 0, NULL);
		cr_assert_geq(fd, 0);
		read_all(fd, buf, sizeof(buf));
		cr_expect_str_eq(buf, name);
		close(fd);
	}
}

/* The copy directory of the image mounted with KBOX_IMAGE_COPY_DIR=@where, from fd @fd's link. */
static void remount_with_copies_in(const char *where)
{
	kbox_vfs_fini();
	setenv("KBOX_IMAGE_COPY_DIR", where, 1);
	cr_assert_eq(kbox_vfs_mount_image("/", img, false, NULL, 0), 0);
}

static void link_of(int fd, char *link, size_t size)
{
	char path[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, link, size - 1);
	cr_assert_gt(n, 0);
	link[n] = '\0';
}

/* Entries in the directory holding @copy_link's file. */
static int files_beside(const char *copy_link)
{
	char dir[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n = 0;

	snprintf(dir, sizeof(dir), "%s", copy_link);
	*strrchr(dir, '/') = '\0';
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

Test(image, copies_are_files_on_tmpfs_reopened_by_name)
{
	char link[PATH_MAX], link2[PATH_MAX], dir[PATH_MAX], buf[64];
	struct stat st;
	int fd, fd2;

	remount_with_copies_in("/dev/shm");
	fd = kbox_vfs_open(&ctx, "/etc/f", O_RDONLY, 0, NULL);
	cr_assert_geq(fd, 0);
	link_of(fd, link, sizeof(link));
	if (!strncmp(link, "/memfd:", 7))
		cr_skip_test("/dev/shm is no tmpfs that allows exec here (a memfd was used)");
	cr_expect(!strncmp(link, "/dev/shm/kbox-copies-", 21) && strstr(link, "/kbox-image:"),
		  "not a named copy: %s", link);
	/* A second open is its own open file description of the same file. */
	cr_assert_eq(read(fd, buf, 2), 2);
	fd2 = kbox_vfs_open(&ctx, "/etc/f", O_RDONLY, 0, NULL);
	cr_assert_geq(fd2, 0);
	link_of(fd2, link2, sizeof(link2));
	cr_expect_str_eq(link2, link);
	cr_assert_eq(read(fd2, buf, 6), 6);
	cr_expect_eq(memcmp(buf, "hello\n", 6), 0);
	cr_expect_eq(fcntl(fd2, F_GETFL) & O_ACCMODE, O_RDONLY);
	cr_expect_eq(write(fd2, "x", 1), -1, "a read-only open of the copy writes");
	close(fd);
	close(fd2);
	/* The run's directory goes with the image. */
	snprintf(dir, sizeof(dir), "%s", link);
	*strrchr(dir, '/') = '\0';
	kbox_vfs_fini();
	cr_expect_neq(stat(dir, &st), 0, "%s is left after the image was closed", dir);
	cr_assert_eq(kbox_vfs_mount_image("/", img, false, NULL, 0), 0);
}

Test(image, dropped_copies_leave_no_files_behind)
{
	char name[32], link[PATH_MAX];
	int fd;

	remount_with_copies_in("/dev/shm");
	setenv("KBOX_IMAGE_BUDGET", "4096,2", 1);
	kbox_vfs_set_guest_walk(no_guests);
	for (int i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "/g%d", i);
		fd = kbox_vfs_open(&ctx, name, O_CREAT | O_RDWR, 0644, NULL);
		cr_assert_geq(fd, 0);
		cr_assert_eq(write(fd, name, strlen(name)), (ssize_t)strlen(name));
		if (i == 39)
			link_of(fd, link, sizeof(link));
		close(fd);
	}
	if (!strncmp(link, "/memfd:", 7))
		cr_skip_test("/dev/shm is no tmpfs that allows exec here (a memfd was used)");
	/* Only the copies kbox still holds have a file (each made at most 64 copies ago). */
	cr_expect_eq(files_beside(link), count_copies());
	cr_expect_leq(count_copies(), 2 + 64);
}

Test(image, copies_are_memfds_when_asked)
{
	char link[PATH_MAX], buf[64];
	int fd;

	remount_with_copies_in("memfd");
	fd = kbox_vfs_open(&ctx, "/etc/f", O_RDONLY, 0, NULL);
	cr_assert_geq(fd, 0);
	link_of(fd, link, sizeof(link));
	cr_expect(!strncmp(link, "/memfd:kbox-image:", 18), "not a memfd: %s", link);
	read_all(fd, buf, sizeof(buf));
	cr_expect_str_eq(buf, "hello\n");
	close(fd);
}

Test(image, write_back_keeps_the_copys_mtime)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, {.tv_sec = 1000000000, .tv_nsec = 5}};
	struct stat st;
	int fd = kbox_vfs_open(&ctx, "/etc/f", O_WRONLY | O_APPEND, 0, NULL);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "x", 1), 1);
	/* As a guest's futimens() on its fd: it reaches only the copy. */
	cr_assert_eq(futimens(fd, ts), 0);
	close(fd);
	kbox_vfs_fini(); /* writes back */
	cr_assert_eq(kbox_vfs_mount_image("/", img, true, NULL, 0), 0);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/etc/f", 0, &st), 0);
	cr_expect_eq(st.st_size, 7);
	cr_expect_eq(st.st_mtim.tv_sec, 1000000000);
	cr_expect_eq(st.st_mtim.tv_nsec, 5);
}

/* Memory of the memfds and named copies this process holds. */
static long long copy_bytes(void)
{
	long long b = 0;

	copies_held(&b);
	return b;
}

Test(image, budget_counts_bytes_written_into_new_files)
{
	static char data[32 << 10];
	char name[32];
	int fd;

	setenv("KBOX_IMAGE_BUDGET", "1048576,100000", 1); /* 1 MiB, any number of copies */
	setenv("KBOX_IMAGE_SPILL", "1000000000", 1);
	kbox_vfs_set_guest_walk(no_guests);
	memset(data, 'x', sizeof(data));
	/* 150 new files of 32 KiB: each starts empty, so only a recount sees them grow. */
	for (int i = 0; i < 150; i++) {
		snprintf(name, sizeof(name), "/g%d", i);
		fd = kbox_vfs_open(&ctx, name, O_CREAT | O_WRONLY, 0644, NULL);
		cr_assert_geq(fd, 0, "open %s: %d", name, fd);
		cr_assert_eq(write(fd, data, sizeof(data)), (ssize_t)sizeof(data));
		close(fd);
	}
	/* At most the budget and the 64 copies made since the last count. */
	cr_expect_leq(copy_bytes(), (1 << 20) + 65 * (long long)sizeof(data), "%lld bytes held",
		      copy_bytes());
}
