// SPDX-License-Identifier: MIT
/*
 * Host objects standing for image objects (see image.c for the VFS side).
 * The guest needs real host fds, so every open image object gets one, kept
 * per inode:
 * - a regular file is a memfd (or, when large, a spill file on disk:
 *   imagestore.c) that kbox fills from the image at its first open; each
 *   guest open reopens it through /proc/self/fd (its own open
 *   file description: offsets, O_APPEND), and reads, writes, mmap and exec
 *   run natively on it. A memfd is dirty when its mtime is not the sentinel
 *   kbox sets after each fill or write-back: any write or truncate moves it.
 *   Write-back compares pieces with the image, so writes through shared
 *   mappings (which leave a memfd's mtime alone) are caught too.
 * - a directory is an empty host directory under a private directory
 *   (fchdir, O_DIRECTORY and dirfds work); kbox answers getdents on it;
 * - a fifo is a host fifo there, a device or symlink opened with O_PATH an
 *   empty file.
 * A registry maps host objects back to (mount, inode, guest path) by their
 * st_dev/st_ino.
 *
 * Regular files' copies are kept while kbox stays within a budget (bytes
 * of memfds, number of copies). Past it, before a new copy is made, the
 * copies no guest holds open or mapped (imageuse.c looks) are written
 * back and dropped, least recently opened first, down to half the
 * budget; a dropped inode gets a fresh copy at its next open. A copy some
 * process still uses is never dropped, so every fd of a file sees the
 * same data.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../fs/ext4/ext4.h"
#include "../lib/fdtable.h"
#include "../lib/rundir.h"
#include "image_priv.h"

#define NBUCKETS 4096

/* The mtime of a clean memfd: no write can produce it. */
static const struct timespec clean_mtime = {.tv_sec = 1, .tv_nsec = 0};

