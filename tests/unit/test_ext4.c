// SPDX-License-Identifier: MIT
/*
 * The ext4 image backend against images made by `mke2fs -t ext4 -d` and by
 * kbox_ext4_image_create(), each in its own temp dir. After every test
 * that writes, the image is closed and `e2fsck -fn` must find it clean.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <linux/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs/ext4/ext4.h"
#include "fs/ext4/internal.h"
#include "fs/hostdir/meta.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE	 (1 << 1)
#endif

static char tmp[64], img[128], src[128];
static struct kbox_ext4 *x;

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	cr_assert_eq(system(cmd), 0, "failed: %s", cmd);
}

static int fsck(const char *opts)
{
	char cmd[512];
	int st;

	snprintf(cmd, sizeof(cmd), "e2fsck %s %s >%s/fsck.log 2>&1", opts, img, tmp);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void assert_fsck_clean(void)
{
	int rc = fsck("-fn");

	if (rc) {
		char cmd[256];

		snprintf(cmd, sizeof(cmd), "cat %s/fsck.log >&2", tmp);
		(void)!system(cmd);
	}
	cr_assert_eq(rc, 0, "e2fsck -fn found problems (exit %d)", rc);
}

/* A source tree with one of each kind, then an image of it from mke2fs -d. */
static void make_tree(void)
{
	sh("mkdir -p %s/d/sub && printf 'hello\\n' > %s/hello && ln %s/hello %s/hl && "
	   "ln -s hello %s/sl && mkfifo %s/fifo && truncate -s 10M %s/sparse && "
	   "printf mid | dd of=%s/sparse bs=1 seek=5000000 conv=notrunc status=none && "
	   "head -c 300000 /dev/urandom > %s/d/sub/rand",
	   src, src, src, src, src, src, src, src, src);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/kbox-ext4-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(img, sizeof(img), "%s/img", tmp);
	snprintf(src, sizeof(src), "%s/src", tmp);
	sh("mkdir %s", src);
	make_tree();
	sh("mke2fs -q -F -t ext4 -b 4096 -d %s %s 64M", src, img);
	x = NULL;
}

static void teardown(void)
{
	if (x)
		kbox_ext4_close(x);
	sh("rm -rf %s", tmp);
}

static void open_rw(void)
{
	char why[256];
	int err = kbox_ext4_open(img, true, &x, why, sizeof(why));

	cr_assert_eq(err, 0, "open: %s", why);
}

/* Close (flush, mark clean) and check the image. */
static void close_and_check(void)
{
	cr_assert_eq(kbox_ext4_close(x), 0);
	x = NULL;
	assert_fsck_clean();
}

static uint32_t walk(const char *path)
{
	char buf[256], *save, *c;
	uint32_t ino = KBOX_EXT4_ROOT_INO;

	snprintf(buf, sizeof(buf), "%s", path);
	for (c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save))
		cr_assert_eq(kbox_ext4_lookup(x, ino, c, &ino), 0, "lookup %s", c);
	return ino;
}

static struct stat st_of(uint32_t ino)
{
	struct stat st;

	cr_assert_eq(kbox_ext4_getattr(x, ino, &st), 0);
	return st;
}

TestSuite(ext4, .init = setup, .fini = teardown);

Test(ext4, lookup_and_getattr_match_the_source)
{
	struct stat host, st;
	uint32_t ino, hl;
	char path[256];

	open_rw();
	ino = walk("hello");
	hl = walk("hl");
	cr_expect_eq(ino, hl, "hard links share an inode");
	st = st_of(ino);
	snprintf(path, sizeof(path), "%s/hello", src);
	stat(path, &host);
	cr_expect_eq(st.st_size, 6);
	cr_expect_eq(st.st_nlink, 2);
	cr_expect_eq(st.st_mode, host.st_mode);
	cr_expect_eq(st.st_mtim.tv_sec, host.st_mtim.tv_sec);
	cr_expect(S_ISFIFO(st_of(walk("fifo")).st_mode));
	cr_expect(S_ISLNK(st_of(walk("sl")).st_mode));
	cr_expect(S_ISDIR(st_of(walk("d/sub")).st_mode));
	cr_expect_eq(kbox_ext4_lookup(x, KBOX_EXT4_ROOT_INO, "nope", &ino), -ENOENT);
	cr_expect_eq(kbox_ext4_lookup(x, walk("hello"), "x", &ino), -ENOTDIR);
	cr_expect_eq(kbox_ext4_lookup(x, walk("d/sub"), "..", &ino), 0);
	cr_expect_eq(ino, walk("d"));
	close_and_check();
}

Test(ext4, statx_has_btime_and_nanoseconds)
{
	struct kbox_ext4_setattr sa = {.valid = KBOX_EXT4_SET_ATIME | KBOX_EXT4_SET_MTIME};
	struct statx stx;
	uint32_t ino;

	open_rw();
	ino = walk("hello");
	sa.atime = (struct timespec){1234567890, 123456789};
	sa.mtime = (struct timespec){4102444800ll, 999999999}; /* 2100: needs the epoch bits */
	cr_assert_eq(kbox_ext4_setattr(x, ino, &sa), 0);
	cr_assert_eq(kbox_ext4_statx(x, ino, &stx), 0);
	cr_expect(stx.stx_mask & STATX_BTIME);
	cr_expect_gt(stx.stx_btime.tv_sec, 0);
	cr_expect_eq(stx.stx_atime.tv_sec, 1234567890);
	cr_expect_eq(stx.stx_atime.tv_nsec, 123456789);
	cr_expect_eq(stx.stx_mtime.tv_sec, 4102444800ll);
	cr_expect_eq(stx.stx_mtime.tv_nsec, 999999999);
	close_and_check();
}

Test(ext4, read_sparse_and_seek_data_hole)
{
	char buf[16], zero[16] = {0};
	uint32_t ino;

	open_rw();
	ino = walk("sparse");
	cr_expect_eq(kbox_ext4_read(x, ino, buf, 3, 5000000), 3);
	cr_expect_arr_eq(buf, "mid", 3);
	cr_expect_eq(kbox_ext4_read(x, ino, buf, 16, 100), 16);
	cr_expect_arr_eq(buf, zero, 16);
	cr_expect_eq(kbox_ext4_read(x, ino, buf, 16, 10 << 20), 0);
	cr_expect_eq(kbox_ext4_seek(x, ino, 0, SEEK_DATA), 5000000 / 4096 * 4096);
	cr_expect_eq(kbox_ext4_seek(x, ino, 0, SEEK_HOLE), 0);
	cr_expect_eq(kbox_ext4_seek(x, ino, 5000000, SEEK_HOLE), (5000000 / 4096 + 1) * 4096);
	cr_expect_eq(kbox_ext4_seek(x, ino, 6000000, SEEK_DATA), -ENXIO);
	cr_expect_eq(kbox_ext4_seek(x, ino, 10 << 20, SEEK_HOLE), -ENXIO);
	close_and_check();
}

Test(ext4, big_file_reads_byte_for_byte)
{
	char path[256], *want = malloc(300000), *got = malloc(300000);
	uint32_t ino;
	FILE *f;

	snprintf(path, sizeof(path), "%s/d/sub/rand", src);
	f = fopen(path, "rb");
	cr_assert_eq(fread(want, 1, 300000, f), 300000);
	fclose(f);
	open_rw();
	ino = walk("d/sub/rand");
	cr_assert_eq(kbox_ext4_read(x, ino, got, 300000, 0), 300000);
	cr_expect_arr_eq(got, want, 300000);
	cr_assert_eq(kbox_ext4_read(x, ino, got, 1000, 4000), 1000);
	cr_expect_arr_eq(got, want + 4000, 1000);
	free(want);
	free(got);
	close_and_check();
}

struct names {
	char seen[64][64];
	int n;
	int stop_after;
};

static int collect(void *arg, const char *name, size_t len, uint32_t ino, unsigned dtype,
		   uint64_t next)
{
	struct names *n = arg;

	(void)ino;
	(void)dtype;
	(void)next;
	if (n->stop_after && n->n == n->stop_after)
		return 1;
	snprintf(n->seen[n->n++], 64, "%.*s", (int)len, name);
	return 0;
}

static bool has(struct names *n, const char *name)
{
	for (int i = 0; i < n->n; i++)
		if (!strcmp(n->seen[i], name))
			return true;
	return false;
}

Test(ext4, readdir_resumes_at_stable_positions)
{
	struct names a = {.stop_after = 3}, b = {0};
	uint64_t pos = 0;
	uint32_t ino;

	open_rw();
	cr_assert_eq(kbox_ext4_readdir(x, KBOX_EXT4_ROOT_INO, &pos, collect, &a), 0);
	cr_assert_eq(a.n, 3);
	/* Changes between the two calls: one gone, one new; neither repeats an entry. */
	cr_assert_eq(kbox_ext4_unlink(x, KBOX_EXT4_ROOT_INO, "fifo"), 0);
	cr_assert_eq(kbox_ext4_mknod(x, KBOX_EXT4_ROOT_INO, "new", S_IFREG | 0644, 0, 0, 0, &ino),
		     0);
	cr_assert_eq(kbox_ext4_readdir(x, KBOX_EXT4_ROOT_INO, &pos, collect, &b), 0);
	for (int i = 0; i < b.n; i++)
		cr_expect(!has(&a, b.seen[i]), "%s seen twice", b.seen[i]);
	cr_expect(has(&a, ".") || has(&b, "."));
	cr_expect(has(&a, "hello") || has(&b, "hello"));
	cr_expect(has(&a, "sparse") || has(&b, "sparse"));
	close_and_check();
}

static uint32_t create(uint32_t dir, const char *name)
{
	uint32_t ino;

	cr_assert_eq(kbox_ext4_mknod(x, dir, name, S_IFREG | 0640, 0, 1000, 1000, &ino), 0,
		     "create %s", name);
	return ino;
}

Test(ext4, write_read_overwrite_extend_truncate_persist)
{
	size_t n = 3 * 4096 + 100;
	char *buf = malloc(n), *back = malloc(n), zero[64] = {0};
	uint32_t ino;

	for (size_t i = 0; i < n; i++)
		buf[i] = (char)(i * 7);
	open_rw();
	ino = create(KBOX_EXT4_ROOT_INO, "f");
	cr_assert_eq(kbox_ext4_write(x, ino, buf, n, 0), (ssize_t)n);
	cr_assert_eq(kbox_ext4_read(x, ino, back, n, 0), (ssize_t)n);
	cr_expect_arr_eq(back, buf, n);
	cr_assert_eq(kbox_ext4_write(x, ino, "XYZ", 3, 4094), 3);
	cr_assert_eq(kbox_ext4_write(x, ino, "end", 3, 100000), 3);
	cr_expect_eq(st_of(ino).st_size, 100003);
	cr_assert_eq(kbox_ext4_read(x, ino, back, 64, 50000), 64);
	cr_expect_arr_eq(back, zero, 64);
	cr_expect_eq(kbox_ext4_seek(x, ino, 20000, SEEK_DATA), 98304);
	cr_assert_eq(kbox_ext4_truncate(x, ino, 4096 + 10), 0);
	cr_expect_eq(st_of(ino).st_size, 4106);
	cr_assert_eq(kbox_ext4_truncate(x, ino, 8192), 0);
	cr_assert_eq(kbox_ext4_read(x, ino, back, 100, 4096), 100);
	cr_expect_eq(back[0], 'Z');
	cr_expect_arr_eq(back + 1, buf + 4097, 9);
	cr_expect_arr_eq(back + 10, zero, 64, "truncated bytes come back as zeros");
	close_and_check();
	open_rw();
	ino = walk("f");
	cr_assert_eq(kbox_ext4_read(x, ino, back, 4096, 0), 4096);
	cr_expect_arr_eq(back, buf, 4094);
	cr_expect_arr_eq(back + 4094, "XY", 2);
	cr_expect_eq(st_of(ino).st_uid, 1000);
	free(buf);
	free(back);
	close_and_check();
}

