// SPDX-License-Identifier: MIT
/*
 * Directories: lookup, readdir, and the namespace operations.
 *
 * Ordering (e2fsck -p must repair any prefix of each operation): a link
 * count may be too high or too low, an entry may name an inode whose link
 * count is 0 (e2fsck clears the entry), and a zero-length inode may be
 * unattached; but a non-empty inode must never be left without an entry,
 * nor a directory with two. So new directories and symlinks are written
 * with link count 0 and get their count after the entry exists, counts
 * go up before an entry is added and down before one is removed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fs/ext4/internal.h"

#ifndef RENAME_NOREPLACE
#define RENAME_NOREPLACE (1 << 0)
#define RENAME_EXCHANGE	 (1 << 1)
#endif

static int check_name(const char *name)
{
	size_t len = strlen(name);

	if (!len || strchr(name, '/'))
		return -EINVAL;
	if (len > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	return 0;
}

static bool is_dot(const char *name)
{
	return !strcmp(name, ".") || !strcmp(name, "..");
}

static int read_dir(struct kbox_ext4 *x, uint32_t dir, struct ext2_inode_large *in)
{
	int err = kbox_ext4_iread(x, dir, in);

	if (!err && !LINUX_S_ISDIR(in->i_mode))
		return -ENOTDIR;
	if (!err && !in->i_links_count)
		return -ENOENT; /* removed while someone still has it open */
	return err;
}

static int find(struct kbox_ext4 *x, uint32_t dir, const char *name, uint32_t *ino)
{
	struct ext2_inode_large in;
	int err = check_name(name) ?: read_dir(x, dir, &in);

	if (err)
		return err;
	if (!strcmp(name, ".")) {
		*ino = dir;
		return 0;
	}
	if (!strcmp(name, ".."))
		return kbox_ext4_errno(ext2fs_lookup(x->fs, dir, "..", 2, NULL, ino));
	return kbox_ext4_dcache_lookup(x, dir, name, ino, NULL);
}

int kbox_ext4_lookup(struct kbox_ext4 *x, uint32_t dir, const char *name, uint32_t *ino)
{
	int err;

	pthread_mutex_lock(&x->lock);
	err = find(x, dir, name, ino);
	pthread_mutex_unlock(&x->lock);
	return err;
}

/* -------- readdir -------- */

struct rd {
	struct kbox_ext4 *x;
	kbox_ext4_fill_fn fill;
	void *arg;
	uint64_t *pos;
};

static unsigned dtype_of(struct kbox_ext4 *x, struct ext2_dir_entry *de)
{
	struct ext2_inode_large in;

	if (ext2fs_has_feature_filetype(x->fs->super))
		return kbox_ext4_ftype_to_dtype(ext2fs_dirent_file_type(de));
	if (kbox_ext4_iread(x, de->inode, &in))
		return 0;
	return kbox_ext4_ftype_to_dtype(kbox_ext4_ftype(in.i_mode));
}

/* Entries of one directory block from byte @start; 1 when @fill asked to stop. */
static int readdir_block(struct rd *r, char *buf, blk64_t lblk, unsigned start)
{
	size_t bs = r->x->fs->blocksize;
	unsigned off = 0, rec_len;

	while (off < bs) {
		struct ext2_dir_entry *de = (struct ext2_dir_entry *)(buf + off);
		uint64_t here = lblk * bs + off;

		if (ext2fs_get_rec_len(r->x->fs, de, &rec_len) || rec_len < 8 || off + rec_len > bs)
			return -EUCLEAN;
		if (off >= start && de->inode && ext2fs_dirent_name_len(de)) {
			if (r->fill(r->arg, de->name, ext2fs_dirent_name_len(de), de->inode,
				    dtype_of(r->x, de), here + rec_len)) {
				*r->pos = here;
				return 1;
			}
		}
		off += rec_len;
		*r->pos = lblk * bs + off;
	}
	return 0;
}

