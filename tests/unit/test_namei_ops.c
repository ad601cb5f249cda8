// SPDX-License-Identifier: MIT
/* Path operations through the VFS against a temporary host tree. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "vfs/vfs.h"

static char top[128];
static struct kbox_lookup_ctx ctx = {.root = "/", .base = "/"};

static void hpath(char *p, const char *rel)
{
	snprintf(p, PATH_MAX, "%s/%s", top, rel);
}

static void setup(void)
{
	char p[PATH_MAX];

	snprintf(top, sizeof(top), "/tmp/kbox-ops-XXXXXX");
	cr_assert_not_null(mkdtemp(top));
	hpath(p, "root");
	mkdir(p, 0755);
	hpath(p, "root/ro");
	mkdir(p, 0755);
	hpath(p, "rodir");
	mkdir(p, 0755);
	hpath(p, "rodir/f");
	close(open(p, O_CREAT | O_WRONLY, 0644));
	hpath(p, "other");
	mkdir(p, 0755);
	hpath(p, "root");
	cr_assert_eq(kbox_vfs_mount("/", p, false), 0);
	hpath(p, "rodir");
	cr_assert_eq(kbox_vfs_mount("/ro", p, true), 0);
	hpath(p, "other");
	cr_assert_eq(kbox_vfs_mount("/other", p, false), 0);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	kbox_vfs_fini();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(ops, .init = setup, .fini = teardown);

static int host_lstat(const char *rel, struct stat *st)
{
	char p[PATH_MAX];

	hpath(p, rel);
	return lstat(p, st);
}

Test(ops, create_excl_and_trunc)
{
	int fd = kbox_vfs_open(&ctx, "/f", O_CREAT | O_EXCL | O_WRONLY, 0600, NULL);
	struct stat st;

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "abc", 3), 3);
	close(fd);
	cr_assert_eq(kbox_vfs_open(&ctx, "/f", O_CREAT | O_EXCL | O_WRONLY, 0600, NULL), -EEXIST);
	cr_assert_eq(host_lstat("root/f", &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	fd = kbox_vfs_open(&ctx, "/f", O_WRONLY | O_TRUNC, 0, NULL);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(host_lstat("root/f", &st), 0);
	cr_assert_eq(st.st_size, 0);
	cr_assert_eq(kbox_vfs_open(&ctx, "/f/", O_CREAT | O_WRONLY, 0600, NULL), -EISDIR);
	cr_assert_eq(kbox_vfs_open(&ctx, "/f/", O_RDONLY, 0, NULL), -ENOTDIR);
	cr_assert_eq(kbox_vfs_open(&ctx, "/nope", O_RDONLY, 0, NULL), -ENOENT);
}

Test(ops, symlinks_and_nofollow)
{
	struct stat st;
	int fd;

	cr_assert_eq(kbox_vfs_symlink("/made", &ctx, "/dl"), 0);
	cr_assert_eq(kbox_vfs_open(&ctx, "/dl", O_RDONLY | O_NOFOLLOW, 0, NULL), -ELOOP);
	cr_assert_eq(kbox_vfs_open(&ctx, "/dl", O_CREAT | O_EXCL | O_WRONLY, 0644, NULL), -EEXIST);
	/* O_CREAT through a dangling symlink creates its target, inside the guest root. */
	fd = kbox_vfs_open(&ctx, "/dl", O_CREAT | O_WRONLY, 0644, NULL);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(host_lstat("root/made", &st), 0);
	cr_assert(S_ISREG(st.st_mode));
	fd = kbox_vfs_open(&ctx, "/dl", O_PATH | O_NOFOLLOW, 0, NULL);
	cr_assert_geq(fd, 0);
	close(fd);
	char buf[64];
	cr_assert_eq(kbox_vfs_readlink(&ctx, "/dl", 0, buf, sizeof(buf)), 5);
	cr_assert_eq(kbox_vfs_readlink(&ctx, "/made", 0, buf, sizeof(buf)), -EINVAL);
}

Test(ops, directories)
{
	struct stat st;

	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/d", 0750), 0);
	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/d", 0750), -EEXIST);
	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/d/e/", 0750), 0);
	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/", 0750), -EEXIST);
	cr_assert_eq(host_lstat("root/d/e", &st), 0);
	cr_assert_eq(kbox_vfs_rmdir(&ctx, "/d"), -ENOTEMPTY);
	cr_assert_eq(kbox_vfs_rmdir(&ctx, "/d/e/."), -EINVAL);
	cr_assert_eq(kbox_vfs_rmdir(&ctx, "/d/e/.."), -ENOTEMPTY);
	cr_assert_eq(kbox_vfs_rmdir(&ctx, "/other"), -EBUSY);
	cr_assert_eq(kbox_vfs_unlink(&ctx, "/d"), -EISDIR);
	cr_assert_eq(kbox_vfs_rmdir(&ctx, "/d/e"), 0);
	cr_assert_eq(kbox_vfs_rename(&ctx, "/d", &ctx, "/d2", 0), 0);
	cr_assert_eq(host_lstat("root/d2", &st), 0);
	cr_assert_eq(kbox_vfs_rename(&ctx, "/d2", &ctx, "/other/d2", 0), -EXDEV);
	cr_assert_eq(kbox_vfs_rename(&ctx, "/other", &ctx, "/x", 0), -EBUSY);
}