Test(ext4, mkdir_rmdir_counts_and_errors)
{
	uint32_t d, e, ino;

	open_rw();
	cr_assert_eq(kbox_ext4_mkdir(x, KBOX_EXT4_ROOT_INO, "a", 0755, 0, 0, &d), 0);
	cr_expect_eq(kbox_ext4_mkdir(x, KBOX_EXT4_ROOT_INO, "a", 0755, 0, 0, &e), -EEXIST);
	cr_assert_eq(kbox_ext4_mkdir(x, d, "b", 0700, 5, 6, &e), 0);
	cr_expect_eq(st_of(d).st_nlink, 3);
	cr_expect_eq(st_of(e).st_nlink, 2);
	cr_expect_eq(st_of(e).st_uid, 5);
	cr_expect_eq(st_of(e).st_mode, S_IFDIR | 0700);
	cr_expect_eq(kbox_ext4_lookup(x, e, "..", &ino), 0);
	cr_expect_eq(ino, d);
	cr_expect_eq(kbox_ext4_rmdir(x, KBOX_EXT4_ROOT_INO, "a"), -ENOTEMPTY);
	cr_expect_eq(kbox_ext4_rmdir(x, KBOX_EXT4_ROOT_INO, "hello"), -ENOTDIR);
	cr_expect_eq(kbox_ext4_unlink(x, KBOX_EXT4_ROOT_INO, "a"), -EISDIR);
	cr_assert_eq(kbox_ext4_rmdir(x, d, "b"), 0);
	cr_expect_eq(st_of(d).st_nlink, 2);
	cr_expect_eq(kbox_ext4_lookup(x, d, "b", &ino), -ENOENT);
	/* Removed while open (a cwd): empty, nothing can be made in it, freed at the last put. */
	cr_assert_eq(kbox_ext4_iget(x, d), 0);
	cr_assert_eq(kbox_ext4_rmdir(x, KBOX_EXT4_ROOT_INO, "a"), 0);
	{
		struct names n = {0};
		uint64_t pos = 0;

		cr_expect_eq(kbox_ext4_readdir(x, d, &pos, collect, &n), 0);
		cr_expect_eq(n.n, 0);
	}
	cr_expect_eq(kbox_ext4_lookup(x, d, "b", &ino), -ENOENT);
	cr_expect_eq(kbox_ext4_mknod(x, d, "new", S_IFREG | 0600, 0, 0, 0, &ino), -ENOENT);
	cr_expect_eq(st_of(d).st_nlink, 0);
	cr_assert_eq(kbox_ext4_iput(x, d), 0);
	close_and_check();
}

Test(ext4, symlinks_fast_and_slow)
{
	char target[300], buf[400];
	uint32_t a, b;

	memset(target, 'z', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	open_rw();
	cr_assert_eq(kbox_ext4_symlink(x, KBOX_EXT4_ROOT_INO, "fast", "a/b", 0, 0, &a), 0);
	cr_assert_eq(kbox_ext4_symlink(x, KBOX_EXT4_ROOT_INO, "slow", target, 0, 0, &b), 0);
	cr_expect_eq(kbox_ext4_readlink(x, a, buf, sizeof(buf)), 3);
	cr_expect_arr_eq(buf, "a/b", 3);
	cr_expect_eq(kbox_ext4_readlink(x, b, buf, sizeof(buf)), 299);
	cr_expect_arr_eq(buf, target, 299);
	cr_expect_eq(st_of(b).st_size, 299);
	cr_expect_eq(kbox_ext4_readlink(x, walk("sl"), buf, sizeof(buf)), 5);
	cr_expect_eq(kbox_ext4_readlink(x, walk("hello"), buf, sizeof(buf)), -EINVAL);
	close_and_check();
}

Test(ext4, mknod_fifo_and_devices_keep_rdev)
{
	uint32_t a, b, c;

	open_rw();
	cr_assert_eq(kbox_ext4_mknod(x, KBOX_EXT4_ROOT_INO, "p", S_IFIFO | 0600, 0, 0, 0, &a), 0);
	cr_assert_eq(kbox_ext4_mknod(x, KBOX_EXT4_ROOT_INO, "null", S_IFCHR | 0666, makedev(1, 3),
				     0, 0, &b),
		     0);
	cr_assert_eq(kbox_ext4_mknod(x, KBOX_EXT4_ROOT_INO, "big", S_IFBLK | 0600,
				     makedev(259, 70000), 0, 0, &c),
		     0);
	cr_expect(S_ISFIFO(st_of(a).st_mode));
	cr_expect_eq(st_of(b).st_rdev, makedev(1, 3));
	cr_expect_eq(st_of(c).st_rdev, makedev(259, 70000));
	cr_expect_eq(kbox_ext4_mknod(x, KBOX_EXT4_ROOT_INO, "dir", S_IFDIR | 0600, 0, 0, 0, &a),
		     -EINVAL);
	close_and_check();
}

Test(ext4, link_unlink_and_open_unlinked_inode)
{
	char buf[8];
	uint32_t ino;

	open_rw();
	ino = walk("hello");
	cr_assert_eq(kbox_ext4_link(x, ino, walk("d"), "again"), 0);
	cr_expect_eq(st_of(ino).st_nlink, 3);
	cr_expect_eq(kbox_ext4_link(x, walk("d"), KBOX_EXT4_ROOT_INO, "dirlink"), -EPERM);
	cr_expect_eq(kbox_ext4_link(x, ino, KBOX_EXT4_ROOT_INO, "hl"), -EEXIST);
	cr_assert_eq(kbox_ext4_iget(x, ino), 0);
	cr_assert_eq(kbox_ext4_unlink(x, KBOX_EXT4_ROOT_INO, "hello"), 0);
	cr_assert_eq(kbox_ext4_unlink(x, KBOX_EXT4_ROOT_INO, "hl"), 0);
	cr_assert_eq(kbox_ext4_unlink(x, walk("d"), "again"), 0);
	/* No name left, still open: readable until the last put. */
	cr_expect_eq(st_of(ino).st_nlink, 0);
	cr_assert_eq(kbox_ext4_read(x, ino, buf, 6, 0), 6);
	cr_expect_arr_eq(buf, "hello\n", 6);
	cr_assert_eq(kbox_ext4_write(x, ino, "HE", 2, 0), 2);
	cr_assert_eq(kbox_ext4_iput(x, ino), 0);
	close_and_check();
}

Test(ext4, rename_plain_replace_noreplace_exchange)
{
	uint32_t f, g, d, ino;

	open_rw();
	f = create(KBOX_EXT4_ROOT_INO, "f");
	g = create(KBOX_EXT4_ROOT_INO, "g");
	d = walk("d");
	cr_assert_eq(kbox_ext4_rename(x, KBOX_EXT4_ROOT_INO, "f", KBOX_EXT4_ROOT_INO, "f2", 0), 0);
	cr_expect_eq(walk("f2"), f);
	cr_expect_eq(kbox_ext4_lookup(x, KBOX_EXT4_ROOT_INO, "f", &ino), -ENOENT);
	cr_assert_eq(kbox_ext4_rename(x, KBOX_EXT4_ROOT_INO, "f2", d, "f3", 0), 0);
	cr_expect_eq(walk("d/f3"), f);
	cr_expect_eq(kbox_ext4_rename(x, d, "f3", KBOX_EXT4_ROOT_INO, "g", RENAME_NOREPLACE),
		     -EEXIST);
	cr_assert_eq(kbox_ext4_rename(x, d, "f3", KBOX_EXT4_ROOT_INO, "g", RENAME_EXCHANGE), 0);
	cr_expect_eq(walk("g"), f);
	cr_expect_eq(walk("d/f3"), g);
	cr_assert_eq(kbox_ext4_rename(x, d, "f3", KBOX_EXT4_ROOT_INO, "g", 0), 0);
	cr_expect_eq(walk("g"), g);
	cr_expect_eq(kbox_ext4_lookup(x, d, "f3", &ino), -ENOENT);
	cr_expect_eq(kbox_ext4_rename(x, KBOX_EXT4_ROOT_INO, "nope", d, "x", 0), -ENOENT);
	cr_expect_eq(kbox_ext4_rename(x, KBOX_EXT4_ROOT_INO, "g", d, "x", RENAME_EXCHANGE),
		     -ENOENT);
	close_and_check();
}

Test(ext4, rename_directories)
{
	uint32_t a, b, c, ino;

	open_rw();
	cr_assert_eq(kbox_ext4_mkdir(x, KBOX_EXT4_ROOT_INO, "a", 0755, 0, 0, &a), 0);
	cr_assert_eq(kbox_ext4_mkdir(x, KBOX_EXT4_ROOT_INO, "b", 0755, 0, 0, &b), 0);
	cr_assert_eq(kbox_ext4_mkdir(x, a, "c", 0755, 0, 0, &c), 0);
	cr_expect_eq(kbox_ext4_rename(x, KBOX_EXT4_ROOT_INO, "a", c, "x", 0), -EINVAL);
	cr_expect_eq(kbox_ext4_rename(x, KBOX_EXT4_ROOT_INO, "b", KBOX_EXT4_ROOT_INO, "a", 0),
		     -ENOTEMPTY);
	cr_expect_eq(kbox_ext4_rename(x, KBOX_EXT4_ROOT_INO, "hello", KBOX_EXT4_ROOT_INO, "b", 0),
		     -EISDIR);
	cr_expect_eq(kbox_ext4_rename(x, KBOX_EXT4_ROOT_INO, "b", KBOX_EXT4_ROOT_INO, "hello", 0),
		     -ENOTDIR);
	cr_assert_eq(kbox_ext4_rename(x, a, "c", b, "c", 0), 0);
	cr_expect_eq(kbox_ext4_lookup(x, c, "..", &ino), 0);
	cr_expect_eq(ino, b);
	cr_expect_eq(st_of(a).st_nlink, 2);
	cr_expect_eq(st_of(b).st_nlink, 3);
	/* Over an empty directory. */
	cr_assert_eq(kbox_ext4_rename(x, b, "c", KBOX_EXT4_ROOT_INO, "a", 0), 0);
	cr_expect_eq(walk("a"), c);
	cr_expect_eq(st_of(b).st_nlink, 2);
	cr_assert_eq(kbox_ext4_rename(x, KBOX_EXT4_ROOT_INO, "a", KBOX_EXT4_ROOT_INO, "renamed", 0),
		     0);
	close_and_check();
}

Test(ext4, setattr_mode_owner)
{
	struct kbox_ext4_setattr sa = {.valid = KBOX_EXT4_SET_MODE | KBOX_EXT4_SET_UID |
						KBOX_EXT4_SET_GID,
				       .mode = 04711,
				       .uid = 70000,
				       .gid = 7};
	struct stat st;
	uint32_t ino;

	open_rw();
	ino = walk("hello");
	cr_assert_eq(kbox_ext4_setattr(x, ino, &sa), 0);
	st = st_of(ino);
	cr_expect_eq(st.st_mode, S_IFREG | 04711);
	cr_expect_eq(st.st_uid, 70000);
	cr_expect_eq(st.st_gid, 7);
	close_and_check();
}

Test(ext4, xattrs_get_set_list_remove)
{
	char big[3000], buf[4000];
	uint32_t ino;
	int n;

	memset(big, 'v', sizeof(big));
	open_rw();
	ino = walk("hello");
	cr_assert_eq(kbox_ext4_setxattr(x, ino, "user.a", "1", 1, 0), 0);
	cr_expect_eq(kbox_ext4_setxattr(x, ino, "user.a", "2", 1, XATTR_CREATE), -EEXIST);
	cr_expect_eq(kbox_ext4_setxattr(x, ino, "user.b", "2", 1, XATTR_REPLACE), -ENODATA);
	cr_assert_eq(kbox_ext4_setxattr(x, ino, "trusted.big", big, sizeof(big), 0), 0);
	cr_assert_eq(kbox_ext4_setxattr(x, ino, "security.capability", "\1\0\0\2", 4, 0), 0);
	cr_expect_eq(kbox_ext4_getxattr(x, ino, "user.a", NULL, 0), 1);
	cr_expect_eq(kbox_ext4_getxattr(x, ino, "trusted.big", buf, 10), -ERANGE);
	cr_expect_eq(kbox_ext4_getxattr(x, ino, "trusted.big", buf, sizeof(buf)), 3000);
	cr_expect_arr_eq(buf, big, 3000);
	cr_expect_eq(kbox_ext4_getxattr(x, ino, "user.none", buf, sizeof(buf)), -ENODATA);
	cr_expect_eq(kbox_ext4_getxattr(x, ino, "bogus.x", buf, sizeof(buf)), -EOPNOTSUPP);
	n = kbox_ext4_listxattr(x, ino, buf, sizeof(buf));
	cr_expect_eq(
		n, (int)(sizeof("user.a") + sizeof("trusted.big") + sizeof("security.capability")));
	cr_expect_eq(kbox_ext4_listxattr(x, ino, buf, 3), -ERANGE);
	cr_assert_eq(kbox_ext4_removexattr(x, ino, "user.a"), 0);
	cr_expect_eq(kbox_ext4_removexattr(x, ino, "user.a"), -ENODATA);
	close_and_check();
	open_rw();
	cr_expect_eq(kbox_ext4_getxattr(x, walk("hello"), "trusted.big", buf, sizeof(buf)), 3000);
	cr_expect_eq(kbox_ext4_getxattr(x, walk("hello"), "user.a", buf, sizeof(buf)), -ENODATA);
	close_and_check();
}

Test(ext4, statfs_counts_what_is_written)
{
	struct statfs a, b;
	char blk[4096] = {1};
	uint32_t ino;

	open_rw();
	cr_assert_eq(kbox_ext4_statfs(x, &a), 0);
	cr_expect_eq(a.f_type, 0xEF53);
	cr_expect_eq(a.f_bsize, 4096);
	ino = create(KBOX_EXT4_ROOT_INO, "f");
	for (int i = 0; i < 10; i++)
		cr_assert_eq(kbox_ext4_write(x, ino, blk, sizeof(blk), i * 4096), 4096);
	cr_assert_eq(kbox_ext4_statfs(x, &b), 0);
	cr_expect_geq(a.f_bfree - b.f_bfree, 10);
	cr_expect_eq(a.f_ffree - b.f_ffree, 1);
	close_and_check();
}

Test(ext4, many_entries_grow_the_directory)
{
	char name[32];
	static struct names seen_buf;
	struct names *seen = &seen_buf;
	uint64_t pos = 0;
	uint32_t d, ino, spacer;
	int count = 0;

	open_rw();
	cr_assert_eq(kbox_ext4_mkdir(x, KBOX_EXT4_ROOT_INO, "many", 0755, 0, 0, &d), 0);
	spacer = create(KBOX_EXT4_ROOT_INO, "spacer");
	for (int i = 0; i < 1500; i++) {
		snprintf(name, sizeof(name), "file-with-a-long-name-%05d", i);
		create(d, name);
		/* Blocks of another file between the directory's: its extent tree gets leaves. */
		if (i % 40 == 0)
			cr_assert_eq(kbox_ext4_write(x, spacer, name, 1, i * 4096), 1);
	}
	for (int i = 0; i < 1500; i += 2) {
		snprintf(name, sizeof(name), "file-with-a-long-name-%05d", i);
		cr_assert_eq(kbox_ext4_unlink(x, d, name), 0);
	}
	for (int i = 1; i < 1500; i += 2) {
		snprintf(name, sizeof(name), "file-with-a-long-name-%05d", i);
		cr_assert_eq(kbox_ext4_lookup(x, d, name, &ino), 0, "%s", name);
	}
	/* Count by stopping after each entry: every resume position is exact. */
	for (;;) {
		seen->n = 0;
		seen->stop_after = 1;
		cr_assert_eq(kbox_ext4_readdir(x, d, &pos, collect, seen), 0);
		if (!seen->n)
			break;
		count++;
	}
	cr_expect_eq(count, 750 + 2);
	close_and_check();
}

Test(ext4, enospc_leaves_the_image_consistent)
{
	static char blk[1 << 20];
	ssize_t n = 0;
	uint32_t ino;
	uint64_t off = 0;

	teardown();
	setup();
	sh("rm -f %s && mke2fs -q -F -t ext4 %s 8M", img, img);
	open_rw();
	ino = create(KBOX_EXT4_ROOT_INO, "fill");
	while ((n = kbox_ext4_write(x, ino, blk, 1 << 20, off)) > 0)
		off += n;
	cr_expect_eq(n, -ENOSPC);
	cr_expect_gt(off, 1 << 20);
	close_and_check();
	open_rw();
	/* Space freed is given back (after a flush) for the next write. */
	n = kbox_ext4_unlink(x, KBOX_EXT4_ROOT_INO, "fill");
	cr_assert_eq(n, 0, "unlink: %s", strerror(-n));
	ino = create(KBOX_EXT4_ROOT_INO, "again");
	cr_expect_eq(kbox_ext4_write(x, ino, blk, 1 << 20, 0), 1 << 20);
	close_and_check();
}

Test(ext4, enospc_growing_a_directory_leaves_its_size)
{
	static char blk[1 << 20];
	char name[64];
	uint32_t ino, dir;
	ssize_t n;
	uint64_t off = 0;
	int r = 0;

	sh("rm -f %s && mke2fs -q -F -t ext4 %s 8M", img, img);
	open_rw();
	cr_assert_eq(kbox_ext4_mkdir(x, KBOX_EXT4_ROOT_INO, "d", 0755, 0, 0, &dir), 0);
	ino = create(KBOX_EXT4_ROOT_INO, "fill");
	while ((n = kbox_ext4_write(x, ino, blk, 1 << 20, off)) > 0)
		off += n;
	while ((n = kbox_ext4_write(x, ino, blk, 1024, off)) > 0)
		off += n; /* every block taken */
	/* Entries until the directory needs a block there is none for. */
	for (int i = 0; r == 0 && i < 1000; i++) {
		snprintf(name, sizeof(name), "a-rather-long-name-to-fill-blocks-quickly-%04d", i);
		r = kbox_ext4_mknod(x, dir, name, S_IFREG | 0644, 0, 0, 0, &ino);
	}
	cr_expect_eq(r, -ENOSPC);
	/* The size the failed growth wrote first was taken back: no size past the blocks. */
	cr_expect_leq(st_of(dir).st_size, st_of(dir).st_blocks * 512);
	close_and_check();
}

/* -------- opening: validation before any write, locking, the clean flag -------- */

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	cr_assert_not_null(f);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc(n ? n : 1);
	cr_assert_eq(fread(buf, 1, n, f), (size_t)n);
	fclose(f);
	*len = n;
	return buf;
}