static int walk_blocks(struct rd *r, uint32_t dir, struct ext2_inode_large *in)
{
	ext2_filsys fs = r->x->fs;
	size_t bs = fs->blocksize;
	uint64_t size = EXT2_I_SIZE(in);
	char *buf;
	int err = 0;

	if (in->i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	buf = malloc(bs);
	if (!buf)
		return -ENOMEM;
	for (blk64_t lblk = *r->pos / bs; !err && lblk * bs < size; lblk++) {
		unsigned start = lblk == *r->pos / bs ? *r->pos % bs : 0;
		blk64_t pblk = 0;
		errcode_t rc =
			ext2fs_bmap2(fs, dir, (struct ext2_inode *)in, NULL, 0, lblk, NULL, &pblk);

		if (!rc && pblk)
			rc = ext2fs_read_dir_block4(fs, pblk, buf, 0, dir);
		err = kbox_ext4_errno(rc);
		if (!err && pblk)
			err = readdir_block(r, buf, lblk, start);
		if (!err)
			*r->pos = (lblk + 1) * bs;
	}
	free(buf);
	return err < 0 ? err : 0;
}

int kbox_ext4_readdir(struct kbox_ext4 *x, uint32_t dir, uint64_t *pos, kbox_ext4_fill_fn fill,
		      void *arg)
{
	struct rd r = {.x = x, .fill = fill, .arg = arg, .pos = pos};
	struct ext2_inode_large in;
	int err;

	pthread_mutex_lock(&x->lock);
	err = kbox_ext4_iread(x, dir, &in);
	if (!err && !LINUX_S_ISDIR(in.i_mode))
		err = -ENOTDIR;
	/* A removed directory someone still has open lists nothing, as on Linux. */
	if (!err && in.i_links_count)
		err = (in.i_flags & EXT2_INDEX_FL)
			      ? kbox_ext4_hash_readdir(x, dir, &in, pos, fill, arg)
			      : walk_blocks(&r, dir, &in);
	pthread_mutex_unlock(&x->lock);
	return err;
}

int kbox_ext4_dir_entries(struct kbox_ext4 *x, uint32_t dir, struct ext2_inode_large *in,
			  kbox_ext4_fill_fn fill, void *arg)
{
	uint64_t pos = 0;
	struct rd r = {.x = x, .fill = fill, .arg = arg, .pos = &pos};

	return walk_blocks(&r, dir, in);
}

/* -------- entries -------- */

/*
 * A full linear directory grows by one empty block. Not ext2fs_expand_dir(),
 * which maps the block before it writes the larger size: in an extent tree
 * with leaves, a leaf extent past EOF is what e2fsck -p will not repair,
 * while a size past the last block is (it trims it). So the size first.
 */
static int expand_dir(struct kbox_ext4 *x, uint32_t dir)
{
	struct ext2_inode_large in;
	size_t bs = x->fs->blocksize;
	char *block = NULL;
	uint64_t size;
	blk64_t lblk;
	int err;

	kbox_ext4_iforget(x, dir);
	err = kbox_ext4_iread(x, dir, &in);
	if (err)
		return err;
	size = EXT2_I_SIZE(&in);
	lblk = (size + bs - 1) / bs;
	err = kbox_ext4_errno(ext2fs_new_dir_block(x->fs, 0, 0, &block));
	if (!err) {
		ext2fs_inode_size_set(x->fs, (struct ext2_inode *)&in, (lblk + 1) * bs);
		err = kbox_ext4_iwrite(x, dir, &in);
		if (!err) {
			err = kbox_ext4_add_block(x, dir, &in, lblk, block, true);
			/* No block (ENOSPC): the old size, or e2fsck finds it past the end. */
			if (err) {
				ext2fs_inode_size_set(x->fs, (struct ext2_inode *)&in, size);
				kbox_ext4_iwrite(x, dir, &in);
			}
		}
	}
	if (!err)
		err = kbox_ext4_iwrite(x, dir, &in);
	ext2fs_free_mem(&block);
	kbox_ext4_iforget(x, dir);
	return err;
}

/* The offset of room for @need bytes in one directory block (never its checksum tail). */
static int find_room(struct kbox_ext4 *x, char *buf, unsigned need, unsigned *used)
{
	ext2_filsys fs = x->fs;
	unsigned end = fs->blocksize, off = 0, rec_len;

	if (ext2fs_has_feature_metadata_csum(fs->super))
		end -= sizeof(struct ext2_dir_entry_tail);
	while (off < end) {
		struct ext2_dir_entry *de = (struct ext2_dir_entry *)(buf + off);

		if (ext2fs_get_rec_len(fs, de, &rec_len) || rec_len < 8 || off + rec_len > end)
			return -EUCLEAN;
		*used = de->inode ? EXT2_DIR_REC_LEN(ext2fs_dirent_name_len(de)) : 0;
		if (rec_len >= *used + need)
			return off;
		off += rec_len;
	}
	return -ENOSPC;
}

/* A new entry at @off, splitting the entry there when it is in use (@used bytes). */
static void put_entry(struct kbox_ext4 *x, char *buf, unsigned off, unsigned used, const char *name,
		      uint32_t ino, int ftype)
{
	struct ext2_dir_entry *de = (struct ext2_dir_entry *)(buf + off);
	unsigned rec_len = 0;

	ext2fs_get_rec_len(x->fs, de, &rec_len);
	if (used) {
		ext2fs_set_rec_len(x->fs, used, de);
		de = (struct ext2_dir_entry *)(buf + off + used);
		ext2fs_set_rec_len(x->fs, rec_len - used, de);
	}
	de->inode = ino;
	ext2fs_dirent_set_name_len(de, strlen(name));
	ext2fs_dirent_set_file_type(de, ext2fs_has_feature_filetype(x->fs->super) ? ftype : 0);
	memcpy(de->name, name, strlen(name));
}

/* Try block @lblk of linear directory @dir: 1 when the entry went in, 0 when it is full. */
static int insert_in_block(struct kbox_ext4 *x, uint32_t dir, struct ext2_inode_large *in,
			   blk64_t lblk, char *buf, const char *name, uint32_t ino, int ftype)
{
	ext2_filsys fs = x->fs;
	blk64_t pblk = 0;
	unsigned used;
	errcode_t rc = ext2fs_bmap2(fs, dir, (struct ext2_inode *)in, NULL, 0, lblk, NULL, &pblk);
	int off;

	if (!rc && pblk)
		rc = ext2fs_read_dir_block4(fs, pblk, buf, 0, dir);
	if (rc || !pblk)
		return kbox_ext4_errno(rc);
	off = find_room(x, buf, EXT2_DIR_REC_LEN(strlen(name)), &used);
	if (off == -ENOSPC)
		return 0;
	if (off < 0)
		return off;
	put_entry(x, buf, off, used, name, ino, ftype);
	rc = ext2fs_write_dir_block4(fs, pblk, buf, 0, dir);
	return rc ? kbox_ext4_errno(rc) : 1;
}

/*
 * A new entry in a linear directory, one block read and written: from the
 * first block that may have room (ext2fs_link reads and checksums every
 * block of the directory for each entry), growing it when all are full.
 * 1: done; 0: an htree directory, for ext2fs_link.
 */
static int insert_linear(struct kbox_ext4 *x, uint32_t dir, const char *name, uint32_t ino,
			 int ftype)
{
	size_t bs = x->fs->blocksize;
	struct ext2_inode_large in;
	blk64_t lblk = kbox_ext4_dcache_room_hint(x, dir);
	char *buf;
	int ret = kbox_ext4_iread(x, dir, &in);

	if (ret || (in.i_flags & (EXT2_INDEX_FL | EXT4_INLINE_DATA_FL)))
		return ret;
	buf = malloc(bs);
	if (!buf)
		return -ENOMEM;
	for (int grown = 0; !ret && grown < 2; grown++) {
		for (; !ret && lblk < EXT2_I_SIZE(&in) / bs; lblk++)
			ret = insert_in_block(x, dir, &in, lblk, buf, name, ino, ftype);
		if (!ret && !grown)
			ret = expand_dir(x, dir) ?: kbox_ext4_iread(x, dir, &in);
	}
	free(buf);
	/* The loop stepped past the block that took the entry. */
	kbox_ext4_dcache_set_room_hint(x, dir, ret > 0 ? lblk - 1 : 0);
	return ret ? ret : -ENOSPC;
}

static int add_entry(struct kbox_ext4 *x, uint32_t dir, const char *name, uint32_t ino, int ftype)
{
	int err = insert_linear(x, dir, name, ino, ftype);

	/*
	 * An htree directory: ext2fs_link may split a full leaf, moving entries
	 * between blocks in separate writes, so it runs as one transaction.
	 */
	if (!err) {
		kbox_ext4_txn_begin(x);
		err = kbox_ext4_errno(ext2fs_link(x->fs, dir, name, ino, ftype));
		err = kbox_ext4_txn_end(x, err);
		kbox_ext4_iforget(x, dir);
	}
	if (err < 0)
		return err;
	kbox_ext4_dcache_add(x, dir, name, ino, ftype);
	return 0;
}

static int remove_entry(struct kbox_ext4 *x, uint32_t dir, const char *name, uint32_t ino)
{
	errcode_t rc = ext2fs_unlink(x->fs, dir, name, ino, 0);

	kbox_ext4_iforget(x, dir);
	if (rc)
		return kbox_ext4_errno(rc);
	kbox_ext4_dcache_remove(x, dir, name);
	kbox_ext4_dcache_set_room_hint(x, dir, 0);
	return 0;
}

struct replace {
	const char *name;
	size_t len;
	uint32_t ino;
	int ftype;
	const char *new_name; /* rename in place: the new name, or NULL */
	bool done;
	bool filetype;
	ext2_filsys fs;
};

static int replace_one(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset, int bsize,
		       char *buf, void *arg)
{
	struct replace *r = arg;
	size_t nlen = r->new_name ? strlen(r->new_name) : 0;

	(void)dir;
	(void)entry;
	(void)offset;
	(void)bsize;
	(void)buf;
	if (!de->inode || (size_t)ext2fs_dirent_name_len(de) != r->len ||
	    memcmp(de->name, r->name, r->len))
		return 0;
	if (r->new_name) {
		unsigned rec_len = 0;

		ext2fs_get_rec_len(r->fs, de, &rec_len);
		if (EXT2_DIR_REC_LEN(nlen) > rec_len)
			return DIRENT_ABORT;
		memcpy(de->name, r->new_name, nlen);
		ext2fs_dirent_set_name_len(de, nlen);
	} else {
		de->inode = r->ino;
		if (r->filetype)
			ext2fs_dirent_set_file_type(de, r->ftype);
	}
	r->done = true;
	return DIRENT_CHANGED | DIRENT_ABORT;
}

/* Point the existing entry @name at @ino: one block write, so atomic. */
static int replace_entry(struct kbox_ext4 *x, uint32_t dir, const char *name, uint32_t ino,
			 int ftype)
{
	struct replace r = {.name = name,
			    .len = strlen(name),
			    .ino = ino,
			    .ftype = ftype,
			    .filetype = ext2fs_has_feature_filetype(x->fs->super),
			    .fs = x->fs};
	errcode_t rc = ext2fs_dir_iterate2(x->fs, dir, 0, NULL, replace_one, &r);

	if (rc)
		return kbox_ext4_errno(rc);
	if (!r.done)
		return -ENOENT;
	if (!is_dot(name))
		kbox_ext4_dcache_add(x, dir, name, ino, ftype);
	return 0;
}

/*
 * Rename within one block when the new name fits the old entry's space:
 * one write, so a crash sees the old name or the new one. Not in an htree
 * directory, where the name's hash decides its block. 1 when done.
 */
static int rename_in_place(struct kbox_ext4 *x, uint32_t dir, const char *oname, const char *nname,
			   uint32_t ino, int ftype)
{
	struct replace r = {.name = oname, .len = strlen(oname), .new_name = nname, .fs = x->fs};
	struct ext2_inode_large in;
	errcode_t rc;
	int err = kbox_ext4_iread(x, dir, &in);

	if (err || (in.i_flags & EXT2_INDEX_FL))
		return err;
	rc = ext2fs_dir_iterate2(x->fs, dir, 0, NULL, replace_one, &r);
	if (rc)
		return kbox_ext4_errno(rc);
	if (!r.done)
		return 0;
	kbox_ext4_dcache_remove(x, dir, oname);
	kbox_ext4_dcache_add(x, dir, nname, ino, ftype);
	return 1;
}

/* Change a link count by @delta; directories past 64999 stay at 1 (dir_nlink). */
static int adjust_links(struct kbox_ext4 *x, uint32_t ino, int delta, bool mtime)
{
	struct ext2_inode_large in;
	bool dir;
	int err = kbox_ext4_iread(x, ino, &in);

	if (err)
		return err;
	dir = LINUX_S_ISDIR(in.i_mode);
	if (delta > 0 && !(dir && in.i_links_count == 1)) {
		if (in.i_links_count + delta >= EXT2_LINK_MAX) {
			if (!dir || !ext2fs_has_feature_dir_nlink(x->fs->super))
				return -EMLINK;
			in.i_links_count = 1;
		} else {
			in.i_links_count += delta;
		}
	} else if (delta < 0 && !(dir && in.i_links_count == 1 && delta == -1 &&
				  ext2fs_has_feature_dir_nlink(x->fs->super))) {
		in.i_links_count = in.i_links_count > -delta ? in.i_links_count + delta : 0;
	}
	kbox_ext4_touch(x, &in, mtime);
	return kbox_ext4_iwrite(x, ino, &in);
}

static int dir_can_link(struct kbox_ext4 *x, const struct ext2_inode_large *in)
{
	if (in->i_links_count + 1 >= EXT2_LINK_MAX && in->i_links_count != 1 &&
	    !ext2fs_has_feature_dir_nlink(x->fs->super))
		return -EMLINK;
	return 0;
}

/* Checks shared by every creation: a writable image, a directory, a free name. */
static int prepare_create(struct kbox_ext4 *x, uint32_t dir, const char *name)
{
	struct ext2_inode_large in;
	uint32_t ino;
	int err = x->rw ? 0 : -EROFS;

	if (!err)
		err = check_name(name) ?: read_dir(x, dir, &in);
	if (err)
		return err;
	if (is_dot(name))
		return -EEXIST;
	err = kbox_ext4_dcache_lookup(x, dir, name, &ino, NULL);
	if (err != -ENOENT)
		return err ? err : -EEXIST;
	return kbox_ext4_maybe_flush(x, 4);
}

/* A new inode that never got its entry: mark it deleted; its number waits for a flush. */
static void abandon(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in)
{
	in->i_links_count = 0;
	kbox_ext4_free_blocks(x, ino, in);
	in->i_dtime = time(NULL);
	kbox_ext4_iwrite(x, ino, in);
	kbox_ext4_defer_inode_free(x, ino, LINUX_S_ISDIR(in->i_mode));
	kbox_ext4_iforget(x, ino);
}

/* Add the entry, then give the inode its link count (it was written with 0). */
static int attach(struct kbox_ext4 *x, uint32_t dir, const char *name, uint32_t ino,
		  struct ext2_inode_large *in, unsigned nlink)
{
	int err = add_entry(x, dir, name, ino, kbox_ext4_ftype(in->i_mode));

	if (err) {
		abandon(x, ino, in);
		return err;
	}
	if (in->i_links_count != nlink) {
		in->i_links_count = nlink;
		err = kbox_ext4_iwrite(x, ino, in);
	}
	return err;
}

int kbox_ext4_mknod(struct kbox_ext4 *x, uint32_t dir, const char *name, mode_t mode, dev_t rdev,
		    uid_t uid, gid_t gid, uint32_t *ino)
{
	struct ext2_inode_large in;
	int err;

	switch (mode & S_IFMT) {
	case 0:
		mode |= S_IFREG;
		break;
	case S_IFREG:
	case S_IFIFO:
	case S_IFSOCK:
	case S_IFCHR:
	case S_IFBLK:
		break;
	default:
		return -EINVAL;
	}
	pthread_mutex_lock(&x->lock);
	err = prepare_create(x, dir, name);
	/* Zero length: unattached after a crash, e2fsck -p simply clears it. */
	if (!err)
		err = kbox_ext4_new_inode(x, dir, mode, rdev, uid, gid, 1, ino, &in);
	if (!err)
		err = attach(x, dir, name, *ino, &in, 1);
	if (!err)
		err = kbox_ext4_touch_ino(x, dir, true);
	err = kbox_ext4_done(x, err);
	pthread_mutex_unlock(&x->lock);
	return err;
}

static int make_dir(struct kbox_ext4 *x, uint32_t dir, const char *name, mode_t mode, uid_t uid,
		    gid_t gid, uint32_t *ino)
{
	struct ext2_inode_large in, pin;
	char *block = NULL;
	int err = read_dir(x, dir, &pin) ?: dir_can_link(x, &pin);

	if (!err)
		err = kbox_ext4_new_inode(x, dir, LINUX_S_IFDIR | (mode & 07777), 0, uid, gid, 0,
					  ino, &in);
	if (err)
		return err;
	err = kbox_ext4_errno(ext2fs_new_dir_block(x->fs, *ino, dir, &block));
	if (!err)
		err = kbox_ext4_add_block(x, *ino, &in, 0, block, true);
	ext2fs_free_mem(&block);
	if (!err) {
		ext2fs_inode_size_set(x->fs, (struct ext2_inode *)&in, x->fs->blocksize);
		err = kbox_ext4_iwrite(x, *ino, &in);
	}
	if (err) {
		abandon(x, *ino, &in);
		return err;
	}
	err = add_entry(x, dir, name, *ino, EXT2_FT_DIR);
	if (err) {
		abandon(x, *ino, &in);
		return err;
	}
	err = adjust_links(x, dir, +1, true);
	if (!err) {
		in.i_links_count = 2;
		err = kbox_ext4_iwrite(x, *ino, &in);
	}
	return err;
}

int kbox_ext4_mkdir(struct kbox_ext4 *x, uint32_t dir, const char *name, mode_t mode, uid_t uid,
		    gid_t gid, uint32_t *ino)
{
	int err;

	pthread_mutex_lock(&x->lock);
	err = prepare_create(x, dir, name);
	if (!err)
		err = make_dir(x, dir, name, mode, uid, gid, ino);
	err = kbox_ext4_done(x, err);
	pthread_mutex_unlock(&x->lock);
	return err;
}

/* The target in i_block when it fits (a fast symlink), else in one data block. */
static int write_target(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in,
			const char *target, size_t len)
{
	char *block;
	int err;

	if (len < sizeof(in->i_block)) {
		in->i_flags &= ~EXT4_EXTENTS_FL;
		memset(in->i_block, 0, sizeof(in->i_block));
		memcpy(in->i_block, target, len);
		ext2fs_inode_size_set(x->fs, (struct ext2_inode *)in, len);
		return kbox_ext4_iwrite(x, ino, in);
	}
	block = calloc(1, x->fs->blocksize);
	if (!block)
		return -ENOMEM;
	memcpy(block, target, len);
	err = kbox_ext4_add_block(x, ino, in, 0, block, false);
	free(block);
	if (!err) {
		ext2fs_inode_size_set(x->fs, (struct ext2_inode *)in, len);
		err = kbox_ext4_iwrite(x, ino, in);
	}
	return err;
}

int kbox_ext4_symlink(struct kbox_ext4 *x, uint32_t dir, const char *name, const char *target,
		      uid_t uid, gid_t gid, uint32_t *ino)
{
	struct ext2_inode_large in;
	size_t len = strlen(target);
	int err;

	if (!len)
		return -ENOENT;
	pthread_mutex_lock(&x->lock);
	err = len >= x->fs->blocksize ? -ENAMETOOLONG : prepare_create(x, dir, name);
	if (!err)
		err = kbox_ext4_new_inode(x, dir, LINUX_S_IFLNK | 0777, 0, uid, gid, 0, ino, &in);
	if (!err) {
		err = write_target(x, *ino, &in, target, len);
		if (err)
			abandon(x, *ino, &in);
	}
	if (!err)
		err = attach(x, dir, name, *ino, &in, 1);
	if (!err)
		err = kbox_ext4_touch_ino(x, dir, true);
	err = kbox_ext4_done(x, err);
	pthread_mutex_unlock(&x->lock);
	return err;
}

static int do_link(struct kbox_ext4 *x, uint32_t ino, uint32_t dir, const char *name)
{
	struct ext2_inode_large in;
	int err = prepare_create(x, dir, name) ?: kbox_ext4_iread(x, ino, &in);

	if (err)
		return err;
	if (LINUX_S_ISDIR(in.i_mode))
		return -EPERM;
	if (!in.i_links_count && !kbox_ext4_oref_count(x, ino))
		return -ENOENT;
	/* A name again: off the orphan list first (its count still 0, as e2fsck -p wants). */
	err = kbox_ext4_orphan_forget(x, ino);
	/* Count first: a crash before the entry leaves a count one too high. */
	if (!err)
		err = adjust_links(x, ino, +1, false);
	if (!err) {
		err = add_entry(x, dir, name, ino, kbox_ext4_ftype(in.i_mode));
		if (err)
			adjust_links(x, ino, -1, false);
	}
	return err ?: kbox_ext4_touch_ino(x, dir, true);
}

int kbox_ext4_link(struct kbox_ext4 *x, uint32_t ino, uint32_t dir, const char *name)
{
	int err;

	pthread_mutex_lock(&x->lock);
	err = kbox_ext4_done(x, do_link(x, ino, dir, name));
	pthread_mutex_unlock(&x->lock);
	return err;
}

static int do_unlink(struct kbox_ext4 *x, uint32_t dir, const char *name)
{
	struct ext2_inode_large in;
	uint32_t ino;
	int err = x->rw ? 0 : -EROFS;

	if (!err)
		err = find(x, dir, name, &ino);
	if (!err && is_dot(name))
		err = -EISDIR;
	if (!err)
		err = kbox_ext4_iread(x, ino, &in);
	if (err)
		return err;
	if (LINUX_S_ISDIR(in.i_mode))
		return -EISDIR;
	/* Count first: a crash before the entry goes leaves an entry e2fsck -p clears. */
	err = adjust_links(x, ino, -1, false);
	if (!err)
		err = remove_entry(x, dir, name, ino);
	if (!err)
		err = kbox_ext4_touch_ino(x, dir, true);
	if (!err)
		err = kbox_ext4_release_if_unused(x, ino);
	return err ?: kbox_ext4_maybe_flush(x, 0);
}

int kbox_ext4_unlink(struct kbox_ext4 *x, uint32_t dir, const char *name)
{
	int err;

	pthread_mutex_lock(&x->lock);
	err = kbox_ext4_done(x, do_unlink(x, dir, name));
	pthread_mutex_unlock(&x->lock);
	return err;
}

static int not_dot(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset, int bsize,
		   char *buf, void *arg)
{
	(void)dir;
	(void)offset;
	(void)bsize;
	(void)buf;
	if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE || !de->inode)
		return 0;
	*(bool *)arg = false;
	return DIRENT_ABORT;
}

