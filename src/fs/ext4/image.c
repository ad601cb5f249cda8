// SPDX-License-Identifier: MIT
/*
 * Opening, validating, locking, flushing and closing an image.
 *
 * Order at open: take the open-file-description lock, check the file
 * read-only (our own superblock read, then libext2fs opened without
 * EXT2_FLAG_RW, which reads and verifies but never writes), and only then
 * open it read-write and mark it not-clean. A file that fails any check
 * is left byte-for-byte as it was.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs/ext4/internal.h"
#include "lib/log.h"

/* The unix I/O manager's block cache would die with the process: off. */
#define IO_OPTIONS "cache=off"

int kbox_ext4_say(char *why, size_t size, int err, const char *fmt, ...)
{
	va_list ap;

	if (why && size) {
		va_start(ap, fmt);
		vsnprintf(why, size, fmt, ap);
		va_end(ap);
	}
	return err;
}

/*
 * One writer or many readers per image file, across processes: an
 * open-file-description lock, which belongs to this fd (not the process),
 * so libext2fs closing its own fd of the file never drops it, and a fork
 * does not share it by accident.
 */
static int take_lock(const char *path, bool rw, int *fdp, char *why, size_t size)
{
	struct flock fl = {.l_type = rw ? F_WRLCK : F_RDLCK, .l_whence = SEEK_SET};
	int fd = open(path, (rw ? O_RDWR : O_RDONLY) | O_CLOEXEC);

	if (fd < 0)
		return kbox_ext4_say(why, size, -errno, "cannot open image '%s': %s", path,
				     strerror(errno));
	if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
		int err = errno;

		close(fd);
		if (err == EAGAIN || err == EACCES)
			return kbox_ext4_say(
				why, size, -EBUSY,
				"image '%s' is in use by another kbox (%s); wait for it to "
				"exit",
				path, rw ? "one writer at a time" : "it is writing");
		return kbox_ext4_say(why, size, -err, "cannot lock image '%s': %s", path,
				     strerror(err));
	}
	*fdp = fd;
	return 0;
}

/* Our own look at the superblock before libext2fs parses anything. */
static int check_superblock(int fd, const char *path, char *why, size_t size)
{
	struct ext2_super_block sb;
	struct stat st;
	uint64_t need;

	if (fstat(fd, &st) < 0)
		return kbox_ext4_say(why, size, -errno, "cannot stat image '%s'", path);
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return kbox_ext4_say(why, size, -EINVAL, "'%s' is not a regular file", path);
	if (pread(fd, &sb, sizeof(sb), 1024) != (ssize_t)sizeof(sb) ||
	    sb.s_magic != EXT2_SUPER_MAGIC)
		return kbox_ext4_say(why, size, -EINVAL,
				     "'%s' is not an ext2/3/4 image (no superblock magic)", path);
	if (sb.s_log_block_size > 6)
		return kbox_ext4_say(why, size, -EUCLEAN,
				     "image '%s' has a corrupt superblock (block size)", path);
	need = ((uint64_t)sb.s_blocks_count | ((sb.s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT)
						       ? (uint64_t)sb.s_blocks_count_hi << 32
						       : 0)) *
	       (1024u << sb.s_log_block_size);
	if (S_ISREG(st.st_mode) && (uint64_t)st.st_size < need)
		return kbox_ext4_say(
			why, size, -EUCLEAN,
			"image '%s' is truncated: %lld bytes, its superblock says %llu; restore "
			"it from a copy or grow it back with truncate -s %llu",
			path, (long long)st.st_size, (unsigned long long)need,
			(unsigned long long)need);
	return 0;
}

io_manager kbox_ext4_io_manager;

/*
 * unix_io_manager without write_byte. With it, libext2fs writes only the
 * bytes of the superblock that changed, in several writes, and a kill
 * between them leaves a superblock whose checksum fails: e2fsck cannot
 * even open that image. Without it, the superblock goes in one write.
 */