/* Opening must fail with @want and leave every byte of the file as it was. */
static void expect_refused_untouched(bool rw, int want, const char *phrase)
{
	size_t n1, n2;
	char *before = slurp(img, &n1), *after, why[512] = "";
	struct kbox_ext4 *y = NULL;

	cr_expect_eq(kbox_ext4_open(img, rw, &y, why, sizeof(why)), want, "got: %s", why);
	if (phrase)
		cr_expect(strstr(why, phrase), "message '%s' lacks '%s'", why, phrase);
	if (y)
		kbox_ext4_close(y);
	after = slurp(img, &n2);
	cr_expect_eq(n1, n2);
	cr_expect(n1 == n2 && !memcmp(before, after, n1), "the image changed");
	free(before);
	free(after);
}

static unsigned sb_state(void)
{
	unsigned char s[2];
	int fd = open(img, O_RDONLY);

	cr_assert_eq(pread(fd, s, 2, 1024 + 58), 2);
	close(fd);
	return s[0] | s[1] << 8;
}

Test(ext4, journal_needing_recovery_is_refused_read_write)
{
	sh("debugfs -w -R 'feature needs_recovery' %s >/dev/null 2>&1", img);
	expect_refused_untouched(true, -EAGAIN, "e2fsck -fy");
	expect_refused_untouched(true, -EAGAIN, "e2fsck -p");
}

/* Overwrite big-endian word @off of the journal superblock (block 0 of inode 8). */
static void poke_journal_sb(unsigned off, uint32_t v)
{
	/* dash's printf knows octal escapes, not \x. */
	sh("blk=$(debugfs -R 'bmap <8> 0' %s 2>/dev/null) && "
	   "printf '\\%03o\\%03o\\%03o\\%03o' | dd of=%s bs=1 seek=$((blk * 4096 + %u)) "
	   "conv=notrunc status=none",
	   img, v >> 24, (v >> 16) & 255, (v >> 8) & 255, v & 255, img, off);
}

Test(ext4, journal_with_data_or_unknown_features_is_refused_read_write)
{
	char why[256];

	/* Read-only opens still work: e.g. s_start set without needs_recovery. */
	poke_journal_sb(0x1c, 1);
	expect_refused_untouched(true, -EAGAIN, "e2fsck -p");
	cr_assert_eq(kbox_ext4_open(img, false, &x, why, sizeof(why)), 0, "%s", why);
	kbox_ext4_close(x);
	x = NULL;
	poke_journal_sb(0x1c, 0);
	poke_journal_sb(0x28, 0x20); /* fast_commit */
	expect_refused_untouched(true, -EOPNOTSUPP, "--read-only");
}

Test(ext4, unclean_image_is_refused_read_write)
{
	sh("debugfs -w -R 'ssv state 0' %s >/dev/null 2>&1", img);
	expect_refused_untouched(true, -EAGAIN, "e2fsck -fy");
	/* Read-only is still allowed. */
	{
		char why[256];

		cr_expect_eq(kbox_ext4_open(img, false, &x, why, sizeof(why)), 0, "%s", why);
	}
}

Test(ext4, truncated_image_is_rejected_untouched)
{
	sh("truncate -s 20M %s", img);
	expect_refused_untouched(true, -EUCLEAN, "truncated");
	expect_refused_untouched(false, -EUCLEAN, "truncated");
}

Test(ext4, foreign_file_is_rejected_untouched)
{
	sh("head -c 1M /dev/urandom > %s", img);
	expect_refused_untouched(true, -EINVAL, "not an ext2/3/4 image");
}

Test(ext4, corrupt_descriptors_are_rejected_untouched)
{
	/* The group descriptor block follows the superblock's block. */
	sh("printf 'garbage-garbage-garbage' | dd of=%s bs=1 seek=4096 conv=notrunc status=none",
	   img);
	expect_refused_untouched(true, -EUCLEAN, "corrupt");
}

Test(ext4, corrupt_superblock_checksum_is_rejected_untouched)
{
	sh("printf 'x' | dd of=%s bs=1 seek=%d conv=notrunc status=none", img, 1024 + 120);
	expect_refused_untouched(true, -EUCLEAN, "corrupt");
}

Test(ext4, second_writer_and_readers_are_refused_while_one_writes)
{
	struct kbox_ext4 *y = NULL;
	char why[256];

	open_rw();
	cr_expect_eq(kbox_ext4_open(img, true, &y, why, sizeof(why)), -EBUSY);
	cr_expect(strstr(why, "in use by another kbox"), "%s", why);
	cr_expect_eq(kbox_ext4_open(img, false, &y, why, sizeof(why)), -EBUSY);
	close_and_check();
	cr_expect_eq(kbox_ext4_open(img, false, &x, why, sizeof(why)), 0);
	cr_expect_eq(kbox_ext4_open(img, false, &y, why, sizeof(why)), 0, "readers share");
	kbox_ext4_close(y);
}

Test(ext4, not_clean_while_open_read_write_clean_after)
{
	cr_expect(sb_state() & 1);
	open_rw();
	cr_expect(!(sb_state() & 1), "image marked clean while open read-write");
	create(KBOX_EXT4_ROOT_INO, "x");
	close_and_check();
	cr_expect(sb_state() & 1);
}

Test(ext4, read_only_open_refuses_writes)
{
	char why[256];
	uint32_t ino;

	cr_assert_eq(kbox_ext4_open(img, false, &x, why, sizeof(why)), 0);
	cr_expect_eq(kbox_ext4_mknod(x, KBOX_EXT4_ROOT_INO, "n", S_IFREG, 0, 0, 0, &ino), -EROFS);
	cr_expect_eq(kbox_ext4_write(x, walk("hello"), "x", 1, 0), -EROFS);
	cr_expect_eq(kbox_ext4_unlink(x, KBOX_EXT4_ROOT_INO, "hello"), -EROFS);
}

/* -------- kbox image create -------- */