static int check_empty(struct kbox_ext4 *x, uint32_t dir)
{
	bool empty = true;
	errcode_t rc = ext2fs_dir_iterate2(x->fs, dir, 0, NULL, not_dot, &empty);

	if (rc)
		return kbox_ext4_errno(rc);
	return empty ? 0 : -ENOTEMPTY;
}

/* Take directory @ino out of @parent (the entry @name is gone or replaced by the caller). */
static int drop_dir(struct kbox_ext4 *x, uint32_t parent, uint32_t ino)
{
	int err = adjust_links(x, parent, -1, true);

	kbox_ext4_dcache_forget_dir(x, ino);
	return err ?: kbox_ext4_release_if_unused(x, ino);
}

/* The link count of a directory being removed goes to 0 before its entry. */
static int zero_links(struct kbox_ext4 *x, uint32_t ino)
{
	struct ext2_inode_large in;
	int err = kbox_ext4_iread(x, ino, &in);

	if (err)
		return err;
	in.i_links_count = 0;
	kbox_ext4_touch(x, &in, false);
	return kbox_ext4_iwrite(x, ino, &in);
}

static int do_rmdir(struct kbox_ext4 *x, uint32_t dir, const char *name)
{
	struct ext2_inode_large in;
	uint32_t ino;
	int err = x->rw ? 0 : -EROFS;

	if (!err && !strcmp(name, "."))
		err = -EINVAL;
	if (!err && !strcmp(name, ".."))
		err = -ENOTEMPTY;
	if (!err)
		err = find(x, dir, name, &ino) ?: kbox_ext4_iread(x, ino, &in);
	if (err)
		return err;
	if (!LINUX_S_ISDIR(in.i_mode))
		return -ENOTDIR;
	if (ino == KBOX_EXT4_ROOT_INO)
		return -EBUSY;
	err = check_empty(x, ino) ?: zero_links(x, ino);
	if (!err)
		err = remove_entry(x, dir, name, ino);
	if (!err)
		err = drop_dir(x, dir, ino);
	return err ?: kbox_ext4_maybe_flush(x, 0);
}

