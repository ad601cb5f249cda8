/* SPDX-License-Identifier: MIT */
/*
 * ext4 backend internals. Every function here expects x->lock held by
 * its caller (the public kbox_ext4_* entry points take it).
 */
#ifndef KBOX_FS_EXT4_INTERNAL_H
#define KBOX_FS_EXT4_INTERNAL_H

#include <ext2fs/ext2_fs.h>
#include <ext2fs/ext2fs.h>
#include <pthread.h>

#include "fs/ext4/ext4.h"

struct kbox_ext4_dcache;
struct kbox_ext4_icache;
struct kbox_ext4_journal;

/* One open reference count per inode kbox_ext4_iget() was called on. */
struct kbox_ext4_oref {
	uint32_t ino;
	uint32_t count;
};

/*
 * An open image.
 *
 * Freed blocks and inodes are quarantined until the next flush: a freed
 * block stays marked in fs->block_map (so no allocation reuses it) and set
 * in @quarantine; a freed inode waits in @dead_inodes. flush() gives them
 * back, then writes bitmaps, descriptors and superblock. So a block is
 * reused only after the bitmaps that say it was freed are on disk, and a
 * crash never finds one block claimed by two files.
 */
struct kbox_ext4 {
	pthread_mutex_t lock;
	ext2_filsys fs;
	int lock_fd; /* holds the open-file-description lock for this run */
	bool rw;
	bool need_flush; /* a group descriptor changed in a way e2fsck -p could not repair */
	/*
	 * The last block of the image is kept from files: libext2fs 1.47.0's
	 * punch refuses to free a range that ends there (EXT2_ET_BAD_BLOCK_NUM),
	 * so a file holding it could never shrink. It is marked in use in
	 * memory only, and shown free in the bitmaps each flush writes.
	 */
	bool hide_last;
	/* The inode one write is filling, written once at its end (file.c). */
	uint32_t defer_ino;
	struct ext2_inode_large *defer_in;
	/* An operation failed half-way (I/O, corruption): leave the image not-clean at close. */
	bool damaged;
	ext2fs_block_bitmap quarantine;
	blk64_t nquarantined;
	struct {
		uint32_t *ino;
		bool *dir;
		size_t n, cap;
	} dead_inodes;
	struct kbox_ext4_oref *orefs;
	size_t norefs, orefs_cap;
	/* NULL: no journal (ext2), writes are only ordered (journal.c). */
	struct kbox_ext4_journal *journal;
	/*
	 * Unlinked-but-open inodes on the on-disk orphan list (images with a
	 * journal), oldest first: the superblock's s_last_orphan is the last
	 * one, and each one's i_dtime names the one before it.
	 */
	struct {
		uint32_t *ino;
		size_t n, cap;
	} orphans;
	struct kbox_ext4_dcache *dcache;
	struct kbox_ext4_icache *icache;
	/* Bumped at every change of an inode's times, which every entry change makes. */
	uint64_t touches;
	/* The hash-ordered list of the indexed directory last listed (hashdir.c). */
	struct kbox_ext4_hashdir *hashdir;
};

/* errcode.c: the only errcode_t -> -errno translation. */
int kbox_ext4_errno(errcode_t err);
/*
 * The result of a public operation that writes: an error that may have
 * stopped it half-way (anything but the caller's mistakes and ENOSPC)
 * marks the image for e2fsck (it stays not-clean at close).
 */
int kbox_ext4_done(struct kbox_ext4 *x, int err);

