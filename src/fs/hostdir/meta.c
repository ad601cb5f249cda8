// SPDX-License-Identifier: MIT
/*
 * hostdir per-file metadata: encoding, the user xattr, and the store file.
 * See meta.h for what is kept and where.
 *
 * One encoding serves the xattr value and a store record's payload: a
 * fixed little header, then the packed privileged xattrs.
 *
 * The store file is a log: each record is (magic, payload length, st_dev,
 * st_ino, payload), the last record of an inode wins, and an empty payload
 * deletes. Loading stops at the first record that is torn or foreign, and
 * rewrites the file compactly when it holds more dead records than live.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

#include "../../lib/log.h"
#include "hostdir.h"
#include "meta.h"

#define META_MAGIC    0x3178626bu /* "kbx1" */
#define RECORD_MAGIC  0x7372626bu /* "kbrs" */
#define STORE_BUCKETS 4096
#define STORE_PATHS   2

struct meta_header {
	uint32_t magic;
	uint32_t valid;
	uint32_t uid, gid, mode;
	uint32_t xlen;
	uint64_t rdev;
};

struct record_header {
	uint32_t magic;
	uint32_t len;
	uint64_t dev, ino;
};

struct store_entry {
	uint64_t dev, ino;
	uint32_t len;
	struct store_entry *next;
	unsigned char blob[];
};

static struct {
	pthread_mutex_t lock;
	int fd; /* -1: memory only */
	char path[4096];
	char paths[STORE_PATHS][4096]; /* candidates, best first */
	int npaths;
	bool warned;
	struct store_entry *buckets[STORE_BUCKETS];
	size_t live, records;
} store = {.lock = PTHREAD_MUTEX_INITIALIZER, .fd = -1};

static size_t encode(const struct kbox_meta *m, unsigned char *buf, size_t size)
{
	struct meta_header h = {.magic = META_MAGIC,
				.valid = m->valid,
				.uid = m->uid,
				.gid = m->gid,
				.mode = m->mode,
				.xlen = m->xlen,
				.rdev = m->rdev};

	if (size < sizeof(h) + m->xlen)
		return 0;
	memcpy(buf, &h, sizeof(h));
	memcpy(buf + sizeof(h), m->xattrs, m->xlen);
	return sizeof(h) + m->xlen;
}

static int decode(const unsigned char *buf, size_t len, struct kbox_meta *m)
{
	struct meta_header h;

	if (len < sizeof(h))
		return -ENODATA;
	memcpy(&h, buf, sizeof(h));
	if (h.magic != META_MAGIC || h.xlen > KBOX_META_XATTRS_MAX || sizeof(h) + h.xlen > len)
		return -ENODATA;
	m->valid = h.valid;
	m->uid = h.uid;
	m->gid = h.gid;
	m->mode = h.mode;
	m->rdev = (dev_t)h.rdev;
	m->xlen = (uint16_t)h.xlen;
	memcpy(m->xattrs, buf + sizeof(h), h.xlen);
	return 0;
}

static bool meta_empty(const struct kbox_meta *m)
{
	return !m->valid && !m->xlen;
}

/* ---- the store ---- */

static unsigned bucket_of(uint64_t dev, uint64_t ino)
{
	return (unsigned)((ino * 0x9e3779b97f4a7c15ull) ^ dev) % STORE_BUCKETS;
}

static struct store_entry **store_slot(uint64_t dev, uint64_t ino)
{
	struct store_entry **p = &store.buckets[bucket_of(dev, ino)];

	while (*p && ((*p)->dev != dev || (*p)->ino != ino))
		p = &(*p)->next;
	return p;
}

/* Put (or, with @len 0, drop) the in-memory record. Caller holds the lock. */
static int store_put_mem(uint64_t dev, uint64_t ino, const unsigned char *blob, uint32_t len)
{
	struct store_entry **p = store_slot(dev, ino), *e = *p;

	if (e) {
		*p = e->next;
		free(e);
		store.live--;
	}
	if (!len)
		return 0;
	e = malloc(sizeof(*e) + len);
	if (!e)
		return -ENOMEM;
	e->dev = dev;
	e->ino = ino;
	e->len = len;
	memcpy(e->blob, blob, len);
	p = &store.buckets[bucket_of(dev, ino)];
	e->next = *p;
	*p = e;
	store.live++;
	return 0;
}