int kbox_ext4_rmdir(struct kbox_ext4 *x, uint32_t dir, const char *name)
{
	int err;

	pthread_mutex_lock(&x->lock);
	err = kbox_ext4_done(x, do_rmdir(x, dir, name));
	pthread_mutex_unlock(&x->lock);
	return err;
}

/* -------- rename -------- */

struct side {
	uint32_t dir;
	const char *name;
	uint32_t ino; /* 0: no such entry */
	struct ext2_inode_large in;
	bool is_dir;
};

static int load_side(struct kbox_ext4 *x, struct side *s, uint32_t dir, const char *name)
{
	int err;

	s->dir = dir;
	s->name = name;
	s->ino = 0;
	s->is_dir = false;
	err = check_name(name);
	if (!err && is_dot(name))
		err = -EBUSY;
	if (!err)
		err = find(x, dir, name, &s->ino);
	if (err == -ENOENT) {
		s->ino = 0;
		return 0;
	}
	if (!err)
		err = kbox_ext4_iread(x, s->ino, &s->in);
	s->is_dir = !err && LINUX_S_ISDIR(s->in.i_mode);
	return err;
}

/* EINVAL when @dir is @ino or lies below it (a directory moved into itself). */
static int check_not_below(struct kbox_ext4 *x, uint32_t ino, uint32_t dir)
{
	for (int depth = 0; depth < 4096; depth++) {
		uint32_t up;

		if (dir == ino)
			return -EINVAL;
		if (dir == KBOX_EXT4_ROOT_INO)
			return 0;
		if (ext2fs_lookup(x->fs, dir, "..", 2, NULL, &up) || up == dir)
			return -EUCLEAN;
		dir = up;
	}
	return -ELOOP;
}

