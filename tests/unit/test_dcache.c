// SPDX-License-Identifier: MIT
/*
 * The directory cache behind the walker: a hit answers as a miss would,
 * and every namespace operation made through the VFS is seen at once.
 *
 *   root/  etc/passwd  a/b/c/f  d/sub/x  e/  lib -> a/b
 *   root/a is also mounted at /alias (the same host directory twice)
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfs/internal.h"
#include "vfs/vfs.h"

static char top[128];
static struct kbox_lookup_ctx ctx = {.root = "/", .base = "/"};

static void hpath(char *p, const char *rel)
{
	snprintf(p, PATH_MAX, "%s/root/%s", top, rel);
}

static void hmkdir(const char *rel)
{
	char p[PATH_MAX];

	hpath(p, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s", p);
}

static void hfile(const char *rel)
{
	char p[PATH_MAX];
	int fd;

	hpath(p, rel);
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0, "create %s", p);
	close(fd);
}

static void setup(void)
{
	static const char *dirs[] = {"", "etc", "a", "a/b", "a/b/c", "d", "d/sub", "e"};
	char p[PATH_MAX];
	size_t i;

	snprintf(top, sizeof(top), "/tmp/kbox-dcache-XXXXXX");
	cr_assert_not_null(mkdtemp(top));
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		hmkdir(dirs[i]);
	hfile("etc/passwd");
	hfile("a/b/c/f");
	hfile("d/sub/x");
	hpath(p, "lib");
	cr_assert_eq(symlink("a/b", p), 0);
	hpath(p, "");
	cr_assert_eq(kbox_vfs_mount("/", p, false), 0);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	kbox_vfs_fini();
	cr_assert_eq(kbox_dcache_count(), 0);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(dcache, .init = setup, .fini = teardown);

static ino_t host_ino(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	hpath(p, rel);
	cr_assert_eq(lstat(p, &st), 0, "lstat %s", p);
	return st.st_ino;
}

/* The inode @path names in the guest, or -errno as a negative number. */
static long guest_ino(const struct kbox_lookup_ctx *c, const char *path, unsigned flags)
{
	struct stat st;
	int r = kbox_vfs_stat(c, path, flags, &st);

	return r < 0 ? r : (long)st.st_ino;
}

static int open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	cr_assert_not_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

Test(dcache, hits_answer_as_misses)
{
	static const char *paths[] = {"/etc/passwd", "/a/b/c/f",      "/a/b/c", "/lib/c/f",
				      "/d/sub/x",    "/a/b/../b/c/f", "/a/b/c/"};
	static const char *want[] = {"etc/passwd", "a/b/c/f", "a/b/c", "a/b/c/f",
				     "d/sub/x",	   "a/b/c/f", "a/b/c"};
	struct kbox_lookup_ctx rel = {.root = "/", .base = "/a/b"};
	size_t i;
	int round;

	for (round = 0; round < 2; round++) {
		for (i = 0; i < sizeof(paths) / sizeof(paths[0]); i++)
			cr_assert_eq(guest_ino(&ctx, paths[i], 0), (long)host_ino(want[i]),
				     "round %d %s", round, paths[i]);
		cr_assert_eq(guest_ino(&rel, "c/f", 0), (long)host_ino("a/b/c/f"));
		cr_assert_eq(guest_ino(&rel, "../../etc/passwd", 0), (long)host_ino("etc/passwd"));
		cr_assert_eq(guest_ino(&ctx, "/a/b/c/missing", 0), -ENOENT);
		cr_assert_eq(guest_ino(&ctx, "/a/b/c/f/x", 0), -ENOTDIR);
	}
	cr_assert_gt(kbox_dcache_count(), 0);
}

Test(dcache, open_through_a_cached_parent)
{
	int fd, i;

	for (i = 0; i < 3; i++) {
		fd = kbox_vfs_open(&ctx, "/a/b/c/f", O_RDONLY, 0, NULL);
		cr_assert_geq(fd, 0);
		close(fd);
	}
	fd = kbox_vfs_open(&ctx, "/a/b/c/new", O_CREAT | O_WRONLY, 0644, NULL);
	cr_assert_geq(fd, 0);
	close(fd);
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/new", 0), (long)host_ino("a/b/c/new"));
}

