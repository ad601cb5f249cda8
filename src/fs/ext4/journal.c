// SPDX-License-Identifier: MIT
/*
 * Transactions in the image's own jbd2 journal, for the few changes that
 * take several block writes no order makes repairable by `e2fsck -p`
 * (renames, htree leaf splits, an extent insert at the front of a leaf,
 * orphan list links). e2fsck replays a committed transaction by itself
 * ("recovering journal"); one that was not committed is ignored.
 *
 * While a transaction is open, every block libext2fs or kbox writes is kept
 * in memory (the I/O manager's writes are caught here; reads of those
 * blocks are served from the copy). At its end:
 *   1. descriptor block(s), the blocks, a commit block at the log's start;
 *   2. the journal superblock: s_start = the log's start, s_sequence = T;
 *   3. (built with KBOX_EXT4_TXN_SYNC) fdatasync: the transaction is durable;
 *   4. the blocks in place;
 *   5. the journal superblock: s_start = 0, s_sequence = T + 1 (log empty).
 * A kill before 2 leaves the log empty (the old state: nothing was written
 * in place); from 2 to 5 e2fsck replays T, which rewrites the blocks whole.
 * The log is empty again before any later write can touch those blocks, so
 * a replay never brings back an old copy over a newer one, and no revoke
 * records are needed. The log always starts at s_first (as the kernel's
 * after a clean mount); older blocks behind a commit carry lower sequence
 * numbers, so a replay stops there.
 *
 * The file system's needs_recovery flag is set at read-write open, as a
 * kernel mount sets it, and cleared at clean close.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "fs/ext4/internal.h"
#include "lib/log.h"

/* jbd2 on-disk format (big-endian): Documentation/filesystems/ext4/journal.rst. */
#define JBD2_MAGIC 0xc03b3998u
enum {
	JBD2_DESCRIPTOR = 1,
	JBD2_COMMIT = 2,
	JBD2_SB_V1 = 3,
	JBD2_SB_V2 = 4
};
#define JBD2_FLAG_ESCAPE      1u
#define JBD2_FLAG_SAME_UUID   2u
#define JBD2_FLAG_LAST_TAG    8u
#define JBD2_COMPAT_CHECKSUM  1u
#define JBD2_INCOMPAT_REVOKE  0x01u
#define JBD2_INCOMPAT_64BIT   0x02u
#define JBD2_INCOMPAT_CSUM_V3 0x10u
#define JBD2_CRC32C_CHKSUM    4

/* Journal superblock field offsets. */
enum {
	JSB_BLOCKSIZE = 0x0c,
	JSB_MAXLEN = 0x10,
	JSB_FIRST = 0x14,
	JSB_SEQUENCE = 0x18,
	JSB_START = 0x1c,
	JSB_ERRNO = 0x20,
	JSB_COMPAT = 0x24,
	JSB_INCOMPAT = 0x28,
	JSB_RO_COMPAT = 0x2c,
	JSB_UUID = 0x30,
	JSB_CSUM_TYPE = 0x50,
	JSB_CHECKSUM = 0xfc,
	JSB_SIZE = 0x400,
};

/* Commit block field offsets. */
enum {
	COMMIT_CHKSUM0 = 0x10,
	COMMIT_SEC = 0x30,
	COMMIT_NSEC = 0x38
};

#define JBD2_HEADER 12
#define UUID_SIZE   16

struct jblock {
	blk64_t blk; /* file system block */
	char *data;
};

/*
 * The journal of a read-write image. @io is the image channel's I/O manager
 * (a copy of @base with reads and writes caught); the channel finds this
 * struct from it. @depth counts nested begins; blocks are caught while it
 * is above 0.
 */
