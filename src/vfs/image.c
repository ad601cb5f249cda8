// SPDX-License-Identifier: MIT
/*
 * Image mounts: the guest tree of an ext2/3/4 image file (fs/ext4/), whose
 * objects are inode numbers, behind the same vfs entry points as host
 * directories.
 *
 * The guest needs real host fds, so every open image object gets a host
 * object that stands for it, kept per inode for the whole run:
 * - a regular file is a memfd that kbox fills from the image at its first
 *   open; each guest open reopens it through /proc/self/fd (its own open
 *   file description: offsets, O_APPEND), and reads, writes, mmap and exec
 *   run natively on it. Changes go back to the image on fsync, sync and at
 *   exit. A memfd is dirty when its mtime is not the sentinel kbox sets
 *   after each fill or write-back: any write or truncate moves it.
 * - a directory is an empty host directory under a private directory
 *   (fchdir, O_DIRECTORY and dirfds work); kbox answers getdents on it;
 * - a fifo is a host fifo there too.
 * Host objects map back to (mount, inode) by their st_dev/st_ino.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../fs/ext4/ext4.h"
#include "internal.h"

#define NBUCKETS 4096
#define CHUNK	 (1u << 20)

/* The mtime of a clean memfd: no write can produce it. */
static const struct timespec clean_mtime = {.tv_sec = 1, .tv_nsec = 0};

struct obj {
	const struct kbox_mount *mnt;
	uint32_t ino;
	mode_t type;
	int fd;	 /* memfd; -1 for a stand-in (opened by path) */
	bool wr; /* opened for writing once: shared mappings may change it unseen */
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
	const char *base = getenv("TMPDIR") ?: "/tmp";

	if (!private_dir[0]) {
		snprintf(private_dir, sizeof(private_dir), "%s/kbox-img-XXXXXX", base);
		if (!mkdtemp(private_dir)) {
			private_dir[0] = '\0';
			return -errno;
		}
	}
	m->ext4 = x;
	m->fd = -1;
	m->uncached = true; /* the backend has its own dentry cache */
	/* A device number of its own (loop major), as a mounted image would have. */
	m->dev = makedev(7, 200 + slot);
	m->ino = KBOX_EXT4_ROOT_INO;
	any_image = true;
	return 0;
}

static void fix_dev(const struct kbox_mount *m, struct stat *st)
{
	st->st_dev = m->dev;
}

/* Size and times of a file whose memfd has changes the image has not seen yet. */
static void overlay_dirty(const struct kbox_mount *m, uint32_t ino, struct stat *st)
{
	struct obj *o;
	struct stat ms;

	if (!S_ISREG(st->st_mode))
		return;
	pthread_mutex_lock(&lock);
	o = find_ino(m, ino);
	if (o && fstat(o->fd, &ms) == 0 &&
	    (ms.st_mtim.tv_sec != clean_mtime.tv_sec ||
	     ms.st_mtim.tv_nsec != clean_mtime.tv_nsec)) {
		st->st_size = ms.st_size;
		st->st_blocks = ms.st_blocks;
		st->st_mtim = ms.st_mtim;
		st->st_ctim = ms.st_ctim;
	}
	pthread_mutex_unlock(&lock);
}

static int img_stat(const struct kbox_mount *m, uint32_t ino, struct stat *st)
{
	int r = kbox_ext4_getattr(m->ext4, ino, st);

	if (r == 0) {
		fix_dev(m, st);
		overlay_dirty(m, ino, st);
	}
	return r;
}

int kbox_img_child(const struct kbox_mount *m, unsigned dir, const char *name, unsigned *ino,
		   struct stat *st)
{
	uint32_t i = dir;
	int r = 0;

	if (strcmp(name, ".") != 0)
		r = kbox_ext4_lookup(m->ext4, dir, name, &i);
	if (r == 0)
		r = img_stat(m, i, st);
	if (r == 0)
		*ino = i;
	return r;
}

int kbox_img_walk_dir(const struct kbox_mount *m, const char *rel, unsigned *ino)
{
	char name[NAME_MAX + 1];
	unsigned cur = KBOX_EXT4_ROOT_INO;
	struct stat st;
	const char *e;
	int r;

	while (*rel) {
		while (*rel == '/')
			rel++;
		if (!*rel)
			break;
		e = strchrnul(rel, '/');
		if ((size_t)(e - rel) > NAME_MAX)
			return -ENAMETOOLONG;
		memcpy(name, rel, (size_t)(e - rel));
		name[e - rel] = '\0';
		r = kbox_img_child(m, cur, name, &cur, &st);
		if (r < 0)
			return r;
		if (S_ISLNK(st.st_mode))
			return -ELOOP;
		if (!S_ISDIR(st.st_mode))
			return -ENOTDIR;
		rel = e;
	}
	*ino = cur;
	return 0;
}