Test(ops, readonly_mount)
{
	struct stat st;

	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/ro/x", 0755), -EROFS);
	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/ro/f", 0755), -EEXIST);
	cr_assert_eq(kbox_vfs_unlink(&ctx, "/ro/f"), -EROFS);
	cr_assert_eq(kbox_vfs_chmod(&ctx, "/ro/f", KBOX_LOOKUP_FOLLOW, 0600), -EROFS);
	cr_assert_eq(kbox_vfs_chmod(&ctx, "/ro/nope", KBOX_LOOKUP_FOLLOW, 0600), -ENOENT);
	cr_assert_eq(kbox_vfs_open(&ctx, "/ro/f", O_WRONLY, 0, NULL), -EROFS);
	cr_assert_eq(kbox_vfs_open(&ctx, "/ro/g", O_CREAT | O_RDONLY, 0644, NULL), -EROFS);
	cr_assert_eq(kbox_vfs_access(&ctx, "/ro/f", KBOX_LOOKUP_FOLLOW, W_OK, false), -EROFS);
	cr_assert_eq(kbox_vfs_truncate(&ctx, "/ro/f", 0), -EROFS);
	int fd = kbox_vfs_open(&ctx, "/ro/f", O_RDONLY, 0, NULL);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(kbox_vfs_stat(&ctx, "/ro/f", 0, &st), 0);
}

Test(ops, attributes)
{
	struct timespec ts[2] = {{.tv_sec = 1000, .tv_nsec = 123456789}, {.tv_nsec = UTIME_OMIT}};
	struct stat st;
	int fd = kbox_vfs_open(&ctx, "/a", O_CREAT | O_WRONLY, 0644, NULL);

	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(kbox_vfs_chmod(&ctx, "/a", KBOX_LOOKUP_FOLLOW, 0600), 0);
	cr_assert_eq(kbox_vfs_utimens(&ctx, "/a", KBOX_LOOKUP_FOLLOW, ts), 0);
	cr_assert_eq(kbox_vfs_truncate(&ctx, "/a", 4096), 0);
	cr_assert_eq(host_lstat("root/a", &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0600);
	cr_assert_eq(st.st_atim.tv_sec, 1000);
	cr_assert_eq(st.st_atim.tv_nsec, 123456789);
	cr_assert_eq(st.st_size, 4096);
	cr_assert_eq(kbox_vfs_truncate(&ctx, "/", 0), -EISDIR);
	cr_assert_eq(kbox_vfs_access(&ctx, "/a", KBOX_LOOKUP_FOLLOW, R_OK | W_OK, false), 0);
	cr_assert_eq(kbox_vfs_symlink("a", &ctx, "/la"), 0);
	cr_assert_eq(kbox_vfs_chmod(&ctx, "/la", 0, 0600), -EOPNOTSUPP);
	cr_assert_eq(kbox_vfs_link(&ctx, "/la", KBOX_LOOKUP_FOLLOW, &ctx, "/hard"), 0);
	cr_assert_eq(host_lstat("root/hard", &st), 0);
	cr_assert(S_ISREG(st.st_mode));
}

Test(ops, fifo_would_block)
{
	bool wb = false;
	int fd;

	cr_assert_eq(kbox_vfs_mknod(&ctx, "/fifo", S_IFIFO | 0644, 0), 0);
	cr_assert_eq(kbox_vfs_mknod(&ctx, "/dev", S_IFCHR | 0644, 0x0103), -EPERM);
	cr_assert_eq(kbox_vfs_open(&ctx, "/fifo", O_RDONLY, 0, &wb), -EAGAIN);
	cr_assert(wb);
	fd = kbox_vfs_open(&ctx, "/fifo", O_RDONLY | O_NONBLOCK, 0, &wb);
	cr_assert_geq(fd, 0);
	cr_assert(!wb);
	close(fd);
	fd = kbox_vfs_open(&ctx, "/fifo", O_RDWR, 0, &wb);
	cr_assert_geq(fd, 0);
	close(fd);
}

Test(ops, unix_sockets)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0);
	struct stat st;

	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/run", 0755), 0);
	cr_assert_eq(kbox_vfs_unix_bind(&ctx, "/run/sock", s, 022), 0);
	cr_assert_eq(host_lstat("root/run/sock", &st), 0);
	cr_assert(S_ISSOCK(st.st_mode));
	cr_assert_eq(st.st_mode & 0777, 0755);
	cr_assert_eq(listen(s, 1), 0);
	cr_assert_eq(kbox_vfs_symlink("/run/sock", &ctx, "/sl"), 0);
	cr_assert_eq(kbox_vfs_unix_connect(&ctx, "/sl", c), 0);
	cr_assert_eq(kbox_vfs_unix_bind(&ctx, "/run/sock", socket(AF_UNIX, SOCK_STREAM, 0), 0),
		     -EADDRINUSE);
	close(s);
	close(c);
}