static struct struct_io_manager whole_sb_io;

/* unix_open puts unix_io_manager in the channel: ours goes in its place. */
static errcode_t whole_sb_open(const char *name, int flags, io_channel *channel)
{
	errcode_t rc = unix_io_manager->open(name, flags, channel);

	if (!rc)
		(*channel)->manager = &whole_sb_io;
	return rc;
}

static io_manager whole_superblock_io(void)
{
	if (!whole_sb_io.open) {
		whole_sb_io = *unix_io_manager;
		whole_sb_io.name = "kbox unix I/O";
		whole_sb_io.open = whole_sb_open;
		whole_sb_io.write_byte = NULL;
	}
	return &whole_sb_io;
}

static int open_fs(const char *path, bool rw, ext2_filsys *fs)
{
	int flags = EXT2_FLAG_64BITS | (rw ? EXT2_FLAG_RW : 0);
	io_manager io = kbox_ext4_io_manager ? kbox_ext4_io_manager : whole_superblock_io();

	return kbox_ext4_errno(ext2fs_open2(path, IO_OPTIONS, flags, 0, 0, io, fs));
}

static int why_unopenable(int err, const char *path, char *why, size_t size)
{
	if (err == -EOPNOTSUPP)
		return kbox_ext4_say(why, size, err,
				     "image '%s' uses ext4 features this libext2fs cannot handle",
				     path);
	if (err == -EUCLEAN)
		return kbox_ext4_say(
			why, size, err,
			"image '%s' is corrupt (bad checksum or superblock); check it with "
			"e2fsck -fn",
			path);
	return kbox_ext4_say(why, size, err, "cannot read image '%s': %s", path, strerror(-err));
}

/* What can be written safely; the read-only checks are done by then. */
static int check_writable(ext2_filsys fs, const char *path, char *why, size_t size)
{
	struct ext2_super_block *sb = fs->super;

	if (ext2fs_has_feature_journal_needs_recovery(sb))
		return kbox_ext4_say(
			why, size, -EAGAIN,
			"image '%s' has a journal that needs recovery; run e2fsck -p %s "
			"(e2fsck -fy %s if it asks questions) first (or open it --read-only)",
			path, path, path);
	if (!(sb->s_state & EXT2_VALID_FS) || (sb->s_state & EXT2_ERROR_FS))
		return kbox_ext4_say(
			why, size, -EAGAIN,
			"image '%s' was not closed cleanly or has errors recorded; run "
			"e2fsck -fy %s first (or open it --read-only)",
			path, path);
	/*
	 * Orphans in a clean image (a kernel's read-only mount can leave them):
	 * freeing them is e2fsck's job, as replaying a journal is.
	 */
	if (sb->s_last_orphan || ext2fs_has_feature_orphan_present(sb))
		return kbox_ext4_say(
			why, size, -EAGAIN,
			"image '%s' has inodes on its orphan list; run e2fsck -p %s first (or "
			"open it --read-only)",
			path, path);
	if (ext2fs_has_feature_mmp(sb))
		return kbox_ext4_say(
			why, size, -EOPNOTSUPP,
			"image '%s' uses multi-mount protection, which kbox does not write", path);
	if (ext2fs_has_feature_inline_data(sb) || ext2fs_has_feature_ea_inode(sb) ||
	    ext2fs_has_feature_encrypt(sb) || ext2fs_has_feature_casefold(sb))
		return kbox_ext4_say(
			why, size, -EOPNOTSUPP,
			"image '%s' uses inline_data, ea_inode, encrypt or casefold, which kbox "
			"opens read-only only",
			path);
	return 0;
}