struct obj {
	const struct kbox_mount *mnt;
	uint32_t ino;
	mode_t type;
	int fd;	       /* memory copy or spill file; -1 for a stand-in (opened by path) */
	bool wr;       /* opened for writing once: shared mappings may change it unseen */
	bool on_disk;  /* a spill file: its pages are the host's to reclaim */
	bool named;    /* a named copy: reopened by name, unlinked when dropped */
	bool busy;     /* held by some process, at the last scan */
	bool counted;  /* @held is right unless it was opened for writing since */
	uint64_t used; /* when it was last opened (a counter) */
	uint64_t held; /* memory it held, at the last count */
	dev_t hdev;
	ino_t hino;
	char *guest;
	struct obj *by_ino, *by_host;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static struct obj *ino_tab[NBUCKETS], *host_tab[NBUCKETS];
static char private_dir[PATH_MAX];
static bool any_image;

static unsigned hash_ino(const struct kbox_mount *m, uint32_t ino)
{
	return (unsigned)(((uintptr_t)m >> 4) * 31u + ino) % NBUCKETS;
}

static unsigned hash_host(dev_t dev, ino_t ino)
{
	return (unsigned)((dev * 1000003u) ^ ino) % NBUCKETS;
}

static struct obj *find_ino(const struct kbox_mount *m, uint32_t ino)
{
	for (struct obj *o = ino_tab[hash_ino(m, ino)]; o; o = o->by_ino)
		if (o->mnt == m && o->ino == ino)
			return o;
	return NULL;
}

static struct obj *find_host(dev_t dev, ino_t ino)
{
	for (struct obj *o = host_tab[hash_host(dev, ino)]; o; o = o->by_host)
		if (o->hdev == dev && o->hino == ino)
			return o;
	return NULL;
}

bool kbox_vfs_has_image(void)
{
	return any_image;
}

int kbox_img_attach(struct kbox_mount *m, struct kbox_ext4 *x, int slot)
{
	int err;

	if (!private_dir[0] &&
	    (err = kbox_rundir_make(private_dir, sizeof(private_dir), "kbox-img")))
		return err;
	kbox_imgstore_init();
	m->ext4 = x;
	m->fd = -1;
	m->uncached = true; /* the backend has its own dentry cache */
	/* A device number of its own (loop major), as a mounted image would have. */
	m->dev = makedev(7, 200 + slot);
	m->ino = KBOX_EXT4_ROOT_INO;
	any_image = true;
	return 0;
}

/* Size and times of a file whose memfd has changes the image has not seen yet. */
void kbox_imgfd_overlay(const struct kbox_mount *m, uint32_t ino, struct stat *st)
{
	struct obj *o;
	struct stat ms;

	if (!S_ISREG(st->st_mode))
		return;
	pthread_mutex_lock(&lock);
	o = find_ino(m, ino);
	/* A copy never opened for writing changes only through kbox, which writes it back. */
	if (o && o->wr && fstat(o->fd, &ms) == 0 &&
	    (ms.st_mtim.tv_sec != clean_mtime.tv_sec ||
	     ms.st_mtim.tv_nsec != clean_mtime.tv_nsec)) {
		st->st_size = ms.st_size;
		st->st_blocks = ms.st_blocks;
		st->st_mtim = ms.st_mtim;
		st->st_ctim = ms.st_ctim;
	}
	pthread_mutex_unlock(&lock);
}

static void mark_clean(int fd)
{
	struct timespec ts[2] = {{.tv_nsec = UTIME_OMIT}, clean_mtime};

	futimens(fd, ts);
}

static bool is_dirty(int fd, struct stat *ms)
{
	return fstat(fd, ms) == 0 && (ms->st_mtim.tv_sec != clean_mtime.tv_sec ||
				      ms->st_mtim.tv_nsec != clean_mtime.tv_nsec);
}

#define WB_CHUNK (64u << 10)

/* True if [off, off + len) of the memfd or of the image (below @isize) holds data. */
static bool has_data(struct obj *o, uint64_t off, size_t len, uint64_t isize)
{
	off_t d = lseek(o->fd, (off_t)off, SEEK_DATA);
	int64_t e;

	if (d >= 0 && (uint64_t)d < off + len)
		return true;
	if (off >= isize)
		return false;
	e = kbox_ext4_seek(o->mnt->ext4, o->ino, off, SEEK_DATA);
	return e >= 0 && (uint64_t)e < off + len;
}

/* One piece: written when it differs from the image (a hole reads as zeros on both sides). */
static int sync_piece(struct obj *o, uint64_t off, size_t len, uint64_t isize, char *mbuf,
		      char *ibuf)
{
	ssize_t n, w;

	if (!has_data(o, off, len, isize))
		return 0;
	n = pread(o->fd, mbuf, len, (off_t)off);
	if (n != (ssize_t)len)
		return -EIO;
	memset(ibuf, 0, len);
	if (off < isize) {
		n = kbox_ext4_read(o->mnt->ext4, o->ino, ibuf, len, off);
		if (n < 0)
			return (int)n;
	}
	if (off < isize && memcmp(mbuf, ibuf, len) == 0)
		return 0;
	w = kbox_ext4_write(o->mnt->ext4, o->ino, mbuf, len, off);
	return w < 0 ? (int)w : 0;
}

/*
 * The image gets the copy's mtime: the time of the last write (or a
 * futimens() on the guest's fd, which reaches only the copy), not the time
 * of the write-back, so that make and friends compare the right times when
 * a copy is written back mid-run (when dropped) and after the run.
 */
static int keep_mtime(struct obj *o, const struct stat *ms)
{
	struct kbox_ext4_setattr sa = {.valid = KBOX_EXT4_SET_MTIME, .mtime = ms->st_mtim};

	return kbox_ext4_setattr(o->mnt->ext4, o->ino, &sa);
}

/*
 * The memfd's content into the image: a shorter file is truncated first,
 * then what differs is written in ascending order, then a longer size.
 * Comparing catches writes through shared mappings too, which do not move
 * a memfd's mtime.
 */
static int write_back_any(struct obj *o, bool unlinked)
{
	struct stat ms, is;
	uint64_t off, isize;
	bool dirty;
	char *buf;
	int r;

	if (!S_ISREG(o->type))
		return 0;
	dirty = is_dirty(o->fd, &ms);
	if (!dirty && !o->wr)
		return 0;
	r = kbox_ext4_getattr(o->mnt->ext4, o->ino, &is);
	if (r < 0 || (is.st_nlink == 0 && !unlinked))
		return r; /* a file gone keeps nothing (unless linkat names it again) */
	if (fstat(o->fd, &ms) < 0)
		return -errno;
	isize = (uint64_t)is.st_size;
	if ((uint64_t)ms.st_size < isize) {
		r = kbox_ext4_truncate(o->mnt->ext4, o->ino, (uint64_t)ms.st_size);
		isize = (uint64_t)ms.st_size;
	}
	buf = malloc(2 * WB_CHUNK);
	if (!buf)
		return -ENOMEM;
	for (off = 0; r == 0 && off < (uint64_t)ms.st_size; off += WB_CHUNK) {
		uint64_t left = (uint64_t)ms.st_size - off;

		r = sync_piece(o, off, left < WB_CHUNK ? (size_t)left : WB_CHUNK, isize, buf,
			       buf + WB_CHUNK);
	}
	free(buf);
	if (r == 0 && (uint64_t)ms.st_size > (uint64_t)is.st_size)
		r = kbox_ext4_truncate(o->mnt->ext4, o->ino, (uint64_t)ms.st_size);
	if (r == 0 && dirty)
		r = keep_mtime(o, &ms);
	if (r == 0)
		mark_clean(o->fd);
	return r;
}

static int write_back(struct obj *o)
{
	return write_back_any(o, false);
}

static void obj_insert(struct obj *o)
{
	unsigned hi = hash_ino(o->mnt, o->ino), hh = hash_host(o->hdev, o->hino);

	o->by_ino = ino_tab[hi];
	ino_tab[hi] = o;
	o->by_host = host_tab[hh];
	host_tab[hh] = o;
}

/* The stand-in for a directory or fifo: private_dir/<dev>-<ino>. */
static int standin_path(const struct obj *o, char *path, size_t size)
{
	int n = snprintf(path, size, "%s/%u-%u", private_dir, (unsigned)minor(o->mnt->dev), o->ino);

	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int make_standin(const struct obj *o, char *path, size_t size)
{
	if (standin_path(o, path, size) < 0)
		return -ENAMETOOLONG;
	if (S_ISDIR(o->type))
		return mkdir(path, 0700) < 0 && errno != EEXIST ? -errno : 0;
	if (S_ISFIFO(o->type))
		return mkfifo(path, 0600) < 0 && errno != EEXIST ? -errno : 0;
	/* A device or symlink opened with O_PATH: an empty file, only ever O_PATH. */
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

static int obj_host(struct obj *o, const struct stat *st)
{
	char path[PATH_MAX];
	struct stat hs;
	int r;

	if (S_ISREG(o->type)) {
		r = kbox_imgstore_make(o->mnt, o->ino, (uint64_t)st->st_size, &o->on_disk,
				       &o->named);
		if (r < 0)
			return r;
		o->fd = r;
		r = 0;
		/* Host checks on the fd (exec's X_OK) see the image's bits; kbox keeps rw. */
		if (r == 0 && fchmod(o->fd, (st->st_mode & 0777) | 0600) < 0)
			r = -errno;
		if (r == 0)
			mark_clean(o->fd);
	} else {
		r = make_standin(o, path, sizeof(path));
		if (r == 0 && lstat(path, &hs) < 0)
			r = -errno;
		if (r < 0)
			return r;
	}
	if (r == 0 && o->fd >= 0 && fstat(o->fd, &hs) < 0)
		r = -errno;
	if (r < 0)
		return r;
	o->hdev = hs.st_dev;
	o->hino = hs.st_ino;
	return 0;
}

/* Forget a host object obj_host() failed to finish. */
static void obj_host_undo(struct obj *o)
{
	if (o->fd >= 0)
		close(o->fd);
	if (o->named)
		kbox_imgstore_unlink(o->mnt, o->ino);
	o->fd = -1;
	o->named = false;
}

/*
 * kbox keeps a copy per image file opened (up to the budget's count, and
 * more while guests hold them), so it may need more fds than the usual
 * soft limit: at the first EMFILE it takes the hard one.
 * (Only then, so guests, forked earlier, keep the limits they were given.)
 */
static bool more_fds(void)
{
	static bool raised;
	struct rlimit rl;

	if (raised || getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= rl.rlim_max)
		return false;
	raised = true;
	rl.rlim_cur = rl.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
		return false;
	/* Kbox has threads now: one RCU wait for the growth, not one per doubling. */
	kbox_fdtable_reserve(16384);
	return true;
}

/* ---- the budget of retained copies ---- */

/*
 * Bytes of memfds and number of copies kbox keeps before it looks for
 * copies to drop: a quarter of the memory it may use (within
 * [32 MiB, 2 GiB]) and 4096 copies (or a quarter of the fd limit), or
 * KBOX_IMAGE_BUDGET=BYTES[,COUNT]. Spill files count in the number only:
 * their pages are reclaimable. The count is the one a tree walk meets: a
 * walk of more files than it (tar, find -exec, a test suite) drops and makes
 * every copy again, at about 100 us each (the Python 3.11 library in
 * Debian has about 1,100 files, /usr about 8,000).
 */
static struct {
	uint64_t max_bytes, max_files;	 /* the budget */
	uint64_t bytes, files;		 /* retained, as last counted plus copies made since */
	uint64_t next_bytes, next_files; /* look again past these (everything was in use) */
} budget;
static uint64_t use_clock;

static void budget_init(void)
{
	const char *env = getenv("KBOX_IMAGE_BUDGET");
	struct rlimit rl;
	char *end;

	budget.max_bytes = kbox_imgstore_room() / 4;
	budget.max_bytes = budget.max_bytes < (32ull << 20)  ? 32ull << 20
			   : budget.max_bytes > (2ull << 30) ? 2ull << 30
							     : budget.max_bytes;
	budget.max_files = 4096;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    rl.rlim_max / 4 < budget.max_files)
		budget.max_files = rl.rlim_max / 4 > 16 ? rl.rlim_max / 4 : 16;
	if (env && *env) {
		budget.max_bytes = strtoull(env, &end, 0);
		if (*end == ',')
			budget.max_files = strtoull(end + 1, NULL, 0);
		if (!budget.max_files)
			budget.max_files = 1; /* 0 means "not set up yet" */
	}
	budget.next_bytes = budget.max_bytes;
	budget.next_files = budget.max_files;
}

static void account_new(const struct obj *o, uint64_t size)
{
	budget.files++;
	if (!o->on_disk)
		budget.bytes += size;
}

/*
 * Memory a copy holds: a memfd's pages (holes cost nothing). Only one
 * opened for writing can have grown unseen, so the others are counted once
 * (an fstat of each copy at every count cost 8 us per new copy at 900).
 */
static uint64_t held_bytes(struct obj *o)
{
	struct stat ms;

	if (o->on_disk)
		return 0;
	if ((o->wr || !o->counted) && fstat(o->fd, &ms) == 0) {
		o->held = (uint64_t)ms.st_blocks * 512;
		o->counted = true;
	}
	return o->held;
}

static void busy_unless_own(struct obj *o, int self_fd)
{
	if (o && o->fd != self_fd)
		o->busy = true; /* kbox's own reference is not a use */
}

static void mark_busy(const struct kbox_imguse_ref *ref, void *arg)
{
	(void)arg;
	if (!ref->memfd) {
		busy_unless_own(find_host(ref->dev, (ino_t)ref->ino), ref->self_fd);
		return;
	}
	/* By name: that inode's memfd in every image mount (there is one, at /). */
	for (int i = 0; i < kbox_vfs_nmounts(); i++) {
		struct obj *o = kbox_vfs_mount_at(i)->ext4
					? find_ino(kbox_vfs_mount_at(i), (uint32_t)ref->ino)
					: NULL;

		if (o && !o->on_disk)
			busy_unless_own(o, ref->self_fd);
	}
}

static void unlink_obj(struct obj *o)
{
	struct obj **pp = &ino_tab[hash_ino(o->mnt, o->ino)];

	while (*pp != o)
		pp = &(*pp)->by_ino;
	*pp = o->by_ino;
	pp = &host_tab[hash_host(o->hdev, o->hino)];
	while (*pp != o)
		pp = &(*pp)->by_host;
	*pp = o->by_host;
}

/* Drop kbox's reference to an unused copy, its changes in the image first. */
static bool drop(struct obj *o)
{
	struct stat ms;

	if (kbox_ext4_is_rw(o->mnt->ext4) ? write_back(o) < 0 : is_dirty(o->fd, &ms))
		return false;
	unlink_obj(o);
	kbox_ext4_iput(o->mnt->ext4, o->ino);
	close(o->fd);
	if (o->named)
		kbox_imgstore_unlink(o->mnt, o->ino);
	free(o->guest);
	free(o);
	return true;
}

static int by_use(const void *a, const void *b)
{
	const struct obj *x = *(struct obj *const *)a, *y = *(struct obj *const *)b;

	return x->used < y->used ? -1 : x->used > y->used;
}

/* The copies of regular files (into @v when given), counted exactly. */
static size_t collect(struct obj **v)
{
	size_t n = 0;

	budget.bytes = budget.files = 0;
	for (int b = 0; b < NBUCKETS; b++)
		for (struct obj *o = ino_tab[b]; o; o = o->by_ino) {
			if (!S_ISREG(o->type) || o->fd < 0)
				continue;
			o->busy = false;
			budget.files++;
			budget.bytes += held_bytes(o);
			if (v)
				v[n++] = o;
		}
	return n;
}

static bool over(uint64_t bytes, uint64_t files)
{
	return budget.bytes > bytes || budget.files > files;
}

/*
 * Past the budget: drop unused copies, least recently opened first, down
 * to half of it (so that the next look is half a budget of new copies away).
 */
static void trim(void)
{
	struct obj **v;
	size_t n, k = 0;

	collect(NULL);
	if (!over(budget.max_bytes, budget.max_files))
		return;
	v = malloc(budget.files * sizeof(*v));
	if (!v)
		return;
	n = collect(v);
	/*
	 * Twice: a guest may move an fd (dup2 to a higher number, close the
	 * old one) while its fd directory is being read, and one pass can miss
	 * both numbers; it would have to do so again during the second pass.
	 * (New opens of image files wait for the lock this runs under.)
	 */
	if (kbox_imguse_scan(mark_busy, NULL) < 0 || kbox_imguse_scan(mark_busy, NULL) < 0)
		n = 0; /* some process could not be read: everything may be in use */
	for (size_t i = 0; i < n; i++)
		if (!v[i]->busy)
			v[k++] = v[i];
	qsort(v, k, sizeof(*v), by_use);
	for (size_t i = 0; i < k && over(budget.max_bytes / 2, budget.max_files / 2); i++) {
		uint64_t held = v[i]->held;

		if (drop(v[i])) {
			budget.files--;
			budget.bytes -= held < budget.bytes ? held : budget.bytes;
		}
	}
	free(v);
}

static void trim_if_over(void)
{
	static unsigned made;

	if (!budget.max_files)
		budget_init();
	/*
	 * Copies grow by guest writes kbox does not see (a new file starts
	 * empty): count them exactly every 64 new copies.
	 */
	if (++made % 64 == 0)
		collect(NULL);
	if (!over(budget.next_bytes, budget.next_files))
		return;
	trim();
	/* All in use: look again only after some growth, not at every open. */
	budget.next_bytes = budget.bytes > budget.max_bytes ? budget.bytes + budget.max_bytes / 4
							    : budget.max_bytes;
	budget.next_files = budget.files > budget.max_files ? budget.files + budget.max_files / 4
							    : budget.max_files;
}

/* The host object of inode @ino (made at its first open), under the lock. */
static struct obj *obj_get(const struct kbox_mount *m, uint32_t ino, const struct stat *st,
			   const char *guest, int *err)
{
	struct obj *o = find_ino(m, ino);

	if (o) {
		if (guest && strcmp(o->guest, guest) != 0) {
			char *g = strdup(guest);

			if (g) {
				free(o->guest);
				o->guest = g;
			}
		}
		return o;
	}
	o = calloc(1, sizeof(*o));
	if (!o || !(o->guest = strdup(guest ? guest : "/"))) {
		free(o);
		*err = -ENOMEM;
		return NULL;
	}
	o->fd = -1;
	o->mnt = m;
	o->ino = ino;
	o->type = st->st_mode & S_IFMT;
	if (S_ISREG(o->type))
		trim_if_over(); /* before: the new copy is no candidate */
	/* Referenced first: an unlink meanwhile must not free the blocks being copied. */
	kbox_ext4_iget(m->ext4, ino);
	*err = obj_host(o, st);
	if (*err == -EMFILE && more_fds()) {
		obj_host_undo(o);
		*err = obj_host(o, st);
	}
	if (*err < 0) {
		obj_host_undo(o);
		kbox_ext4_iput(m->ext4, ino);
		free(o->guest);
		free(o);
		return NULL;
	}
	obj_insert(o);
	if (S_ISREG(o->type))
		account_new(o, (uint64_t)st->st_size);
	return o;
}

/* Flags of the guest's own open file description on the host object. */
int kbox_imgfd_flags(int oflags)
{
	return (oflags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECTORY | O_PATH | O_NOATIME |
			  O_DSYNC | O_SYNC | O_DIRECT)) |
	       O_CLOEXEC;
}

/*
 * kbox's /proc/self/fd, kept open: reopening a copy by its number from it
 * skips the walk of /proc/self on every guest open.
 */
static int self_fd_dir(void)
{
	static int dirfd = -1;

	if (dirfd < 0)
		dirfd = open("/proc/self/fd", O_PATH | O_DIRECTORY | O_CLOEXEC);
	return dirfd;
}

/* A new open file description of the copy or stand-in, with the guest's flags. */
static int reopen(struct obj *o, const char *path, int oflags)
{
	int flags = kbox_imgfd_flags(oflags) & ~(O_DIRECT | O_NOATIME);
	int dirfd = AT_FDCWD;

	if (o->named)
		return kbox_imgstore_reopen(o->mnt, o->ino, flags);
	if (S_ISREG(o->type) && (dirfd = self_fd_dir()) < 0)
		return -1;
	return openat(dirfd, path, flags);
}

static int obj_open(struct obj *o, int oflags)
{
	char path[PATH_MAX];
	int fd;

	if (S_ISREG(o->type)) {
		o->used = ++use_clock;
		snprintf(path, sizeof(path), "%d", o->fd);
		if ((oflags & O_ACCMODE) != O_RDONLY && !(oflags & O_PATH))
			o->wr = true;
		if ((oflags & O_TRUNC) && (oflags & O_ACCMODE) != O_RDONLY && !(oflags & O_PATH) &&
		    ftruncate(o->fd, 0) < 0)
			return -errno;
	} else if (standin_path(o, path, sizeof(path)) < 0) {
		return -ENAMETOOLONG;
	}
	fd = reopen(o, path, oflags);
	if (fd < 0 && errno == EMFILE && more_fds())
		fd = reopen(o, path, oflags);
	return fd < 0 ? -errno : fd;
}

int kbox_imgfd_open(const struct kbox_mount *m, uint32_t ino, const struct stat *st,
		    const char *guest, int oflags)
{
	struct obj *o;
	int r;

	pthread_mutex_lock(&lock);
	o = obj_get(m, ino, st, guest, &r);
	if (o)
		r = obj_open(o, oflags);
	pthread_mutex_unlock(&lock);
	return r;
}

int kbox_imgfd_flush(const struct kbox_mount *m, uint32_t ino, bool unlinked)
{
	struct obj *o;
	int r = 0;

	pthread_mutex_lock(&lock);
	o = find_ino(m, ino);
	if (o)
		r = write_back_any(o, unlinked);
	pthread_mutex_unlock(&lock);
	return r;
}

int kbox_imgfd_setattr(const struct kbox_mount *m, uint32_t ino, const struct kbox_ext4_setattr *sa)
{
	struct obj *o;
	int r = 0;

	pthread_mutex_lock(&lock);
	o = find_ino(m, ino);
	if (o && S_ISREG(o->type)) {
		/*
		 * The image gets the memfd's changes first: its times and size
		 * are then the image's, and the new ones are not hidden by them.
		 */
		r = write_back(o);
		if (r == 0 && (sa->valid & KBOX_EXT4_SET_MODE))
			fchmod(o->fd, (sa->mode & 0777) | 0600);
		/* The memfd is what open fds see: truncate it, the image follows. */
		if (r == 0 && (sa->valid & KBOX_EXT4_SET_SIZE)) {
			o->counted = false;
			r = ftruncate(o->fd, (off_t)sa->size) < 0 ? -errno : write_back(o);
			r = r < 0 ? r : 1;
		}
	}
	pthread_mutex_unlock(&lock);
	return r;
}

int kbox_imgfd_standin_path(const struct kbox_mount *m, uint32_t ino, char *path, size_t size)
{
	struct obj o = {.mnt = m, .ino = ino};

	return standin_path(&o, path, size);
}

int kbox_img_guest_of_host(dev_t dev, ino_t ino, char *out, size_t size, dev_t *gdev,
			   unsigned *gino)
{
	struct obj *o;
	int n = -ENOENT;

	if (!any_image)
		return n;
	pthread_mutex_lock(&lock);
	o = find_host(dev, ino);
	if (o) {
		n = snprintf(out, size, "%s", o->guest);
		*gdev = o->mnt->dev;
		*gino = o->ino;
	}
	pthread_mutex_unlock(&lock);
	return n >= (int)size ? -ENAMETOOLONG : n;
}

int kbox_img_guest_of_memfd(const char *path, char *out, size_t size)
{
	uint32_t ino;
	ino_t hino;
	struct obj *o = NULL;
	int n = -ENOENT;

	if (!any_image)
		return n;
	if (kbox_imgstore_ino_of_path(path, strlen(path), &hino) == 0) {
		pthread_mutex_lock(&lock);
		o = find_host(kbox_imgstore_spill_dev(), hino);
		if (o)
			n = snprintf(out, size, "%s", o->guest);
		pthread_mutex_unlock(&lock);
		return n >= (int)size ? -ENAMETOOLONG : n;
	}
	if (!kbox_imgstore_copy_ino(path, strlen(path), &ino))
		return n;
	pthread_mutex_lock(&lock);
	for (int i = 0; !o && i < kbox_vfs_nmounts(); i++)
		if (kbox_vfs_mount_at(i)->ext4)
			o = find_ino(kbox_vfs_mount_at(i), ino);
	if (o)
		n = snprintf(out, size, "%s", o->guest);
	pthread_mutex_unlock(&lock);
	return n >= (int)size ? -ENAMETOOLONG : n;
}

int kbox_img_of_fd(int fd, const struct kbox_mount **m, unsigned *ino, char *guest, size_t size)
{
	struct stat st;
	struct obj *o;
	int r = 0;

	if (!any_image || fstat(fd, &st) < 0)
		return 0;
	pthread_mutex_lock(&lock);
	o = find_host(st.st_dev, st.st_ino);
	if (o) {
		*m = o->mnt;
		*ino = o->ino;
		r = 1;
		if (guest && snprintf(guest, size, "%s", o->guest) >= (int)size)
			r = -ENAMETOOLONG;
	}
	pthread_mutex_unlock(&lock);
	return r;
}

int kbox_img_guest_of_ino(const struct kbox_mount *m, unsigned ino, char *guest, size_t size)
{
	struct obj *o;
	int r = -ENOENT;

	pthread_mutex_lock(&lock);
	o = find_ino(m, ino);
	if (o && o->guest)
		r = snprintf(guest, size, "%s", o->guest) >= (int)size ? -ENAMETOOLONG : 0;
	pthread_mutex_unlock(&lock);
	return r;
}

/* ---- getdents ---- */

struct dents {
	char *buf;
	size_t size, used;
	bool d64;
	bool full; /* an entry did not fit */
	uint64_t pos;
};

static int put_dent(void *arg, const char *name, size_t len, uint32_t ino, unsigned dtype,
		    uint64_t next)
{
	struct dents *d = arg;
	size_t hdr = d->d64 ? 19 : 18, reclen = (hdr + len + 1 + (d->d64 ? 0 : 1) + 7) & ~(size_t)7;
	char *p = d->buf + d->used;

	if (d->used + reclen > d->size) {
		d->full = true;
		return 1;
	}
	memset(p, 0, reclen);
	if (d->d64) {
		struct dirent64 *e = (struct dirent64 *)p;

		e->d_ino = ino;
		e->d_off = (int64_t)next;
		e->d_reclen = (unsigned short)reclen;
		e->d_type = (unsigned char)dtype;
		memcpy(e->d_name, name, len);
	} else {
		unsigned long *u = (unsigned long *)p;

		u[0] = ino;
		u[1] = next;
		*(unsigned short *)(p + 16) = (unsigned short)reclen;
		memcpy(p + 18, name, len);
		p[reclen - 1] = (char)dtype;
	}
	d->used += reclen;
	d->pos = next;
	return 0;
}

/* Entries of the directory @fd stands for, from the fd's offset (an image position). */
long kbox_img_getdents(int fd, void *buf, size_t size, bool dirent64)
{
	const struct kbox_mount *m;
	unsigned ino = 0;
	struct dents d = {.buf = buf, .size = size, .d64 = dirent64};
	off_t pos;
	int r = kbox_img_of_fd(fd, &m, &ino, NULL, 0);

	if (r <= 0)
		return r < 0 ? r : -ENOTSUP;
	pos = lseek(fd, 0, SEEK_CUR);
	if (pos < 0)
		return -errno;
	d.pos = (uint64_t)pos;
	r = kbox_ext4_readdir(m->ext4, ino, &d.pos, put_dent, &d);
	if (r < 0)
		return r;
	if (d.used == 0 && d.full)
		return -EINVAL; /* not even one entry fits: Linux's answer */
	if (lseek(fd, (off_t)d.pos, SEEK_SET) < 0)
		return -errno;
	return (long)d.used;
}

/* Guest paths under @from[0..flen) now under @to (to NULL: a placeholder, for exchange). */
static void move_paths(const char *from, size_t flen, const char *to)
{
	char buf[PATH_MAX];

	for (int b = 0; b < NBUCKETS; b++) {
		for (struct obj *x = ino_tab[b]; x; x = x->by_ino) {
			char *g;

			if (!kbox_path_has_prefix(x->guest, strlen(x->guest), from, flen))
				continue;
			if (snprintf(buf, sizeof(buf), "%s%s", to, x->guest + flen) >=
				    (int)sizeof(buf) ||
			    !(g = strdup(buf)))
				continue;
			free(x->guest);
			x->guest = g;
		}
	}
}

void kbox_imgfd_renamed(const char *og, const char *ng, bool exchange)
{
	char tmp[] = "\x01kbox-exchange";

	pthread_mutex_lock(&lock);
	if (exchange) {
		move_paths(ng, strlen(ng), tmp);
		move_paths(og, strlen(og), ng);
		move_paths(tmp, strlen(tmp), og);
	} else {
		move_paths(og, strlen(og), ng);
	}
	pthread_mutex_unlock(&lock);
}

/* ---- write-back ---- */

static int sync_all(bool fs_sync)
{
	int r = 0, e;

	pthread_mutex_lock(&lock);
	for (int b = 0; b < NBUCKETS; b++)
		for (struct obj *o = ino_tab[b]; o; o = o->by_ino)
			if (kbox_ext4_is_rw(o->mnt->ext4) && (e = write_back(o)) < 0 && !r)
				r = e;
	pthread_mutex_unlock(&lock);
	for (int i = 0; fs_sync && i < kbox_vfs_nmounts(); i++) {
		const struct kbox_mount *m = kbox_vfs_mount_at(i);

		if (m->ext4 && kbox_ext4_is_rw(m->ext4) && (e = kbox_ext4_sync(m->ext4)) < 0 && !r)
			r = e;
	}
	return r;
}

int kbox_vfs_image_sync(void)
{
	return any_image ? sync_all(true) : 0;
}

/* The copy a maps line names, if it is an image file's (under the lock). */
static struct obj *map_obj(const char *line, uint64_t addr, uint64_t end)
{
	unsigned long long lo, hi, ino;
	unsigned maj, mnr;