static int check_rename(struct kbox_ext4 *x, struct side *o, struct side *n, unsigned flags)
{
	if (!o->ino)
		return -ENOENT;
	if ((flags & RENAME_NOREPLACE) && n->ino)
		return -EEXIST;
	if ((flags & RENAME_EXCHANGE) && !n->ino)
		return -ENOENT;
	if (o->is_dir && o->dir != n->dir) {
		int err = check_not_below(x, o->ino, n->dir);

		if (err)
			return err;
	}
	if (n->is_dir && o->dir != n->dir && (flags & RENAME_EXCHANGE)) {
		int err = check_not_below(x, n->ino, o->dir);

		if (err)
			return err;
	}
	if (!n->ino || (flags & RENAME_EXCHANGE))
		return 0;
	if (o->is_dir && !n->is_dir)
		return -ENOTDIR;
	if (!o->is_dir && n->is_dir)
		return -EISDIR;
	return n->is_dir ? check_empty(x, n->ino) : 0;
}

/* A directory that changed parent: its ".." and both parents' counts. */
static int reparent(struct kbox_ext4 *x, uint32_t ino, uint32_t from, uint32_t to)
{
	int err = adjust_links(x, to, +1, true);

	if (!err)
		err = replace_entry(x, ino, "..", to, EXT2_FT_DIR);
	if (!err)
		err = adjust_links(x, from, -1, true);
	return err;
}