Test(ext4, image_create_copies_the_tree)
{
	struct kbox_image_opts o = {.from = src, .image = img};
	char buf[8], why[256];
	uint32_t ino;

	sh("rm -f %s", img);
	sh("python3 -c \"import os; os.setxattr('%s/hello', 'user.k', b'v')\"", src);
	cr_assert_eq(kbox_ext4_image_create(&o), 0);
	assert_fsck_clean();
	cr_assert_eq(kbox_ext4_open(img, false, &x, why, sizeof(why)), 0, "%s", why);
	ino = walk("hello");
	cr_expect_eq(ino, walk("hl"));
	cr_expect_eq(st_of(ino).st_nlink, 2);
	cr_expect_eq(st_of(ino).st_uid, getuid());
	cr_expect_eq(kbox_ext4_getxattr(x, ino, "user.k", buf, sizeof(buf)), 1);
	cr_expect_eq(kbox_ext4_read(x, walk("sparse"), buf, 3, 5000000), 3);
	cr_expect_arr_eq(buf, "mid", 3);
	cr_expect_lt(st_of(walk("sparse")).st_blocks, 64, "holes stay holes");
	cr_expect(S_ISFIFO(st_of(walk("fifo")).st_mode));
	cr_expect_eq(kbox_ext4_readlink(x, walk("sl"), buf, sizeof(buf)), 5);
	{
		struct stat host;
		char path[256];

		snprintf(path, sizeof(path), "%s/sl", src);
		lstat(path, &host);
		cr_expect_eq(st_of(walk("sl")).st_mtim.tv_nsec, host.st_mtim.tv_nsec);
		snprintf(path, sizeof(path), "%s/d/sub", src);
		lstat(path, &host);
		cr_expect_eq(st_of(walk("d/sub")).st_mtim.tv_sec, host.st_mtim.tv_sec);
		cr_expect_eq(st_of(walk("d/sub")).st_mtim.tv_nsec, host.st_mtim.tv_nsec);
	}
}

Test(ext4, image_create_refuses_an_existing_file)
{
	struct kbox_image_opts o = {.from = src, .image = img};

	cr_expect_eq(kbox_ext4_image_create(&o), -EEXIST);
	assert_fsck_clean();
}

Test(ext4, image_create_root_owned_maps_the_user_to_root)
{
	struct kbox_image_opts o = {.from = src, .image = img, .root_owned = true};
	char why[256];

	sh("rm -f %s", img);
	cr_assert_eq(kbox_ext4_image_create(&o), 0);
	assert_fsck_clean();
	cr_assert_eq(kbox_ext4_open(img, false, &x, why, sizeof(why)), 0, "%s", why);
	cr_expect_eq(st_of(walk("hello")).st_uid, 0);
	cr_expect_eq(st_of(KBOX_EXT4_ROOT_INO).st_uid, 0);
	cr_expect_eq(st_of(walk("d/sub")).st_gid, 0);
}

Test(ext4, image_create_too_small_fails_and_leaves_nothing)
{
	struct kbox_image_opts o = {.from = src, .image = img, .size = 4 << 20};

	sh("rm -f %s && head -c 6M /dev/urandom > %s/d/big", img, src);
	cr_expect_neq(kbox_ext4_image_create(&o), 0);
	cr_expect_neq(access(img, F_OK), 0);
}

/* -------- crash safety: kill -9 at random points -------- */

#include <signal.h>
#include <sys/wait.h>
#include <time.h>

#define CRASH_ROUNDS 60

static unsigned char pattern(uint32_t seed, size_t i)
{
	return (unsigned char)((seed * 2654435761u + i * 40503u) >> 7);
}

static void fill_pattern(char *buf, size_t n, uint32_t seed, size_t from)
{
	for (size_t i = 0; i < n; i++)
		buf[i] = pattern(seed, from + i);
}

static uint32_t dir_at(struct kbox_ext4 *y, const char *name)
{
	uint32_t ino;

	if (kbox_ext4_lookup(y, KBOX_EXT4_ROOT_INO, name, &ino) &&
	    kbox_ext4_mkdir(y, KBOX_EXT4_ROOT_INO, name, 0755, 0, 0, &ino))
		_exit(20);
	return ino;
}

/* Files that are written, fsync'd, then logged, and never touched again. */
static void keep_one(struct kbox_ext4 *y, uint32_t keep, int logfd, int round, int i)
{
	static char buf[50000];
	uint32_t seed = round * 100000 + i, ino;
	size_t size = (seed * 7919u) % sizeof(buf), q = size / 4, h = size / 2;
	char name[64], line[128];

	snprintf(name, sizeof(name), "k%d_%d", round, i);
	if (kbox_ext4_mknod(y, keep, name, S_IFREG | 0644, 0, 0, 0, &ino))
		_exit(21);
	fill_pattern(buf, size, seed, 0);
	/*
	 * Head, tail, then the hole between. Not before the first block: in a
	 * tree with leaves that moves a leaf's start (README: a known window).
	 */
	if (kbox_ext4_write(y, ino, buf, q, 0) != (ssize_t)q ||
	    kbox_ext4_write(y, ino, buf + h, size - h, h) != (ssize_t)(size - h) ||
	    kbox_ext4_write(y, ino, buf + q, h - q, q) != (ssize_t)(h - q))
		_exit(22);
	if (kbox_ext4_fsync(y, ino, false))
		_exit(23);
	snprintf(line, sizeof(line), "%s %zu %u\n", name, size, seed);
	if (write(logfd, line, strlen(line)) < 0)
		_exit(24);
}

/* Everything else: files that come and go, grow and shrink, and directories. */
static void churn(struct kbox_ext4 *y, uint32_t dir, int i)
{
	static char buf[20000];
	char a[32], b[32];
	uint32_t ino;

	snprintf(a, sizeof(a), "t%d", i % 13);
	snprintf(b, sizeof(b), "r%d", i % 5);
	kbox_ext4_unlink(y, dir, a);
	if (!kbox_ext4_mknod(y, dir, a, S_IFREG | 0600, 0, 0, 0, &ino)) {
		kbox_ext4_write(y, ino, buf, (i * 977) % sizeof(buf), (i % 3) * 5000);
		kbox_ext4_truncate(y, ino, (i * 31) % 9000);
		kbox_ext4_setxattr(y, ino, "user.x", buf, i % 300, 0);
		kbox_ext4_rename(y, dir, a, dir, b, 0);
	}
	if (i % 5 == 0 && !kbox_ext4_mknod(y, dir, "big", S_IFREG | 0600, 0, 0, 0, &ino)) {
		for (int k = 0; k < 16; k++)
			kbox_ext4_write(y, ino, buf, sizeof(buf), k * sizeof(buf));
		kbox_ext4_truncate(y, ino, (i * 7919) % 300000);
		kbox_ext4_write(y, ino, buf, sizeof(buf), 100000 + i * 1000);
		kbox_ext4_unlink(y, dir, "big");
	}
	snprintf(a, sizeof(a), "d%d", i % 4);
	if (kbox_ext4_mkdir(y, dir, a, 0755, 0, 0, &ino) == -EEXIST)
		kbox_ext4_rmdir(y, dir, a);
	snprintf(b, sizeof(b), "s%d", i % 3);
	kbox_ext4_unlink(y, dir, b);
	kbox_ext4_symlink(y, dir, b, i % 2 ? "short" : buf + 1000 + (i % 7), 0, 0, &ino);
}

/*
 * The operations a journal makes safe: directory renames across parents,
 * renames over files and directories, RENAME_EXCHANGE, creates in an htree
 * directory (leaf splits), a write before the first block of a file with
 * more than four extents, and unlinked-but-open files (the orphan list;
 * some are still open when the kill comes).
 */
static void churn_journalled(struct kbox_ext4 *y, uint32_t dir, uint32_t hdir, int round, int i)
{
	static char block[4096];
	uint32_t p0 = 0, p1 = 0, ino;
	char a[80];

	kbox_ext4_mkdir(y, dir, "p0", 0755, 0, 0, &p0);
	kbox_ext4_mkdir(y, dir, "p1", 0755, 0, 0, &p1);
	kbox_ext4_lookup(y, dir, "p0", &p0);
	kbox_ext4_lookup(y, dir, "p1", &p1);
	if (kbox_ext4_mkdir(y, p0, "m", 0755, 0, 0, &ino) == 0)
		kbox_ext4_mknod(y, ino, "inside", S_IFREG | 0644, 0, 0, 0, &ino);
	kbox_ext4_rename(y, p0, "m", p1, "m", 0);
	kbox_ext4_rename(y, p1, "m", p0, "m", i % 2 ? 0 : RENAME_NOREPLACE);
	kbox_ext4_mkdir(y, p1, "e", 0755, 0, 0, &ino);
	kbox_ext4_mknod(y, p1, "f", S_IFREG | 0644, 0, 0, 0, &ino);
	kbox_ext4_rename(y, p0, "m", p1, "f", RENAME_EXCHANGE);
	kbox_ext4_rename(y, p1, "f", p0, "m", RENAME_EXCHANGE);
	kbox_ext4_rename(y, p0, "m", p1, "e", 0); /* over an empty directory */
	kbox_ext4_rename(y, p1, "e", p0, "m", 0);
	if (!kbox_ext4_mknod(y, p0, "o", S_IFREG | 0644, 0, 0, 0, &ino)) {
		kbox_ext4_write(y, ino, block, 100 + i, 0);
		kbox_ext4_rename(y, p0, "o", p1, "f", 0); /* over a file */
	}
	snprintf(a, sizeof(a), "entry-with-a-long-name-to-fill-blocks-%03d-%05d", round, i);
	kbox_ext4_mknod(y, hdir, a, S_IFREG | 0644, 0, 0, 0, &ino);
	if (i % 3 == 0)
		kbox_ext4_unlink(y, hdir, a);
	kbox_ext4_unlink(y, dir, "frag");
	if (i % 2 == 0 && !kbox_ext4_mknod(y, dir, "frag", S_IFREG | 0600, 0, 0, 0, &ino)) {
		for (int k = 0; k < 6; k++)
			kbox_ext4_write(y, ino, block, sizeof(block), (40 + 2 * k) * 4096ull);
		kbox_ext4_write(y, ino, block, sizeof(block), 4096ull * (i % 7));
	}
	if (!kbox_ext4_mknod(y, dir, "u", S_IFREG | 0600, 0, 0, 0, &ino) &&
	    !kbox_ext4_iget(y, ino)) {
		kbox_ext4_unlink(y, dir, "u");
		kbox_ext4_write(y, ino, block, sizeof(block), 8192);
		if (i % 4)
			kbox_ext4_iput(y, ino);
	}
}

static void crash_child(int round, int logfd)
{
	struct kbox_ext4 *y;
	char why[256], name[32];
	uint32_t keep, dir, hdir;

	if (kbox_ext4_open(img, true, &y, why, sizeof(why)))
		_exit(10);
	/* A directory of its own for each round's kept files. */
	snprintf(name, sizeof(name), "keep%d", round);
	keep = dir_at(y, name);
	dir = dir_at(y, "churn");
	hdir = dir_at(y, "htree");
	/* At most 40 kept files a round (about 1 MiB): 60 rounds fit the image. */
	for (int i = 0;; i++) {
		if (i < 40)
			keep_one(y, keep, logfd, round, i);
		churn(y, dir, i);
		if (kbox_ext4_has_journal(y) && i % 2)
			churn_journalled(y, dir, hdir, round, i);
	}
}

/* Blocks of the crash test's htree directory; 0 when it is not indexed. */
static long htree_blocks(void)
{
	struct ext2_inode_large in;
	char why[256];
	uint32_t d;
	long n;

	cr_assert_eq(kbox_ext4_open(img, false, &x, why, sizeof(why)), 0, "%s", why);
	cr_assert_eq(kbox_ext4_lookup(x, KBOX_EXT4_ROOT_INO, "htree", &d), 0);
	cr_assert_eq(kbox_ext4_iread(x, d, &in), 0);
	n = (in.i_flags & EXT2_INDEX_FL) ? (long)(EXT2_I_SIZE(&in) / x->fs->blocksize) : 0;
	kbox_ext4_close(x);
	x = NULL;
	return n;
}

/* A directory the size of a few blocks, indexed by e2fsck -D (libext2fs never indexes one). */
static void make_htree_dir(void)
{
	char why[256], name[80];
	uint32_t d, ino;

	cr_assert_eq(kbox_ext4_open(img, true, &x, why, sizeof(why)), 0, "%s", why);
	d = dir_at(x, "htree");
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "entry-with-a-long-name-to-fill-blocks-start-%05d", i);
		cr_assert_eq(kbox_ext4_mknod(x, d, name, S_IFREG | 0644, 0, 0, 0, &ino), 0);
	}
	kbox_ext4_close(x);
	x = NULL;
	fsck("-fyD");
	cr_assert(htree_blocks() > 0, "e2fsck -D did not index the directory");
}