Test(dcache, rename_moves_the_cached_tree)
{
	long f = (long)host_ino("a/b/c/f");

	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), f);
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), f);
	cr_assert_eq(kbox_vfs_rename(&ctx, "/a", &ctx, "/z", 0), 0);
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), -ENOENT);
	cr_assert_eq(guest_ino(&ctx, "/z/b/c/f", 0), f);
	/* A new /a with the same shape must not be answered from the old one. */
	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/a", 0755), 0);
	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/a/b", 0755), 0);
	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/a/b/c", 0755), 0);
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), -ENOENT);
	/* Moving a subtree into another cached one. */
	cr_assert_eq(kbox_vfs_rename(&ctx, "/z/b/c", &ctx, "/d/sub/c", 0), 0);
	cr_assert_eq(guest_ino(&ctx, "/z/b/c/f", 0), -ENOENT);
	cr_assert_eq(guest_ino(&ctx, "/d/sub/c/f", 0), f);
}

Test(dcache, rename_exchange_swaps_both)
{
	long f = (long)host_ino("a/b/c/f"), x = (long)host_ino("d/sub/x");

	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), f);
	cr_assert_eq(guest_ino(&ctx, "/d/sub/x", 0), x);
	cr_assert_eq(kbox_vfs_rename(&ctx, "/a/b", &ctx, "/d/sub", RENAME_EXCHANGE), 0);
	cr_assert_eq(guest_ino(&ctx, "/a/b/x", 0), x);
	cr_assert_eq(guest_ino(&ctx, "/d/sub/c/f", 0), f);
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), -ENOENT);
	cr_assert_eq(guest_ino(&ctx, "/lib/x", 0), x);
}

/* A cached directory replaced by a symlink to "/" is followed, in the guest root. */
Test(dcache, replaced_by_a_symlink_to_root)
{
	cr_assert_eq(guest_ino(&ctx, "/d/sub/x", 0), (long)host_ino("d/sub/x"));
	cr_assert_eq(kbox_vfs_symlink("/", &ctx, "/slash"), 0);
	cr_assert_eq(kbox_vfs_rename(&ctx, "/d", &ctx, "/old", 0), 0);
	cr_assert_eq(kbox_vfs_rename(&ctx, "/slash", &ctx, "/d", 0), 0);
	cr_assert_eq(guest_ino(&ctx, "/d/sub/x", 0), -ENOENT);
	cr_assert_eq(guest_ino(&ctx, "/d/etc/passwd", 0), (long)host_ino("etc/passwd"));
	cr_assert_eq(guest_ino(&ctx, "/d/d/d/etc/passwd", 0), (long)host_ino("etc/passwd"));
	cr_assert_eq(guest_ino(&ctx, "/d/../../d/etc/passwd", 0), (long)host_ino("etc/passwd"));
	cr_assert_eq(guest_ino(&ctx, "/old/sub/x", 0), (long)host_ino("old/sub/x"));
}

/* The host changing the tree behind kbox's back: stale, but never outside the root. */
Test(dcache, stale_never_escapes)
{
	char from[PATH_MAX], to[PATH_MAX];
	long r;

	cr_assert_eq(guest_ino(&ctx, "/d/sub/x", 0), (long)host_ino("d/sub/x"));
	hpath(from, "d");
	hpath(to, "moved");
	cr_assert_eq(rename(from, to), 0);
	cr_assert_eq(symlink("/", from), 0);
	r = guest_ino(&ctx, "/d/sub/x", 0);
	cr_assert(r == -ENOENT || r == (long)host_ino("moved/sub/x"), "got %ld", r);
	r = guest_ino(&ctx, "/d/sub/tmp", 0);
	cr_assert_eq(r, -ENOENT);
}

