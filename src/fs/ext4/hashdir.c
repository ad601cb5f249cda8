// SPDX-License-Identifier: MIT
/*
 * readdir of an indexed (htree) directory, in the order of a hash of the
 * names.
 *
 * A new entry in a full leaf of an htree makes libext2fs split it: half of
 * its entries move to a new block at the end of the directory. With byte
 * offsets as positions, a reader that had passed the leaf would meet the
 * moved entries again. Linux's ext4 lists such a directory by the hash of
 * each name (ext4_dx_readdir) and so does kbox: an entry's position depends
 * on its name alone, so a reader in mid-directory sees each entry that
 * stays exactly once, whatever blocks move under it.
 *
 * Positions: "." is 0 and ".." is 1; any other name gets a 64-bit FNV-1a
 * hash (seeded with the file system's hash seed) cut to 43 bits, at least 2,
 * and one more than the entry before it when two hashes meet, so positions
 * strictly increase and a resume never repeats an entry. 43 bits, because
 * the guest's offset lives in a host directory standing in for this one,
 * and ext4 refuses a directory offset past its largest file (2^44 bytes).
 *
 * The sorted list of one directory is kept until the image changes (any
 * inode's times: kbox_ext4_touch()), so listing a directory costs one walk
 * of its blocks, not one per getdents call.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/ext4/internal.h"

#define POS_BITS 43
#define POS_EOF	 (1ull << POS_BITS)

struct hent {
	uint64_t pos;
	uint32_t ino;
	uint32_t name; /* offset in the name pool */
	uint8_t len;
	uint8_t dtype;
};

struct kbox_ext4_hashdir {
	uint32_t dir;
	uint64_t touches; /* x->touches when built */
	struct hent *v;
	size_t n, cap;
	char *pool;
	size_t used, pool_cap;
};

static uint64_t name_hash(const struct kbox_ext4 *x, const char *name, size_t len)
{
	uint64_t h = 0xcbf29ce484222325ull;
	const unsigned char *seed = (const unsigned char *)x->fs->super->s_hash_seed;

	for (size_t i = 0; i < sizeof(x->fs->super->s_hash_seed); i++)
		h = (h ^ seed[i]) * 0x100000001b3ull;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 0x100000001b3ull;
	return h;
}

static uint64_t first_pos(const struct kbox_ext4 *x, const char *name, size_t len)
{
	if (len == 1 && name[0] == '.')
		return 0;
	if (len == 2 && name[0] == '.' && name[1] == '.')
		return 1;
	return 2 + name_hash(x, name, len) % (POS_EOF - 2 - (1u << 20));
}

static void hashdir_free(struct kbox_ext4_hashdir *h)
{
	if (!h)
		return;
	free(h->v);
	free(h->pool);
	free(h);
}

void kbox_ext4_hashdir_free(struct kbox_ext4 *x)
{
	hashdir_free(x->hashdir);
	x->hashdir = NULL;
}

static int grow(void **p, size_t *cap, size_t need, size_t unit)
{
	size_t c = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (c < need)
		c *= 2;
	q = realloc(*p, c * unit);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = c;
	return 0;
}

struct collect {
	struct kbox_ext4 *x;
	struct kbox_ext4_hashdir *h;
	int err;
};

static int add_entry(void *arg, const char *name, size_t len, uint32_t ino, unsigned dtype,
		     uint64_t next)
{
	struct collect *c = arg;
	struct kbox_ext4_hashdir *h = c->h;

	(void)next;
	if (grow((void **)&h->v, &h->cap, h->n + 1, sizeof(*h->v)) ||
	    grow((void **)&h->pool, &h->pool_cap, h->used + len, 1)) {
		c->err = -ENOMEM;
		return 1;
	}
	h->v[h->n++] = (struct hent){.pos = first_pos(c->x, name, len),
				     .ino = ino,
				     .name = (uint32_t)h->used,
				     .len = (uint8_t)len,
				     .dtype = (uint8_t)dtype};
	memcpy(h->pool + h->used, name, len);
	h->used += len;
	return 0;
}

static int by_pos(const void *a, const void *b, void *pool)
{
	const struct hent *p = a, *q = b;
	const char *names = pool;
	int c;

	if (p->pos != q->pos)
		return p->pos < q->pos ? -1 : 1;
	c = memcmp(names + p->name, names + q->name, p->len < q->len ? p->len : q->len);
	return c ? c : p->len - q->len;
}

/* Sorted by hash, then name; positions made strictly increasing. */
static void sort_entries(struct kbox_ext4_hashdir *h)
{
	qsort_r(h->v, h->n, sizeof(*h->v), by_pos, h->pool);
	for (size_t i = 1; i < h->n; i++)
		if (h->v[i].pos <= h->v[i - 1].pos)
			h->v[i].pos = h->v[i - 1].pos + 1;
}

static int build(struct kbox_ext4 *x, uint32_t dir, struct ext2_inode_large *in)
{
	struct kbox_ext4_hashdir *h = calloc(1, sizeof(*h));
	struct collect c = {.x = x, .h = h};
	int err;

	if (!h)
		return -ENOMEM;
	err = kbox_ext4_dir_entries(x, dir, in, add_entry, &c);
	if (!err)
		err = c.err;
	if (err) {
		hashdir_free(h);
		return err;
	}
	sort_entries(h);
	h->dir = dir;
	h->touches = x->touches;
	kbox_ext4_hashdir_free(x);
	x->hashdir = h;
	return 0;
}

/* The first entry at or after @pos. */
static size_t find_pos(const struct kbox_ext4_hashdir *h, uint64_t pos)
{
	size_t lo = 0, hi = h->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (h->v[mid].pos < pos)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int kbox_ext4_hash_readdir(struct kbox_ext4 *x, uint32_t dir, struct ext2_inode_large *in,
			   uint64_t *pos, kbox_ext4_fill_fn fill, void *arg)
{
	struct kbox_ext4_hashdir *h = x->hashdir;
	int err = 0;

	if (!h || h->dir != dir || h->touches != x->touches) {
		err = build(x, dir, in);
		if (err)
			return err;
		h = x->hashdir;
	}
	for (size_t i = find_pos(h, *pos); i < h->n; i++) {
		const struct hent *e = &h->v[i];
		uint64_t next = i + 1 < h->n ? h->v[i + 1].pos : POS_EOF;

		if (fill(arg, h->pool + e->name, e->len, e->ino, e->dtype, next)) {
			*pos = e->pos;
			return 0;
		}
	}
	*pos = POS_EOF;
	return 0;
}
