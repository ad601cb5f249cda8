// SPDX-License-Identifier: MIT
/*
 * hostdir's per-file records (fake ownership): the packed privileged
 * xattrs, the user xattr on files, and the store file for symlinks, which
 * must survive a reopen, lose a torn tail and forget removed inodes.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs/hostdir/meta.h"

static char top[128], store_path[160];
static int dirfd_top = -1;

static void setup(void)
{
	snprintf(top, sizeof(top), "/tmp/kbox-meta-XXXXXX");
	cr_assert_not_null(mkdtemp(top));
	snprintf(store_path, sizeof(store_path), "%s/.store", top);
	dirfd_top = open(top, O_PATH | O_DIRECTORY);
	cr_assert_geq(dirfd_top, 0);
}

static void teardown(void)
{
	char cmd[256];

	kbox_meta_store_close();
	close(dirfd_top);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	cr_assert_eq(system(cmd), 0);
}

static void store_open(void)
{
	const char *paths[] = {store_path};

	kbox_meta_store_open(paths, 1);
}

static void make_symlink(const char *name, struct stat *st)
{
	cr_assert_eq(symlinkat("target", dirfd_top, name), 0);
	cr_assert_eq(fstatat(dirfd_top, name, st, AT_SYMLINK_NOFOLLOW), 0);
}

static struct kbox_meta owner(uid_t uid, gid_t gid)
{
	struct kbox_meta m = {.valid = KBOX_META_UID | KBOX_META_GID, .uid = uid, .gid = gid};

	return m;
}

TestSuite(meta, .init = setup, .fini = teardown);

Test(meta, xattr_packing_follows_setxattr_rules)
{
	struct kbox_meta m = {0};
	char val[16], list[64];

	cr_assert_eq(kbox_meta_xattr_set(&m, "security.capability", "abcd", 4, XATTR_REPLACE),
		     -ENODATA);
	cr_assert_eq(kbox_meta_xattr_set(&m, "security.capability", "abcd", 4, XATTR_CREATE), 0);
	cr_assert_eq(kbox_meta_xattr_set(&m, "security.capability", "x", 1, XATTR_CREATE), -EEXIST);
	cr_assert_eq(kbox_meta_xattr_set(&m, "trusted.a", "", 0, 0), 0);
	cr_assert_eq(kbox_meta_xattr_get(&m, "security.capability", NULL, 0), 4);
	cr_assert_eq(kbox_meta_xattr_get(&m, "security.capability", val, 2), -ERANGE);
	cr_assert_eq(kbox_meta_xattr_get(&m, "security.capability", val, sizeof(val)), 4);
	cr_assert_eq(memcmp(val, "abcd", 4), 0);
	cr_assert_eq(kbox_meta_xattr_set(&m, "security.capability", "xy", 2, XATTR_REPLACE), 0);
	cr_assert_eq(kbox_meta_xattr_get(&m, "security.capability", val, sizeof(val)), 2);
	cr_assert_eq(kbox_meta_xattr_names(&m, list, sizeof(list)),
		     sizeof("trusted.a") + sizeof("security.capability"));
	cr_assert_str_eq(list, "trusted.a");
	cr_assert_eq(kbox_meta_xattr_remove(&m, "trusted.a"), 0);
	cr_assert_eq(kbox_meta_xattr_remove(&m, "trusted.a"), -ENODATA);
	cr_assert_eq(kbox_meta_xattr_names(&m, NULL, 0), sizeof("security.capability"));
}

Test(meta, xattr_packing_is_bounded)
{
	static char big[KBOX_META_XATTRS_MAX];
	struct kbox_meta m = {0};

	cr_assert_eq(kbox_meta_xattr_set(&m, "trusted.big", big, sizeof(big), 0), -ENOSPC);
	cr_assert_eq(m.xlen, 0);
}

Test(meta, regular_file_record_round_trips)
{
	struct kbox_meta m = owner(123, 45), got;
	struct stat st;
	int fd = openat(dirfd_top, "f", O_CREAT | O_WRONLY, 0644);

	cr_assert_geq(fd, 0);
	close(fd);
	store_open();
	cr_assert_eq(fstatat(dirfd_top, "f", &st, 0), 0);
	cr_assert_eq(kbox_meta_get(dirfd_top, "f", &st, &got), -ENODATA);
	m.valid |= KBOX_META_MODE;
	m.mode = S_IFREG | 04755;
	cr_assert_eq(kbox_meta_xattr_set(&m, "security.capability", "cap", 3, 0), 0);
	cr_assert_eq(kbox_meta_set(dirfd_top, "f", &st, &m), 0);
	cr_assert_eq(kbox_meta_get(dirfd_top, "f", &st, &got), 0);
	cr_assert_eq(got.uid, 123);
	cr_assert_eq(got.gid, 45);
	cr_assert_eq(got.mode, S_IFREG | 04755);
	cr_assert_eq(kbox_meta_xattr_get(&got, "security.capability", NULL, 0), 3);
	/* An empty record removes it. */
	memset(&m, 0, sizeof(m));
	cr_assert_eq(kbox_meta_set(dirfd_top, "f", &st, &m), 0);
	cr_assert_eq(kbox_meta_get(dirfd_top, "f", &st, &got), -ENODATA);
}

