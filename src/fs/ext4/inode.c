// SPDX-License-Identifier: MIT
/*
 * Inodes: a cache of decoded inodes, attributes (stat, statx, setattr),
 * allocation and release, and open references.
 *
 * The cache holds the inode as it is on disk: every write kbox makes goes
 * through kbox_ext4_iwrite(), which writes through and updates the copy,
 * and after a libext2fs call that writes an inode on its own the copy is
 * dropped (kbox_ext4_iforget()).
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/stat.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>

#include "fs/ext4/internal.h"

#define ICACHE_BUCKETS 4096
#define ICACHE_MAX     (1u << 16)

struct icached {
	struct icached *next;
	uint32_t ino;
	struct ext2_inode_large in;
};

struct kbox_ext4_icache {
	struct icached *bucket[ICACHE_BUCKETS];
	size_t n;
};

static struct icached **ifind(struct kbox_ext4_icache *c, uint32_t ino)
{
	struct icached **p = &c->bucket[ino % ICACHE_BUCKETS];

	while (*p && (*p)->ino != ino)
		p = &(*p)->next;
	return p;
}

void kbox_ext4_icache_free(struct kbox_ext4 *x)
{
	struct kbox_ext4_icache *c = x->icache;

	if (!c)
		return;
	for (size_t i = 0; i < ICACHE_BUCKETS; i++)
		for (struct icached *e = c->bucket[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	free(c);
	x->icache = NULL;
}

static void icache_put(struct kbox_ext4 *x, uint32_t ino, const struct ext2_inode_large *in)
{
	struct icached **p, *e;

	if (!x->icache && !(x->icache = calloc(1, sizeof(*x->icache))))
		return;
	if (x->icache->n >= ICACHE_MAX)
		kbox_ext4_icache_free(x);
	if (!x->icache && !(x->icache = calloc(1, sizeof(*x->icache))))
		return;
	p = ifind(x->icache, ino);
	if (!*p) {
		e = malloc(sizeof(*e));
		if (!e)
			return;
		e->ino = ino;
		e->next = NULL;
		*p = e;
		x->icache->n++;
	}
	(*p)->in = *in;
}

void kbox_ext4_iforget(struct kbox_ext4 *x, uint32_t ino)
{
	struct icached **p, *e;

	if (!x->icache)
		return;
	p = ifind(x->icache, ino);
	e = *p;
	if (e) {
		*p = e->next;
		free(e);
		x->icache->n--;
	}
}

int kbox_ext4_iread(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in)
{
	struct icached *e = x->icache ? *ifind(x->icache, ino) : NULL;
	errcode_t rc;

	if (e) {
		*in = e->in;
		return 0;
	}
	if (ino < 1 || ino > x->fs->super->s_inodes_count)
		return -ESTALE;
	memset(in, 0, sizeof(*in));
	rc = ext2fs_read_inode_full(x->fs, ino, (struct ext2_inode *)in, sizeof(*in));
	if (rc)
		return kbox_ext4_errno(rc);
	icache_put(x, ino, in);
	return 0;
}

int kbox_ext4_iwrite(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in)
{
	errcode_t rc;

	if (!x->rw)
		return -EROFS;
	rc = ext2fs_write_inode_full(x->fs, ino, (struct ext2_inode *)in, sizeof(*in));
	if (rc) {
		kbox_ext4_iforget(x, ino);
		return kbox_ext4_errno(rc);
	}
	icache_put(x, ino, in);
	return 0;
}

/* Does the large inode's extra space reach @end (an offset in the struct)? */
static bool fits(const struct ext2_inode_large *in, size_t end, size_t isize)
{
	return isize > EXT2_GOOD_OLD_INODE_SIZE &&
	       end <= EXT2_GOOD_OLD_INODE_SIZE + (size_t)in->i_extra_isize;
}

#define FITS(x, in, field)                                                                         \
	fits(in, offsetof(struct ext2_inode_large, field) + sizeof((in)->field),                   \
	     EXT2_INODE_SIZE((x)->fs->super))

/* ext4's time encoding: 32 low bits of seconds, then 2 epoch bits and 30 of nanoseconds. */
static struct timespec decode_time(uint32_t sec, const uint32_t *extra)
{
	struct timespec ts = {.tv_sec = (int32_t)sec};