static int exchange(struct kbox_ext4 *x, struct side *o, struct side *n)
{
	int err = replace_entry(x, o->dir, o->name, n->ino, kbox_ext4_ftype(n->in.i_mode));

	if (!err)
		err = replace_entry(x, n->dir, n->name, o->ino, kbox_ext4_ftype(o->in.i_mode));
	if (!err && o->dir != n->dir && o->is_dir)
		err = reparent(x, o->ino, o->dir, n->dir);
	if (!err && o->dir != n->dir && n->is_dir)
		err = reparent(x, n->ino, n->dir, o->dir);
	return err ?: kbox_ext4_touch_ino(x, o->ino, false) ?: kbox_ext4_touch_ino(x, n->ino, false);
}

/* The entry being replaced loses its inode's link first (a directory's, all of them). */
static int unhook_target(struct kbox_ext4 *x, struct side *n)
{
	return n->is_dir ? zero_links(x, n->ino) : adjust_links(x, n->ino, -1, false);
}

static int finish_target(struct kbox_ext4 *x, struct side *n)
{
	if (n->is_dir)
		return drop_dir(x, n->dir, n->ino);
	return kbox_ext4_release_if_unused(x, n->ino);
}

static int move(struct kbox_ext4 *x, struct side *o, struct side *n)
{
	int ftype = kbox_ext4_ftype(o->in.i_mode), err;

	if (n->ino)
		err = unhook_target(x, n) ?: replace_entry(x, n->dir, n->name, o->ino, ftype);
	else
		err = add_entry(x, n->dir, n->name, o->ino, ftype);
	if (!err)
		err = remove_entry(x, o->dir, o->name, o->ino);
	if (!err && o->is_dir && o->dir != n->dir)
		err = reparent(x, o->ino, o->dir, n->dir);
	return err ?: kbox_ext4_touch_ino(x, o->ino, false);
}

