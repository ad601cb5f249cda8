// SPDX-License-Identifier: MIT
/*
 * File data: read, write, truncate, SEEK_DATA/SEEK_HOLE, readlink.
 *
 * Write ordering, so that a kill at any point leaves what e2fsck -p
 * repairs and never shows a reader stale blocks:
 * - a new block gets its data first, then it is mapped into the file
 *   (a crash in between leaves an unowned block: a bitmap difference);
 * - the size that exposes new blocks is written after them (a crash in
 *   between leaves blocks past EOF, and e2fsck -p extends the size over
 *   data that was really written);
 * - an unwritten extent becomes written only after its data is in place;
 * - truncate zeroes the tail of the last block, frees the blocks past the
 *   new end, and only then writes the smaller size (a crash in between
 *   leaves a sparse tail, which is valid).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fs/ext4/internal.h"

/* A run of blocks from @lblk: mapped at @pblk, or a hole (pblk 0). */
struct run {
	blk64_t pblk;
	blk64_t len;
	bool uninit;
};

#define HOLE_FOREVER (~0ull >> 1)

static int extent_hole_len(ext2_extent_handle_t h, blk64_t lblk, struct run *r)
{
	struct ext2fs_extent e;

	r->pblk = 0;
	r->len = HOLE_FOREVER;
	if (ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e))
		return 0;
	while (e.e_lblk <= lblk) {
		if (ext2fs_extent_get(h, EXT2_EXTENT_NEXT_LEAF, &e))
			return 0;
	}
	r->len = e.e_lblk - lblk;
	return 0;
}

static int extent_run(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, blk64_t lblk,
		      struct run *r)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	errcode_t rc = ext2fs_extent_open2(x->fs, ino, (struct ext2_inode *)in, &h);

	if (rc)
		return kbox_ext4_errno(rc);
	rc = ext2fs_extent_goto2(h, 0, lblk);
	if (!rc)
		rc = ext2fs_extent_get(h, EXT2_EXTENT_CURRENT, &e);
	if (!rc && lblk >= e.e_lblk && lblk < e.e_lblk + e.e_len) {
		r->pblk = e.e_pblk + (lblk - e.e_lblk);
		r->len = e.e_lblk + e.e_len - lblk;
		r->uninit = e.e_flags & EXT2_EXTENT_FLAGS_UNINIT;
	} else if (!rc || rc == EXT2_ET_EXTENT_NOT_FOUND) {
		rc = extent_hole_len(h, lblk, r);
	}
	ext2fs_extent_free(h);
	return kbox_ext4_errno(rc);
}

/* Block-mapped (ext2/3) files: one bmap per block, coalesced. */
static int bmap_run(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, blk64_t lblk,
		    blk64_t max, struct run *r)
{
	blk64_t p, first = 0;
	errcode_t rc;

	r->len = 0;
	for (blk64_t i = 0; i < max && i < 1024; i++) {
		rc = ext2fs_bmap2(x->fs, ino, (struct ext2_inode *)in, NULL, 0, lblk + i, NULL, &p);
		if (rc)
			return kbox_ext4_errno(rc);
		if (i == 0)
			first = p;
		else if ((first == 0) != (p == 0) || (first && p != first + i))
			break;
		r->len++;
	}
	r->pblk = first;
	r->uninit = false;
	return 0;
}

static int map_run(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, blk64_t lblk,
		   blk64_t max, struct run *r)
{
	int err;

	r->uninit = false;
	if (in->i_flags & EXT4_EXTENTS_FL)
		err = extent_run(x, ino, in, lblk, r);
	else
		err = bmap_run(x, ino, in, lblk, max ? max : 1, r);
	if (!err && r->len > max && max)
		r->len = max;
	return err;
}

static bool is_data(const struct run *r)
{
	return r->pblk && !r->uninit;
}

static int read_inline(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, char *buf,
		       size_t count, uint64_t off)
{
	size_t size = EXT2_I_SIZE(in), got = 0;
	char *all = malloc(size + 1);
	errcode_t rc;

	if (!all)
		return -ENOMEM;
	rc = ext2fs_inline_data_get(x->fs, ino, (struct ext2_inode *)in, all, &got);
	if (!rc && off < got) {
		count = count < got - off ? count : got - off;
		memcpy(buf, all + off, count);
	} else {
		count = 0;
	}
	free(all);
	return rc ? kbox_ext4_errno(rc) : (int)count;
}

