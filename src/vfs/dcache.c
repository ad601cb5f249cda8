// SPDX-License-Identifier: MIT
/*
 * The directory cache: canonical guest path of a directory -> kbox-owned
 * O_PATH fd of it, so that a lookup whose parent was seen before costs one
 * *at call on the last name instead of openat2 + *at + close.
 *
 * Symlinks the walker read are cached too (fd -1, the target kept), so
 * that merged-/usr links (/lib -> usr/lib) and soname links cost nothing.
 *
 * Only the walker fills it, and only with directories it reached without
 * following anything the guest controls, so a cached fd is what its path
 * named then. It stays what the path names because the guest changes names
 * only through kbox, and every namespace operation drops the path it
 * changed and everything below it; a directory whose mode, owner or ACL
 * changes drops what lies below it too (the host checked search permission
 * on the way when the fd was opened). A stale fd could only give a wrong
 * answer, never an escape: it is a directory inside the same mount. What
 * kbox cannot see is not coherent: the host changing the tree meanwhile,
 * or the guest fchmod()ing a directory fd (passed through to the host).
 * procfs and sysfs mounts, which the host changes, are never cached.
 *
 * Bounded (clock eviction) to a quarter of RLIMIT_NOFILE, 512 at most.
 * Entries are pinned while a lookup uses their fd: invalidation unhashes a
 * pinned entry and its last user closes the fd. One mutex guards it all,
 * for the helper threads that run blocking opens. A generation number,
 * bumped by every invalidation, keeps a lookup that raced a rename on
 * another thread from inserting what it opened before the rename.
 *
 * "Anything cached below P?" is answered without a scan by counters indexed
 * by the hash of each proper ancestor of each entry: leaves (unlink, rmdir
 * of an uncached parent) cost one probe.
 */
#include <pthread.h>
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "internal.h"

#define DCACHE_MAX     512
#define DCACHE_BUCKETS 1024 /* powers of two */
#define DCACHE_BELOW   4096
#define DCACHE_PATH    256 /* longer paths are not cached */
#define DCACHE_DEPTH   64  /* ancestors probed for the deepest cached one */
#define DCACHE_LINK    128 /* longer symlink targets are not cached */

struct kbox_dentry {
	int fd;	   /* -1: a symlink, whose target is link */
	int refs;  /* lookups using fd now */
	int next;  /* hash chain; -1 ends it. Free slots: the free list */
	bool live; /* hashed: lookups find it */
	bool hot;  /* clock reference bit */
	uint32_t hash;
	uint16_t len;
	char path[DCACHE_PATH];
	char link[DCACHE_LINK];
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct kbox_dentry ents[DCACHE_MAX];
static int buckets[DCACHE_BUCKETS];
static uint32_t below[DCACHE_BELOW];
static int cap = -1, nslots, free_head = -1, hand;
static bool disabled;
static unsigned gen;

static uint32_t fnv_step(uint32_t h, char c)
{
	return (h ^ (unsigned char)c) * 16777619u;
}

static uint32_t fnv(const char *s, size_t n)
{
	uint32_t h = 2166136261u;

	while (n--)
		h = fnv_step(h, *s++);
	return h;
}

/* Capacity: a quarter of the fd limit, so the cache never starves kbox or the guest. */
static void init_locked(void)
{
	struct rlimit rl;
	rlim_t n = DCACHE_MAX * 4;

	if (cap >= 0)
		return;
	memset(buckets, -1, sizeof(buckets));
	if (disabled) {
		cap = 0;
		return;
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n)
		n = rl.rlim_cur;
	cap = (int)(n / 4);
}

static struct kbox_dentry *find_locked(const char *path, size_t len, uint32_t h)
{
	int i;

	for (i = buckets[h & (DCACHE_BUCKETS - 1)]; i >= 0; i = ents[i].next)
		if (ents[i].hash == h && ents[i].len == len && !memcmp(ents[i].path, path, len))
			return &ents[i];
	return NULL;
}

/* Count @e in (delta 1) or out (-1) of the "below" counters of its ancestors but "/". */
static void count_below(const struct kbox_dentry *e, int delta)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < e->len; i++) {
		if (e->path[i] == '/' && i > 0)
			below[h & (DCACHE_BELOW - 1)] += (uint32_t)delta;
		h = fnv_step(h, e->path[i]);
	}
}

static void slot_free(struct kbox_dentry *e)
{
	if (e->fd >= 0)
		close(e->fd);
	e->fd = -1;
	e->next = free_head;
	free_head = (int)(e - ents);
}

static void unhash_locked(struct kbox_dentry *e)
{
	int *pp = &buckets[e->hash & (DCACHE_BUCKETS - 1)];

	while (*pp != e - ents)
		pp = &ents[*pp].next;
	*pp = e->next;
	e->live = false;
	count_below(e, -1);
	if (e->refs == 0)
		slot_free(e);
}

/* A slot for a new entry: a free one, else the first cold unpinned one the clock finds. */
static struct kbox_dentry *slot_get_locked(void)
{
	struct kbox_dentry *e;
	int i;

	if (free_head >= 0) {
		e = &ents[free_head];
		free_head = e->next;
		return e;
	}
	if (nslots < cap)
		return &ents[nslots++];
	for (i = 0; i < 2 * nslots; i++) {
		e = &ents[hand];
		hand = (hand + 1) % nslots;
		if (!e->live || e->refs)
			continue;
		if (e->hot) {
			e->hot = false;
			continue;
		}
		unhash_locked(e);
		return slot_get_locked();
	}
	return NULL;
}