	if (extra) {
		ts.tv_sec += (int64_t)(*extra & 3) << 32;
		ts.tv_nsec = *extra >> 2;
	}
	return ts;
}

static void encode_time(struct timespec ts, uint32_t *sec, uint32_t *extra)
{
	*sec = (uint32_t)ts.tv_sec;
	if (extra)
		*extra = (uint32_t)(((ts.tv_sec - (int32_t)ts.tv_sec) >> 32) & 3) |
			 ((uint32_t)ts.tv_nsec << 2);
}

#define GET_TIME(x, in, f)                                                                         \
	decode_time((in)->i_##f, FITS(x, in, i_##f##_extra) ? &(in)->i_##f##_extra : NULL)
#define SET_TIME(x, in, f, t)                                                                      \
	encode_time(t, &(in)->i_##f, FITS(x, in, i_##f##_extra) ? &(in)->i_##f##_extra : NULL)

static struct timespec now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return ts;
}

void kbox_ext4_touch(struct kbox_ext4 *x, struct ext2_inode_large *in, bool mtime)
{
	struct timespec t = now();

	x->touches++;
	SET_TIME(x, in, ctime, t);
	if (mtime)
		SET_TIME(x, in, mtime, t);
}

int kbox_ext4_touch_ino(struct kbox_ext4 *x, uint32_t ino, bool mtime)
{
	struct ext2_inode_large in;
	int err = kbox_ext4_iread(x, ino, &in);

	if (err)
		return err;
	kbox_ext4_touch(x, &in, mtime);
	return kbox_ext4_iwrite(x, ino, &in);
}

uid_t kbox_ext4_inode_uid(const struct ext2_inode_large *in)
{
	return in->i_uid | (uid_t)in->osd2.linux2.l_i_uid_high << 16;
}

gid_t kbox_ext4_inode_gid(const struct ext2_inode_large *in)
{
	return in->i_gid | (gid_t)in->osd2.linux2.l_i_gid_high << 16;
}

void kbox_ext4_set_owner(struct ext2_inode_large *in, uid_t uid, gid_t gid)
{
	in->i_uid = uid & 0xffff;
	in->osd2.linux2.l_i_uid_high = uid >> 16;
	in->i_gid = gid & 0xffff;
	in->osd2.linux2.l_i_gid_high = gid >> 16;
}

/* Device numbers as the kernel stores them: old 16-bit form when it fits, else new. */
static dev_t decode_rdev(const struct ext2_inode_large *in)
{
	uint32_t d;

	if (in->i_block[0]) {
		d = in->i_block[0];
		return makedev((d >> 8) & 0xff, d & 0xff);
	}
	d = in->i_block[1];
	return makedev((d & 0xfff00) >> 8, (d & 0xff) | ((d >> 12) & 0xfff00));
}

static void encode_rdev(struct ext2_inode_large *in, dev_t rdev)
{
	unsigned ma = major(rdev), mi = minor(rdev);

	if (ma < 256 && mi < 256) {
		in->i_block[0] = ma << 8 | mi;
		in->i_block[1] = 0;
	} else {
		in->i_block[0] = 0;
		in->i_block[1] = (mi & 0xff) | (ma << 8) | ((mi & ~0xffu) << 12);
	}
}

static bool is_device(mode_t mode)
{
	return LINUX_S_ISCHR(mode) || LINUX_S_ISBLK(mode);
}

static void fill_statx_times(struct kbox_ext4 *x, const struct ext2_inode_large *in,
			     struct statx *stx)
{
	struct timespec a = GET_TIME(x, in, atime), m = GET_TIME(x, in, mtime),
			c = GET_TIME(x, in, ctime);

	stx->stx_atime = (struct statx_timestamp){.tv_sec = a.tv_sec, .tv_nsec = a.tv_nsec};
	stx->stx_mtime = (struct statx_timestamp){.tv_sec = m.tv_sec, .tv_nsec = m.tv_nsec};
	stx->stx_ctime = (struct statx_timestamp){.tv_sec = c.tv_sec, .tv_nsec = c.tv_nsec};
	if (FITS(x, in, i_crtime_extra)) {
		struct timespec b = decode_time(in->i_crtime, &in->i_crtime_extra);

		stx->stx_btime = (struct statx_timestamp){.tv_sec = b.tv_sec, .tv_nsec = b.tv_nsec};
		stx->stx_mask |= STATX_BTIME;
	}
}

/* A directory with dir_nlink counts past 64999 says 1, as ext4 does. */
static unsigned nlink_of(const struct ext2_inode_large *in)
{
	return in->i_links_count;
}

static void fill_statx(struct kbox_ext4 *x, uint32_t ino, const struct ext2_inode_large *in,
		       struct statx *stx)
{
	memset(stx, 0, sizeof(*stx));
	stx->stx_mask = STATX_BASIC_STATS;
	stx->stx_blksize = x->fs->blocksize;
	stx->stx_nlink = nlink_of(in);
	stx->stx_uid = kbox_ext4_inode_uid(in);
	stx->stx_gid = kbox_ext4_inode_gid(in);
	stx->stx_mode = in->i_mode;
	stx->stx_ino = ino;
	stx->stx_size = EXT2_I_SIZE(in);
	stx->stx_blocks = ext2fs_get_stat_i_blocks(x->fs, (struct ext2_inode *)in);
	if (in->i_flags & EXT2_IMMUTABLE_FL)
		stx->stx_attributes |= STATX_ATTR_IMMUTABLE;
	if (in->i_flags & EXT2_APPEND_FL)
		stx->stx_attributes |= STATX_ATTR_APPEND;
	if (in->i_flags & EXT2_NODUMP_FL)
		stx->stx_attributes |= STATX_ATTR_NODUMP;
	if (in->i_flags & EXT2_COMPR_FL)
		stx->stx_attributes |= STATX_ATTR_COMPRESSED;
	if (in->i_flags & EXT4_ENCRYPT_FL)
		stx->stx_attributes |= STATX_ATTR_ENCRYPTED;
	if (in->i_flags & EXT4_VERITY_FL)
		stx->stx_attributes |= STATX_ATTR_VERITY;
	/* the flags ext4_getattr() reports, whether set or not */
	stx->stx_attributes_mask = STATX_ATTR_IMMUTABLE | STATX_ATTR_APPEND | STATX_ATTR_NODUMP |
				   STATX_ATTR_COMPRESSED | STATX_ATTR_ENCRYPTED | STATX_ATTR_VERITY;
	if (is_device(in->i_mode)) {
		dev_t rdev = decode_rdev(in);

		stx->stx_rdev_major = major(rdev);
		stx->stx_rdev_minor = minor(rdev);
	}
	fill_statx_times(x, in, stx);
}

int kbox_ext4_statx(struct kbox_ext4 *x, uint32_t ino, struct statx *stx)
{
	struct ext2_inode_large in;
	int err;

	pthread_mutex_lock(&x->lock);
	err = kbox_ext4_iread(x, ino, &in);
	if (!err)
		fill_statx(x, ino, &in, stx);
	pthread_mutex_unlock(&x->lock);
	return err;
}

int kbox_ext4_getattr(struct kbox_ext4 *x, uint32_t ino, struct stat *st)
{
	struct statx stx;
	int err = kbox_ext4_statx(x, ino, &stx);

	if (err)
		return err;
	memset(st, 0, sizeof(*st));
	st->st_ino = stx.stx_ino;
	st->st_mode = stx.stx_mode;
	st->st_nlink = stx.stx_nlink;
	st->st_uid = stx.stx_uid;
	st->st_gid = stx.stx_gid;
	st->st_rdev = makedev(stx.stx_rdev_major, stx.stx_rdev_minor);
	st->st_size = stx.stx_size;
	st->st_blksize = stx.stx_blksize;
	st->st_blocks = stx.stx_blocks;
	st->st_atim = (struct timespec){stx.stx_atime.tv_sec, stx.stx_atime.tv_nsec};
	st->st_mtim = (struct timespec){stx.stx_mtime.tv_sec, stx.stx_mtime.tv_nsec};
	st->st_ctim = (struct timespec){stx.stx_ctime.tv_sec, stx.stx_ctime.tv_nsec};
	return 0;
}

static struct timespec resolve_time(struct timespec t)
{
	return t.tv_nsec == UTIME_NOW ? now() : t;
}

static int apply_setattr(struct kbox_ext4 *x, struct ext2_inode_large *in,
			 const struct kbox_ext4_setattr *sa)
{
	if (sa->valid & KBOX_EXT4_SET_MODE)
		in->i_mode = (in->i_mode & LINUX_S_IFMT) | (sa->mode & 07777);
	if (sa->valid & (KBOX_EXT4_SET_UID | KBOX_EXT4_SET_GID))
		kbox_ext4_set_owner(
			in, sa->valid & KBOX_EXT4_SET_UID ? sa->uid : kbox_ext4_inode_uid(in),
			sa->valid & KBOX_EXT4_SET_GID ? sa->gid : kbox_ext4_inode_gid(in));
	if ((sa->valid & KBOX_EXT4_SET_ATIME) && sa->atime.tv_nsec != UTIME_OMIT)
		SET_TIME(x, in, atime, resolve_time(sa->atime));
	if ((sa->valid & KBOX_EXT4_SET_MTIME) && sa->mtime.tv_nsec != UTIME_OMIT)
		SET_TIME(x, in, mtime, resolve_time(sa->mtime));
	kbox_ext4_touch(x, in, false);
	return 0;
}

int kbox_ext4_setattr(struct kbox_ext4 *x, uint32_t ino, const struct kbox_ext4_setattr *sa)
{
	struct ext2_inode_large in;
	int err = x->rw ? 0 : -EROFS;

	pthread_mutex_lock(&x->lock);
	if (!err && (sa->valid & KBOX_EXT4_SET_SIZE))
		err = kbox_ext4_do_truncate(x, ino, sa->size);
	if (!err)
		err = kbox_ext4_iread(x, ino, &in);
	if (!err) {
		apply_setattr(x, &in, sa);
		err = kbox_ext4_iwrite(x, ino, &in);
	}
	err = kbox_ext4_done(x, err);
	pthread_mutex_unlock(&x->lock);
	return err;
}

int kbox_ext4_ftype(mode_t mode)
{
	switch (mode & S_IFMT) {
	case S_IFREG:
		return EXT2_FT_REG_FILE;
	case S_IFDIR:
		return EXT2_FT_DIR;
	case S_IFLNK:
		return EXT2_FT_SYMLINK;
	case S_IFCHR:
		return EXT2_FT_CHRDEV;
	case S_IFBLK:
		return EXT2_FT_BLKDEV;
	case S_IFIFO:
		return EXT2_FT_FIFO;
	case S_IFSOCK:
		return EXT2_FT_SOCK;
	default:
		return EXT2_FT_UNKNOWN;
	}
}

unsigned kbox_ext4_ftype_to_dtype(int ftype)
{
	static const unsigned char dt[] = {
		[EXT2_FT_UNKNOWN] = 0, [EXT2_FT_REG_FILE] = 8, [EXT2_FT_DIR] = 4,
		[EXT2_FT_CHRDEV] = 2,  [EXT2_FT_BLKDEV] = 6,   [EXT2_FT_FIFO] = 1,
		[EXT2_FT_SOCK] = 12,   [EXT2_FT_SYMLINK] = 10,
	};

	return ftype >= 0 && ftype < (int)sizeof(dt) ? dt[ftype] : 0;
}

/* Allocate and count an inode; a group whose inode table was never used gets its flag on disk
 * first. */
static int alloc_ino(struct kbox_ext4 *x, uint32_t dir, mode_t mode, uint32_t *ino)
{
	ext2_filsys fs = x->fs;
	errcode_t rc = ext2fs_new_inode(fs, dir, mode, NULL, ino);
	dgrp_t g;
	bool uninit;

	if (rc == EXT2_ET_INODE_ALLOC_FAIL && kbox_ext4_has_quarantine(x) && !kbox_ext4_flush(x))
		rc = ext2fs_new_inode(fs, dir, mode, NULL, ino);
	if (rc)
		return kbox_ext4_errno(rc);
	g = ext2fs_group_of_ino(fs, *ino);
	uninit = ext2fs_bg_flags_test(fs, g, EXT2_BG_INODE_UNINIT);
	ext2fs_inode_alloc_stats2(fs, *ino, +1, LINUX_S_ISDIR(mode));
	/* e2fsck -p cannot repair a used inode in a group marked INODE_UNINIT. */
	return uninit ? kbox_ext4_flush(x) : 0;
}

int kbox_ext4_new_inode(struct kbox_ext4 *x, uint32_t dir, mode_t mode, dev_t rdev, uid_t uid,
			gid_t gid, unsigned nlink, uint32_t *ino, struct ext2_inode_large *in)
{
	ext2_filsys fs = x->fs;
	size_t isize = EXT2_INODE_SIZE(fs->super);
	struct timespec t = now();
	char *full;
	int err = alloc_ino(x, dir, mode, ino);

	if (err)
		return err;
	memset(in, 0, sizeof(*in));
	in->i_mode = mode;
	in->i_links_count = nlink;
	kbox_ext4_set_owner(in, uid, gid);
	if (isize > EXT2_GOOD_OLD_INODE_SIZE)
		in->i_extra_isize = sizeof(*in) - EXT2_GOOD_OLD_INODE_SIZE;
	SET_TIME(x, in, atime, t);
	SET_TIME(x, in, mtime, t);
	SET_TIME(x, in, ctime, t);
	if (FITS(x, in, i_crtime_extra))
		encode_time(t, &in->i_crtime, &in->i_crtime_extra);
	if (is_device(mode))
		encode_rdev(in, rdev);
	else if (!LINUX_S_ISFIFO(mode) && !LINUX_S_ISSOCK(mode) &&
		 ext2fs_has_feature_extents(fs->super)) {
		ext2_extent_handle_t h;

		/* Opening a handle on an empty inode writes the extent header into i_block. */
		in->i_flags |= EXT4_EXTENTS_FL;
		if (!ext2fs_extent_open2(fs, *ino, (struct ext2_inode *)in, &h))
			ext2fs_extent_free(h);
	}
	/* The whole on-disk inode, so no xattr of a former owner survives in its tail. */
	full = calloc(1, isize);
	if (!full)
		return -ENOMEM;
	memcpy(full, in, isize < sizeof(*in) ? isize : sizeof(*in));
	err = kbox_ext4_errno(ext2fs_write_inode_full(fs, *ino, (struct ext2_inode *)full, isize));
	free(full);
	if (!err)
		icache_put(x, *ino, in);
	return err;
}

void kbox_ext4_set_rdev(struct ext2_inode_large *in, dev_t rdev)
{
	encode_rdev(in, rdev);
}

static struct kbox_ext4_oref *find_oref(const struct kbox_ext4 *x, uint32_t ino)
{
	for (size_t i = 0; i < x->norefs; i++)
		if (x->orefs[i].ino == ino)
			return &x->orefs[i];
	return NULL;
}

uint32_t kbox_ext4_oref_count(const struct kbox_ext4 *x, uint32_t ino)
{
	struct kbox_ext4_oref *r = find_oref(x, ino);

	return r ? r->count : 0;
}

/* -------- the orphan list (images with a journal) -------- */

static ssize_t orphan_index(const struct kbox_ext4 *x, uint32_t ino)
{
	for (size_t i = 0; i < x->orphans.n; i++)
		if (x->orphans.ino[i] == ino)
			return (ssize_t)i;
	return -1;
}

/*
 * Link an unlinked-but-open inode into the on-disk orphan list as the
 * kernel does (i_dtime names the next one, s_last_orphan the first), in
 * one transaction: two writes no order makes safe ("inodes that were part
 * of a corrupted orphan linked list" stops e2fsck -p). After a crash
 * e2fsck -p frees the inodes on the list, and so does a kernel mount.
 */
static int orphan_add(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in)
{
	int err;

	if (orphan_index(x, ino) >= 0)
		return 0;
	/*
	 * e2fsck frees a listed inode's blocks against the on-disk bitmap, and
	 * gives up on the whole list at a block that bitmap says is free
	 * ("already cleared"), leaving the rest as refugees -p refuses. kbox
	 * writes bitmaps at flush time only: write them first, so they cover
	 * every block the inode has (file.c maps new ones in a transaction
	 * that writes the bitmaps too).
	 */
	err = kbox_ext4_write_bitmaps(x);
	if (err)
		return err;
	if (x->orphans.n == x->orphans.cap) {
		size_t cap = x->orphans.cap ? 2 * x->orphans.cap : 16;
		uint32_t *n = realloc(x->orphans.ino, cap * sizeof(*n));

		if (!n)
			return -ENOMEM;
		x->orphans.ino = n;
		x->orphans.cap = cap;
	}
	kbox_ext4_txn_begin(x);
	in->i_dtime = x->fs->super->s_last_orphan;
	err = kbox_ext4_iwrite(x, ino, in);
	if (!err) {
		x->fs->super->s_last_orphan = ino;
		err = kbox_ext4_write_super(x);
	}
	err = kbox_ext4_txn_end(x, err);
	if (!err)
		x->orphans.ino[x->orphans.n++] = ino;
	return err;
}

/* Unlink @ino from the orphan list, inside the caller's transaction. */
static int orphan_del(struct kbox_ext4 *x, uint32_t ino, const struct ext2_inode_large *in)
{
	ssize_t i = orphan_index(x, ino);
	struct ext2_inode_large newer;
	int err;

	if (i < 0)
		return 0;
	if ((size_t)i + 1 == x->orphans.n) {
		x->fs->super->s_last_orphan = in->i_dtime;
		err = kbox_ext4_write_super(x);
	} else {
		uint32_t up = x->orphans.ino[i + 1];

		err = kbox_ext4_iread(x, up, &newer);
		newer.i_dtime = in->i_dtime;
		err = err ?: kbox_ext4_iwrite(x, up, &newer);
	}
	if (!err)
		memmove(&x->orphans.ino[i], &x->orphans.ino[i + 1],
			(x->orphans.n - i - 1) * sizeof(*x->orphans.ino));
	x->orphans.n -= !err;
	return err;
}

/* Off the orphan list and marked deleted, in one transaction; its blocks go after. */
static int mark_deleted(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in)
{
	int err;

	kbox_ext4_txn_begin(x);
	err = orphan_del(x, ino, in);
	if (!err) {
		in->i_dtime = now().tv_sec;
		err = kbox_ext4_iwrite(x, ino, in);
	}
	return kbox_ext4_txn_end(x, err);
}

bool kbox_ext4_is_orphan(const struct kbox_ext4 *x, uint32_t ino)
{
	return orphan_index(x, ino) >= 0;
}

int kbox_ext4_orphan_forget(struct kbox_ext4 *x, uint32_t ino)
{
	struct ext2_inode_large in;
	int err;

	if (orphan_index(x, ino) < 0)
		return 0;
	err = kbox_ext4_iread(x, ino, &in);
	if (err)
		return err;
	kbox_ext4_txn_begin(x);
	err = orphan_del(x, ino, &in);
	if (!err) {
		in.i_dtime = 0;
		err = kbox_ext4_iwrite(x, ino, &in);
	}
	return kbox_ext4_txn_end(x, err);
}

int kbox_ext4_release_orphans(struct kbox_ext4 *x)
{
	int err = 0;

	while (!err && x->orphans.n) {
		size_t n = x->orphans.n;
		uint32_t ino = x->orphans.ino[n - 1];
		struct kbox_ext4_oref *r = find_oref(x, ino);

		/* Closing with the inode still open: it goes now. */
		if (r)
			*r = x->orefs[--x->norefs];
		err = kbox_ext4_release_if_unused(x, ino);
		/* A count above 0 kept it (it cannot, but the loop must end). */
		if (!err && x->orphans.n == n)
			err = kbox_ext4_orphan_forget(x, ino);
	}
	return err;
}

/*
 * The inode has no name left. Referenced: it stays with link count 0 until
 * the last iput, on the orphan list when the image has a journal, else with
 * dtime 0 (after a crash e2fsck -p frees such an inode by itself: "deleted
 * inode has zero dtime"). Not referenced: its blocks go now, its number at
 * the next flush.
 */
int kbox_ext4_release_if_unused(struct kbox_ext4 *x, uint32_t ino)
{
	struct ext2_inode_large in;
	int err;

	if (kbox_ext4_oref_count(x, ino)) {
		if (!kbox_ext4_has_journal(x))
			return 0;
		err = kbox_ext4_iread(x, ino, &in);
		return err || in.i_links_count ? err : orphan_add(x, ino, &in);
	}
	err = kbox_ext4_iread(x, ino, &in);
	if (err || in.i_links_count)
		return err;
	if (kbox_ext4_is_orphan(x, ino))
		err = mark_deleted(x, ino, &in);
	err = err ?: kbox_ext4_free_blocks(x, ino, &in);
	if (err)
		return err;
	in.i_dtime = now().tv_sec;
	err = kbox_ext4_iwrite(x, ino, &in);
	if (!err)
		err = kbox_ext4_defer_inode_free(x, ino, LINUX_S_ISDIR(in.i_mode));
	kbox_ext4_iforget(x, ino);
	return err;
}

int kbox_ext4_iget(struct kbox_ext4 *x, uint32_t ino)
{
	struct kbox_ext4_oref *r;
	int err = 0;

	pthread_mutex_lock(&x->lock);
	r = find_oref(x, ino);
	if (r) {
		r->count++;
	} else if (x->norefs == x->orefs_cap) {
		size_t cap = x->orefs_cap ? 2 * x->orefs_cap : 64;
		struct kbox_ext4_oref *n = realloc(x->orefs, cap * sizeof(*n));

		if (n) {
			x->orefs = n;
			x->orefs_cap = cap;
		} else {
			err = -ENOMEM;
		}
	}
	if (!r && !err)
		x->orefs[x->norefs++] = (struct kbox_ext4_oref){.ino = ino, .count = 1};
	pthread_mutex_unlock(&x->lock);
	return err;
}

int kbox_ext4_iput(struct kbox_ext4 *x, uint32_t ino)
{
	struct kbox_ext4_oref *r;
	int err = 0;

	pthread_mutex_lock(&x->lock);
	r = find_oref(x, ino);
	if (!r) {
		err = -EINVAL;
	} else if (--r->count == 0) {
		*r = x->orefs[--x->norefs];
		if (x->rw)
			err = kbox_ext4_done(x, kbox_ext4_release_if_unused(x, ino));
	}
	pthread_mutex_unlock(&x->lock);
	return err;
}

/*
 * What the kernel's ext4 reports, so df in the guest agrees with a mount:
 * f_blocks leaves out the file system's own structures (superblocks and
 * descriptors, bitmaps, inode tables, the journal), and f_bavail also
 * keeps back the root reserve and ext4's reserve for delayed allocation
 * (2% of the blocks, at most 4096).
 */
static blk64_t overhead_blocks(ext2_filsys fs)
{
	struct ext2_super_block *sb = fs->super;
	blk64_t overhead = sb->s_first_data_block;
	struct ext2_inode_large j;

	if (sb->s_overhead_clusters)
		return sb->s_overhead_clusters;
	for (dgrp_t g = 0; g < fs->group_desc_count; g++) {
		bool super = ext2fs_bg_has_super(fs, g);

		overhead += super + (super ? fs->desc_blocks : 0) + fs->inode_blocks_per_group + 2;
	}
	if (ext2fs_has_feature_journal(sb) && sb->s_journal_inum &&
	    !ext2fs_read_inode_full(fs, sb->s_journal_inum, (struct ext2_inode *)&j, sizeof(j)))
		overhead += EXT2_I_SIZE(&j) / fs->blocksize;
	return overhead;
}

int kbox_ext4_statfs(struct kbox_ext4 *x, struct statfs *sfs)
{
	struct ext2_super_block *sb;
	blk64_t free_blocks, reserved;
	uint64_t fsid;

	pthread_mutex_lock(&x->lock);
	sb = x->fs->super;
	memset(sfs, 0, sizeof(*sfs));
	sfs->f_type = EXT2_SUPER_MAGIC;
	sfs->f_bsize = x->fs->blocksize;
	sfs->f_frsize = x->fs->blocksize;
	sfs->f_blocks = ext2fs_blocks_count(sb) - overhead_blocks(x->fs);
	free_blocks = ext2fs_free_blocks_count(sb);
	reserved = ext2fs_r_blocks_count(sb);
	if (ext2fs_has_feature_extents(sb))
		reserved +=
			ext2fs_blocks_count(sb) / 50 < 4096 ? ext2fs_blocks_count(sb) / 50 : 4096;
	sfs->f_bfree = free_blocks;
	sfs->f_bavail = free_blocks > reserved ? free_blocks - reserved : 0;
	sfs->f_files = sb->s_inodes_count;
	sfs->f_ffree = sb->s_free_inodes_count;
	sfs->f_namelen = EXT2_NAME_LEN;
	/* The kernel's fsid: the two halves of the UUID xor'ed. */
	fsid = *(uint64_t *)sb->s_uuid ^ *(uint64_t *)(sb->s_uuid + 8);
	sfs->f_fsid.__val[0] = (int)(uint32_t)fsid;
	sfs->f_fsid.__val[1] = (int)(uint32_t)(fsid >> 32);
	sfs->f_flags = x->rw ? 0 : ST_RDONLY;
	pthread_mutex_unlock(&x->lock);
	return 0;
}