static int write_record(int fd, uint64_t dev, uint64_t ino, const unsigned char *blob, uint32_t len)
{
	unsigned char buf[sizeof(struct record_header) + sizeof(struct meta_header) +
			  KBOX_META_XATTRS_MAX];
	struct record_header h = {.magic = RECORD_MAGIC, .len = len, .dev = dev, .ino = ino};
	size_t n = sizeof(h) + len;

	memcpy(buf, &h, sizeof(h));
	if (len)
		memcpy(buf + sizeof(h), blob, len);
	/* One write of the whole record: O_APPEND keeps concurrent writers whole. */
	return write(fd, buf, n) == (ssize_t)n ? 0 : -EIO;
}

static void store_create(void);

static int store_put(uint64_t dev, uint64_t ino, const unsigned char *blob, uint32_t len)
{
	int r;

	pthread_mutex_lock(&store.lock);
	r = store_put_mem(dev, ino, blob, len);
	if (r == 0 && store.fd < 0 && len && !store.warned)
		store_create();
	if (r == 0 && store.fd >= 0) {
		r = write_record(store.fd, dev, ino, blob, len);
		store.records++;
	}
	pthread_mutex_unlock(&store.lock);
	return r;
}

static int store_get(uint64_t dev, uint64_t ino, struct kbox_meta *m)
{
	struct store_entry *e;
	int r = -ENODATA;

	pthread_mutex_lock(&store.lock);
	e = store.live ? *store_slot(dev, ino) : NULL;
	if (e)
		r = decode(e->blob, e->len, m);
	pthread_mutex_unlock(&store.lock);
	return r;
}

/* Read every whole record of @fd into memory; returns how many were read. */
static size_t store_load(int fd)
{
	struct record_header h;
	unsigned char blob[sizeof(struct meta_header) + KBOX_META_XATTRS_MAX];
	size_t n = 0;
	FILE *f = fdopen(dup(fd), "r");

	if (!f)
		return 0;
	while (fread(&h, sizeof(h), 1, f) == 1) {
		if (h.magic != RECORD_MAGIC || h.len > sizeof(blob))
			break;
		if (h.len && fread(blob, h.len, 1, f) != 1)
			break;
		store_put_mem(h.dev, h.ino, blob, h.len);
		n++;
	}
	fclose(f);
	return n;
}