struct kbox_ext4_journal {
	struct struct_io_manager io;
	io_manager base;
	unsigned bs;
	uint32_t first, maxlen, seq, incompat;
	bool csum_v3;
	uint32_t csum_seed;
	blk64_t *map; /* journal block -> file system block */
	char *jsb;    /* block 0 of the journal, as on disk */
	unsigned depth;
	bool spilled; /* this transaction outgrew the log: written in place */
	struct jblock *blocks;
	size_t n, cap, max_blocks;
	int fd; /* for fdatasync */
};

/*
 * 1: fdatasync between the commit and the in-place writes, so a power loss
 * (not only a kill) finds the transaction whole in the log or not begun.
 * Off: it costs ~150 us a transaction here (5x a dpkg-like unpack), while
 * kbox's other ordered writes rely on the order of writes into the host
 * page cache too (only fsync'd data is promised across a power loss).
 */
#ifndef KBOX_EXT4_TXN_SYNC
#define KBOX_EXT4_TXN_SYNC 0
#endif

static uint32_t get_be32(const char *p, unsigned off)
{
	uint32_t v;

	memcpy(&v, p + off, 4);
	return be32toh(v);
}

static void put_be32(char *p, unsigned off, uint32_t v)
{
	v = htobe32(v);
	memcpy(p + off, &v, 4);
}

static uint32_t crc32c(uint32_t seed, const void *buf, size_t len)
{
	return ext2fs_crc32c_le(seed, buf, len);
}

static void put_header(char *p, uint32_t type, uint32_t seq)
{
	put_be32(p, 0, JBD2_MAGIC);
	put_be32(p, 4, type);
	put_be32(p, 8, seq);
}

/* -------- checking and loading the journal -------- */

static int read_jsb(ext2_filsys fs, char *buf)
{
	blk64_t p = 0;
	errcode_t rc = ext2fs_bmap2(fs, fs->super->s_journal_inum, NULL, NULL, 0, 0, NULL, &p);

	if (!rc && !p)
		return -EUCLEAN;
	if (!rc)
		rc = io_channel_read_blk64(fs->io, p, 1, buf);
	return kbox_ext4_errno(rc);
}

static bool jsb_csum_ok(const char *jsb)
{
	char copy[JSB_SIZE];

	memcpy(copy, jsb, JSB_SIZE);
	put_be32(copy, JSB_CHECKSUM, 0);
	return crc32c(~0u, copy, JSB_SIZE) == get_be32(jsb, JSB_CHECKSUM);
}

/* What kbox can write: v1 or v2, this block size, no unknown features, empty, no error. */
static int check_jsb(ext2_filsys fs, const char *jsb, const char *path, char *why, size_t size)
{
	uint32_t type = get_be32(jsb, 4), incompat = 0, maxlen = get_be32(jsb, JSB_MAXLEN);
	uint32_t known = JBD2_INCOMPAT_REVOKE | JBD2_INCOMPAT_64BIT | JBD2_INCOMPAT_CSUM_V3;

	if (get_be32(jsb, 0) != JBD2_MAGIC || (type != JBD2_SB_V1 && type != JBD2_SB_V2) ||
	    get_be32(jsb, JSB_BLOCKSIZE) != fs->blocksize || maxlen < 64 ||
	    get_be32(jsb, JSB_FIRST) == 0 || get_be32(jsb, JSB_FIRST) >= maxlen)
		return kbox_ext4_say(
			why, size, -EUCLEAN,
			"image '%s' has a corrupt journal superblock; run e2fsck -fy %s first "
			"(or open it --read-only)",
			path, path);
	if (type == JBD2_SB_V2) {
		incompat = get_be32(jsb, JSB_INCOMPAT);
		if ((incompat & ~known) || get_be32(jsb, JSB_RO_COMPAT) ||
		    (get_be32(jsb, JSB_COMPAT) & ~JBD2_COMPAT_CHECKSUM))
			return kbox_ext4_say(
				why, size, -EOPNOTSUPP,
				"image '%s' has a journal with features kbox does not write "
				"(incompat %#x); open it --read-only",
				path, incompat);
		if ((incompat & JBD2_INCOMPAT_CSUM_V3) && !jsb_csum_ok(jsb))
			return kbox_ext4_say(
				why, size, -EUCLEAN,
				"image '%s' has a journal superblock with a bad checksum; run "
				"e2fsck -fy %s first (or open it --read-only)",
				path, path);
	}
	if (ext2fs_blocks_count(fs->super) > 0xffffffffull && !(incompat & JBD2_INCOMPAT_64BIT))
		return kbox_ext4_say(
			why, size, -EOPNOTSUPP,
			"image '%s' has a 32-bit journal on a 64-bit file system; open it "
			"--read-only",
			path);
	if (get_be32(jsb, JSB_START) || get_be32(jsb, JSB_ERRNO))
		return kbox_ext4_say(
			why, size, -EAGAIN,
			"image '%s' has a journal that holds data or an error; run e2fsck -p "
			"%s (e2fsck -fy %s if it asks) first (or open it --read-only)",
			path, path, path);
	return 0;
}