Test(dcache, rmdir_then_mkdir_same_name)
{
	int fd;

	hmkdir("r");
	hfile("r/f");
	cr_assert_eq(guest_ino(&ctx, "/r/f", 0), (long)host_ino("r/f"));
	cr_assert_eq(kbox_vfs_unlink(&ctx, "/r/f"), 0);
	cr_assert_eq(kbox_vfs_rmdir(&ctx, "/r"), 0);
	cr_assert_eq(guest_ino(&ctx, "/r/f", 0), -ENOENT);
	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/r", 0755), 0);
	fd = kbox_vfs_open(&ctx, "/r/g", O_CREAT | O_WRONLY, 0644, NULL);
	cr_assert_geq(fd, 0, "open /r/g: %d", fd);
	close(fd);
	cr_assert_eq(guest_ino(&ctx, "/r/g", 0), (long)host_ino("r/g"));
	cr_assert_eq(guest_ino(&ctx, "/r/f", 0), -ENOENT);
}

Test(dcache, unlink_and_symlink_over_a_name)
{
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), (long)host_ino("a/b/c/f"));
	cr_assert_eq(kbox_vfs_rename(&ctx, "/a/b/c", &ctx, "/c2", 0), 0);
	cr_assert_eq(kbox_vfs_symlink("/d/sub", &ctx, "/a/b/c"), 0);
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/x", 0), (long)host_ino("d/sub/x"));
	cr_assert_eq(kbox_vfs_unlink(&ctx, "/a/b/c"), 0);
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/x", 0), -ENOENT);
}

/* Symlinks read once are answered from the cache until their name changes. */
Test(dcache, cached_symlinks_follow_changes)
{
	long f = (long)host_ino("a/b/c/f"), x = (long)host_ino("d/sub/x");
	int i;

	cr_assert_eq(kbox_vfs_symlink("f", &ctx, "/a/b/c/lnk"), 0);
	for (i = 0; i < 2; i++) {
		cr_assert_eq(guest_ino(&ctx, "/lib/c/f", 0), f);
		cr_assert_eq(guest_ino(&ctx, "/lib/c/lnk", KBOX_LOOKUP_FOLLOW), f);
		cr_assert_eq(guest_ino(&ctx, "/lib/c/lnk", 0), (long)host_ino("a/b/c/lnk"));
	}
	cr_assert_eq(kbox_vfs_unlink(&ctx, "/a/b/c/lnk"), 0);
	cr_assert_eq(kbox_vfs_symlink("/d/sub/x", &ctx, "/a/b/c/lnk"), 0);
	cr_assert_eq(guest_ino(&ctx, "/lib/c/lnk", KBOX_LOOKUP_FOLLOW), x);
	cr_assert_eq(kbox_vfs_symlink("d/sub", &ctx, "/tmpl"), 0);
	cr_assert_eq(kbox_vfs_rename(&ctx, "/tmpl", &ctx, "/lib", 0), 0);
	cr_assert_eq(guest_ino(&ctx, "/lib/x", 0), x);
	cr_assert_eq(guest_ino(&ctx, "/lib/c/f", 0), -ENOENT);
	cr_assert_eq(kbox_vfs_rename(&ctx, "/lib", &ctx, "/lib2", 0), 0);
	cr_assert_eq(kbox_vfs_mkdir(&ctx, "/lib", 0755), 0);
	cr_assert_eq(guest_ino(&ctx, "/lib/x", 0), -ENOENT);
	cr_assert_eq(guest_ino(&ctx, "/lib2/x", 0), x);
	cr_assert_eq(kbox_vfs_rmdir(&ctx, "/lib"), 0);
	cr_assert_eq(kbox_vfs_symlink("lib2", &ctx, "/lib"), 0);
	cr_assert_eq(guest_ino(&ctx, "/lib/x", 0), x);
}

/* A directory that loses its search permission hides what the cache held below it. */
Test(dcache, chmod_of_a_cached_parent)
{
	if (geteuid() == 0)
		cr_skip_test("root walks through mode 000");
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), (long)host_ino("a/b/c/f"));
	cr_assert_eq(kbox_vfs_chmod(&ctx, "/a/b/", KBOX_LOOKUP_FOLLOW, 0), 0);
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), -EACCES);
	cr_assert_eq(kbox_vfs_chmod(&ctx, "/a/b", KBOX_LOOKUP_FOLLOW, 0755), 0);
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), (long)host_ino("a/b/c/f"));
	cr_assert_eq(kbox_vfs_chmod(&ctx, "/lib", KBOX_LOOKUP_FOLLOW, 0), 0);
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), -EACCES);
	cr_assert_eq(kbox_vfs_chmod(&ctx, "/a/b", 0, 0755), 0);
}