	if (sscanf(line, "%llx-%llx %*s %*s %x:%x %llu", &lo, &hi, &maj, &mnr, &ino) != 5 || !ino ||
	    hi <= addr || lo >= end)
		return NULL;
	return find_host(makedev(maj, mnr), (ino_t)ino);
}

int kbox_vfs_image_msync(pid_t tid, uint64_t addr, uint64_t len)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	struct obj *o;
	FILE *f;
	int r = 0;

	if (!any_image)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	pthread_mutex_lock(&lock);
	while (r == 0 && getline(&line, &cap, f) > 0) {
		o = map_obj(line, addr, addr + (len ? len : 1));
		if (o && kbox_ext4_is_rw(o->mnt->ext4))
			r = write_back(o);
	}
	pthread_mutex_unlock(&lock);
	free(line);
	fclose(f);
	return r;
}

int kbox_vfs_image_fsync(int fd, bool datasync)
{
	struct stat st;
	struct obj *o;
	int r = 1;

	if (!any_image || fstat(fd, &st) < 0)
		return 1;
	pthread_mutex_lock(&lock);
	o = find_host(st.st_dev, st.st_ino);
	if (o)
		r = 0;
	if (o && kbox_ext4_is_rw(o->mnt->ext4)) {
		r = write_back(o);
		if (r == 0)
			r = kbox_ext4_fsync(o->mnt->ext4, o->ino, datasync);
	}
	pthread_mutex_unlock(&lock);
	return r;
}

/* At exit: every change into its image, references dropped, images closed. */
void kbox_img_fini(void)
{
	if (!any_image)
		return;
	sync_all(false);
	for (int b = 0; b < NBUCKETS; b++) {
		struct obj *o = ino_tab[b], *next;

		for (; o; o = next) {
			next = o->by_ino;
			kbox_ext4_iput(o->mnt->ext4, o->ino);
			if (o->fd >= 0)
				close(o->fd);
			free(o->guest);
			free(o);
		}
		ino_tab[b] = host_tab[b] = NULL;
	}
	for (int i = 0; i < kbox_vfs_nmounts(); i++) {
		struct kbox_mount *m = (struct kbox_mount *)kbox_vfs_mount_at(i);

		if (m->ext4) {
			kbox_ext4_close(m->ext4);
			m->ext4 = NULL;
		}
	}
	kbox_rundir_remove(private_dir);
	kbox_imgstore_fini();
	any_image = false;
}