int kbox_ext4_journal_check(ext2_filsys fs, const char *path, char *why, size_t size)
{
	char *jsb;
	int err;

	if (!ext2fs_has_feature_journal(fs->super))
		return 0;
	if (!fs->super->s_journal_inum)
		return kbox_ext4_say(
			why, size, -EOPNOTSUPP,
			"image '%s' has an external journal, which kbox does not write; open "
			"it --read-only",
			path);
	jsb = malloc(fs->blocksize);
	if (!jsb)
		return -ENOMEM;
	err = read_jsb(fs, jsb);
	if (err)
		kbox_ext4_say(why, size, err, "cannot read the journal of image '%s': %s", path,
			      strerror(-err));
	else
		err = check_jsb(fs, jsb, path, why, size);
	free(jsb);
	return err;
}

struct map_walk {
	struct kbox_ext4_journal *j;
};

static int map_one(ext2_filsys fs, blk64_t *blk, e2_blkcnt_t cnt, blk64_t ref, int off, void *arg)
{
	struct map_walk *w = arg;

	(void)fs;
	(void)ref;
	(void)off;
	if (cnt >= 0 && (uint64_t)cnt < w->j->maxlen)
		w->j->map[cnt] = *blk;
	return 0;
}

/* One walk of the journal inode's blocks (a bmap per block reads indirect blocks each time). */
static int map_journal(struct kbox_ext4_journal *j, ext2_filsys fs)
{
	struct map_walk w = {.j = j};
	errcode_t rc;

	j->map = calloc(j->maxlen, sizeof(*j->map));
	if (!j->map)
		return -ENOMEM;
	rc = ext2fs_block_iterate3(fs, fs->super->s_journal_inum, BLOCK_FLAG_READ_ONLY, NULL,
				   map_one, &w);
	if (rc)
		return kbox_ext4_errno(rc);
	for (uint32_t i = 0; i < j->maxlen; i++)
		if (!j->map[i])
			return -EUCLEAN;
	return 0;
}

/* Tags of one descriptor block, and how many blocks a transaction may hold. */
static unsigned tag_bytes(const struct kbox_ext4_journal *j)
{
	if (j->csum_v3)
		return 16;
	return (j->incompat & JBD2_INCOMPAT_64BIT) ? 12 : 8;
}

static unsigned tags_per_desc(const struct kbox_ext4_journal *j)
{
	unsigned room = j->bs - JBD2_HEADER - UUID_SIZE - (j->csum_v3 ? 4 : 0);

	return room / tag_bytes(j);
}

static errcode_t j_read_blk64(io_channel ch, unsigned long long blk, int count, void *buf);
static errcode_t j_read_blk(io_channel ch, unsigned long blk, int count, void *buf);
static errcode_t j_write_blk64(io_channel ch, unsigned long long blk, int count, const void *buf);
static errcode_t j_write_blk(io_channel ch, unsigned long blk, int count, const void *buf);
static errcode_t j_zeroout(io_channel ch, unsigned long long blk, unsigned long long count);