int kbox_img_readlink(const struct kbox_mount *m, unsigned ino, char *buf, size_t size)
{
	return kbox_ext4_readlink(m->ext4, ino, buf, size);
}

static struct kbox_vfs_cred real_cred;
static gid_t real_groups[64];
static pthread_once_t real_once = PTHREAD_ONCE_INIT;

static void real_init(void)
{
	int n = getgroups(64, real_groups);

	real_cred.fsuid = getuid();
	real_cred.fsgid = getgid();
	real_cred.ngroups = n < 0 ? 0 : n;
	real_cred.groups = real_groups;
}

/* The identity checks run for: the emulated one, else the real user. */
static const struct kbox_vfs_cred *cred_of(const struct kbox_lookup_ctx *ctx)
{
	if (ctx && ctx->cred)
		return ctx->cred;
	pthread_once(&real_once, real_init);
	return &real_cred;
}

static int setattr_ino(const struct kbox_vfs_cred *c, const struct kbox_mount *m, unsigned ino,
		       struct kbox_ext4_setattr *sa);

/* ---- host objects standing for inodes ---- */

static int fill_memfd(const struct kbox_mount *m, uint32_t ino, int fd, uint64_t size)
{
	char *buf = malloc(CHUNK);
	uint64_t off = 0;
	ssize_t n;
	int r = 0;

	if (!buf)
		return -ENOMEM;
	if (ftruncate(fd, (off_t)size) < 0)
		r = -errno;
	while (r == 0 && off < size) {
		int64_t data = kbox_ext4_seek(m->ext4, ino, off, SEEK_DATA);

		if (data < 0 || (uint64_t)data >= size)
			break; /* the rest is a hole */
		off = (uint64_t)data;
		n = kbox_ext4_read(m->ext4, ino, buf, CHUNK, off);
		if (n <= 0) {
			r = n < 0 ? (int)n : 0;
			break;
		}
		if (pwrite(fd, buf, (size_t)n, (off_t)off) != n)
			r = -EIO;
		off += (uint64_t)n;
	}
	free(buf);
	return r;
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
 * The memfd's content into the image: a shorter file is truncated first,
 * then what differs is written in ascending order, then a longer size.
 * Comparing catches writes through shared mappings too, which do not move
 * a memfd's mtime.
 */
static int write_back_any(struct obj *o, bool unlinked)
{
	struct stat ms, is;
	uint64_t off, isize;
	char *buf;
	int r;

	if (!S_ISREG(o->type) || !(is_dirty(o->fd, &ms) || o->wr))
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
		o->fd = memfd_create("kbox-image", MFD_CLOEXEC);
		if (o->fd < 0)
			return -errno;
		r = fill_memfd(o->mnt, o->ino, o->fd, (uint64_t)st->st_size);
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

/*
 * kbox keeps one memfd per image file opened so far, so it may need more
 * fds than the usual soft limit: at the first EMFILE it takes the hard one.
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
	return setrlimit(RLIMIT_NOFILE, &rl) == 0;
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
	*err = obj_host(o, st);
	if (*err == -EMFILE && more_fds()) {
		if (o->fd >= 0)
			close(o->fd);
		o->fd = -1;
		*err = obj_host(o, st);
	}
	if (*err < 0) {
		if (o->fd >= 0)
			close(o->fd);
		free(o->guest);
		free(o);
		return NULL;
	}
	kbox_ext4_iget(m->ext4, ino); /* an unlinked-but-open file stays */
	obj_insert(o);
	return o;
}

/* Flags of the guest's own open file description on the host object. */
static int reopen_flags(int oflags)
{
	return (oflags & (O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECTORY | O_PATH | O_NOATIME |
			  O_DSYNC | O_SYNC | O_DIRECT)) |
	       O_CLOEXEC;
}

static int obj_open(struct obj *o, int oflags)
{
	char path[PATH_MAX];
	int fd;

	if (S_ISREG(o->type)) {
		snprintf(path, sizeof(path), "/proc/self/fd/%d", o->fd);
		if ((oflags & O_ACCMODE) != O_RDONLY && !(oflags & O_PATH))
			o->wr = true;
		if ((oflags & O_TRUNC) && (oflags & O_ACCMODE) != O_RDONLY && !(oflags & O_PATH) &&
		    ftruncate(o->fd, 0) < 0)
			return -errno;
	} else if (standin_path(o, path, sizeof(path)) < 0) {
		return -ENAMETOOLONG;
	}
	fd = open(path, reopen_flags(oflags) & ~(O_DIRECT | O_NOATIME));
	if (fd < 0 && errno == EMFILE && more_fds())
		fd = open(path, reopen_flags(oflags) & ~(O_DIRECT | O_NOATIME));
	return fd < 0 ? -errno : fd;
}

/* The host's own node for the harmless devices; anything else ENXIO. */
static int open_device(const struct stat *st, int oflags)
{
	static const struct {
		unsigned maj, min;
		const char *path;
	} devs[] = {{1, 3, "/dev/null"},   {1, 5, "/dev/zero"},	   {1, 7, "/dev/full"},
		    {1, 8, "/dev/random"}, {1, 9, "/dev/urandom"}, {5, 2, "/dev/ptmx"}};

	if (S_ISCHR(st->st_mode)) {
		for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
			if (major(st->st_rdev) == devs[i].maj &&
			    minor(st->st_rdev) == devs[i].min) {
				int fd = open(devs[i].path, reopen_flags(oflags) | O_NOCTTY);

				return fd < 0 ? -errno : fd;
			}
		}
	}
	return -ENXIO;
}

