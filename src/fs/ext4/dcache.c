// SPDX-License-Identifier: MIT
/*
 * Directory entries in memory. libext2fs finds a name by scanning the
 * whole directory, so the first lookup in a directory loads all of its
 * entries at once; from then on the directory is "loaded" and a lookup,
 * hit or miss, costs one hash probe. Every change kbox makes to a loaded
 * directory goes through add/remove here, under the image lock, so the
 * cache is never stale. Its size is bounded: past the limit it starts
 * over empty.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fs/ext4/internal.h"

#define DCACHE_MAX_ENTRIES (1u << 20)

struct dent {
	struct dent *next;
	uint32_t dir, ino;
	uint8_t ftype;
	uint8_t len;
	char name[];
};

/* A directory whose entries are all in the table. */
struct loaded {
	struct loaded *next;
	uint32_t dir;
	uint32_t room_hint; /* blocks before this one had no room for a new entry */
};

struct kbox_ext4_dcache {
	struct dent **bucket;
	size_t nbuckets, nentries;
	struct loaded **dirs;
	size_t ndirbuckets;
};

static uint64_t hash_name(uint32_t dir, const char *name, size_t len)
{
	uint64_t h = 1469598103934665603ull ^ dir;

	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211ull;
	return h;
}

int kbox_ext4_dcache_init(struct kbox_ext4 *x)
{
	struct kbox_ext4_dcache *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->nbuckets = 4096;
	d->ndirbuckets = 1024;
	d->bucket = calloc(d->nbuckets, sizeof(*d->bucket));
	d->dirs = calloc(d->ndirbuckets, sizeof(*d->dirs));
	if (!d->bucket || !d->dirs) {
		free(d->bucket);
		free(d->dirs);
		free(d);
		return -ENOMEM;
	}
	x->dcache = d;
	return 0;
}

static void clear(struct kbox_ext4_dcache *d)
{
	for (size_t i = 0; i < d->nbuckets; i++)
		for (struct dent *e = d->bucket[i], *n; e; e = n) {
			n = e->next;
			free(e);
		}
	for (size_t i = 0; i < d->ndirbuckets; i++)
		for (struct loaded *l = d->dirs[i], *n; l; l = n) {
			n = l->next;
			free(l);
		}
	memset(d->bucket, 0, d->nbuckets * sizeof(*d->bucket));
	memset(d->dirs, 0, d->ndirbuckets * sizeof(*d->dirs));
	d->nentries = 0;
}

void kbox_ext4_dcache_free(struct kbox_ext4 *x)
{
	if (!x->dcache)
		return;
	clear(x->dcache);
	free(x->dcache->bucket);
	free(x->dcache->dirs);
	free(x->dcache);
	x->dcache = NULL;
}

static struct loaded **find_loaded(struct kbox_ext4_dcache *d, uint32_t dir)
{
	struct loaded **p = &d->dirs[dir % d->ndirbuckets];

	while (*p && (*p)->dir != dir)
		p = &(*p)->next;
	return p;
}

static struct dent **find(struct kbox_ext4_dcache *d, uint32_t dir, const char *name, size_t len)
{
	struct dent **p = &d->bucket[hash_name(dir, name, len) % d->nbuckets];

	while (*p && !((*p)->dir == dir && (*p)->len == len && !memcmp((*p)->name, name, len)))
		p = &(*p)->next;
	return p;
}

/* Double the table once it holds twice as many entries as buckets. */
static void grow(struct kbox_ext4_dcache *d)
{
	size_t n = d->nbuckets * 2;
	struct dent **b = calloc(n, sizeof(*b));

	if (!b)
		return;
	for (size_t i = 0; i < d->nbuckets; i++)
		for (struct dent *e = d->bucket[i], *next; e; e = next) {
			size_t h = hash_name(e->dir, e->name, e->len) % n;

			next = e->next;
			e->next = b[h];
			b[h] = e;
		}
	free(d->bucket);
	d->bucket = b;
	d->nbuckets = n;
}