static void verify_logged(const char *log)
{
	static char want[50000], got[50000];
	char name[64], why[256];
	FILE *f = fopen(log, "r");
	uint32_t keep, ino, seed;
	size_t size;
	int n = 0;

	cr_assert_eq(kbox_ext4_open(img, false, &x, why, sizeof(why)), 0, "%s", why);
	while (f && fscanf(f, "%63s %zu %u", name, &size, &seed) == 3) {
		char dir[32];
		int round;

		cr_assert_eq(sscanf(name, "k%d_", &round), 1);
		snprintf(dir, sizeof(dir), "keep%d", round);
		cr_assert_eq(kbox_ext4_lookup(x, KBOX_EXT4_ROOT_INO, dir, &keep), 0);
		cr_assert_eq(kbox_ext4_lookup(x, keep, name, &ino), 0, "fsync'd %s is gone", name);
		cr_assert_eq(st_of(ino).st_size, (off_t)size, "%s", name);
		fill_pattern(want, size, seed, 0);
		cr_assert_eq(kbox_ext4_read(x, ino, got, size, 0), (ssize_t)size);
		cr_assert(!memcmp(want, got, size), "fsync'd bytes of %s differ", name);
		n++;
	}
	if (f)
		fclose(f);
	kbox_ext4_close(x);
	x = NULL;
}

static void kill_rounds(int rounds, const char *what)
{
	char log[160];
	int logfd, rounds_with_progress = 0, repaired = 0;
	long hblocks;

	srand(time(NULL));
	make_htree_dir();
	hblocks = htree_blocks();
	snprintf(log, sizeof(log), "%s/fsynced.log", tmp);
	logfd = open(log, O_WRONLY | O_CREAT | O_APPEND, 0644);
	cr_assert_geq(logfd, 0);
	for (int round = 0; round < rounds; round++) {
		off_t before = lseek(logfd, 0, SEEK_END);
		pid_t pid = fork();
		int status, rc;

		cr_assert_geq(pid, 0);
		if (pid == 0)
			crash_child(round, logfd);
		usleep(5000 + rand() % 60000);
		kill(pid, SIGKILL);
		waitpid(pid, &status, 0);
		cr_assert(WIFSIGNALED(status), "round %d: the writer stopped by itself (%d)", round,
			  WEXITSTATUS(status));
		rc = fsck("-p");
		if (rc > 1) /* kept to look at */
			sh("cat %s/fsck.log >&2; cp %s /tmp/kbox-crash-failed.img", tmp, img);
		cr_assert(rc == 0 || rc == 1, "round %d: e2fsck -p exit %d", round, rc);
		repaired += rc == 1;
		assert_fsck_clean();
		verify_logged(log);
		rounds_with_progress += lseek(logfd, 0, SEEK_END) > before;
	}
	close(logfd);
	fprintf(stderr,
		"crash test (%s): %d kills, %d repaired by e2fsck -p, %d with new fsync'd files; "
		"htree directory %ld -> %ld blocks\n",
		what, rounds, repaired, rounds_with_progress, hblocks, htree_blocks());
	cr_expect_gt(htree_blocks(), hblocks, "no htree leaf split");
	cr_expect_gt(rounds_with_progress, rounds / 2, "kills came too early to test much");
}

Test(ext4, killed_mid_write_is_repaired_by_preen_and_keeps_fsynced_data)
{
	/* KBOX_CRASH_ROUNDS=N (up to ~180: the image fills): a longer soak, by hand. */
	const char *soak = getenv("KBOX_CRASH_ROUNDS");

	kill_rounds(soak ? atoi(soak) : CRASH_ROUNDS, "ext4, 4 KiB blocks");
}

/* Block-mapped files (indirect blocks) and 1 KiB blocks. */
Test(ext4, killed_mid_write_on_ext3_is_repaired_by_preen_too)
{
	sh("rm -f %s && mke2fs -q -F -t ext3 -b 1024 -d %s %s 64M", img, src, img);
	kill_rounds(20, "ext3, 1 KiB blocks");
}

/* -------- against the kernel's ext4 (root only: loop mounts) -------- */

static void need_root(void)
{
	if (geteuid() != 0 || system("command -v mount >/dev/null && losetup -f >/dev/null 2>&1"))
		cr_skip_test("needs root and a free loop device to mount the image");
}

static void statx_host(const char *path, struct statx *stx)
{
	cr_assert_eq(statx(AT_FDCWD, path, AT_SYMLINK_NOFOLLOW, STATX_ALL, stx), 0, "%s", path);
}

static void expect_same_statx(const struct statx *k, const struct statx *m, const char *what)
{
	cr_expect_eq(k->stx_mode, m->stx_mode, "%s mode", what);
	cr_expect_eq(k->stx_nlink, m->stx_nlink, "%s nlink", what);
	cr_expect_eq(k->stx_uid, m->stx_uid, "%s uid", what);
	cr_expect_eq(k->stx_gid, m->stx_gid, "%s gid", what);
	cr_expect_eq(k->stx_size, m->stx_size, "%s size", what);
	cr_expect_eq(k->stx_blocks, m->stx_blocks, "%s blocks", what);
	cr_expect_eq(k->stx_ino, m->stx_ino, "%s ino", what);
	cr_expect_eq(k->stx_rdev_major, m->stx_rdev_major, "%s rdev major", what);
	cr_expect_eq(k->stx_rdev_minor, m->stx_rdev_minor, "%s rdev minor", what);
	cr_expect_eq(k->stx_mtime.tv_sec, m->stx_mtime.tv_sec, "%s mtime", what);
	cr_expect_eq(k->stx_mtime.tv_nsec, m->stx_mtime.tv_nsec, "%s mtime ns", what);
	cr_expect_eq(k->stx_ctime.tv_nsec, m->stx_ctime.tv_nsec, "%s ctime ns", what);
	cr_expect_eq(k->stx_btime.tv_sec, m->stx_btime.tv_sec, "%s btime", what);
	cr_expect_eq(k->stx_btime.tv_nsec, m->stx_btime.tv_nsec, "%s btime ns", what);
}

/* What kbox wrote, the kernel reads the same way. */
Test(ext4, kernel_reads_what_kbox_wrote)
{
	struct kbox_ext4_setattr sa = {.valid = KBOX_EXT4_SET_MTIME,
				       .mtime = {1700000000, 123456789}};
	const char *names[] = {"f", "dev", "big", "lnk", "dir", "hello", "sparse"};
	char mnt[160], path[256], buf[64], target[200];
	struct statx k, m;
	uint32_t ino;

	need_root();
	memset(target, 't', sizeof(target) - 1);
	target[sizeof(target) - 1] = '\0';
	open_rw();
	ino = create(KBOX_EXT4_ROOT_INO, "f");
	cr_assert_eq(kbox_ext4_write(x, ino, "data", 4, 70000), 4);
	cr_assert_eq(kbox_ext4_setattr(x, ino, &sa), 0);
	cr_assert_eq(kbox_ext4_setxattr(x, ino, "user.k", "v", 1, 0), 0);
	cr_assert_eq(kbox_ext4_mknod(x, KBOX_EXT4_ROOT_INO, "dev", S_IFCHR | 0600,
				     makedev(300, 5000), 7, 8, &ino),
		     0);
	cr_assert_eq(kbox_ext4_mknod(x, KBOX_EXT4_ROOT_INO, "big", S_IFREG | 0600, 0, 0, 0, &ino),
		     0);
	for (int i = 0; i < 64; i++)
		cr_assert_eq(kbox_ext4_write(x, ino, target, sizeof(target), i * 7000), 200);
	cr_assert_eq(kbox_ext4_symlink(x, KBOX_EXT4_ROOT_INO, "lnk", target, 0, 0, &ino), 0);
	cr_assert_eq(kbox_ext4_mkdir(x, KBOX_EXT4_ROOT_INO, "dir", 0750, 3, 4, &ino), 0);
	close_and_check();
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	sh("mkdir %s && mount -o loop,ro %s %s", mnt, img, mnt);
	cr_assert_eq(kbox_ext4_open(img, false, &x, buf, sizeof(buf)), 0);
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", mnt, names[i]);
		statx_host(path, &k);
		cr_assert_eq(kbox_ext4_statx(x, walk(names[i]), &m), 0);
		expect_same_statx(&k, &m, names[i]);
	}
	{
		struct statfs ks, ms;

		cr_assert_eq(statfs(mnt, &ks), 0);
		cr_assert_eq(kbox_ext4_statfs(x, &ms), 0);
		cr_expect_eq(ks.f_blocks, ms.f_blocks, "f_blocks %lu vs %lu", ks.f_blocks,
			     ms.f_blocks);
		cr_expect_eq(ks.f_bfree, ms.f_bfree, "f_bfree %lu vs %lu", ks.f_bfree, ms.f_bfree);
		cr_expect_eq(ks.f_bavail, ms.f_bavail, "f_bavail %lu vs %lu", ks.f_bavail,
			     ms.f_bavail);
		cr_expect_eq(ks.f_files, ms.f_files);
		cr_expect_eq(ks.f_ffree, ms.f_ffree);
		cr_expect_eq(ks.f_fsid.__val[0], ms.f_fsid.__val[0]);
		cr_expect_eq(ks.f_fsid.__val[1], ms.f_fsid.__val[1]);
		cr_expect_eq(ks.f_namelen, ms.f_namelen);
	}
	snprintf(path, sizeof(path), "%s/f", mnt);
	cr_expect_eq(getxattr(path, "user.k", buf, sizeof(buf)), 1);
	snprintf(path, sizeof(path), "%s/lnk", mnt);
	cr_expect_eq(readlink(path, buf, sizeof(buf)), 64, "kernel reads the slow symlink");
	sh("umount %s", mnt);
}

/* What the kernel wrote (htree directory, unwritten extents, sparse), kbox reads and extends. */
Test(ext4, kbox_reads_and_extends_what_the_kernel_wrote)
{
	char mnt[160], path[256], buf[8192], zero[8192] = {0};
	struct statx k, m;
	uint32_t dir, ino;
	int fd;

	need_root();
	snprintf(mnt, sizeof(mnt), "%s/mnt", tmp);
	sh("mkdir %s && mount -o loop %s %s", mnt, img, mnt);
	sh("mkdir %s/h && cd %s/h && for i in $(seq 1 3000); do : > name-that-is-long-$i; done",
	   mnt, mnt);
	snprintf(path, sizeof(path), "%s/prealloc", mnt);
	fd = open(path, O_CREAT | O_RDWR, 0644);
	cr_assert_eq(fallocate(fd, 0, 0, 1 << 20), 0);
	cr_assert_eq(fallocate(fd, FALLOC_FL_KEEP_SIZE, 1 << 20, 1 << 20), 0);
	cr_assert_eq(pwrite(fd, "in", 2, 8192), 2);
	close(fd);
	sh("umount %s", mnt);
	open_rw();
	dir = walk("h");
	cr_expect_eq(kbox_ext4_lookup(x, dir, "name-that-is-long-2999", &ino), 0);
	cr_expect_eq(kbox_ext4_lookup(x, dir, "name-that-is-long-3001", &ino), -ENOENT);
	ino = walk("prealloc");
	cr_expect_eq(kbox_ext4_read(x, ino, buf, 8192, 0), 8192);
	cr_expect_arr_eq(buf, zero, 8192, "unwritten extents read as zeros");
	cr_expect_eq(kbox_ext4_read(x, ino, buf, 2, 8192), 2);
	cr_expect_arr_eq(buf, "in", 2);
	cr_expect_eq(kbox_ext4_seek(x, ino, 0, SEEK_DATA), 8192);
	/* Into the unwritten part, and past the size into the KEEP_SIZE part. */
	cr_assert_eq(kbox_ext4_write(x, ino, "kbox", 4, 100000), 4);
	cr_assert_eq(kbox_ext4_write(x, ino, "tail", 4, (1 << 20) + 10), 4);
	for (int i = 0; i < 200; i++) {
		snprintf(path, sizeof(path), "kbox-%d", i);
		create(dir, path);
	}
	cr_expect_eq(kbox_ext4_unlink(x, dir, "name-that-is-long-7"), 0);
	close_and_check();
	sh("mount -o loop,ro %s %s", img, mnt);
	snprintf(path, sizeof(path), "%s/prealloc", mnt);
	fd = open(path, O_RDONLY);
	cr_expect_eq(pread(fd, buf, 4, 100000), 4);
	cr_expect_arr_eq(buf, "kbox", 4);
	cr_expect_eq(pread(fd, buf, 8, 99996), 8);
	cr_expect_arr_eq(buf, "\0\0\0\0kbox", 8);
	cr_expect_eq(pread(fd, buf, 4, (1 << 20) + 10), 4);
	cr_expect_arr_eq(buf, "tail", 4);
	close(fd);
	cr_assert_eq(kbox_ext4_open(img, false, &x, buf, sizeof(buf)), 0);
	statx_host(path, &k);
	cr_assert_eq(kbox_ext4_statx(x, walk("prealloc"), &m), 0);
	expect_same_statx(&k, &m, "prealloc");
	snprintf(path, sizeof(path), "%s/h/kbox-199", mnt);
	cr_expect_eq(access(path, F_OK), 0, "the kernel finds kbox's entries in the htree");
	snprintf(path, sizeof(path), "%s/h/name-that-is-long-7", mnt);
	cr_expect_neq(access(path, F_OK), 0);
	sh("umount %s", mnt);
}