/* Rewrite the store with live records only, atomically (rename). */
static void store_compact(void)
{
	char tmp[sizeof(store.path) + 8];
	int fd;

	snprintf(tmp, sizeof(tmp), "%s.new", store.path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	for (int b = 0; b < STORE_BUCKETS; b++)
		for (struct store_entry *e = store.buckets[b]; e; e = e->next)
			if (write_record(fd, e->dev, e->ino, e->blob, e->len) < 0)
				goto fail;
	if (fsync(fd) < 0 || rename(tmp, store.path) < 0)
		goto fail;
	close(store.fd);
	store.fd = open(store.path, O_WRONLY | O_APPEND | O_CLOEXEC);
	store.records = store.live;
	close(fd);
	return;
fail:
	close(fd);
	unlink(tmp);
}

/* Load the store at @fd; cut a torn tail so appends start at a record boundary. */
static void store_attach(int fd)
{
	off_t end = 0;
	struct record_header h;

	store.fd = fd;
	store.records = store_load(fd);
	if (store.records > 64 && store.records > 2 * store.live) {
		store_compact();
		return;
	}
	for (size_t i = 0; i < store.records; i++) {
		if (pread(fd, &h, sizeof(h), end) != sizeof(h))
			break;
		end += (off_t)(sizeof(h) + h.len);
	}
	if (ftruncate(fd, end) < 0) { /* read-only file system: memory only */
		close(fd);
		store.fd = -1;
	}
}

int kbox_meta_store_open(const char *const *paths, int n)
{
	pthread_mutex_lock(&store.lock);
	store.npaths = n < STORE_PATHS ? n : STORE_PATHS;
	for (int i = 0; i < store.npaths; i++)
		snprintf(store.paths[i], sizeof(store.paths[i]), "%s", paths[i]);
	for (int i = 0; i < store.npaths && store.fd < 0; i++) {
		int fd = open(paths[i], O_RDWR | O_APPEND | O_CLOEXEC);

		if (fd < 0)
			continue;
		snprintf(store.path, sizeof(store.path), "%s", paths[i]);
		store_attach(fd);
	}
	pthread_mutex_unlock(&store.lock);
	return 0;
}

/*
 * The first record to keep: create the store at the first candidate that
 * takes it, or say once that records last for this run only. Caller holds
 * the lock.
 */
static void store_create(void)
{
	for (int i = 0; i < store.npaths; i++) {
		int fd = open(store.paths[i], O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0600);

		if (fd >= 0) {
			snprintf(store.path, sizeof(store.path), "%s", store.paths[i]);
			store.fd = fd;
			return;
		}
	}
	if (store.npaths && !store.warned)
		kbox_warn("ownership of symlinks and special files lasts for this run only: "
			  "cannot create %s (%s); make that directory writable, or set "
			  "XDG_STATE_HOME",
			  store.paths[0], strerror(errno));
	store.warned = true;
}

void kbox_meta_store_close(void)
{
	pthread_mutex_lock(&store.lock);
	if (store.fd >= 0)
		close(store.fd);
	store.fd = -1;
	for (int b = 0; b < STORE_BUCKETS; b++) {
		while (store.buckets[b]) {
			struct store_entry *e = store.buckets[b];

			store.buckets[b] = e->next;
			free(e);
		}
	}
	store.live = store.records = 0;
	pthread_mutex_unlock(&store.lock);
}

const char *kbox_meta_store_path(void)
{
	return store.fd >= 0 ? store.path : NULL;
}

/* ---- the xattr, with the store as fallback ---- */

static bool xattr_capable(const struct stat *st)
{
	return S_ISREG(st->st_mode) || S_ISDIR(st->st_mode);
}

static int obj_getxattr(int dirfd, const char *name, void *buf, size_t size)
{
	char path[32];
	ssize_t n;

	if (name)
		return kbox_hostdir_getxattr(dirfd, name, KBOX_META_XATTR, buf, size);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
	n = getxattr(path, KBOX_META_XATTR, buf, size);
	return n < 0 ? -errno : (int)n;
}

static int obj_setxattr(int dirfd, const char *name, const void *buf, size_t size)
{
	char path[32];

	if (name)
		return size ? kbox_hostdir_setxattr(dirfd, name, KBOX_META_XATTR, buf, size, 0)
			    : kbox_hostdir_removexattr(dirfd, name, KBOX_META_XATTR);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
	if (size)
		return setxattr(path, KBOX_META_XATTR, buf, size, 0) < 0 ? -errno : 0;
	return removexattr(path, KBOX_META_XATTR) < 0 ? -errno : 0;
}

/*
 * A cache of what kbox_meta_get() found, so that a repeated stat costs no
 * getxattr: keyed by inode and validated by its ctime, which every xattr,
 * owner or mode change moves. kbox's own changes drop the entry at once
 * (a change within one coarse ctime tick would not move it). Records
 * with privileged xattrs are not cached (rare, and large).
 */
#define CACHE_SLOTS 4096

struct cache_entry {
	uint64_t dev, ino;
	struct timespec ctime;
	bool used, found;
	unsigned valid;
	uid_t uid;
	gid_t gid;
	mode_t mode;
	dev_t rdev;
};

static struct cache_entry cache[CACHE_SLOTS];
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;

static struct cache_entry *cache_slot(const struct stat *st)
{
	return &cache[bucket_of(st->st_dev, st->st_ino) % CACHE_SLOTS];
}

static bool cache_get(const struct stat *st, struct kbox_meta *m, int *r)
{
	struct cache_entry *e = cache_slot(st);
	bool hit;

	pthread_mutex_lock(&cache_lock);
	hit = e->used && e->dev == st->st_dev && e->ino == st->st_ino &&
	      e->ctime.tv_sec == st->st_ctim.tv_sec && e->ctime.tv_nsec == st->st_ctim.tv_nsec;
	if (hit) {
		*r = e->found ? 0 : -ENODATA;
		*m = (struct kbox_meta){.valid = e->valid,
					.uid = e->uid,
					.gid = e->gid,
					.mode = e->mode,
					.rdev = e->rdev};
	}
	pthread_mutex_unlock(&cache_lock);
	return hit;
}

static void cache_put(const struct stat *st, const struct kbox_meta *m, int r)
{
	struct cache_entry *e = cache_slot(st);

	if ((r < 0 && r != -ENODATA) || (r == 0 && m->xlen))
		return;
	pthread_mutex_lock(&cache_lock);
	*e = (struct cache_entry){.dev = st->st_dev,
				  .ino = st->st_ino,
				  .ctime = st->st_ctim,
				  .used = true,
				  .found = r == 0,
				  .valid = r == 0 ? m->valid : 0,
				  .uid = m->uid,
				  .gid = m->gid,
				  .mode = m->mode,
				  .rdev = m->rdev};
	pthread_mutex_unlock(&cache_lock);
}

static void cache_drop(const struct stat *st)
{
	struct cache_entry *e = cache_slot(st);

	pthread_mutex_lock(&cache_lock);
	if (e->dev == st->st_dev && e->ino == st->st_ino)
		e->used = false;
	pthread_mutex_unlock(&cache_lock);
}

static int meta_read(int dirfd, const char *name, const struct stat *st, struct kbox_meta *m)
{
	unsigned char buf[sizeof(struct meta_header) + KBOX_META_XATTRS_MAX];

	if (xattr_capable(st)) {
		int n = obj_getxattr(dirfd, name, buf, sizeof(buf));

		if (n >= 0)
			return decode(buf, (size_t)n, m);
	}
	return store_get(st->st_dev, st->st_ino, m);
}

int kbox_meta_get(int dirfd, const char *name, const struct stat *st, struct kbox_meta *m)
{
	int r;

	if (cache_get(st, m, &r))
		return r;
	r = meta_read(dirfd, name, st, m);
	cache_put(st, m, r);
	return r;
}

int kbox_meta_set(int dirfd, const char *name, const struct stat *st, const struct kbox_meta *m)
{
	unsigned char buf[sizeof(struct meta_header) + KBOX_META_XATTRS_MAX];
	size_t len = meta_empty(m) ? 0 : encode(m, buf, sizeof(buf));
	int r = -ENOTSUP;

	if (!meta_empty(m) && !len)
		return -ENOSPC;
	cache_drop(st);
	if (xattr_capable(st)) {
		r = obj_setxattr(dirfd, name, buf, len);
		if (r == -ENODATA) /* removing what was never there */
			r = 0;
	}
	/* Device placeholders are in the store too: getdents knows them by inode. */
	if (r == 0 && (m->valid & KBOX_META_RDEV))
		return store_put(st->st_dev, st->st_ino, buf, (uint32_t)len);
	if (r == 0) {
		/* A record the store may still hold from before is stale now. */
		if (kbox_meta_in_store(st))
			store_put(st->st_dev, st->st_ino, NULL, 0);
		return 0;
	}
	/* No user xattrs here (symlinks, fifos, the file system): the store. */
	if (len == 0 && !kbox_meta_in_store(st))
		return 0;
	return store_put(st->st_dev, st->st_ino, buf, (uint32_t)len);
}

int kbox_meta_dirent_type(dev_t dev, ino_t ino)
{
	struct store_entry *e;
	struct kbox_meta m;
	int type = 0;

	pthread_mutex_lock(&store.lock);
	e = store.live ? *store_slot(dev, ino) : NULL;
	if (e && decode(e->blob, e->len, &m) == 0 && (m.valid & KBOX_META_RDEV))
		type = S_ISBLK(m.mode) ? DT_BLK : DT_CHR;
	pthread_mutex_unlock(&store.lock);
	return type;
}

bool kbox_meta_in_store(const struct stat *st)
{
	bool in;

	pthread_mutex_lock(&store.lock);
	in = store.live && *store_slot(st->st_dev, st->st_ino);
	pthread_mutex_unlock(&store.lock);
	return in;
}

void kbox_meta_forget(const struct stat *st)
{
	cache_drop(st);
	if (kbox_meta_in_store(st))
		store_put(st->st_dev, st->st_ino, NULL, 0);
}

/* ---- privileged xattrs packed in m->xattrs ---- */

struct xent {
	size_t off, nlen, vlen;
};

static size_t xent_size(const struct xent *e)
{
	return 3 + e->nlen + e->vlen;
}

static bool xent_at(const struct kbox_meta *m, size_t off, struct xent *e)
{
	if (off + 3 > m->xlen)
		return false;
	e->off = off;
	e->nlen = m->xattrs[off];
	e->vlen = (size_t)m->xattrs[off + 1] | (size_t)m->xattrs[off + 2] << 8;
	return off + xent_size(e) <= m->xlen;
}

static bool xent_find(const struct kbox_meta *m, const char *name, struct xent *e)
{
	size_t nlen = strlen(name);

	for (size_t off = 0; xent_at(m, off, e); off += xent_size(e))
		if (e->nlen == nlen && !memcmp(m->xattrs + off + 3, name, nlen))
			return true;
	return false;
}

int kbox_meta_xattr_get(const struct kbox_meta *m, const char *name, void *val, size_t size)
{
	struct xent e;

	if (!xent_find(m, name, &e))
		return -ENODATA;
	if (size == 0)
		return (int)e.vlen;
	if (size < e.vlen)
		return -ERANGE;
	memcpy(val, m->xattrs + e.off + 3 + e.nlen, e.vlen);
	return (int)e.vlen;
}

int kbox_meta_xattr_remove(struct kbox_meta *m, const char *name)
{
	struct xent e;
	size_t n;

	if (!xent_find(m, name, &e))
		return -ENODATA;
	n = xent_size(&e);
	memmove(m->xattrs + e.off, m->xattrs + e.off + n, m->xlen - e.off - n);
	m->xlen = (uint16_t)(m->xlen - n);
	return 0;
}

int kbox_meta_xattr_set(struct kbox_meta *m, const char *name, const void *val, size_t size,
			int flags)
{
	struct xent e;
	size_t nlen = strlen(name);
	bool exists = xent_find(m, name, &e);
	unsigned char *p;

	if ((flags & XATTR_CREATE) && exists)
		return -EEXIST;
	if ((flags & XATTR_REPLACE) && !exists)
		return -ENODATA;
	if (nlen > 255 || size > 0xffff)
		return -ERANGE;
	if (exists)
		kbox_meta_xattr_remove(m, name);
	if (m->xlen + 3 + nlen + size > KBOX_META_XATTRS_MAX)
		return -ENOSPC;
	p = m->xattrs + m->xlen;
	p[0] = (unsigned char)nlen;
	p[1] = (unsigned char)(size & 0xff);
	p[2] = (unsigned char)(size >> 8);
	memcpy(p + 3, name, nlen);
	memcpy(p + 3 + nlen, val, size);
	m->xlen = (uint16_t)(m->xlen + 3 + nlen + size);
	return 0;
}

size_t kbox_meta_xattr_names(const struct kbox_meta *m, char *list, size_t size)
{
	struct xent e;
	size_t need = 0;

	for (size_t off = 0; xent_at(m, off, &e); off += xent_size(&e)) {
		if (list && need + e.nlen + 1 <= size) {
			memcpy(list + need, m->xattrs + off + 3, e.nlen);
			list[need + e.nlen] = '\0';
		}
		need += e.nlen + 1;
	}
	return need;
}