static void catch_io(struct kbox_ext4_journal *j, io_channel ch)
{
	j->base = ch->manager;
	j->io = *ch->manager;
	j->io.name = "kbox journalled I/O";
	j->io.read_blk = j_read_blk;
	j->io.read_blk64 = j_read_blk64;
	j->io.write_blk = j_write_blk;
	j->io.write_blk64 = j_write_blk64;
	j->io.zeroout = j_zeroout;
	ch->manager = &j->io;
}

int kbox_ext4_journal_start(struct kbox_ext4 *x)
{
	ext2_filsys fs = x->fs;
	struct kbox_ext4_journal *j;
	int err;

	if (!ext2fs_has_feature_journal(fs->super))
		return 0;
	j = calloc(1, sizeof(*j));
	if (!j)
		return -ENOMEM;
	x->journal = j;
	j->bs = fs->blocksize;
	j->fd = x->lock_fd;
	j->jsb = malloc(j->bs);
	if (!j->jsb)
		return -ENOMEM;
	err = read_jsb(fs, j->jsb) ?: check_jsb(fs, j->jsb, "", NULL, 0);
	if (err)
		return err;
	j->maxlen = get_be32(j->jsb, JSB_MAXLEN);
	j->first = get_be32(j->jsb, JSB_FIRST);
	j->seq = get_be32(j->jsb, JSB_SEQUENCE);
	if (get_be32(j->jsb, 4) == JBD2_SB_V2)
		j->incompat = get_be32(j->jsb, JSB_INCOMPAT);
	j->csum_v3 = j->incompat & JBD2_INCOMPAT_CSUM_V3;
	if (j->csum_v3)
		j->csum_seed = crc32c(~0u, j->jsb + JSB_UUID, UUID_SIZE);
	/* Room for the blocks, their descriptors and the commit block, with margin. */
	j->max_blocks = (j->maxlen - j->first) * 3 / 4;
	err = map_journal(j, fs);
	if (err)
		return err;
	catch_io(j, fs->io);
	/* As a kernel mount: e2fsck will look at the journal after a crash. */
	ext2fs_set_feature_journal_needs_recovery(fs->super);
	return 0;
}

void kbox_ext4_journal_free(struct kbox_ext4 *x)
{
	struct kbox_ext4_journal *j = x->journal;

	if (!j)
		return;
	for (size_t i = 0; i < j->n; i++)
		free(j->blocks[i].data);
	free(j->blocks);
	free(j->map);
	free(j->jsb);
	free(j);
	x->journal = NULL;
}

bool kbox_ext4_has_journal(const struct kbox_ext4 *x)
{
	return x->journal != NULL;
}

/* -------- catching blocks while a transaction is open -------- */

static struct kbox_ext4_journal *journal_of(io_channel ch)
{
	return (struct kbox_ext4_journal *)((char *)ch->manager -
					    offsetof(struct kbox_ext4_journal, io));
}

static struct jblock *find_block(struct kbox_ext4_journal *j, blk64_t blk)
{
	for (size_t i = 0; i < j->n; i++)
		if (j->blocks[i].blk == blk)
			return &j->blocks[i];
	return NULL;
}

/* File system block @blk through the base manager, whatever the channel's block size now. */
static errcode_t base_io(struct kbox_ext4_journal *j, io_channel ch, blk64_t blk, void *buf,
			 bool write)
{
	unsigned per = j->bs / ch->block_size;

	if (write)
		return j->base->write_blk64(ch, blk * per, per, buf);
	return j->base->read_blk64(ch, blk * per, per, buf);
}

static errcode_t base_io_at(struct kbox_ext4_journal *j, io_channel ch, blk64_t blk,
			    const void *buf)
{
	return base_io(j, ch, blk, (void *)buf, true);
}