Test(meta, symlink_records_survive_a_reopen)
{
	struct kbox_meta m = owner(7, 8), got;
	struct stat st;

	make_symlink("l", &st);
	store_open();
	cr_assert_eq(access(store_path, F_OK), -1, "the store is made at the first record only");
	cr_assert_eq(kbox_meta_set(dirfd_top, "l", &st, &m), 0);
	cr_assert_eq(kbox_meta_store_path() != NULL, true);
	kbox_meta_store_close();
	store_open();
	cr_assert_eq(kbox_meta_get(dirfd_top, "l", &st, &got), 0);
	cr_assert_eq(got.uid, 7);
	cr_assert_eq(got.gid, 8);
}

Test(meta, torn_tail_is_cut)
{
	struct kbox_meta m = owner(7, 8), got;
	struct stat st, st2;
	FILE *f;

	make_symlink("l", &st);
	make_symlink("l2", &st2);
	store_open();
	cr_assert_eq(kbox_meta_set(dirfd_top, "l", &st, &m), 0);
	kbox_meta_store_close();
	/* kbox killed halfway through appending a record. */
	f = fopen(store_path, "a");
	cr_assert_not_null(f);
	fwrite("kbrs\x30\x00", 1, 6, f);
	fclose(f);
	store_open();
	cr_assert_eq(kbox_meta_get(dirfd_top, "l", &st, &got), 0);
	m = owner(9, 9);
	cr_assert_eq(kbox_meta_set(dirfd_top, "l2", &st2, &m), 0);
	kbox_meta_store_close();
	store_open();
	cr_assert_eq(kbox_meta_get(dirfd_top, "l2", &st2, &got), 0, "appended after the cut");
	cr_assert_eq(got.uid, 9);
	cr_assert_eq(kbox_meta_get(dirfd_top, "l", &st, &got), 0);
	cr_assert_eq(got.uid, 7);
}

Test(meta, forgotten_inodes_stay_gone_and_the_store_compacts)
{
	struct kbox_meta m = owner(1, 1), got;
	struct stat st, keep;
	struct stat before, after;

	make_symlink("keep", &keep);
	make_symlink("churn", &st);
	store_open();
	cr_assert_eq(kbox_meta_set(dirfd_top, "keep", &keep, &m), 0);
	for (int i = 0; i < 100; i++) {
		m.uid = (uid_t)i + 2;
		cr_assert_eq(kbox_meta_set(dirfd_top, "churn", &st, &m), 0);
	}
	kbox_meta_forget(&st);
	cr_assert_eq(kbox_meta_in_store(&st), false);
	kbox_meta_store_close();
	cr_assert_eq(stat(store_path, &before), 0);
	store_open();
	cr_assert_eq(kbox_meta_get(dirfd_top, "churn", &st, &got), -ENODATA);
	cr_assert_eq(kbox_meta_get(dirfd_top, "keep", &keep, &got), 0);
	cr_assert_eq(got.uid, 1);
	cr_assert_eq(stat(store_path, &after), 0);
	cr_assert_lt(after.st_size, before.st_size, "compacted: %ld -> %ld", (long)before.st_size,
		     (long)after.st_size);
}