/*
 * The namespace change as one transaction: a directory with two entries
 * or a wrong "..", an exchanged inode briefly without a name, are states
 * e2fsck -p refuses. What follows it (freeing a replaced inode with link
 * count 0) is ordered as everywhere else and needs none.
 */
static int rename_txn(struct kbox_ext4 *x, struct side *o, struct side *n, unsigned flags)
{
	int err, done = 0;

	/* A new name that fits the old entry: one block write, safe without a transaction. */
	if (!n->ino && o->dir == n->dir)
		done = rename_in_place(x, o->dir, o->name, n->name, o->ino,
				       kbox_ext4_ftype(o->in.i_mode));
	if (done)
		return done < 0 ? done
				: kbox_ext4_touch_ino(x, o->ino, false)
					  ?: kbox_ext4_touch_ino(x, o->dir, true);
	kbox_ext4_txn_begin(x);
	err = (flags & RENAME_EXCHANGE) ? exchange(x, o, n) : move(x, o, n);
	if (!err)
		err = kbox_ext4_touch_ino(x, o->dir, true);
	if (!err && n->dir != o->dir)
		err = kbox_ext4_touch_ino(x, n->dir, true);
	err = kbox_ext4_txn_end(x, err);
	if (!err && n->ino && !(flags & RENAME_EXCHANGE))
		err = finish_target(x, n);
	return err;
}