/* Write every caught block in place. */
static errcode_t write_in_place(struct kbox_ext4_journal *j, io_channel ch)
{
	errcode_t rc = 0;

	for (size_t i = 0; !rc && i < j->n; i++)
		rc = base_io_at(j, ch, j->blocks[i].blk, j->blocks[i].data);
	return rc;
}

static void drop_blocks(struct kbox_ext4_journal *j)
{
	for (size_t i = 0; i < j->n; i++)
		free(j->blocks[i].data);
	j->n = 0;
}

/*
 * A transaction too large for the log: what it caught goes in place now and
 * the rest passes through, ordered as without a journal (with a log line).
 */
static errcode_t spill(struct kbox_ext4_journal *j, io_channel ch)
{
	errcode_t rc = write_in_place(j, ch);

	if (!j->spilled)
		kbox_warn("ext4: a change of more than %zu blocks outgrew the journal; written "
			  "without it",
			  j->max_blocks);
	drop_blocks(j);
	j->spilled = true;
	return rc;
}

/* A new caught block; @whole: the caller fills it all, else it starts as on disk. */
static errcode_t new_block(struct kbox_ext4_journal *j, io_channel ch, blk64_t blk, bool whole,
			   struct jblock **out)
{
	char *data;
	errcode_t rc;

	if (j->n == j->cap) {
		size_t cap = j->cap ? 2 * j->cap : 16;
		struct jblock *nb = realloc(j->blocks, cap * sizeof(*nb));

		if (!nb)
			return EXT2_ET_NO_MEMORY;
		j->blocks = nb;
		j->cap = cap;
	}
	data = malloc(j->bs);
	if (!data)
		return EXT2_ET_NO_MEMORY;
	rc = whole ? 0 : base_io(j, ch, blk, data, false);
	if (rc) {
		free(data);
		return rc;
	}
	j->blocks[j->n] = (struct jblock){.blk = blk, .data = data};
	*out = &j->blocks[j->n++];
	return 0;
}

/* Bytes [@off, @off + @len) of the image go into caught blocks (@src NULL: zeros). */
static errcode_t catch_range(struct kbox_ext4_journal *j, io_channel ch, uint64_t off, uint64_t len,
			     const char *src)
{
	while (len) {
		blk64_t blk = off / j->bs;
		size_t boff = off % j->bs, n = j->bs - boff < len ? j->bs - boff : len;
		struct jblock *b = find_block(j, blk);
		errcode_t rc = b ? 0 : new_block(j, ch, blk, n == j->bs, &b);

		if (rc)
			return rc;
		if (src)
			memcpy(b->data + boff, src, n);
		else
			memset(b->data + boff, 0, n);
		if (src)
			src += n;
		off += n;
		len -= n;
	}
	return 0;
}

static bool catching(const struct kbox_ext4_journal *j, io_channel ch)
{
	return j->depth && !j->spilled && j->bs % ch->block_size == 0;
}

/* Would bytes [@off, @off + @len) overflow the log? Then spill first (1), else 0. */
static int overflows(struct kbox_ext4_journal *j, io_channel ch, uint64_t off, uint64_t len,
		     errcode_t *rc)
{
	uint64_t nblk = (off + len + j->bs - 1) / j->bs - off / j->bs;

	*rc = 0;
	if (j->n + nblk <= j->max_blocks)
		return 0;
	*rc = spill(j, ch);
	return 1;
}

static errcode_t j_write_blk64(io_channel ch, unsigned long long blk, int count, const void *buf)
{
	struct kbox_ext4_journal *j = journal_of(ch);
	uint64_t len = count < 0 ? (uint64_t)-count : (uint64_t)count * ch->block_size;
	errcode_t rc = 0;

	if (catching(j, ch) && !overflows(j, ch, blk * ch->block_size, len, &rc))
		return catch_range(j, ch, blk * ch->block_size, len, buf);
	if (rc)
		return rc;
	return j->base->write_blk64(ch, blk, count, buf);
}