static int read_blocks(struct kbox_ext4 *x, blk64_t pblk, size_t boff, char *dst, size_t n)
{
	size_t bs = x->fs->blocksize;
	char *tmp;
	errcode_t rc;

	if (boff == 0 && n % bs == 0)
		return kbox_ext4_errno(io_channel_read_blk64(x->fs->io, pblk, n / bs, dst));
	tmp = malloc(((boff + n + bs - 1) / bs) * bs);
	if (!tmp)
		return -ENOMEM;
	rc = io_channel_read_blk64(x->fs->io, pblk, (boff + n + bs - 1) / bs, tmp);
	if (!rc)
		memcpy(dst, tmp + boff, n);
	free(tmp);
	return kbox_ext4_errno(rc);
}

/* Up to 1 MiB per I/O, so a huge read never needs a huge bounce buffer. */
#define MAX_RUN_BYTES (1u << 20)

static ssize_t do_read(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, char *buf,
		       size_t count, uint64_t off)
{
	size_t bs = x->fs->blocksize, done = 0;
	uint64_t size = EXT2_I_SIZE(in);

	if (off >= size)
		return 0;
	if (count > size - off)
		count = size - off;
	if (in->i_flags & EXT4_INLINE_DATA_FL)
		return read_inline(x, ino, in, buf, count, off);
	while (done < count) {
		uint64_t pos = off + done;
		blk64_t lblk = pos / bs;
		size_t boff = pos % bs, n;
		struct run r;
		int err = map_run(x, ino, in, lblk, (boff + count - done + bs - 1) / bs, &r);

		if (err)
			return done ? (ssize_t)done : err;
		n = r.len * bs - boff;
		if (n > count - done)
			n = count - done;
		if (n > MAX_RUN_BYTES)
			n = MAX_RUN_BYTES - boff;
		if (!is_data(&r))
			memset(buf + done, 0, n);
		else if ((err = read_blocks(x, r.pblk, boff, buf + done, n)))
			return done ? (ssize_t)done : err;
		done += n;
	}
	return done;
}

ssize_t kbox_ext4_read(struct kbox_ext4 *x, uint32_t ino, void *buf, size_t count, uint64_t off)
{
	struct ext2_inode_large in;
	ssize_t ret;

	pthread_mutex_lock(&x->lock);
	ret = kbox_ext4_iread(x, ino, &in);
	if (!ret && LINUX_S_ISDIR(in.i_mode))
		ret = -EISDIR;
	if (!ret)
		ret = do_read(x, ino, &in, buf, count, off);
	pthread_mutex_unlock(&x->lock);
	return ret;
}

/* Write @n bytes at @boff of block @pblk, keeping (or, for a fresh block, zeroing) the rest. */
static int write_block(struct kbox_ext4 *x, blk64_t pblk, size_t boff, const char *src, size_t n,
		       bool fresh)
{
	size_t bs = x->fs->blocksize;
	char *tmp;
	errcode_t rc = 0;

	if (boff == 0 && n == bs)
		return kbox_ext4_errno(io_channel_write_blk64(x->fs->io, pblk, 1, src));
	tmp = fresh ? calloc(1, bs) : malloc(bs);
	if (!tmp)
		return -ENOMEM;
	if (!fresh)
		rc = io_channel_read_blk64(x->fs->io, pblk, 1, tmp);
	if (!rc) {
		memcpy(tmp + boff, src, n);
		rc = io_channel_write_blk64(x->fs->io, pblk, 1, tmp);
	}
	free(tmp);
	return kbox_ext4_errno(rc);
}

static int map_block(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, blk64_t lblk,
		     blk64_t pblk)
{
	/* Block-mapped files may need indirect blocks on the way: BMAP_ALLOC makes them. */
	int flags = BMAP_SET | (in->i_flags & EXT4_EXTENTS_FL ? 0 : BMAP_ALLOC);
	errcode_t rc =
		ext2fs_bmap2(x->fs, ino, (struct ext2_inode *)in, NULL, flags, lblk, NULL, &pblk);

	return kbox_ext4_errno(rc);
}