static int insert(struct kbox_ext4_dcache *d, uint32_t dir, const char *name, size_t len,
		  uint32_t ino, unsigned ftype)
{
	struct dent **p = find(d, dir, name, len), *e;

	if (*p) {
		(*p)->ino = ino;
		(*p)->ftype = ftype;
		return 0;
	}
	e = malloc(sizeof(*e) + len);
	if (!e)
		return -ENOMEM;
	e->dir = dir;
	e->ino = ino;
	e->ftype = ftype;
	e->len = len;
	memcpy(e->name, name, len);
	e->next = NULL;
	*p = e;
	if (++d->nentries > 2 * d->nbuckets)
		grow(d);
	return 0;
}

struct load_ctx {
	struct kbox_ext4_dcache *d;
	int err;
};

static int load_one(ext2_ino_t dir, int entry, struct ext2_dir_entry *de, int offset, int bsize,
		    char *buf, void *arg)
{
	struct load_ctx *c = arg;
	int len = ext2fs_dirent_name_len(de);

	(void)offset;
	(void)bsize;
	(void)buf;
	if (entry == DIRENT_DOT_FILE || entry == DIRENT_DOT_DOT_FILE || !de->inode)
		return 0;
	c->err = insert(c->d, dir, de->name, len, de->inode, ext2fs_dirent_file_type(de));
	return c->err ? DIRENT_ABORT : 0;
}

static int load_dir(struct kbox_ext4 *x, uint32_t dir)
{
	struct kbox_ext4_dcache *d = x->dcache;
	struct load_ctx c = {.d = d};
	struct ext2_inode_large in;
	struct loaded *l;
	int err = kbox_ext4_iread(x, dir, &in);

	if (err)
		return err;
	if (!LINUX_S_ISDIR(in.i_mode))
		return -ENOTDIR;
	if (d->nentries > DCACHE_MAX_ENTRIES)
		clear(d);
	l = malloc(sizeof(*l));
	if (!l)
		return -ENOMEM;
	err = kbox_ext4_errno(ext2fs_dir_iterate2(x->fs, dir, 0, NULL, load_one, &c));
	if (!err)
		err = c.err;
	if (err) {
		free(l);
		return err;
	}
	l->dir = dir;
	l->room_hint = 0;
	l->next = d->dirs[dir % d->ndirbuckets];
	d->dirs[dir % d->ndirbuckets] = l;
	return 0;
}

int kbox_ext4_dcache_lookup(struct kbox_ext4 *x, uint32_t dir, const char *name, uint32_t *ino,
			    unsigned *ftype)
{
	struct kbox_ext4_dcache *d = x->dcache;
	size_t len = strlen(name);
	struct dent *e;

	if (len > EXT2_NAME_LEN)
		return -ENAMETOOLONG;
	if (!*find_loaded(d, dir)) {
		int err = load_dir(x, dir);

		if (err)
			return err;
	}
	e = *find(d, dir, name, len);
	if (!e)
		return -ENOENT;
	*ino = e->ino;
	if (ftype)
		*ftype = e->ftype;
	return 0;
}

void kbox_ext4_dcache_add(struct kbox_ext4 *x, uint32_t dir, const char *name, uint32_t ino,
			  unsigned ftype)
{
	struct kbox_ext4_dcache *d = x->dcache;

	/* An unloaded directory is read whole at its first lookup. */
	if (*find_loaded(d, dir) && insert(d, dir, name, strlen(name), ino, ftype))
		kbox_ext4_dcache_forget_dir(x, dir);
}

void kbox_ext4_dcache_remove(struct kbox_ext4 *x, uint32_t dir, const char *name)
{
	struct kbox_ext4_dcache *d = x->dcache;
	struct dent **p = find(d, dir, name, strlen(name)), *e = *p;

	if (!e)
		return;
	*p = e->next;
	free(e);
	d->nentries--;
}

void kbox_ext4_dcache_forget_dir(struct kbox_ext4 *x, uint32_t dir)
{
	struct loaded **p = find_loaded(x->dcache, dir), *l = *p;

	/* Its stray entries are unreachable once it is not loaded: a reload replaces them. */
	if (l) {
		*p = l->next;
		free(l);
	}
}

uint32_t kbox_ext4_dcache_room_hint(struct kbox_ext4 *x, uint32_t dir)
{
	struct loaded *l = *find_loaded(x->dcache, dir);

	return l ? l->room_hint : 0;
}

void kbox_ext4_dcache_set_room_hint(struct kbox_ext4 *x, uint32_t dir, uint32_t lblk)
{
	struct loaded *l = *find_loaded(x->dcache, dir);

	if (l)
		l->room_hint = lblk;
}