static errcode_t j_write_blk(io_channel ch, unsigned long blk, int count, const void *buf)
{
	return j_write_blk64(ch, blk, count, buf);
}

static errcode_t j_zeroout(io_channel ch, unsigned long long blk, unsigned long long count)
{
	struct kbox_ext4_journal *j = journal_of(ch);
	uint64_t off = blk * ch->block_size, len = count * ch->block_size;
	errcode_t rc = 0;

	if (catching(j, ch) && !overflows(j, ch, off, len, &rc))
		return catch_range(j, ch, off, len, NULL);
	if (rc)
		return rc;
	if (!j->base->zeroout)
		return EXT2_ET_UNIMPLEMENTED;
	return j->base->zeroout(ch, blk, count);
}

/* A read sees what the open transaction wrote. */
static errcode_t j_read_blk64(io_channel ch, unsigned long long blk, int count, void *buf)
{
	struct kbox_ext4_journal *j = journal_of(ch);
	errcode_t rc = j->base->read_blk64(ch, blk, count, buf);
	uint64_t start = blk * ch->block_size;
	uint64_t end = start + (count < 0 ? (uint64_t)-count : (uint64_t)count * ch->block_size);

	for (size_t i = 0; !rc && i < j->n; i++) {
		uint64_t bstart = j->blocks[i].blk * j->bs, bend = bstart + j->bs;
		uint64_t from = bstart > start ? bstart : start, to = bend < end ? bend : end;

		if (from < to)
			memcpy((char *)buf + (from - start), j->blocks[i].data + (from - bstart),
			       to - from);
	}
	return rc;
}

static errcode_t j_read_blk(io_channel ch, unsigned long blk, int count, void *buf)
{
	return j_read_blk64(ch, blk, count, buf);
}

/* -------- committing -------- */

static errcode_t write_jsb(struct kbox_ext4_journal *j, io_channel ch, uint32_t start, uint32_t seq)
{
	put_be32(j->jsb, JSB_START, start);
	put_be32(j->jsb, JSB_SEQUENCE, seq);
	if (j->csum_v3) {
		put_be32(j->jsb, JSB_CHECKSUM, 0);
		put_be32(j->jsb, JSB_CHECKSUM, crc32c(~0u, j->jsb, JSB_SIZE));
	}
	return base_io_at(j, ch, j->map[0], j->jsb);
}

/* One tag: where block @b goes back, and its checksum (v3) over the logged copy. */
static void put_tag(struct kbox_ext4_journal *j, char *p, blk64_t blk, uint32_t flags,
		    const char *logged)
{
	put_be32(p, 0, (uint32_t)blk);
	if (j->csum_v3) {
		uint32_t seq = htobe32(j->seq), c = crc32c(j->csum_seed, &seq, 4);

		put_be32(p, 4, flags);
		put_be32(p, 8, (uint32_t)(blk >> 32));
		put_be32(p, 12, crc32c(c, logged, j->bs));
		return;
	}
	/* t_checksum (16 bits, unused without csum) then t_flags (16 bits). */
	put_be32(p, 4, flags & 0xffff);
	if (j->incompat & JBD2_INCOMPAT_64BIT)
		put_be32(p, 8, (uint32_t)(blk >> 32));
}

static void seal(struct kbox_ext4_journal *j, char *block, unsigned csum_off)
{
	if (!j->csum_v3)
		return;
	put_be32(block, csum_off, 0);
	put_be32(block, csum_off, crc32c(j->csum_seed, block, j->bs));
}

/*
 * Blocks [@from, @to) of the transaction: a descriptor at log position *@pos,
 * then the blocks (a block that starts with the jbd2 magic is logged with
 * it zeroed and the ESCAPE flag, as the kernel does).
 */