static int do_rename(struct kbox_ext4 *x, uint32_t odir, const char *oname, uint32_t ndir,
		     const char *nname, unsigned flags)
{
	struct side o, n;
	struct ext2_inode_large din;
	int err = x->rw ? 0 : -EROFS;

	if (!err && (flags & ~(RENAME_NOREPLACE | RENAME_EXCHANGE)))
		err = -EINVAL;
	if (!err && (flags & RENAME_NOREPLACE) && (flags & RENAME_EXCHANGE))
		err = -EINVAL;
	if (!err)
		err = read_dir(x, odir, &din) ?: read_dir(x, ndir, &din);
	if (!err)
		err = load_side(x, &o, odir, oname) ?: load_side(x, &n, ndir, nname);
	if (!err)
		err = check_rename(x, &o, &n, flags);
	if (err || o.ino == n.ino)
		return err;
	if (!err && o.is_dir && odir != ndir && !n.ino && !(flags & RENAME_EXCHANGE))
		err = read_dir(x, ndir, &din) ?: dir_can_link(x, &din);
	if (!err)
		err = kbox_ext4_maybe_flush(x, 4);
	return err ?: rename_txn(x, &o, &n, flags);
}

int kbox_ext4_rename(struct kbox_ext4 *x, uint32_t odir, const char *oname, uint32_t ndir,
		     const char *nname, unsigned flags)
{
	int err;

	pthread_mutex_lock(&x->lock);
	err = kbox_ext4_done(x, do_rename(x, odir, oname, ndir, nname, flags));
	pthread_mutex_unlock(&x->lock);
	return err;
}