/* A hole at @lblk: a new block, @src (one block) in it, then it joins the file. */
static int fill_hole(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, blk64_t lblk,
		     const char *src, bool dir_block)
{
	ext2_filsys fs = x->fs;
	blk64_t goal = ext2fs_find_inode_goal(fs, ino, (struct ext2_inode *)in, lblk), pblk;
	errcode_t rc = ext2fs_new_block2(fs, goal, NULL, &pblk);
	int err;

	if (rc)
		return kbox_ext4_errno(rc);
	ext2fs_block_alloc_stats2(fs, pblk, +1);
	/* Directory blocks carry a checksum seeded by their inode. */
	if (dir_block)
		err = kbox_ext4_errno(ext2fs_write_dir_block4(fs, pblk, (void *)src, 0, ino));
	else
		err = write_block(x, pblk, 0, src, fs->blocksize, true);
	if (!err)
		err = map_block(x, ino, in, lblk, pblk);
	if (err) {
		ext2fs_block_alloc_stats2(fs, pblk, -1);
		return err;
	}
	ext2fs_iblk_add_blocks(fs, (struct ext2_inode *)in, 1);
	return 0;
}

int kbox_ext4_add_block(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in,
			blk64_t lblk, const void *data, bool dir_block)
{
	return fill_hole(x, ino, in, lblk, data, dir_block);
}

/* Up to @max blocks from @first on that are free, allocated; returns how many (at least 1). */
static int alloc_run(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, blk64_t lblk,
		     blk64_t max, blk64_t *first)
{
	ext2_filsys fs = x->fs;
	blk64_t goal = ext2fs_find_inode_goal(fs, ino, (struct ext2_inode *)in, lblk), next;
	errcode_t rc = ext2fs_new_block2(fs, goal, NULL, first);
	int n = 1;

	if (rc)
		return kbox_ext4_errno(rc);
	ext2fs_block_alloc_stats2(fs, *first, +1);
	while ((blk64_t)n < max && !ext2fs_new_block2(fs, *first + n, NULL, &next) &&
	       next == *first + n) {
		ext2fs_block_alloc_stats2(fs, next, +1);
		n++;
	}
	return n;
}

static bool tree_in_inode(const struct ext2_inode_large *in);

/*
 * Would mapping @lblk insert before the first extent of a tree with leaves?
 * That changes the first block of the first leaf and of every index entry
 * above it, and libext2fs writes the leaf before the index (a state e2fsck
 * -p refuses), so such a mapping runs as one transaction.
 */
static bool maps_before_first_leaf(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in,
				   blk64_t lblk)
{
	ext2_extent_handle_t h;
	struct ext2fs_extent e;
	errcode_t rc;

	if (!(in->i_flags & EXT4_EXTENTS_FL) || tree_in_inode(in) || !kbox_ext4_has_journal(x))
		return false;
	if (ext2fs_extent_open2(x->fs, ino, (struct ext2_inode *)in, &h))
		return true;
	rc = ext2fs_extent_get(h, EXT2_EXTENT_ROOT, &e);
	while (!rc && !(e.e_flags & EXT2_EXTENT_FLAGS_LEAF))
		rc = ext2fs_extent_get(h, EXT2_EXTENT_DOWN, &e);
	ext2fs_extent_free(h);
	return rc || lblk < e.e_lblk;
}

/*
 * A hole of @hole blocks at @lblk: new blocks, all of the data in them in
 * one write, then they join the file. Returns the bytes written.
 */