/* Everything that can be checked without writing a byte. */
static int validate(const char *path, int fd, bool rw, char *why, size_t size)
{
	ext2_filsys fs;
	int err = check_superblock(fd, path, why, size);

	if (err)
		return err;
	err = open_fs(path, false, &fs);
	if (err)
		return why_unopenable(err, path, why, size);
	err = kbox_ext4_errno(ext2fs_check_desc(fs));
	if (err)
		kbox_ext4_say(
			why, size, err,
			"image '%s' has corrupt group descriptors; run e2fsck -fn %s to see more",
			path, path);
	else if (rw)
		err = check_writable(fs, path, why, size)
			      ?: kbox_ext4_journal_check(fs, path, why, size);
	if (!err)
		err = kbox_ext4_errno(ext2fs_read_bitmaps(fs));
	if (err && why && !why[0])
		why_unopenable(err, path, why, size);
	ext2fs_close_free(&fs);
	return err;
}

/* libext2fs tells us every block it frees; hold it until the next flush. */
static void quarantine_one(ext2_filsys fs, blk64_t blk, int inuse)
{
	struct kbox_ext4 *x = fs->priv_data;

	if (inuse >= 0 || !x || !x->quarantine)
		return;
	if (!ext2fs_test_block_bitmap2(x->quarantine, blk)) {
		ext2fs_mark_block_bitmap2(x->quarantine, blk);
		x->nquarantined++;
	}
	ext2fs_mark_block_bitmap2(fs->block_map, blk);
}

static void quarantine_range(ext2_filsys fs, blk64_t blk, blk_t num, int inuse)
{
	for (blk_t i = 0; i < num; i++)
		quarantine_one(fs, blk + i, inuse);
}

static void hide_last_block(struct kbox_ext4 *x)
{
	blk64_t last = ext2fs_blocks_count(x->fs->super) - 1;

	x->hide_last = !ext2fs_test_block_bitmap2(x->fs->block_map, last);
	if (x->hide_last)
		ext2fs_mark_block_bitmap2(x->fs->block_map, last);
}

static int start_writing(struct kbox_ext4 *x)
{
	ext2_filsys fs = x->fs;
	errcode_t e;
	int err;

	e = ext2fs_read_bitmaps(fs);
	if (!e)
		e = ext2fs_allocate_block_bitmap(fs, "kbox quarantine", &x->quarantine);
	if (e)
		return kbox_ext4_errno(e);
	fs->priv_data = x;
	fs->write_inode = kbox_ext4_defer_inode_write;
	hide_last_block(x);
	err = kbox_ext4_journal_start(x);
	if (err)
		return err;
	ext2fs_set_block_alloc_stats_callback(fs, quarantine_one, NULL);
	ext2fs_set_block_alloc_stats_range_callback(fs, quarantine_range, NULL);
	/* Backups of the superblock and descriptors are e2fsck's to refresh. */
	fs->flags |= EXT2_FLAG_MASTER_SB_ONLY;
	fs->super->s_state &= ~EXT2_VALID_FS;
	ext2fs_mark_super_dirty(fs);
	return kbox_ext4_errno(ext2fs_flush(fs));
}

static struct kbox_ext4 *alloc_image(void)
{
	struct kbox_ext4 *x = calloc(1, sizeof(*x));

	if (!x)
		return NULL;
	pthread_mutex_init(&x->lock, NULL);
	x->lock_fd = -1;
	if (kbox_ext4_dcache_init(x)) {
		free(x);
		return NULL;
	}
	return x;
}