static struct kbox_dentry *pin(struct kbox_dentry *e)
{
	e->refs++;
	e->hot = true;
	return e;
}

/*
 * The cached directory that is @path[0..len) or its deepest ancestor longer
 * than @min (the mount's own path: its fd needs no cache), pinned, with its
 * length in *found; NULL if none. *genp: the generation to insert under.
 */
struct kbox_dentry *kbox_dcache_find(const char *path, size_t len, size_t min, size_t *found,
				     unsigned *genp)
{
	uint32_t hs[DCACHE_DEPTH], h = 2166136261u;
	size_t ls[DCACHE_DEPTH], i;
	struct kbox_dentry *e = NULL;
	int n = 0, lo, k;

	for (i = 0; i < len; i++) {
		if (path[i] == '/' && i > min && i < DCACHE_PATH) {
			hs[n % DCACHE_DEPTH] = h;
			ls[n++ % DCACHE_DEPTH] = i;
		}
		h = fnv_step(h, path[i]);
	}
	lo = n > DCACHE_DEPTH ? n - DCACHE_DEPTH : 0;
	pthread_mutex_lock(&lock);
	init_locked();
	*genp = gen;
	if (len > min && len < DCACHE_PATH && (e = find_locked(path, len, h)))
		*found = len;
	while (!e && n > lo) {
		k = --n % DCACHE_DEPTH;
		e = find_locked(path, ls[k], hs[k]);
		if (e)
			*found = ls[k];
	}
	if (e)
		pin(e);
	pthread_mutex_unlock(&lock);
	return e;
}

static struct kbox_dentry *insert(const char *path, size_t len, int fd, const char *link,
				  unsigned genp)
{
	uint32_t h = fnv(path, len);
	struct kbox_dentry *e = NULL;

	if (len >= DCACHE_PATH || (link && strlen(link) >= DCACHE_LINK))
		return NULL;
	pthread_mutex_lock(&lock);
	init_locked();
	if (genp == gen && !disabled && !find_locked(path, len, h))
		e = slot_get_locked();
	if (e) {
		memcpy(e->path, path, len);
		e->path[len] = '\0';
		strcpy(e->link, link ? link : "");
		e->len = (uint16_t)len;
		e->hash = h;
		e->fd = fd;
		e->refs = 0;
		e->live = true;
		e->next = buckets[h & (DCACHE_BUCKETS - 1)];
		buckets[h & (DCACHE_BUCKETS - 1)] = (int)(e - ents);
		count_below(e, 1);
		pin(e);
	}
	pthread_mutex_unlock(&lock);
	return e;
}

struct kbox_dentry *kbox_dcache_insert(const char *path, size_t len, int fd, unsigned genp)
{
	return insert(path, len, fd, NULL, genp);
}

void kbox_dcache_insert_link(const char *path, size_t len, const char *target, unsigned genp)
{
	struct kbox_dentry *e = insert(path, len, -1, target, genp);

	if (e)
		kbox_dcache_put(e);
}

const char *kbox_dcache_link(const struct kbox_dentry *e)
{
	return e->fd < 0 ? e->link : NULL;
}

int kbox_dcache_fd(const struct kbox_dentry *e)
{
	return e->fd;
}

void kbox_dcache_put(struct kbox_dentry *e)
{
	pthread_mutex_lock(&lock);
	if (--e->refs == 0 && !e->live)
		slot_free(e);
	pthread_mutex_unlock(&lock);
}

static void invalidate_locked(const char *path, size_t len)
{
	uint32_t h = fnv(path, len);
	struct kbox_dentry *e = find_locked(path, len, h);
	int i;

	if (e)
		unhash_locked(e);
	if (len > 1 && !below[h & (DCACHE_BELOW - 1)])
		return;
	for (i = 0; i < nslots; i++) {
		e = &ents[i];
		if (e->live && kbox_path_has_prefix(e->path, e->len, path, len))
			unhash_locked(e);
	}
}

void kbox_dcache_invalidate(const char *path, size_t len)
{
	pthread_mutex_lock(&lock);
	gen++;
	if (cap >= 0)
		invalidate_locked(path, len);
	pthread_mutex_unlock(&lock);
}

void kbox_dcache_flush(void)
{
	int i;

	pthread_mutex_lock(&lock);
	gen++;
	for (i = 0; i < nslots; i++)
		if (ents[i].live)
			unhash_locked(&ents[i]);
	pthread_mutex_unlock(&lock);
}

/* The object @nd names ("." and mount roots: its parent path) and all below it. */
void kbox_dcache_forget(const struct kbox_nameidata *nd)
{
	const char *name = nd->last == KBOX_LAST_NORM ? nd->name : "";
	char path[PATH_MAX];
	int n;

	if (nd->mnt && nd->mnt->aliased) {
		kbox_dcache_flush();
		return;
	}
	n = kbox_path_join(nd->parent_guest, name, path, sizeof(path));
	if (n > 0)
		kbox_dcache_invalidate(path, (size_t)n);
}

void kbox_vfs_dcache_enable(bool on)
{
	kbox_dcache_flush();
	pthread_mutex_lock(&lock);
	disabled = !on;
	if (cap >= 0)
		cap = on ? -1 : 0;
	pthread_mutex_unlock(&lock);
}

int kbox_dcache_count(void)
{
	int i, n = 0;

	pthread_mutex_lock(&lock);
	for (i = 0; i < nslots; i++)
		n += ents[i].live;
	pthread_mutex_unlock(&lock);
	return n;
}