static ssize_t fill_holes(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in,
			  blk64_t lblk, blk64_t hole, size_t boff, const char *src, size_t n)
{
	/*
	 * A listed orphan: e2fsck gives up on the orphan list at a block of one
	 * that the on-disk bitmap calls free (inode.c), so the bitmaps go in
	 * with the mapping, extent tree blocks included, as one transaction.
	 */
	bool orphan = kbox_ext4_is_orphan(x, ino);
	bool txn = orphan || maps_before_first_leaf(x, ino, in, lblk);
	size_t bs = x->fs->blocksize;
	blk64_t want = (boff + n + bs - 1) / bs, first;
	char *tmp;
	int got, err = 0, cerr = 0, i;

	got = alloc_run(x, ino, in, lblk, want < hole ? want : hole, &first);
	if (got < 0)
		return got;
	if (n > got * bs - boff)
		n = got * bs - boff;
	tmp = calloc(got, bs);
	if (!tmp)
		err = -ENOMEM;
	if (!err) {
		memcpy(tmp + boff, src, n);
		err = kbox_ext4_errno(io_channel_write_blk64(x->fs->io, first, got, tmp));
	}
	free(tmp);
	if (txn)
		kbox_ext4_txn_begin(x);
	for (i = 0; !err && i < got; i++)
		err = map_block(x, ino, in, lblk + i, first + i);
	if (orphan)
		cerr = kbox_ext4_write_bitmaps(x);
	if (txn)
		cerr = kbox_ext4_txn_end(x, cerr);
	ext2fs_iblk_add_blocks(x->fs, (struct ext2_inode *)in, i - (err != 0));
	/* What was not mapped goes back (through the quarantine: it was never referenced). */
	for (int j = err ? i - 1 : got; j < got; j++)
		ext2fs_block_alloc_stats2(x->fs, first + j, -1);
	if (cerr)
		return cerr;
	if (err && i <= 1)
		return err;
	return err ? (ssize_t)((i - 1) * bs - boff) : (ssize_t)n;
}

/*
 * Mark block @lblk of an unwritten extent written. Splitting the extent may
 * take a new extent tree block: for a listed orphan it goes in with the
 * bitmaps as one transaction (see fill_holes).
 */
static int mark_written(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in,
			blk64_t lblk, blk64_t pblk)
{
	int err;

	if (!kbox_ext4_is_orphan(x, ino))
		return map_block(x, ino, in, lblk, pblk);
	kbox_ext4_txn_begin(x);
	err = map_block(x, ino, in, lblk, pblk) ?: kbox_ext4_write_bitmaps(x);
	return kbox_ext4_txn_end(x, err);
}

/* Write within one mapped run or one hole; returns bytes written. */
static ssize_t write_piece(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in,
			   const char *src, size_t count, uint64_t pos)
{
	size_t bs = x->fs->blocksize, boff = pos % bs, n;
	blk64_t lblk = pos / bs;
	struct run r;
	int err = map_run(x, ino, in, lblk, (boff + count + bs - 1) / bs, &r);

	if (err)
		return err;
	n = (r.pblk && !r.uninit ? r.len : 1) * bs - boff;
	if (n > count)
		n = count;
	if (n > MAX_RUN_BYTES)
		n = MAX_RUN_BYTES - boff;
	if (!r.pblk)
		return fill_holes(x, ino, in, lblk, r.len, boff, src,
				  count < MAX_RUN_BYTES - boff ? count : MAX_RUN_BYTES - boff);
	if (r.uninit)
		/* Unwritten: reads as zeros until now; data first, then mark it written. */
		err = write_block(x, r.pblk, boff, src, n, true)
			      ?: mark_written(x, ino, in, lblk, r.pblk);
	else if (boff == 0 && n >= bs) {
		n -= n % bs;
		err = kbox_ext4_errno(io_channel_write_blk64(x->fs->io, r.pblk, n / bs, src));
	} else {
		n = n > bs - boff ? bs - boff : n;
		err = write_block(x, r.pblk, boff, src, n, false);
	}
	return err ? err : (ssize_t)n;
}

/*
 * While one write maps blocks into a file whose extent tree lives wholly in
 * its inode, the inode is written once at the end instead of once per
 * block: until then the blocks are data that nothing on disk points to (a
 * crash leaves a bitmap difference), and no older mapping is touched.
 */
errcode_t kbox_ext4_defer_inode_write(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode *inode)
{
	struct kbox_ext4 *x = fs->priv_data;

	if (x && x->defer_ino == ino && (void *)inode == (void *)x->defer_in)
		return 0;
	return EXT2_ET_CALLBACK_NOTHANDLED;
}

static bool tree_in_inode(const struct ext2_inode_large *in)
{
	/* The extent header: magic, entries, max, then depth (little-endian u16s). */
	const uint16_t *eh = (const uint16_t *)in->i_block;

	return (in->i_flags & EXT4_EXTENTS_FL) && eh[0] == 0xf30a && eh[3] == 0;
}

#define MAX_LBLK 0xffffffffull

/*
 * Where the inode cannot be held back (a deeper extent tree, whose leaves
 * are written as they change; block-mapped files), a write past EOF sets
 * the new size first: e2fsck -p will not repair a leaf extent past EOF,
 * and until its blocks are mapped the new range is a hole (zeros), so the
 * early size shows no stale data.
 */