/* image.c */
/* Write a message for the user into @why (when given); returns @err. */
int kbox_ext4_say(char *why, size_t size, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The I/O manager images are opened with; NULL: unix_io_manager. Tests put a faulty one here. */
extern io_manager kbox_ext4_io_manager;
int kbox_ext4_flush(struct kbox_ext4 *x);
/* The same without fsync: on disk in the order of writes (a kill), not durable. */
int kbox_ext4_write_bitmaps(struct kbox_ext4 *x);
/* Flush when quarantined space or inodes may be needed (ENOSPC) or pile up. */
int kbox_ext4_maybe_flush(struct kbox_ext4 *x, blk64_t blocks_needed);
bool kbox_ext4_has_quarantine(const struct kbox_ext4 *x);
int kbox_ext4_defer_inode_free(struct kbox_ext4 *x, uint32_t ino, bool dir);

/* Write the primary superblock (as it is in memory) in one write. */
int kbox_ext4_write_super(struct kbox_ext4 *x);

/*
 * journal.c: transactions in the image's jbd2 journal. check: can kbox
 * write this journal (read-only look, before anything is written); start:
 * at read-write open, catch the channel's I/O and set needs_recovery (in
 * memory: the open's flush writes it). Without a journal both are no-ops.
 */
int kbox_ext4_journal_check(ext2_filsys fs, const char *path, char *why, size_t size);
int kbox_ext4_journal_start(struct kbox_ext4 *x);
void kbox_ext4_journal_free(struct kbox_ext4 *x);
bool kbox_ext4_has_journal(const struct kbox_ext4 *x);
/*
 * Everything written between begin and end reaches the image as one
 * transaction (or, without a journal, as it is written). Nests: the
 * outermost end commits. end returns @err, or the commit's error.
 */
void kbox_ext4_txn_begin(struct kbox_ext4 *x);
int kbox_ext4_txn_end(struct kbox_ext4 *x, int err);

/* inode.c: cached inode reads and writes; the cache follows every write made here. */
int kbox_ext4_iread(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in);
int kbox_ext4_iwrite(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in);
/* libext2fs wrote the inode itself: drop the cached copy. */
void kbox_ext4_iforget(struct kbox_ext4 *x, uint32_t ino);
void kbox_ext4_icache_free(struct kbox_ext4 *x);
/* Set ctime (and mtime when @mtime) to now. */
void kbox_ext4_touch(struct kbox_ext4 *x, struct ext2_inode_large *in, bool mtime);

/* Every entry of directory @dir (inode @in) in block order, under the lock (dir.c). */
int kbox_ext4_dir_entries(struct kbox_ext4 *x, uint32_t dir, struct ext2_inode_large *in,
			  kbox_ext4_fill_fn fill, void *arg);
/* readdir of an indexed directory in hash order (hashdir.c), under the lock. */
int kbox_ext4_hash_readdir(struct kbox_ext4 *x, uint32_t dir, struct ext2_inode_large *in,
			   uint64_t *pos, kbox_ext4_fill_fn fill, void *arg);
void kbox_ext4_hashdir_free(struct kbox_ext4 *x);
int kbox_ext4_touch_ino(struct kbox_ext4 *x, uint32_t ino, bool mtime);
/*
 * A zeroed new inode of @mode (@rdev for devices), owned by @uid/@gid, on
 * disk with link count @nlink; regular files, directories and symlinks get
 * an empty extent tree when the image has extents.
 */
int kbox_ext4_new_inode(struct kbox_ext4 *x, uint32_t dir, mode_t mode, dev_t rdev, uid_t uid,
			gid_t gid, unsigned nlink, uint32_t *ino, struct ext2_inode_large *in);
/* Drop a link count reached 0: free now, or at the last iput if referenced. */
int kbox_ext4_release_if_unused(struct kbox_ext4 *x, uint32_t ino);
/* Is @ino on the on-disk orphan list? */
bool kbox_ext4_is_orphan(const struct kbox_ext4 *x, uint32_t ino);
/* @ino gets a name again: off the orphan list, if it is on it. */
int kbox_ext4_orphan_forget(struct kbox_ext4 *x, uint32_t ino);
/* Free every orphan still listed (at close). */
int kbox_ext4_release_orphans(struct kbox_ext4 *x);
uint32_t kbox_ext4_oref_count(const struct kbox_ext4 *x, uint32_t ino);
uid_t kbox_ext4_inode_uid(const struct ext2_inode_large *in);
gid_t kbox_ext4_inode_gid(const struct ext2_inode_large *in);
void kbox_ext4_set_owner(struct ext2_inode_large *in, uid_t uid, gid_t gid);
/* Store a device number in i_block as the kernel does. */
void kbox_ext4_set_rdev(struct ext2_inode_large *in, dev_t rdev);

/* dcache.c: (dir, name) -> ino for whole directories, loaded on first use. */
int kbox_ext4_dcache_init(struct kbox_ext4 *x);
void kbox_ext4_dcache_free(struct kbox_ext4 *x);
/* 0 and *ino, or -ENOENT; loads @dir's entries the first time. */
int kbox_ext4_dcache_lookup(struct kbox_ext4 *x, uint32_t dir, const char *name, uint32_t *ino,
			    unsigned *ftype);
void kbox_ext4_dcache_add(struct kbox_ext4 *x, uint32_t dir, const char *name, uint32_t ino,
			  unsigned ftype);
void kbox_ext4_dcache_remove(struct kbox_ext4 *x, uint32_t dir, const char *name);
/*
 * Where a linear directory may have room for a new entry: the blocks
 * before it were full when last looked at (0 for a directory not loaded;
 * set back to 0 when an entry goes).
 */
uint32_t kbox_ext4_dcache_room_hint(struct kbox_ext4 *x, uint32_t dir);
void kbox_ext4_dcache_set_room_hint(struct kbox_ext4 *x, uint32_t dir, uint32_t lblk);
/* @dir is gone: forget that it was loaded. */
void kbox_ext4_dcache_forget_dir(struct kbox_ext4 *x, uint32_t dir);

/* file.c */
int kbox_ext4_do_truncate(struct kbox_ext4 *x, uint32_t ino, uint64_t size);
/*
 * A new block holding @data (one block) at @lblk of the hole there;
 * i_blocks follows. @dir_block: written as a directory block (checksum).
 */
int kbox_ext4_add_block(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in,
			blk64_t lblk, const void *data, bool dir_block);
/* fs->write_inode: holds back writes of the inode a write is filling. */
errcode_t kbox_ext4_defer_inode_write(ext2_filsys fs, ext2_ino_t ino, struct ext2_inode *inode);
/* Free every block of @ino (data, extent tree, xattr block). */
int kbox_ext4_free_blocks(struct kbox_ext4 *x, uint32_t ino, struct ext2_inode_large *in);

/* The EXT2_FT_* of a mode, and back to DT_*. */
int kbox_ext4_ftype(mode_t mode);
unsigned kbox_ext4_ftype_to_dtype(int ftype);

#endif