/* -------- ext2 and ext3: block-mapped files, no extents -------- */

static void exercise_block_mapped(const char *type)
{
	static char buf[200000], back[200000];
	uint32_t ino, d;

	sh("rm -f %s && mke2fs -q -F -t %s -b 1024 -d %s %s 32M", img, type, src, img);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 13 + 1);
	open_rw();
	cr_expect_eq(kbox_ext4_read(x, walk("d/sub/rand"), back, 10, 299990), 10);
	ino = create(KBOX_EXT4_ROOT_INO, "f");
	/* Past the 12 direct blocks and the first indirect block, with a hole. */
	cr_assert_eq(kbox_ext4_write(x, ino, buf, sizeof(buf), 0), (ssize_t)sizeof(buf));
	cr_assert_eq(kbox_ext4_write(x, ino, buf, 5000, 600000), 5000);
	cr_assert_eq(kbox_ext4_read(x, ino, back, sizeof(buf), 0), (ssize_t)sizeof(buf));
	cr_expect_arr_eq(back, buf, sizeof(buf));
	cr_expect_eq(kbox_ext4_seek(x, ino, 300000, SEEK_DATA), 600000 / 1024 * 1024);
	cr_assert_eq(kbox_ext4_truncate(x, ino, 150000), 0);
	cr_assert_eq(kbox_ext4_mkdir(x, KBOX_EXT4_ROOT_INO, "dd", 0755, 0, 0, &d), 0);
	cr_assert_eq(kbox_ext4_rename(x, KBOX_EXT4_ROOT_INO, "f", d, "g", 0), 0);
	close_and_check();
	open_rw();
	ino = walk("dd/g");
	cr_assert_eq(kbox_ext4_read(x, ino, back, 150000, 0), 150000);
	cr_expect_arr_eq(back, buf, 150000);
	cr_assert_eq(kbox_ext4_unlink(x, walk("dd"), "g"), 0);
	cr_assert_eq(kbox_ext4_unlink(x, KBOX_EXT4_ROOT_INO, "sparse"), 0);
	close_and_check();
}

Test(ext4, ext2_image_works)
{
	exercise_block_mapped("ext2");
}

Test(ext4, ext3_image_works)
{
	exercise_block_mapped("ext3");
}

/* A tree made under kbox -0: its records say what the guest saw. */
Test(ext4, image_create_root_owned_uses_fake_ownership_records)
{
	struct kbox_image_opts o = {.from = src, .image = img, .root_owned = true};
	struct kbox_meta m = {0};
	char store[256], why[256], buf[16];
	const char *paths[1] = {store};
	struct stat st;
	int dirfd;

	sh("rm -f %s && touch %s/devnode", img, src);
	snprintf(store, sizeof(store), "%s/.src.kbox-meta", tmp);
	kbox_meta_store_open(paths, 1);
	dirfd = open(src, O_RDONLY | O_DIRECTORY);
	cr_assert_eq(fstatat(dirfd, "hello", &st, AT_SYMLINK_NOFOLLOW), 0);
	m.valid = KBOX_META_UID | KBOX_META_GID | KBOX_META_MODE;
	m.uid = 33;
	m.gid = 44;
	m.mode = S_IFREG | 04755;
	cr_assert_eq(kbox_meta_xattr_set(&m, "security.capability", "\1\0\0\2", 4, 0), 0);
	cr_assert_eq(kbox_meta_set(dirfd, "hello", &st, &m), 0);
	cr_assert_eq(fstatat(dirfd, "devnode", &st, AT_SYMLINK_NOFOLLOW), 0);
	m = (struct kbox_meta){.valid = KBOX_META_MODE | KBOX_META_RDEV,
			       .mode = S_IFCHR | 0620,
			       .rdev = makedev(4, 1)};
	cr_assert_eq(kbox_meta_set(dirfd, "devnode", &st, &m), 0);
	cr_assert_eq(fstatat(dirfd, "sl", &st, AT_SYMLINK_NOFOLLOW), 0);
	m = (struct kbox_meta){.valid = KBOX_META_UID, .uid = 5};
	cr_assert_eq(kbox_meta_set(dirfd, "sl", &st, &m), 0, "symlinks go to the store");
	close(dirfd);
	kbox_meta_store_close();
	cr_assert_eq(kbox_ext4_image_create(&o), 0);
	assert_fsck_clean();
	cr_assert_eq(kbox_ext4_open(img, false, &x, why, sizeof(why)), 0, "%s", why);
	st = st_of(walk("hello"));
	cr_expect_eq(st.st_uid, 33);
	cr_expect_eq(st.st_gid, 44);
	cr_expect_eq(st.st_mode, S_IFREG | 04755);
	cr_expect_eq(st.st_size, 6);
	cr_expect_eq(kbox_ext4_getxattr(x, walk("hello"), "security.capability", buf, 16), 4);
	cr_expect_eq(kbox_ext4_getxattr(x, walk("hello"), "user.kbox", buf, 16), -ENODATA);
	st = st_of(walk("devnode"));
	cr_expect_eq(st.st_mode, S_IFCHR | 0620);
	cr_expect_eq(st.st_rdev, makedev(4, 1));
	cr_expect_eq(st_of(walk("sl")).st_uid, 5);
	cr_expect_eq(st_of(walk("d")).st_uid, 0, "what the user owns becomes root's");
}

/* -------- the command line: exit statuses and messages -------- */