static int open_mask(int oflags)
{
	int acc = oflags & O_ACCMODE, mask = 0;

	if (acc == O_RDONLY || acc == O_RDWR)
		mask |= R_OK;
	if (acc == O_WRONLY || acc == O_RDWR || (oflags & O_TRUNC))
		mask |= W_OK;
	return mask;
}

static int parent_stat(const struct kbox_nameidata *nd, struct stat *st)
{
	return img_stat(nd->mnt, nd->ino, st);
}

/* may_create(): write and search on the parent. */
static int may_create(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd)
{
	struct stat dir;
	int r = parent_stat(nd, &dir);

	return r < 0 ? r : kbox_owner_permission(cred_of(ctx), &dir, W_OK | X_OK);
}

/* may_delete(): may_create() and the sticky-directory rule. */
static int may_delete(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		      const struct stat *victim)
{
	const struct kbox_vfs_cred *c = cred_of(ctx);
	struct stat dir;
	int r = parent_stat(nd, &dir);

	if (r == 0)
		r = kbox_owner_permission(c, &dir, W_OK | X_OK);
	if (r == 0 && (dir.st_mode & S_ISVTX) && c->fsuid != 0 && c->fsuid != victim->st_uid &&
	    c->fsuid != dir.st_uid)
		r = -EPERM;
	return r;
}

/* Owner of a new object: the creator, the group of a setgid parent. */
static void new_owner(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		      uid_t *uid, gid_t *gid, mode_t *mode)
{
	const struct kbox_vfs_cred *c = cred_of(ctx);
	struct stat dir;

	*uid = c->fsuid;
	*gid = c->fsgid;
	if (parent_stat(nd, &dir) == 0 && (dir.st_mode & S_ISGID)) {
		*gid = dir.st_gid;
		if (S_ISDIR(*mode))
			*mode |= S_ISGID;
	}
}

static int guest_of(const struct kbox_nameidata *nd, char *out, size_t size)
{
	if (strcmp(nd->name, ".") == 0)
		return kbox_path_join(nd->parent_guest, "", out, size);
	return kbox_path_join(nd->parent_guest, nd->name, out, size);
}

static int img_create(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		      mode_t mode, uint32_t *ino, struct stat *st)
{
	uid_t uid;
	gid_t gid;
	int r;

	if (nd->last != KBOX_LAST_NORM)
		return -EISDIR;
	r = may_create(ctx, nd);
	if (r < 0)
		return r;
	mode = S_IFREG | (mode & 07777);
	new_owner(ctx, nd, &uid, &gid, &mode);
	r = kbox_ext4_mknod(nd->mnt->ext4, nd->ino, nd->name, mode, 0, uid, gid, ino);
	return r < 0 ? r : img_stat(nd->mnt, *ino, st);
}