static int grow_first(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, uint64_t end)
{
	if (tree_in_inode(in) || end <= EXT2_I_SIZE(in))
		return 0;
	ext2fs_inode_size_set(x->fs, (struct ext2_inode *)in, end);
	return kbox_ext4_iwrite(x, ino, in);
}

static ssize_t do_write(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in,
			const char *buf, size_t count, uint64_t off)
{
	size_t bs = x->fs->blocksize, done = 0;
	uint64_t size = EXT2_I_SIZE(in);
	ssize_t n = 0;
	int err;

	if ((off + count + bs - 1) / bs > MAX_LBLK)
		return -EFBIG;
	err = kbox_ext4_maybe_flush(x, count / bs + 1) ?: grow_first(x, ino, in, off + count);
	if (err)
		return err;
	if (tree_in_inode(in)) {
		x->defer_ino = ino;
		x->defer_in = in;
	}
	while (done < count) {
		n = write_piece(x, ino, in, buf + done, count - done, off + done);
		if (n == -ENOSPC && kbox_ext4_has_quarantine(x) && !kbox_ext4_flush(x))
			n = write_piece(x, ino, in, buf + done, count - done, off + done);
		if (n < 0)
			break;
		done += n;
	}
	x->defer_ino = 0;
	/* A short write keeps only what it wrote (the early size may have been larger). */
	ext2fs_inode_size_set(x->fs, (struct ext2_inode *)in,
			      off + done > size ? off + done : size);
	if (done)
		kbox_ext4_touch(x, in, true);
	err = kbox_ext4_iwrite(x, ino, in);
	if (err)
		return err;
	return done ? (ssize_t)done : n;
}

ssize_t kbox_ext4_write(struct kbox_ext4 *x, uint32_t ino, const void *buf, size_t count,
			uint64_t off)
{
	struct ext2_inode_large in;
	ssize_t ret = x->rw ? 0 : -EROFS;

	pthread_mutex_lock(&x->lock);
	if (!ret)
		ret = kbox_ext4_iread(x, ino, &in);
	if (!ret && LINUX_S_ISDIR(in.i_mode))
		ret = -EISDIR;
	else if (!ret && (in.i_flags & EXT4_INLINE_DATA_FL))
		ret = -EOPNOTSUPP;
	if (!ret && count)
		ret = do_write(x, ino, &in, buf, count, off);
	if (ret < 0) {
		kbox_ext4_iforget(x, ino);
		ret = kbox_ext4_done(x, ret);
	}
	pthread_mutex_unlock(&x->lock);
	return ret;
}

/* Zero the bytes of the block holding @size that lie past it. */
static int zero_tail(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, uint64_t size)
{
	size_t bs = x->fs->blocksize, boff = size % bs;
	struct run r;
	char *zeros;
	int err;

	if (!boff)
		return 0;
	err = map_run(x, ino, in, size / bs, 1, &r);
	if (err || !is_data(&r))
		return err;
	zeros = calloc(1, bs - boff);
	if (!zeros)
		return -ENOMEM;
	err = write_block(x, r.pblk, boff, zeros, bs - boff, false);
	free(zeros);
	return err;
}

/* The last extent of a file with an extent tree; -ENOENT when it has none. */
static int last_extent(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in,
		       struct ext2fs_extent *e)
{
	ext2_extent_handle_t h;
	errcode_t rc = ext2fs_extent_open2(x->fs, ino, (struct ext2_inode *)in, &h);

	if (rc)
		return kbox_ext4_errno(rc);
	rc = ext2fs_extent_get(h, EXT2_EXTENT_LAST_LEAF, e);
	ext2fs_extent_free(h);
	if (rc == EXT2_ET_EXTENT_NO_NEXT || rc == EXT2_ET_NO_CURRENT_NODE ||
	    rc == EXT2_ET_EXTENT_NOT_FOUND)
		return -ENOENT;
	return kbox_ext4_errno(rc);
}

/*
 * Free every block from @lblk on. ext2fs_punch walks forward, so removing
 * a leaf's extents front to back moves the leaf's first block before its
 * index in the parent is updated: a kill between leaves an index that
 * e2fsck -p will not repair. Punched one extent at a time from the end, a
 * leaf's start never moves (an emptied leaf leaves its parent in one
 * write). A tree held in the inode changes in one write anyway.
 */