/* The same host directory at two guest paths: a change through one shows in both. */
Test(dcache, aliased_mounts)
{
	char p[PATH_MAX];

	hpath(p, "a");
	cr_assert_eq(kbox_vfs_mount("/e", p, false), 0);
	cr_assert_eq(guest_ino(&ctx, "/e/b/c/f", 0), (long)host_ino("a/b/c/f"));
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), (long)host_ino("a/b/c/f"));
	cr_assert_eq(kbox_vfs_rename(&ctx, "/e/b", &ctx, "/e/q", 0), 0);
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), -ENOENT);
	cr_assert_eq(guest_ino(&ctx, "/a/q/c/f", 0), (long)host_ino("a/q/c/f"));
	cr_assert_eq(guest_ino(&ctx, "/e/b/c/f", 0), -ENOENT);
}

/* Far more directories than entries: bounded, and still right after eviction. */
Test(dcache, eviction_keeps_fds_bounded)
{
	char rel[64], guest[64];
	int i, round, before = open_fds();

	for (i = 0; i < 1500; i++) {
		snprintf(rel, sizeof(rel), "e/%d", i);
		hmkdir(rel);
		snprintf(rel, sizeof(rel), "e/%d/f", i);
		hfile(rel);
	}
	for (round = 0; round < 2; round++) {
		for (i = 0; i < 1500; i++) {
			snprintf(guest, sizeof(guest), "/e/%d/f", i);
			snprintf(rel, sizeof(rel), "e/%d/f", i);
			cr_assert_eq(guest_ino(&ctx, guest, 0), (long)host_ino(rel), "%s", guest);
		}
	}
	cr_assert_leq(kbox_dcache_count(), 512);
	cr_assert_leq(open_fds() - before, 512);
	kbox_dcache_flush();
	cr_assert_eq(kbox_dcache_count(), 0);
	cr_assert_eq(open_fds(), before);
}

Test(dcache, can_be_turned_off)
{
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), (long)host_ino("a/b/c/f"));
	cr_assert_gt(kbox_dcache_count(), 0);
	kbox_vfs_dcache_enable(false);
	cr_assert_eq(kbox_dcache_count(), 0);
	cr_assert_eq(guest_ino(&ctx, "/lib/c/f", 0), (long)host_ino("a/b/c/f"));
	cr_assert_eq(kbox_dcache_count(), 0);
	kbox_vfs_dcache_enable(true);
	cr_assert_eq(guest_ino(&ctx, "/lib/c/f", 0), (long)host_ino("a/b/c/f"));
	cr_assert_gt(kbox_dcache_count(), 0);
}

/* No cr_assert off the main thread: the answer is returned. */
static void *stat_loop(void *arg)
{
	long want = *(long *)arg;
	struct stat st;
	int i, r;

	for (i = 0; i < 2000; i++) {
		r = kbox_vfs_stat(&ctx, i & 1 ? "/a/b/c/f" : "/z/b/c/f", 0, &st);
		if (r != -ENOENT && (r != 0 || (long)st.st_ino != want))
			return (void *)1;
	}
	return NULL;
}

/* Lookups on other threads while this one renames back and forth. */
Test(dcache, threads_race_renames)
{
	long f = (long)host_ino("a/b/c/f");
	pthread_t th[4];
	void *res;
	int i;

	for (i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, stat_loop, &f), 0);
	for (i = 0; i < 500; i++) {
		kbox_vfs_rename(&ctx, "/a", &ctx, "/z", 0);
		kbox_vfs_rename(&ctx, "/z", &ctx, "/a", 0);
	}
	for (i = 0; i < 4; i++) {
		cr_assert_eq(pthread_join(th[i], &res), 0);
		cr_assert_null(res);
	}
	cr_assert_eq(guest_ino(&ctx, "/a/b/c/f", 0), (long)host_ino("a/b/c/f"));
}