/* Checks open(2) makes on an existing object. */
static int open_existing(const struct kbox_lookup_ctx *ctx, const struct stat *st, int oflags)
{
	bool write = (oflags & O_ACCMODE) != O_RDONLY || (oflags & O_TRUNC);

	if ((oflags & O_CREAT) && (oflags & O_EXCL))
		return -EEXIST;
	if (S_ISLNK(st->st_mode) && !(oflags & O_PATH))
		return -ELOOP; /* O_NOFOLLOW met a symlink */
	if ((oflags & O_DIRECTORY) && !S_ISDIR(st->st_mode))
		return -ENOTDIR;
	if ((oflags & O_CREAT) && S_ISDIR(st->st_mode))
		return -EISDIR;
	if (oflags & O_PATH)
		return 0;
	if (S_ISDIR(st->st_mode) && write)
		return -EISDIR;
	return kbox_owner_permission(cred_of(ctx), st, open_mask(oflags));
}

static int create_check(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
			bool dir);
static int writable(const struct kbox_nameidata *nd);

static int socket_path(const struct kbox_mount *m, uint32_t ino, char *path, size_t size)
{
	struct obj o = {.mnt = m, .ino = ino, .type = S_IFSOCK};

	return standin_path(&o, path, size);
}

/* O_PATH of a socket: its bound host socket (connect goes there), else nobody listens. */
static int socket_standin(const struct kbox_mount *m, uint32_t ino)
{
	char path[PATH_MAX];
	int fd;

	if (socket_path(m, ino, path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	fd = open(path, O_PATH | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? -ECONNREFUSED : -errno;
	return fd;
}

int kbox_img_unix_bind(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		       int sockfd, mode_t umask)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char path[PATH_MAX];
	unsigned ino = 0;
	uid_t uid;
	gid_t gid;
	mode_t mode = S_IFSOCK | (0777 & ~umask);
	int r = create_check(ctx, nd, false);

	if (r < 0)
		return r == -EEXIST ? -EADDRINUSE : r;
	if (strlen(private_dir) + 24 >= sizeof(sun.sun_path))
		return -ENAMETOOLONG; /* the stand-in's name must fit sun_path */
	new_owner(ctx, nd, &uid, &gid, &mode);
	r = kbox_ext4_mknod(nd->mnt->ext4, nd->ino, nd->name, mode, 0, uid, gid, &ino);
	if (r < 0)
		return r;
	r = socket_path(nd->mnt, ino, path, sizeof(path));
	if (r < 0)
		return r;
	memcpy(sun.sun_path, path, strlen(path) + 1);
	unlink(sun.sun_path); /* a socket gone before whose inode number came back */
	r = bind(sockfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
	if (r < 0)
		kbox_ext4_unlink(nd->mnt->ext4, nd->ino, nd->name);
	return r;
}

/*
 * O_TMPFILE: a file made under a hidden name and unlinked at once, kept by
 * kbox's reference (link count 0) until linkat names it or the run ends.
 */
static int open_tmpfile(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
			int oflags, mode_t mode)
{
	static unsigned seq;
	struct kbox_nameidata dir = *nd;
	char name[64], guest[PATH_MAX];
	struct stat st;
	unsigned dino = 0;
	uint32_t ino = 0;
	struct obj *o;
	int r = kbox_img_child(nd->mnt, nd->ino, nd->name, &dino, &st);

	if (r == 0 && !S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	if (r == 0 && (oflags & O_ACCMODE) == O_RDONLY)
		r = -EINVAL;
	if (r < 0)
		return r;
	dir.ino = dino;
	dir.last = KBOX_LAST_NORM;
	dir.trailing_slash = false;
	snprintf(name, sizeof(name), ".kbox-tmpfile.%d.%u", (int)getpid(),
		 __atomic_add_fetch(&seq, 1, __ATOMIC_RELAXED));
	snprintf(dir.name, sizeof(dir.name), "%s", name);
	r = writable(&dir) ?: img_create(ctx, &dir, mode, &ino, &st);
	if (r < 0)
		return r;
	if (guest_of(nd, guest, sizeof(guest)) < 0 ||
	    (size_t)snprintf(guest + strlen(guest), sizeof(guest) - strlen(guest), "/#%u", ino) >=
		    sizeof(guest) - strlen(guest))
		snprintf(guest, sizeof(guest), "/#%u", ino);
	pthread_mutex_lock(&lock);
	o = obj_get(nd->mnt, ino, &st, guest, &r);
	if (o)
		r = obj_open(o, oflags & ~O_TMPFILE);
	pthread_mutex_unlock(&lock);
	kbox_ext4_unlink(nd->mnt->ext4, dino, name);
	return r;
}

int kbox_vfs_image_link_fd(int fd, const struct kbox_lookup_ctx *ctx,
			   const struct kbox_nameidata *n)
{
	const struct kbox_mount *m;
	unsigned ino = 0;
	struct obj *o;
	int r = kbox_img_of_fd(fd, &m, &ino, NULL, 0);

	if (r <= 0)
		return r < 0 ? r : 1;
	if (m != n->mnt)
		return -EXDEV;
	r = create_check(ctx, n, false);
	if (r < 0)
		return r;
	pthread_mutex_lock(&lock);
	o = find_ino(m, ino);
	if (o)
		r = write_back_any(o, true); /* its data before its name */
	pthread_mutex_unlock(&lock);
	if (r == 0)
		r = kbox_ext4_link(m->ext4, ino, n->ino, n->name);
	return r;
}

int kbox_img_open(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd, int oflags,
		  mode_t mode)
{
	char guest[PATH_MAX];
	struct stat st;
	uint32_t ino = 0;
	struct obj *o;
	int r;

	if ((oflags & O_TMPFILE) == O_TMPFILE)
		return open_tmpfile(ctx, nd, oflags, mode);
	r = kbox_img_child(nd->mnt, nd->ino, nd->name, &ino, &st);
	if (r == -ENOENT && (oflags & O_CREAT))
		r = img_create(ctx, nd, mode, &ino, &st);
	else if (r == 0)
		r = open_existing(ctx, &st, oflags);
	if (r < 0)
		return r;
	if (S_ISSOCK(st.st_mode))
		return (oflags & O_PATH) ? socket_standin(nd->mnt, ino) : -ENXIO;
	if ((S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) && !(oflags & O_PATH))
		return open_device(&st, oflags);
	r = guest_of(nd, guest, sizeof(guest));
	if (r < 0)
		return r;
	pthread_mutex_lock(&lock);
	o = obj_get(nd->mnt, ino, &st, guest, &r);
	if (o)
		r = obj_open(o, oflags);
	pthread_mutex_unlock(&lock);
	return r;
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

int kbox_vfs_image_fstat(int fd, struct stat *st)
{
	const struct kbox_mount *m;
	unsigned ino = 0;
	int r = kbox_img_of_fd(fd, &m, &ino, NULL, 0);

	return r <= 0 ? (r < 0 ? r : 1) : img_stat(m, ino, st);
}

int kbox_vfs_image_fstatx(int fd, struct statx *stx)
{
	const struct kbox_mount *m;
	struct kbox_nameidata nd = {.name = "."};
	int r = kbox_img_of_fd(fd, &m, &nd.ino, NULL, 0);

	if (r <= 0)
		return r < 0 ? r : 1;
	nd.mnt = m;
	return kbox_img_statx(&nd, stx);
}

int kbox_vfs_image_fd_setattr(int fd, const struct kbox_vfs_cred *c, struct kbox_ext4_setattr *sa)
{
	const struct kbox_mount *m;
	unsigned ino = 0;
	int r = kbox_img_of_fd(fd, &m, &ino, NULL, 0);

	if (r <= 0)
		return r < 0 ? r : 1;
	return setattr_ino(c ? c : cred_of(NULL), m, ino, sa);
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

/* ---- attributes by path ---- */

int kbox_img_statx(const struct kbox_nameidata *nd, struct statx *stx)
{
	unsigned ino = 0;
	struct stat st;
	int r = kbox_img_child(nd->mnt, nd->ino, nd->name, &ino, &st);

	if (r < 0)
		return r;
	r = kbox_ext4_statx(nd->mnt->ext4, ino, stx);
	if (r < 0)
		return r;
	stx->stx_dev_major = major(nd->mnt->dev);
	stx->stx_dev_minor = minor(nd->mnt->dev);
	stx->stx_size = (uint64_t)st.st_size;
	stx->stx_blocks = (uint64_t)st.st_blocks;
	stx->stx_mtime.tv_sec = st.st_mtim.tv_sec;
	stx->stx_mtime.tv_nsec = (uint32_t)st.st_mtim.tv_nsec;
	stx->stx_ctime.tv_sec = st.st_ctim.tv_sec;
	stx->stx_ctime.tv_nsec = (uint32_t)st.st_ctim.tv_nsec;
	return 0;
}

int kbox_img_access(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd, int mode)
{
	unsigned ino = 0;
	struct stat st;
	int r = kbox_img_child(nd->mnt, nd->ino, nd->name, &ino, &st);

	if (r == 0 && mode)
		r = kbox_owner_permission(cred_of(ctx), &st, mode);
	return r;
}

int kbox_img_statfs(const struct kbox_nameidata *nd, struct statfs *sfs)
{
	return kbox_ext4_statfs(nd->mnt->ext4, sfs);
}

/* ---- namespace ---- */

static int writable(const struct kbox_nameidata *nd)
{
	return nd->mnt->readonly || !kbox_ext4_is_rw(nd->mnt->ext4) ? -EROFS : 0;
}

/* filename_create(): EEXIST first, then a trailing "/" only for mkdir, EROFS, permission. */
static int create_check(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
			bool dir)
{
	unsigned ino = 0;
	struct stat st;
	int r;

	if (nd->last != KBOX_LAST_NORM)
		return -EEXIST;
	r = kbox_img_child(nd->mnt, nd->ino, nd->name, &ino, &st);
	if (r == 0)
		return -EEXIST;
	if (r != -ENOENT)
		return r;
	if (nd->trailing_slash && !dir)
		return -ENOENT;
	return writable(nd) ?: may_create(ctx, nd);
}

int kbox_img_mkdir(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd, mode_t mode)
{
	unsigned ino = 0;
	uid_t uid;
	gid_t gid;
	int r = create_check(ctx, nd, true);

	if (r < 0)
		return r;
	mode = S_IFDIR | (mode & 07777);
	new_owner(ctx, nd, &uid, &gid, &mode);
	return kbox_ext4_mkdir(nd->mnt->ext4, nd->ino, nd->name, mode, uid, gid, &ino);
}

int kbox_img_mknod(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd, mode_t mode,
		   dev_t dev)
{
	const struct kbox_vfs_cred *c = cred_of(ctx);
	unsigned ino = 0;
	uid_t uid;
	gid_t gid;
	int r = create_check(ctx, nd, false);

	if (r < 0)
		return r;
	if ((S_ISBLK(mode) || (S_ISCHR(mode) && dev != 0)) && c->fsuid != 0)
		return -EPERM;
	if (!(mode & S_IFMT))
		mode |= S_IFREG;
	new_owner(ctx, nd, &uid, &gid, &mode);
	return kbox_ext4_mknod(nd->mnt->ext4, nd->ino, nd->name, mode, dev, uid, gid, &ino);
}

int kbox_img_symlink(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		     const char *target)
{
	unsigned ino = 0;
	uid_t uid;
	gid_t gid;
	mode_t mode = S_IFLNK | 0777;
	int r = create_check(ctx, nd, false);

	if (r < 0)
		return r;
	if (!target[0])
		return -ENOENT;
	new_owner(ctx, nd, &uid, &gid, &mode);
	return kbox_ext4_symlink(nd->mnt->ext4, nd->ino, nd->name, target, uid, gid, &ino);
}

int kbox_img_remove(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd, bool dir)
{
	unsigned ino = 0;
	struct stat st;
	int r = kbox_img_child(nd->mnt, nd->ino, nd->name, &ino, &st);

	if (r < 0)
		return r;
	if (dir && !S_ISDIR(st.st_mode))
		return -ENOTDIR;
	if (!dir && S_ISDIR(st.st_mode))
		return -EISDIR;
	if (!dir && nd->trailing_slash)
		return -ENOTDIR;
	r = writable(nd) ?: may_delete(ctx, nd, &st);
	if (r < 0)
		return r;
	return dir ? kbox_ext4_rmdir(nd->mnt->ext4, nd->ino, nd->name)
		   : kbox_ext4_unlink(nd->mnt->ext4, nd->ino, nd->name);
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

/* Host objects below a renamed name keep their guest paths right (dirfds, fchdir, maps). */
static void renamed(const struct kbox_nameidata *o, const struct kbox_nameidata *n, bool exchange)
{
	char og[PATH_MAX], ng[PATH_MAX], tmp[] = "\x01kbox-exchange";

	if (guest_of(o, og, sizeof(og)) < 0 || guest_of(n, ng, sizeof(ng)) < 0)
		return;
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

int kbox_img_rename(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *o,
		    const struct kbox_nameidata *n, unsigned flags)
{
	unsigned oino = 0, nino = 0;
	struct stat ost, nst;
	int r = kbox_img_child(o->mnt, o->ino, o->name, &oino, &ost), nr;

	if (r < 0)
		return r;
	nr = kbox_img_child(n->mnt, n->ino, n->name, &nino, &nst);
	if (nr < 0 && nr != -ENOENT)
		return nr;
	r = writable(o) ?: may_delete(ctx, o, &ost);
	if (r == 0)
		r = nr == 0 ? may_delete(ctx, n, &nst) : may_create(ctx, n);
	if (r < 0)
		return r;
	if ((o->trailing_slash || n->trailing_slash) && !S_ISDIR(ost.st_mode))
		return -ENOTDIR;
	r = kbox_ext4_rename(o->mnt->ext4, o->ino, o->name, n->ino, n->name, flags);
	if (r == 0)
		renamed(o, n, (flags & RENAME_EXCHANGE) != 0);
	return r;
}

int kbox_img_link(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *o,
		  const struct kbox_nameidata *n)
{
	unsigned oino = 0;
	struct stat ost;
	int r = kbox_img_child(o->mnt, o->ino, o->name, &oino, &ost);

	if (r < 0)
		return r;
	if (S_ISDIR(ost.st_mode))
		return -EPERM;
	r = create_check(ctx, n, false);
	if (r < 0)
		return r;
	return kbox_ext4_link(n->mnt->ext4, oino, n->ino, n->name);
}

/* ---- attributes ---- */

/* chmod/chown/utimes/truncate with Linux's permission rules for @c. */
static int setattr_allowed(const struct kbox_vfs_cred *c, const struct stat *st,
			   struct kbox_ext4_setattr *sa)
{
	bool owner = c->fsuid == 0 || c->fsuid == st->st_uid;

	if (sa->valid & KBOX_EXT4_SET_SIZE) {
		if (S_ISDIR(st->st_mode))
			return -EISDIR;
		if (!S_ISREG(st->st_mode))
			return -EINVAL;
		return kbox_owner_permission(c, st, W_OK);
	}
	if ((sa->valid & KBOX_EXT4_SET_MODE) && !owner)
		return -EPERM;
	if (sa->valid & (KBOX_EXT4_SET_UID | KBOX_EXT4_SET_GID)) {
		if (c->fsuid != 0 && (sa->valid & KBOX_EXT4_SET_UID) && sa->uid != st->st_uid)
			return -EPERM;
		if (c->fsuid != 0 && !owner)
			return -EPERM;
		/* A non-root owner may give a group it is in. */
		if (c->fsuid != 0 && (sa->valid & KBOX_EXT4_SET_GID) && sa->gid != st->st_gid) {
			struct stat g = *st;

			g.st_mode = 0070;
			g.st_gid = sa->gid;
			g.st_uid = (uid_t)-1;
			if (c->fsgid != sa->gid && kbox_owner_permission(c, &g, R_OK) < 0)
				return -EPERM;
		}
		/* chown clears setuid/setgid on non-directories, as Linux does. */
		if (!S_ISDIR(st->st_mode) && (st->st_mode & (S_ISUID | S_ISGID))) {
			sa->valid |= KBOX_EXT4_SET_MODE;
			sa->mode = st->st_mode & 07777 & ~(mode_t)(S_ISUID | S_ISGID);
		}
	}
	if ((sa->valid & (KBOX_EXT4_SET_ATIME | KBOX_EXT4_SET_MTIME)) && !owner) {
		bool now = (!(sa->valid & KBOX_EXT4_SET_ATIME) || sa->atime.tv_nsec == UTIME_NOW) &&
			   (!(sa->valid & KBOX_EXT4_SET_MTIME) || sa->mtime.tv_nsec == UTIME_NOW);

		if (!now)
			return -EPERM;
		return kbox_owner_permission(c, st, W_OK);
	}
	return 0;
}

static int setattr_ino(const struct kbox_vfs_cred *c, const struct kbox_mount *m, unsigned ino,
		       struct kbox_ext4_setattr *sa)
{
	struct stat st;
	struct obj *o;
	int r = img_stat(m, ino, &st);

	if (r == 0)
		r = setattr_allowed(c, &st, sa);
	if (r == 0 && (m->readonly || !kbox_ext4_is_rw(m->ext4)))
		r = -EROFS;
	if (r < 0)
		return r;
	/*
	 * The image gets the memfd's changes first: its times and size are
	 * then the image's, and the new ones set here are not hidden by them.
	 */
	pthread_mutex_lock(&lock);
	o = find_ino(m, ino);
	if (o && S_ISREG(o->type)) {
		r = write_back(o);
		if (sa->valid & KBOX_EXT4_SET_MODE)
			fchmod(o->fd, (sa->mode & 0777) | 0600);
	}
	pthread_mutex_unlock(&lock);
	if (r < 0)
		return r;
	if (sa->valid & KBOX_EXT4_SET_SIZE) {
		/* The memfd is what open fds see: truncate it, the image follows at write-back. */
		pthread_mutex_lock(&lock);
		o = find_ino(m, ino);
		r = o && ftruncate(o->fd, (off_t)sa->size) < 0 ? -errno : 0;
		if (r == 0 && o)
			r = write_back(o);
		pthread_mutex_unlock(&lock);
		if (r < 0 || o)
			return r;
	}
	return kbox_ext4_setattr(m->ext4, ino, sa);
}

int kbox_img_setattr(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		     struct kbox_ext4_setattr *sa)
{
	unsigned ino = 0;
	struct stat st;
	int r = kbox_img_child(nd->mnt, nd->ino, nd->name, &ino, &st);

	return r < 0 ? r : setattr_ino(cred_of(ctx), nd->mnt, ino, sa);
}

int kbox_img_xattr(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		   enum kbox_xattr_op op, const char *xname, void *val, size_t size, int xflags)
{
	struct kbox_ext4 *x = nd->mnt->ext4;
	unsigned ino = 0;
	struct stat st;
	int r = kbox_img_child(nd->mnt, nd->ino, nd->name, &ino, &st);

	if (r < 0)
		return r;
	switch (op) {
	case KBOX_XATTR_GET:
		return kbox_ext4_getxattr(x, ino, xname, val, size);
	case KBOX_XATTR_LIST:
		return kbox_ext4_listxattr(x, ino, val, size);
	case KBOX_XATTR_SET:
		r = writable(nd);
		return r ?: kbox_ext4_setxattr(x, ino, xname, val, size, xflags);
	case KBOX_XATTR_REMOVE:
		break;
	}
	r = writable(nd);
	return r ?: kbox_ext4_removexattr(x, ino, xname);
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

int kbox_vfs_image_fd_access(int fd, const struct kbox_vfs_cred *c, int mode)
{
	struct stat st;
	int r = kbox_vfs_image_fstat(fd, &st);

	if (r != 0 || !mode)
		return r;
	return kbox_owner_permission(c ? c : cred_of(NULL), &st, mode);
}

int kbox_vfs_image_fd_xattr(int fd, const struct kbox_vfs_cred *c, enum kbox_xattr_op op,
			    const char *xname, void *val, size_t size, int xflags)
{
	struct kbox_nameidata nd = {.name = ".", .last = KBOX_LAST_DOT};
	struct kbox_lookup_ctx ctx = {.cred = c};
	const struct kbox_mount *m;
	int r = kbox_img_of_fd(fd, &m, &nd.ino, NULL, 0);

	if (r <= 0)
		return r < 0 ? r : 1;
	nd.mnt = m;
	return kbox_img_xattr(&ctx, &nd, op, xname, val, size, xflags);
}

int kbox_img_may_search(const struct kbox_lookup_ctx *ctx, const struct kbox_mount *m, unsigned dir)
{
	const struct kbox_vfs_cred *c = cred_of(ctx);
	struct stat st;
	int r;

	if (c->fsuid == 0)
		return 0; /* CAP_DAC_READ_SEARCH */
	r = img_stat(m, dir, &st);
	return r < 0 ? r : kbox_owner_permission(c, &st, X_OK);
}

/* The memfd a maps line names, if it is an image file's (under the lock). */
static struct obj *map_obj(const char *line, uint64_t addr, uint64_t end)
{
	unsigned long long lo, hi, ino;
	unsigned maj, mnr;
	char path[32];

	if (sscanf(line, "%llx-%llx %*s %*s %x:%x %llu %31s", &lo, &hi, &maj, &mnr, &ino, path) !=
		    6 ||
	    strncmp(path, "/memfd:kbox-image", 17) != 0 || hi <= addr || lo >= end)
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

static int rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
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
	if (private_dir[0])
		nftw(private_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	private_dir[0] = '\0';
	any_image = false;
}