static int punch_from(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, blk64_t lblk)
{
	struct ext2fs_extent e;
	int err;

	if (!(in->i_flags & EXT4_EXTENTS_FL) || tree_in_inode(in))
		return kbox_ext4_errno(
			ext2fs_punch(x->fs, ino, (struct ext2_inode *)in, NULL, lblk, ~0ull));
	while (!(err = last_extent(x, ino, in, &e)) && e.e_lblk + e.e_len > lblk) {
		blk64_t from = e.e_lblk > lblk ? e.e_lblk : lblk;

		err = kbox_ext4_errno(ext2fs_punch(x->fs, ino, (struct ext2_inode *)in, NULL, from,
						   e.e_lblk + e.e_len - 1));
		if (err)
			return err;
	}
	return err == -ENOENT ? 0 : err;
}

int kbox_ext4_do_truncate(struct kbox_ext4 *x, uint32_t ino, uint64_t size)
{
	struct ext2_inode_large in;
	size_t bs = x->fs->blocksize;
	int err = kbox_ext4_iread(x, ino, &in);

	if (err)
		return err;
	if (LINUX_S_ISDIR(in.i_mode))
		return -EISDIR;
	if (!LINUX_S_ISREG(in.i_mode))
		return -EINVAL;
	if (in.i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP;
	if ((size + bs - 1) / bs > MAX_LBLK)
		return -EFBIG;
	if (size < EXT2_I_SIZE(&in)) {
		err = zero_tail(x, ino, &in, size);
		if (!err)
			err = punch_from(x, ino, &in, (size + bs - 1) / bs);
		if (err) {
			kbox_ext4_iforget(x, ino);
			return err;
		}
	}
	ext2fs_inode_size_set(x->fs, (struct ext2_inode *)&in, size);
	kbox_ext4_touch(x, &in, true);
	return kbox_ext4_iwrite(x, ino, &in);
}

int kbox_ext4_truncate(struct kbox_ext4 *x, uint32_t ino, uint64_t size)
{
	int err = x->rw ? 0 : -EROFS;

	pthread_mutex_lock(&x->lock);
	if (!err)
		err = kbox_ext4_done(x, kbox_ext4_do_truncate(x, ino, size));
	pthread_mutex_unlock(&x->lock);
	return err;
}

int kbox_ext4_free_blocks(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in)
{
	ext2_filsys fs = x->fs;
	blk64_t ea = ext2fs_file_acl_block(fs, (struct ext2_inode *)in);
	errcode_t rc = 0;

	if (ext2fs_inode_has_valid_blocks2(fs, (struct ext2_inode *)in))
		rc = ext2fs_punch(fs, ino, (struct ext2_inode *)in, NULL, 0, ~0ull);
	if (!rc && ea) {
		__u32 refs = 0;

		/* An xattr block may be shared between inodes: free it with its last user. */
		rc = ext2fs_adjust_ea_refcount3(fs, ea, NULL, -1, &refs, ino);
		if (!rc && refs == 0)
			ext2fs_block_alloc_stats2(fs, ea, -1);
		if (!rc) {
			ext2fs_file_acl_block_set(fs, (struct ext2_inode *)in, 0);
			ext2fs_iblk_sub_blocks(fs, (struct ext2_inode *)in, 1);
		}
	}
	if (!rc)
		ext2fs_inode_size_set(fs, (struct ext2_inode *)in, 0);
	return kbox_ext4_errno(rc);
}

static int64_t do_seek(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, uint64_t off,
		       int whence)
{
	size_t bs = x->fs->blocksize;
	uint64_t size = EXT2_I_SIZE(in);
	blk64_t lblk = off / bs;

	if (off >= size)
		return -ENXIO;
	if (in->i_flags & EXT4_INLINE_DATA_FL)
		return whence == SEEK_DATA ? (int64_t)off : (int64_t)size;
	while ((uint64_t)lblk * bs < size) {
		struct run r;
		int err = map_run(x, ino, in, lblk, (size + bs - 1) / bs - lblk, &r);
		uint64_t at = (uint64_t)lblk * bs > off ? (uint64_t)lblk * bs : off;

		if (err)
			return err;
		if (is_data(&r) == (whence == SEEK_DATA))
			return at < size ? (int64_t)at
					 : (whence == SEEK_DATA ? -ENXIO : (int64_t)size);
		if (r.len >= HOLE_FOREVER / bs)
			break;
		lblk += r.len;
	}
	return whence == SEEK_DATA ? -ENXIO : (int64_t)size;
}

int64_t kbox_ext4_seek(struct kbox_ext4 *x, uint32_t ino, uint64_t off, int whence)
{
	struct ext2_inode_large in;
	int64_t ret;

	if (whence != SEEK_DATA && whence != SEEK_HOLE)
		return -EINVAL;
	pthread_mutex_lock(&x->lock);
	ret = kbox_ext4_iread(x, ino, &in);
	if (!ret)
		ret = do_seek(x, ino, &in, off, whence);
	pthread_mutex_unlock(&x->lock);
	return ret;
}

/*
 * The data of a file as byte ranges of the image file, for in-kernel copies
 * (copy_file_range, sendfile) that need neither libext2fs nor a buffer:
 * one map_run() per extent, physically contiguous runs merged.
 */
static int add_span(struct kbox_ext4_spans *s, uint64_t off, uint64_t img_off, uint64_t len)
{
	struct kbox_ext4_span *last = s->n ? &s->v[s->n - 1] : NULL, *v;

	if (last && last->off + last->len == off && last->img_off + last->len == img_off) {
		last->len += len;
		return 0;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;

		v = realloc(s->v, cap * sizeof(*v));
		if (!v)
			return -ENOMEM;
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = (struct kbox_ext4_span){.off = off, .img_off = img_off, .len = len};
	return 0;
}

static int do_spans(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in,
		    struct kbox_ext4_spans *s)
{
	size_t bs = x->fs->blocksize;
	uint64_t size = EXT2_I_SIZE(in);
	blk64_t lblk = 0, nblk = (size + bs - 1) / bs;
	int err = 0;

	if (in->i_flags & EXT4_INLINE_DATA_FL)
		return -EOPNOTSUPP; /* the data is in the inode, not in blocks */
	while (!err && lblk < nblk) {
		struct run r;

		err = map_run(x, ino, in, lblk, nblk - lblk, &r);
		if (err || r.len == 0)
			break;
		if (r.len > nblk - lblk)
			r.len = nblk - lblk;
		if (is_data(&r)) {
			uint64_t off = (uint64_t)lblk * bs, len = (uint64_t)r.len * bs;

			err = add_span(s, off, (uint64_t)r.pblk * bs,
				       off + len > size ? size - off : len);
		}
		lblk += r.len;
	}
	return err;
}

int kbox_ext4_data_spans(struct kbox_ext4 *x, uint32_t ino, struct kbox_ext4_spans *s)
{
	struct ext2_inode_large in;
	int ret;

	*s = (struct kbox_ext4_spans){0};
	pthread_mutex_lock(&x->lock);
	ret = kbox_ext4_iread(x, ino, &in);
	if (!ret && !LINUX_S_ISREG(in.i_mode))
		ret = -EINVAL;
	if (!ret)
		ret = do_spans(x, ino, &in, s);
	pthread_mutex_unlock(&x->lock);
	if (ret < 0) {
		free(s->v);
		*s = (struct kbox_ext4_spans){0};
	}
	return ret;
}

int kbox_ext4_image_fd(const struct kbox_ext4 *x)
{
	return x->lock_fd;
}

static int do_readlink(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in, char *buf,
		       size_t size)
{
	size_t len = EXT2_I_SIZE(in);
	ssize_t n;

	if (!LINUX_S_ISLNK(in->i_mode))
		return -EINVAL;
	if (len > size)
		len = size;
	if (ext2fs_is_fast_symlink((struct ext2_inode *)in)) {
		memcpy(buf, (char *)in->i_block, len);
		return len;
	}
	n = do_read(x, ino, in, buf, len, 0);
	return n < 0 ? (int)n : (int)n;
}

int kbox_ext4_readlink(struct kbox_ext4 *x, uint32_t ino, char *buf, size_t size)
{
	struct ext2_inode_large in;
	int ret;

	pthread_mutex_lock(&x->lock);
	ret = kbox_ext4_iread(x, ino, &in);
	if (!ret)
		ret = do_readlink(x, ino, &in, buf, size);
	pthread_mutex_unlock(&x->lock);
	return ret;
}