static int kbox_status(const char *args)
{
	char cmd[1024];
	int st;

	snprintf(cmd, sizeof(cmd), "%s %s >%s/out 2>&1", KBOX_BIN, args, tmp);
	st = system(cmd);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static bool out_has(const char *what)
{
	char path[200], buf[4096] = "";
	FILE *f;

	snprintf(path, sizeof(path), "%s/out", tmp);
	f = fopen(path, "r");
	if (f) {
		(void)!fread(buf, 1, sizeof(buf) - 1, f);
		fclose(f);
	}
	return strstr(buf, what) != NULL;
}

Test(ext4, cli_image_create_exit_statuses)
{
	char args[512];

	sh("rm -f %s", img);
	snprintf(args, sizeof(args), "image create --from %s %s --root-owned", src, img);
	cr_expect_eq(kbox_status(args), 0);
	assert_fsck_clean();
	cr_expect_eq(kbox_status(args), 125);
	cr_expect(out_has("exists"));
	snprintf(args, sizeof(args), "image create --from %s/nope %s.2", tmp, img);
	cr_expect_eq(kbox_status(args), 125);
	cr_expect(out_has("not a directory"));
	snprintf(args, sizeof(args), "image create %s.3", img);
	cr_expect_eq(kbox_status(args), 125);
	cr_expect(out_has("--from"));
	snprintf(args, sizeof(args), "image create --from %s --size 12x %s.4", src, img);
	cr_expect_eq(kbox_status(args), 125);
	cr_expect(out_has("--size"));
	cr_expect_eq(kbox_status("image --help"), 0);
	cr_expect(out_has("--root-owned"));
	cr_expect_eq(kbox_status("image destroy"), 125);
	snprintf(args, sizeof(args), "image create --from %s --size 64M %s.5", src, img);
	cr_expect_eq(kbox_status(args), 0);
	cr_expect_eq(access(img, F_OK), 0);
}

/* -------- I/O errors: a faulty disk under the image -------- */

/*
 * unix_io_manager with writes that start failing after a budget: every
 * write after the first failure fails too, as on a disk that died, so the
 * image is what a crash at that point leaves, and must be repairable.
 */
static struct struct_io_manager faulty_io;
static long write_budget = -1; /* < 0: no limit */

static bool spend(void)
{
	if (write_budget < 0)
		return true;
	if (write_budget == 0)
		return false;
	write_budget--;
	return true;
}

static errcode_t faulty_write_blk(io_channel ch, unsigned long blk, int n, const void *buf)
{
	return spend() ? unix_io_manager->write_blk(ch, blk, n, buf) : EIO;
}

static errcode_t faulty_write_blk64(io_channel ch, unsigned long long blk, int n, const void *buf)
{
	return spend() ? unix_io_manager->write_blk64(ch, blk, n, buf) : EIO;
}

static errcode_t faulty_open(const char *name, int flags, io_channel *ch)
{
	errcode_t rc = unix_io_manager->open(name, flags, ch);

	if (!rc)
		(*ch)->manager = &faulty_io;
	return rc;
}

static void use_faulty_io(void)
{
	faulty_io = *unix_io_manager;
	faulty_io.name = "kbox faulty I/O";
	faulty_io.open = faulty_open;
	faulty_io.write_blk = faulty_write_blk;
	faulty_io.write_blk64 = faulty_write_blk64;
	faulty_io.write_byte = NULL; /* as kbox's own: the superblock in one write */
	kbox_ext4_io_manager = &faulty_io;
}

/* A little of everything, until the first error; returns it. */
static int workload_until_error(void)
{
	static char buf[30000], slow[200];
	uint32_t d, f, ino;
	int err;

	memset(slow, 's', sizeof(slow) - 1);
	err = kbox_ext4_mkdir(x, KBOX_EXT4_ROOT_INO, "w", 0755, 0, 0, &d);
	for (int i = 0; !err && i < 30; i++) {
		char name[32];

		snprintf(name, sizeof(name), "f%d", i);
		err = kbox_ext4_mknod(x, d, name, S_IFREG | 0644, 0, 0, 0, &f);
		if (!err) {
			ssize_t n = kbox_ext4_write(x, f, buf, sizeof(buf) - i * 500, i * 3000);

			err = n < 0 ? (int)n : 0;
		}
		if (!err && i % 3 == 0)
			err = kbox_ext4_truncate(x, f, 1000);
		if (!err && i % 4 == 0)
			err = kbox_ext4_setxattr(x, f, "user.x", buf, 100 + i * 40, 0);
		if (!err && i % 5 == 0)
			err = kbox_ext4_unlink(x, d, name);
		if (!err && i % 7 == 0)
			err = kbox_ext4_symlink(x, d, "s", i % 2 ? "short" : slow, 0, 0, &ino)
				      ?: kbox_ext4_unlink(x, d, "s");
	}
	if (!err)
		err = kbox_ext4_rmdir(x, KBOX_EXT4_ROOT_INO, "d") == -ENOTEMPTY ? 0 : -1;
	return err;
}

Test(ext4, write_errors_reach_the_caller_as_eio_and_leave_a_repairable_image)
{
	char why[256];
	int failed = 0;

	use_faulty_io();
	memset(why, 0, sizeof(why));
	for (long budget = 1; budget < 400; budget += 13) {
		int err, rc;

		sh("rm -f %s && mke2fs -q -F -t ext4 -b 4096 -d %s %s 64M", img, src, img);
		write_budget = -1;
		cr_assert_eq(kbox_ext4_open(img, true, &x, why, sizeof(why)), 0, "%s", why);
		write_budget = budget;
		err = workload_until_error();
		if (err) {
			cr_expect_eq(err, -EIO, "budget %ld: %s", budget, strerror(-err));
			failed++;
		}
		kbox_ext4_close(x);
		x = NULL;
		write_budget = -1;
		rc = fsck("-p");
		if (rc > 1)
			sh("cat %s/fsck.log >&2", tmp);
		cr_assert(rc == 0 || rc == 1, "budget %ld: e2fsck -p exit %d", budget, rc);
		assert_fsck_clean();
	}
	kbox_ext4_io_manager = NULL;
	cr_expect_gt(failed, 20, "the workload outlived its write budget too often");
}

/* -------- data spans: a file's data as byte ranges of the image -------- */

/* Rebuild @ino from its spans, read straight from the image file, and compare with @want. */
static void expect_spans_rebuild(uint32_t ino, const char *want, size_t size, size_t max_spans)
{
	struct kbox_ext4_spans s;
	char *got = calloc(1, size + 1);
	uint64_t prev_end = 0;
	int fd = open(img, O_RDONLY);

	cr_assert_geq(fd, 0);
	cr_assert_eq(kbox_ext4_data_spans(x, ino, &s), 0);
	cr_expect_leq(s.n, max_spans, "%zu spans", s.n);
	for (size_t i = 0; i < s.n; i++) {
		cr_assert_geq(s.v[i].off, prev_end, "spans ascend and do not overlap");
		cr_assert_leq(s.v[i].off + s.v[i].len, size, "a span past EOF");
		cr_assert_eq(pread(fd, got + s.v[i].off, s.v[i].len, (off_t)s.v[i].img_off),
			     (ssize_t)s.v[i].len);
		prev_end = s.v[i].off + s.v[i].len;
	}
	cr_expect_arr_eq(got, want, size);
	free(s.v);
	free(got);
	close(fd);
}

Test(ext4, data_spans_cover_data_and_leave_holes_out)
{
	char path[256], *want = malloc(300000), *sparse = calloc(1, 10 << 20);
	struct kbox_ext4_spans s;
	FILE *f;

	snprintf(path, sizeof(path), "%s/d/sub/rand", src);
	f = fopen(path, "rb");
	cr_assert_eq(fread(want, 1, 300000, f), 300000);
	fclose(f);
	memcpy(sparse + 5000000, "mid", 3);
	open_rw();
	expect_spans_rebuild(walk("d/sub/rand"), want, 300000, 1);
	/* One data block in 10 MiB of hole: one span of one block, nothing else. */
	expect_spans_rebuild(walk("sparse"), sparse, 10 << 20, 1);
	cr_assert_eq(kbox_ext4_data_spans(x, walk("sparse"), &s), 0);
	cr_expect_eq(s.n, 1);
	cr_expect_eq(s.v[0].off, 5000000 / 4096 * 4096);
	cr_expect_eq(s.v[0].len, 4096);
	free(s.v);
	cr_expect_eq(kbox_ext4_data_spans(x, walk("d"), &s), -EINVAL, "a directory has no spans");
	free(want);
	free(sparse);
	close_and_check();
}

Test(ext4, data_spans_follow_writes_and_truncate)
{
	size_t size = 3 << 20;
	char *want = calloc(1, size), *piece = malloc(1 << 20);
	uint32_t ino;

	open_rw();
	ino = create(KBOX_EXT4_ROOT_INO, "w");
	for (size_t i = 0; i < (1 << 20); i++)
		piece[i] = (char)(i * 7 + 3);
	/* Data, a 1 MiB hole, data: two spans (three if allocation split a run). */
	cr_assert_eq(kbox_ext4_write(x, ino, piece, 1 << 20, 0), 1 << 20);
	cr_assert_eq(kbox_ext4_write(x, ino, piece, 1 << 20, 2 << 20), 1 << 20);
	memcpy(want, piece, 1 << 20);
	memcpy(want + (2 << 20), piece, 1 << 20);
	expect_spans_rebuild(ino, want, size, 4);
	/* A size inside a block: the last span ends at the size, not at the block. */
	cr_assert_eq(kbox_ext4_truncate(x, ino, (2 << 20) + 1000), 0);
	expect_spans_rebuild(ino, want, (2 << 20) + 1000, 4);
	free(want);
	free(piece);
	close_and_check();
}

Test(ext4, data_spans_of_block_mapped_files)
{
	char path[256], *want = malloc(300000);
	FILE *f;

	sh("rm -f %s && mke2fs -q -F -t ext3 -b 1024 -d %s %s 64M", img, src, img);
	snprintf(path, sizeof(path), "%s/d/sub/rand", src);
	f = fopen(path, "rb");
	cr_assert_eq(fread(want, 1, 300000, f), 300000);
	fclose(f);
	open_rw();
	/* Indirect blocks sit between data blocks: a few spans, never one per block. */
	expect_spans_rebuild(walk("d/sub/rand"), want, 300000, 8);
	free(want);
	close_and_check();
}

/* -------- a kill between any two writes of one operation -------- */

/*
 * unix_io_manager whose process dies (_exit) at the Nth write after it is
 * armed: the image is what a kill of kbox between two pwrites leaves. For
 * each operation below, N runs from 1 until the operation completes; after
 * each death e2fsck -p must repair the image without questions.
 */
static struct struct_io_manager dying_io;
static long writes_left = -1; /* < 0: not armed */

static void maybe_die(void)
{
	if (writes_left > 0 && --writes_left == 0)
		_exit(99);
}

static errcode_t dying_write_blk(io_channel ch, unsigned long blk, int n, const void *buf)
{
	maybe_die();
	return unix_io_manager->write_blk(ch, blk, n, buf);
}

static errcode_t dying_write_blk64(io_channel ch, unsigned long long blk, int n, const void *buf)
{
	maybe_die();
	return unix_io_manager->write_blk64(ch, blk, n, buf);
}

static errcode_t dying_zeroout(io_channel ch, unsigned long long blk, unsigned long long n)
{
	maybe_die();
	return unix_io_manager->zeroout(ch, blk, n);
}

static errcode_t dying_open(const char *name, int flags, io_channel *ch)
{
	errcode_t rc = unix_io_manager->open(name, flags, ch);

	if (!rc)
		(*ch)->manager = &dying_io;
	return rc;
}

static void use_dying_io(void)
{
	dying_io = *unix_io_manager;
	dying_io.name = "kbox dying I/O";
	dying_io.open = dying_open;
	dying_io.write_blk = dying_write_blk;
	dying_io.write_blk64 = dying_write_blk64;
	dying_io.zeroout = dying_zeroout;
	dying_io.write_byte = NULL;
}

enum window {
	W_DIR_ACROSS,
	W_OVER_FILE,
	W_OVER_DIR,
	W_EXCHANGE,
	W_HTREE,
	W_FRONT,
	W_ORPHAN
};

static const char *window_name[] = {"directory rename across parents",
				    "rename over a file in another directory",
				    "directory rename over an empty directory",
				    "RENAME_EXCHANGE of a directory and a file",
				    "create that splits an htree leaf",
				    "write before the first block of a 6-extent file",
				    "two open files unlinked, written (one grows a leaf), put"};

static uint32_t mk(uint32_t dir, const char *name, bool is_dir)
{
	uint32_t ino;

	if (is_dir)
		cr_assert_eq(kbox_ext4_mkdir(x, dir, name, 0755, 0, 0, &ino), 0, "%s", name);
	else
		cr_assert_eq(kbox_ext4_mknod(x, dir, name, S_IFREG | 0644, 0, 0, 0, &ino), 0, "%s",
			     name);
	return ino;
}

static void htree_name(char *buf, size_t size, int i)
{
	snprintf(buf, size, "entry-with-a-long-name-to-fill-blocks-fast-%05d", i);
}

/* The create that splits a leaf: the name decides the leaf (its hash). */
static int split_at;

/* How many creates an htree directory takes before the next one grows it. */
static int creates_before_split(uint32_t big)
{
	off_t size = st_of(big).st_size;

	for (int i = 0;; i++) {
		char name[80];

		htree_name(name, sizeof(name), 1000 + i);
		mk(big, name, false);
		if (st_of(big).st_size != size)
			return i;
		cr_assert_lt(i, 5000);
	}
}

/* The state each operation starts from, on every copy of the image. */
static void prepare_window(enum window w)
{
	static char block[4096];
	uint32_t a, b, big, f;

	open_rw();
	a = mk(KBOX_EXT4_ROOT_INO, "a", true);
	b = mk(KBOX_EXT4_ROOT_INO, "b", true);
	mk(mk(a, "sub", true), "inside", false);
	mk(a, "f1", false);
	mk(b, "g", false);
	mk(b, "empty", true);
	f = mk(KBOX_EXT4_ROOT_INO, "frag", false);
	/* Six extents (holes between): the tree gets a leaf. */
	for (int i = 0; i < 6; i++)
		cr_assert_eq(kbox_ext4_write(x, f, block, sizeof(block), (100 + 2 * i) * 4096ull),
			     (ssize_t)sizeof(block));
	mk(KBOX_EXT4_ROOT_INO, "doomed", false);
	mk(KBOX_EXT4_ROOT_INO, "doomed2", false);
	cr_assert_eq(kbox_ext4_close(x), 0);
	x = NULL;
	if (w == W_HTREE) {
		char name[80];
		int n;

		/* libext2fs never indexes a directory: e2fsck -D does. */
		open_rw();
		big = mk(KBOX_EXT4_ROOT_INO, "big", true);
		for (int i = 0; i < 300; i++) {
			htree_name(name, sizeof(name), i);
			mk(big, name, false);
		}
		cr_assert_eq(kbox_ext4_close(x), 0);
		x = NULL;
		fsck("-fyD");
		sh("cp %s %s.scratch", img, img);
		open_rw();
		n = split_at = creates_before_split(walk("big"));
		kbox_ext4_close(x);
		x = NULL;
		sh("mv %s.scratch %s", img, img);
		open_rw();
		for (int i = 0; i < n; i++) {
			htree_name(name, sizeof(name), 1000 + i);
			mk(walk("big"), name, false);
		}
		cr_assert_eq(kbox_ext4_close(x), 0);
		x = NULL;
	}
}

static void run_window_op(enum window w)
{
	static char block[4096];
	uint32_t ino;
	char name[80];

	switch (w) {
	case W_DIR_ACROSS:
		_exit(kbox_ext4_rename(x, walk("a"), "sub", walk("b"), "sub", 0) ? 3 : 0);
	case W_OVER_FILE:
		_exit(kbox_ext4_rename(x, walk("a"), "f1", walk("b"), "g", 0) ? 3 : 0);
	case W_OVER_DIR:
		_exit(kbox_ext4_rename(x, walk("a"), "sub", walk("b"), "empty", 0) ? 3 : 0);
	case W_EXCHANGE:
		_exit(kbox_ext4_rename(x, walk("a"), "sub", walk("b"), "g", RENAME_EXCHANGE) ? 3
											     : 0);
	case W_HTREE:
		ino = walk("big");
		for (int i = 0; i < 2; i++) {
			htree_name(name, sizeof(name), 1000 + split_at + i);
			if (kbox_ext4_mknod(x, ino, name, S_IFREG | 0644, 0, 0, 0, &ino))
				_exit(3);
			ino = walk("big");
		}
		_exit(0);
	case W_FRONT:
		ino = walk("frag");
		memset(block, 'x', sizeof(block));
		_exit(kbox_ext4_write(x, ino, block, sizeof(block), 0) == sizeof(block) ? 0 : 3);
	case W_ORPHAN: {
		/* Two on the list; the newer one grows an extent tree with a leaf. */
		uint32_t older = walk("doomed"), newer = walk("doomed2");

		if (kbox_ext4_iget(x, older) || kbox_ext4_unlink(x, KBOX_EXT4_ROOT_INO, "doomed") ||
		    kbox_ext4_iget(x, newer) ||
		    kbox_ext4_unlink(x, KBOX_EXT4_ROOT_INO, "doomed2") ||
		    kbox_ext4_write(x, older, block, sizeof(block), 0) != sizeof(block))
			_exit(3);
		for (int i = 0; i < 6; i++)
			if (kbox_ext4_write(x, newer, block, sizeof(block), 8192ull * i) !=
			    sizeof(block))
				_exit(3);
		_exit(kbox_ext4_iput(x, older) || kbox_ext4_iput(x, newer) ? 3 : 0);
	}
	}
	_exit(4);
}

static bool exists(const char *path)
{
	uint32_t ino = KBOX_EXT4_ROOT_INO;
	char buf[128], *save, *c;

	snprintf(buf, sizeof(buf), "%s", path);
	for (c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save))
		if (kbox_ext4_lookup(x, ino, c, &ino))
			return false;
	return true;
}