static void free_image(struct kbox_ext4 *x)
{
	kbox_ext4_hashdir_free(x);
	if (x->quarantine)
		ext2fs_free_block_bitmap(x->quarantine);
	if (x->fs)
		ext2fs_free(x->fs);
	/* After the channel: its I/O manager lives in the journal. */
	kbox_ext4_journal_free(x);
	if (x->lock_fd >= 0)
		close(x->lock_fd);
	kbox_ext4_dcache_free(x);
	kbox_ext4_icache_free(x);
	free(x->dead_inodes.ino);
	free(x->dead_inodes.dir);
	free(x->orefs);
	free(x->orphans.ino);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

int kbox_ext4_open(const char *path, bool rw, struct kbox_ext4 **out, char *why, size_t whysize)
{
	struct kbox_ext4 *x = alloc_image();
	int err;

	if (why && whysize)
		why[0] = '\0';
	if (!x)
		return kbox_ext4_say(why, whysize, -ENOMEM, "out of memory");
	err = take_lock(path, rw, &x->lock_fd, why, whysize);
	if (!err)
		err = validate(path, x->lock_fd, rw, why, whysize);
	if (!err) {
		err = open_fs(path, rw, &x->fs);
		if (err)
			why_unopenable(err, path, why, whysize);
	}
	x->rw = rw;
	if (!err && rw) {
		err = start_writing(x);
		if (err)
			kbox_ext4_say(why, whysize, err, "cannot write image '%s': %s", path,
				      strerror(-err));
	}
	if (err) {
		free_image(x);
		return err;
	}
	*out = x;
	return 0;
}

bool kbox_ext4_is_rw(const struct kbox_ext4 *x)
{
	return x->rw;
}

bool kbox_ext4_has_quarantine(const struct kbox_ext4 *x)
{
	return x->nquarantined || x->dead_inodes.n;
}

int kbox_ext4_defer_inode_free(struct kbox_ext4 *x, uint32_t ino, bool dir)
{
	if (x->dead_inodes.n == x->dead_inodes.cap) {
		size_t cap = x->dead_inodes.cap ? 2 * x->dead_inodes.cap : 64;
		uint32_t *i = realloc(x->dead_inodes.ino, cap * sizeof(*i));
		bool *d;

		if (!i)
			return -ENOMEM;
		x->dead_inodes.ino = i;
		d = realloc(x->dead_inodes.dir, cap * sizeof(*d));
		if (!d)
			return -ENOMEM;
		x->dead_inodes.dir = d;
		x->dead_inodes.cap = cap;
	}
	x->dead_inodes.ino[x->dead_inodes.n] = ino;
	x->dead_inodes.dir[x->dead_inodes.n++] = dir;
	return 0;
}

/* Give quarantined blocks and dead inodes back to the allocator (in memory). */
static void release_quarantine(struct kbox_ext4 *x)
{
	ext2_filsys fs = x->fs;
	blk64_t blk = fs->super->s_first_data_block, end = ext2fs_blocks_count(fs->super) - 1;

	while (x->nquarantined &&
	       !ext2fs_find_first_set_block_bitmap2(x->quarantine, blk, end, &blk)) {
		ext2fs_unmark_block_bitmap2(x->quarantine, blk);
		ext2fs_unmark_block_bitmap2(fs->block_map, blk);
		x->nquarantined--;
		if (blk++ == end)
			break;
	}
	for (size_t i = 0; i < x->dead_inodes.n; i++) {
		/* The inode's counters were never given back: do it now, in one go. */
		ext2fs_inode_alloc_stats2(fs, x->dead_inodes.ino[i], -1, x->dead_inodes.dir[i]);
	}
	x->dead_inodes.n = 0;
	x->nquarantined = 0;
}

/*
 * Write bitmaps, descriptors and the superblock (still not-clean), and
 * fsync when @sync. Everything they describe was written before (no block
 * cache), so they never point at what is not on disk yet.
 */
static int flush(struct kbox_ext4 *x, bool sync)
{
	errcode_t e;

	if (!x->rw)
		return 0;
	e = sync ? io_channel_flush(x->fs->io) : 0;
	if (e)
		return kbox_ext4_errno(e);
	release_quarantine(x);
	if (x->hide_last)
		ext2fs_unmark_block_bitmap2(x->fs->block_map,
					    ext2fs_blocks_count(x->fs->super) - 1);
	ext2fs_mark_super_dirty(x->fs);
	ext2fs_mark_bb_dirty(x->fs);
	ext2fs_mark_ib_dirty(x->fs);
	e = ext2fs_flush2(x->fs, sync ? 0 : EXT2_FLAG_FLUSH_NO_SYNC);
	hide_last_block(x);
	x->need_flush = false;
	return kbox_ext4_errno(e);
}

int kbox_ext4_flush(struct kbox_ext4 *x)
{
	return flush(x, true);
}

int kbox_ext4_write_bitmaps(struct kbox_ext4 *x)
{
	return flush(x, false);
}

/*
 * What ext2fs_flush() does for the primary superblock alone (without
 * write_byte: one write), without bitmaps or descriptors.
 */
int kbox_ext4_write_super(struct kbox_ext4 *x)
{
	ext2_filsys fs = x->fs;
	struct ext2_super_block sb = *fs->super;
	errcode_t e;

	fs->super->s_wtime = time(NULL);
	sb.s_wtime = fs->super->s_wtime;
	sb.s_block_group_nr = 0;
	e = ext2fs_superblock_csum_set(fs, &sb);
	if (!e)
		e = io_channel_set_blksize(fs->io, SUPERBLOCK_OFFSET);
	if (!e) {
		e = io_channel_write_blk64(fs->io, 1, -SUPERBLOCK_SIZE, &sb);
		io_channel_set_blksize(fs->io, fs->blocksize);
	}
	return kbox_ext4_errno(e);
}

int kbox_ext4_maybe_flush(struct kbox_ext4 *x, blk64_t blocks_needed)
{
	blk64_t free_blocks = ext2fs_free_blocks_count(x->fs->super);
	/* Extent tree splits and a directory block may come on top. */
	blk64_t slack = 64;

	if (x->need_flush)
		return kbox_ext4_flush(x);
	if (!kbox_ext4_has_quarantine(x))
		return 0;
	if (x->nquarantined + blocks_needed + slack > free_blocks || x->nquarantined > 65536 ||
	    x->dead_inodes.n > 4096 || x->fs->super->s_free_inodes_count < x->dead_inodes.n + 16)
		return kbox_ext4_flush(x);
	return 0;
}

int kbox_ext4_close(struct kbox_ext4 *x)
{
	int err = 0;

	if (!x)
		return 0;
	pthread_mutex_lock(&x->lock);
	if (x->rw) {
		err = kbox_ext4_release_orphans(x);
		if (!err)
			err = kbox_ext4_flush(x);
		if (!err && x->damaged)
			kbox_err("ext4: image left not-clean after a failed write; run e2fsck -fy "
				 "on it");
		else if (!err) {
			/* Clean again only after everything else is on disk. */
			x->fs->super->s_state |= EXT2_VALID_FS;
			/* Every transaction emptied the log behind it. */
			ext2fs_clear_feature_journal_needs_recovery(x->fs->super);
			ext2fs_mark_super_dirty(x->fs);
			err = kbox_ext4_errno(ext2fs_flush(x->fs));
		}
	}
	if (!err)
		err = kbox_ext4_errno(ext2fs_close(x->fs));
	else
		kbox_err("ext4: image left marked not-clean: %s", strerror(-err));
	if (!err)
		x->fs = NULL;
	pthread_mutex_unlock(&x->lock);
	free_image(x);
	return err;
}

int kbox_ext4_sync(struct kbox_ext4 *x)
{
	int err;

	pthread_mutex_lock(&x->lock);
	err = kbox_ext4_flush(x);
	pthread_mutex_unlock(&x->lock);
	return err;
}

int kbox_ext4_fsync(struct kbox_ext4 *x, uint32_t ino, bool datasync)
{
	int err = 0;

	(void)ino;
	(void)datasync;
	pthread_mutex_lock(&x->lock);
	if (x->rw)
		err = kbox_ext4_errno(io_channel_flush(x->fs->io));
	pthread_mutex_unlock(&x->lock);
	return err;
}