static errcode_t log_run(struct kbox_ext4_journal *j, io_channel ch, size_t from, size_t to,
			 uint32_t *pos, char *desc, char *copy)
{
	unsigned tb = tag_bytes(j), off = JBD2_HEADER;
	uint32_t dpos = (*pos)++;
	errcode_t rc = 0;

	memset(desc, 0, j->bs);
	put_header(desc, JBD2_DESCRIPTOR, j->seq);
	for (size_t i = from; !rc && i < to; i++) {
		uint32_t flags = (i == from ? 0 : JBD2_FLAG_SAME_UUID) |
				 (i + 1 == to ? JBD2_FLAG_LAST_TAG : 0);

		memcpy(copy, j->blocks[i].data, j->bs);
		if (get_be32(copy, 0) == JBD2_MAGIC) {
			memset(copy, 0, 4);
			flags |= JBD2_FLAG_ESCAPE;
		}
		put_tag(j, desc + off, j->blocks[i].blk, flags, copy);
		off += tb;
		if (i == from) {
			memcpy(desc + off, j->jsb + JSB_UUID, UUID_SIZE);
			off += UUID_SIZE;
		}
		rc = base_io_at(j, ch, j->map[(*pos)++], copy);
	}
	seal(j, desc, j->bs - 4);
	return rc ?: base_io_at(j, ch, j->map[dpos], desc);
}

static errcode_t log_commit(struct kbox_ext4_journal *j, io_channel ch, uint32_t pos, char *block)
{
	struct timespec ts;
	uint64_t sec;

	clock_gettime(CLOCK_REALTIME, &ts);
	sec = htobe64((uint64_t)ts.tv_sec);
	memset(block, 0, j->bs);
	put_header(block, JBD2_COMMIT, j->seq);
	memcpy(block + COMMIT_SEC, &sec, 8);
	put_be32(block, COMMIT_NSEC, (uint32_t)ts.tv_nsec);
	seal(j, block, COMMIT_CHKSUM0);
	return base_io_at(j, ch, j->map[pos], block);
}

/* Steps 1 and 2 of the file comment: after them the transaction replays. */
static errcode_t write_log(struct kbox_ext4_journal *j, io_channel ch)
{
	char *desc = malloc(j->bs), *copy = malloc(j->bs);
	unsigned per = tags_per_desc(j);
	uint32_t pos = j->first;
	errcode_t rc = desc && copy ? 0 : EXT2_ET_NO_MEMORY;

	for (size_t i = 0; !rc && i < j->n; i += per)
		rc = log_run(j, ch, i, i + per < j->n ? i + per : j->n, &pos, desc, copy);
	if (!rc)
		rc = log_commit(j, ch, pos, desc);
	if (!rc)
		rc = write_jsb(j, ch, j->first, j->seq);
	free(desc);
	free(copy);
	return rc;
}

static errcode_t commit(struct kbox_ext4_journal *j, io_channel ch)
{
	errcode_t rc = write_log(j, ch);

	if (!rc && KBOX_EXT4_TXN_SYNC && fdatasync(j->fd) < 0)
		rc = EXT2_ET_SHORT_WRITE;
	if (!rc)
		rc = write_in_place(j, ch);
	if (!rc)
		rc = write_jsb(j, ch, 0, j->seq + 1);
	if (!rc)
		j->seq++;
	return rc;
}

void kbox_ext4_txn_begin(struct kbox_ext4 *x)
{
	if (x->journal)
		x->journal->depth++;
}

int kbox_ext4_txn_end(struct kbox_ext4 *x, int err)
{
	struct kbox_ext4_journal *j = x->journal;
	errcode_t rc = 0;

	if (!j || --j->depth)
		return err;
	/*
	 * Committed even when the operation failed half-way: the blocks are what
	 * the in-memory state now says (kbox_ext4_done() marks such an image).
	 */
	if (j->n)
		rc = commit(j, x->fs->io);
	drop_blocks(j);
	j->spilled = false;
	return err ?: kbox_ext4_errno(rc);
}