/* After the repair, a rename is there whole or not at all. */
static void check_all_or_nothing(enum window w)
{
	char why[256];

	cr_assert_eq(kbox_ext4_open(img, false, &x, why, sizeof(why)), 0, "%s", why);
	if (w == W_DIR_ACROSS)
		cr_expect(exists("a/sub/inside") != exists("b/sub/inside"), "rename half done");
	if (w == W_OVER_DIR)
		cr_expect(exists("a/sub/inside") != exists("b/empty/inside"), "rename half done");
	if (w == W_EXCHANGE)
		cr_expect(exists("a/sub/inside") != exists("b/g/inside"), "exchange half done");
	if (w == W_OVER_FILE)
		cr_expect(exists("a/f1") != exists("b/g") || exists("b/g"), "rename lost both");
	kbox_ext4_close(x);
	x = NULL;
}

static bool journalled;

/* Kill @w's operation at every write in turn; returns how many kills e2fsck -p refused. */
static int kill_at_every_write(enum window w)
{
	char why[256];
	int refused = 0, n;

	sh("cp %s %s.base", img, img);
	use_dying_io();
	for (n = 1; n < 400; n++) {
		pid_t pid;
		int status, rc;

		sh("cp %s.base %s", img, img);
		pid = fork();
		cr_assert_geq(pid, 0);
		if (pid == 0) {
			kbox_ext4_io_manager = &dying_io;
			if (kbox_ext4_open(img, true, &x, why, sizeof(why)))
				_exit(10);
			writes_left = n;
			run_window_op(w);
		}
		waitpid(pid, &status, 0);
		cr_assert(WIFEXITED(status), "%s: child died", window_name[w]);
		if (WEXITSTATUS(status) == 0)
			break;
		cr_assert_eq(WEXITSTATUS(status), 99, "%s: op failed", window_name[w]);
		rc = fsck("-p");
		if (rc > 1) {
			refused++;
			continue;
		}
		assert_fsck_clean();
		if (journalled)
			check_all_or_nothing(w);
	}
	cr_assert_lt(n, 400);
	fprintf(stderr, "%s: %d kills, %d refused by e2fsck -p\n", window_name[w], n - 1, refused);
	return refused;
}

static void expect_window_closed(enum window w)
{
	journalled = true;
	prepare_window(w);
	cr_expect_eq(kill_at_every_write(w), 0, "%s: a kill left what e2fsck -p refuses",
		     window_name[w]);
}

Test(ext4, kill_inside_a_cross_directory_rename_is_repaired_by_preen)
{
	expect_window_closed(W_DIR_ACROSS);
}

Test(ext4, kill_inside_a_rename_over_a_file_is_repaired_by_preen)
{
	expect_window_closed(W_OVER_FILE);
}

Test(ext4, kill_inside_a_rename_over_a_directory_is_repaired_by_preen)
{
	expect_window_closed(W_OVER_DIR);
}

Test(ext4, kill_inside_rename_exchange_is_repaired_by_preen)
{
	expect_window_closed(W_EXCHANGE);
}

Test(ext4, kill_inside_an_htree_leaf_split_is_repaired_by_preen)
{
	expect_window_closed(W_HTREE);
}

Test(ext4, kill_inside_a_write_before_the_first_extent_is_repaired_by_preen)
{
	expect_window_closed(W_FRONT);
}

Test(ext4, kill_around_an_orphan_is_repaired_by_preen)
{
	expect_window_closed(W_ORPHAN);
}

/*
 * The same kills on the image without its journal (tune2fs -O ^has_journal:
 * writes only ordered, as on ext2): these windows stay open there.
 */
Test(ext4, without_a_journal_the_windows_are_open)
{
	static const enum window open_ones[] = {W_DIR_ACROSS, W_OVER_FILE, W_OVER_DIR,
						W_EXCHANGE,   W_HTREE,	   W_FRONT};
	int open = 0;

	for (size_t i = 0; i < sizeof(open_ones) / sizeof(*open_ones); i++) {
		sh("rm -f %s && mke2fs -q -F -t ext4 -O ^has_journal -b 4096 %s 32M", img, img);
		prepare_window(open_ones[i]);
		open += kill_at_every_write(open_ones[i]) > 0;
	}
	/* A rename over a file is only counts and entries, which -p repairs. */
	cr_expect_geq(open, 5, "only %d of the windows showed without a journal", open);
}

/*
 * A kernel mount turns on jbd2 checksums (v3) in the journal of a
 * metadata_csum image: kbox's descriptor, commit and superblock checksums
 * must then satisfy e2fsck's replay.
 */
Test(ext4, kill_inside_a_rename_is_replayed_from_a_checksummed_journal)
{
	need_root();
	sh("mkdir %s/mnt && mount -o loop %s %s/mnt && touch %s/mnt/k && umount %s/mnt", tmp, img,
	   tmp, tmp, tmp);
	sh("dumpe2fs -h %s 2>/dev/null | grep -q journal_checksum_v3", img);
	sh("cp %s %s.pristine", img, img);
	expect_window_closed(W_DIR_ACROSS);
	sh("cp %s.pristine %s", img, img);
	expect_window_closed(W_EXCHANGE);
	sh("cp %s.pristine %s", img, img);
	expect_window_closed(W_ORPHAN);
}

/*
 * An unlinked-but-open inode is on the on-disk orphan list at once (as a
 * kernel puts it there), so after a kill e2fsck -p frees it as an orphan
 * and a kernel mount would too. Without a journal it is not (README).
 */
static void kill_with_an_open_unlinked_file(void)
{
	char why[256];
	pid_t pid = fork();
	int status;

	cr_assert_geq(pid, 0);
	if (pid == 0) {
		uint32_t ino;

		if (kbox_ext4_open(img, true, &x, why, sizeof(why)) ||
		    kbox_ext4_mknod(x, KBOX_EXT4_ROOT_INO, "tmpfile", S_IFREG | 0600, 0, 0, 0,
				    &ino) ||
		    kbox_ext4_write(x, ino, why, sizeof(why), 0) != sizeof(why) ||
		    kbox_ext4_iget(x, ino) || kbox_ext4_unlink(x, KBOX_EXT4_ROOT_INO, "tmpfile"))
			_exit(3);
		kill(getpid(), SIGKILL);
	}
	waitpid(pid, &status, 0);
	cr_assert(WIFSIGNALED(status));
}

static uint32_t last_orphan_on_disk(void)
{
	struct ext2_super_block sb;
	int fd = open(img, O_RDONLY);

	cr_assert_eq(pread(fd, &sb, sizeof(sb), 1024), (ssize_t)sizeof(sb));
	close(fd);
	return sb.s_last_orphan;
}

Test(ext4, open_unlinked_inode_is_on_the_orphan_list_and_preen_frees_it)
{
	kill_with_an_open_unlinked_file();
	cr_expect_neq(last_orphan_on_disk(), 0);
	cr_assert_leq(fsck("-p"), 1);
	sh("grep -q 'Clearing orphaned inode' %s/fsck.log", tmp);
	assert_fsck_clean();
}

Test(ext4, without_a_journal_an_open_unlinked_inode_is_not_on_the_orphan_list)
{
	sh("rm -f %s && mke2fs -q -F -t ext4 -O ^has_journal -b 4096 %s 32M", img, img);
	kill_with_an_open_unlinked_file();
	cr_expect_eq(last_orphan_on_disk(), 0);
	cr_assert_leq(fsck("-p"), 1);
	assert_fsck_clean();
}

/* An image with an orphan file (mke2fs -O orphan_file) gets the chain too. */
Test(ext4, open_unlinked_inode_on_an_orphan_file_image_is_freed_by_preen)
{
	sh("rm -f %s && mke2fs -q -F -t ext4 -O orphan_file -b 4096 %s 32M", img, img);
	kill_with_an_open_unlinked_file();
	cr_expect_neq(last_orphan_on_disk(), 0);
	cr_assert_leq(fsck("-p"), 1);
	sh("grep -q 'Clearing orphaned inode' %s/fsck.log", tmp);
	assert_fsck_clean();
}

/* Linked again: off the list. Still open at close: freed by the close. */
Test(ext4, orphan_linked_again_or_open_at_close_leaves_a_clean_image)
{
	uint32_t a, b;

	open_rw();
	a = mk(KBOX_EXT4_ROOT_INO, "relinked", false);
	b = mk(KBOX_EXT4_ROOT_INO, "left-open", false);
	cr_assert_eq(kbox_ext4_iget(x, a), 0);
	cr_assert_eq(kbox_ext4_iget(x, b), 0);
	cr_assert_eq(kbox_ext4_unlink(x, KBOX_EXT4_ROOT_INO, "relinked"), 0);
	cr_assert_eq(kbox_ext4_unlink(x, KBOX_EXT4_ROOT_INO, "left-open"), 0);
	cr_assert_eq(kbox_ext4_write(x, b, "data", 4, 100000), 4);
	cr_expect_neq(last_orphan_on_disk(), 0);
	cr_assert_eq(kbox_ext4_link(x, a, walk("d"), "back"), 0);
	cr_expect_eq(st_of(walk("d/back")).st_nlink, 1);
	cr_assert_eq(kbox_ext4_iput(x, a), 0);
	close_and_check();
	cr_expect_eq(last_orphan_on_disk(), 0);
	open_rw();
	cr_expect_eq(st_of(walk("d/back")).st_nlink, 1);
	close_and_check();
}

/* How often each "...-NNNNN" entry was listed, and whether positions only grew. */
struct tally {
	int count[2000];
	int n, stop_after;
	uint64_t last_next;
	bool backwards;
};

static int tally(void *arg, const char *name, size_t len, uint32_t ino, unsigned dtype,
		 uint64_t next)
{
	struct tally *t = arg;
	const char *dash = memrchr(name, '-', len);
	int i = dash ? atoi(dash + 1) : -1;

	(void)ino;
	(void)dtype;
	if (t->stop_after && t->n == t->stop_after)
		return 1;
	t->n++;
	if (next <= t->last_next)
		t->backwards = true;
	t->last_next = next;
	if (dash && i >= 0 && i < 2000)
		t->count[i]++;
	return 0;
}

/* A few entries per call, as a small getdents buffer would take them, until the end. */
static int list_some(uint32_t d, uint64_t *pos, struct tally *t, int at_most)
{
	int listed = 0;

	for (;;) {
		t->n = 0;
		t->stop_after = 7;
		cr_assert_eq(kbox_ext4_readdir(x, d, pos, tally, t), 0);
		listed += t->n;
		if (!t->n || (at_most && listed >= at_most))
			return listed;
	}
}

Test(ext4, htree_readdir_lists_each_entry_once_while_leaves_split)
{
	static struct tally t;
	char name[80];
	uint64_t pos = 0;
	long before;
	uint32_t d, ino;

	make_htree_dir(); /* 200 entries, indexed */
	before = htree_blocks();
	open_rw();
	d = walk("htree");
	list_some(d, &pos, &t, 100);
	/* New entries under the reader: leaves split, half of their entries move. */
	for (int i = 1000; i < 1600; i++) {
		snprintf(name, sizeof(name), "entry-with-a-long-name-to-fill-blocks-start-%05d", i);
		cr_assert_eq(kbox_ext4_mknod(x, d, name, S_IFREG | 0644, 0, 0, 0, &ino), 0);
	}
	list_some(d, &pos, &t, 0);
	for (int i = 0; i < 200; i++)
		cr_expect_eq(t.count[i], 1, "entry %d listed %d times", i, t.count[i]);
	for (int i = 1000; i < 1600; i++)
		cr_expect_leq(t.count[i], 1, "new entry %d listed %d times", i, t.count[i]);
	cr_expect(!t.backwards, "a position went backwards");
	close_and_check();
	cr_expect_gt(htree_blocks(), before, "the directory did not grow: no leaf split");
}

Test(ext4, htree_readdir_positions_resume_anywhere)
{
	static struct tally all, part;
	uint64_t pos = 0, mid;
	uint32_t d;
	int n;

	make_htree_dir();
	open_rw();
	d = walk("htree");
	n = list_some(d, &pos, &all, 0);
	cr_expect_eq(n, 200 + 2);
	/* A position handed out as d_off resumes right after its entry (seekdir). */
	pos = 0;
	list_some(d, &pos, &part, 50);
	mid = pos;
	memset(&part, 0, sizeof(part));
	cr_expect_eq(list_some(d, &mid, &part, 0), 200 + 2 - 56);
	close_and_check();
}
