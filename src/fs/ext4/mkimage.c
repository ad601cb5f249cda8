// SPDX-License-Identifier: MIT
/*
 * `kbox image create --from ROOTDIR IMAGE`: format with mke2fs (the
 * reference formatter, which runs rootless on a regular file), then copy
 * the tree in through this backend's own operations. mke2fs -d would copy
 * too, but it keeps the host's owners as they are, so --root-owned and
 * the fake-ownership records of a directory root need a copy of our own;
 * one copy loop for both keeps one behaviour.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "fs/ext4/internal.h"
#include "fs/hostdir/meta.h"
#include "lib/log.h"

extern char **environ;

#define MiB (1024ull * 1024)

struct hardlink {
	dev_t dev;
	ino_t ino;
	uint32_t img;
};

struct copy {
	struct kbox_ext4 *x;
	const struct kbox_image_opts *o;
	uid_t uid;
	gid_t gid;
	struct hardlink *links;
	size_t nlinks, cap;
	char *buf;
	uint64_t files;
};

/* What the tree needs: bytes in whole blocks, and inodes. */
static uint64_t tree_bytes, tree_inodes;

static int measure_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)path;
	(void)type;
	(void)ftw;
	tree_inodes++;
	if (S_ISREG(st->st_mode))
		tree_bytes += ((uint64_t)st->st_blocks * 512 + 4095) / 4096 * 4096 + 4096;
	else if (S_ISDIR(st->st_mode) || S_ISLNK(st->st_mode))
		tree_bytes += 4096;
	return 0;
}

/* Content plus a quarter, inode tables, and a journal of the size mke2fs picks. */
static uint64_t default_size(uint64_t bytes, uint64_t inodes)
{
	uint64_t base = bytes + bytes / 4 + inodes * 512 + 8 * MiB;
	uint64_t journal = base > 2048 * MiB ? 128 * MiB : base > 512 * MiB ? 64 * MiB : 16 * MiB;

	return (base + journal + MiB - 1) / MiB * MiB;
}

/* The image file, new: never overwrite what the user has. */
static int make_file(const char *image, uint64_t size)
{
	int fd = open(image, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);

	if (fd < 0) {
		int err = errno;

		if (err == EEXIST)
			kbox_err("'%s' exists; kbox image create makes a new image and "
				 "overwrites nothing",
				 image);
		else
			kbox_err("cannot create '%s': %s", image, strerror(err));
		return -err;
	}
	if (ftruncate(fd, size) < 0) {
		int err = errno;

		close(fd);
		unlink(image);
		kbox_err("cannot size '%s' to %llu bytes: %s", image, (unsigned long long)size,
			 strerror(err));
		return -err;
	}
	close(fd);
	return 0;
}

static int run_mke2fs(const struct kbox_image_opts *o, uint64_t size, uint64_t inodes)
{
	char sz[32], n[32], owner[64];
	char *argv[] = {"mke2fs",	  "-q", "-F", "-t", "ext4", "-N", n, "-E", owner,
			(char *)o->image, sz,	NULL};
	static const char *const sbin[] = {"/usr/sbin/mke2fs", "/sbin/mke2fs"};
	pid_t pid;
	int status, err;

	snprintf(sz, sizeof(sz), "%lluk", (unsigned long long)(size / 1024));
	snprintf(n, sizeof(n), "%llu", (unsigned long long)inodes);
	snprintf(owner, sizeof(owner), "root_owner=%u:%u", o->root_owned ? 0 : getuid(),
		 o->root_owned ? 0 : getgid());
	err = posix_spawnp(&pid, "mke2fs", NULL, NULL, argv, environ);
	/* A normal user's PATH on Debian has no sbin directory. */
	for (size_t i = 0; err == ENOENT && i < sizeof(sbin) / sizeof(sbin[0]); i++)
		err = posix_spawn(&pid, sbin[i], NULL, NULL, argv, environ);
	if (err) {
		kbox_err("cannot run mke2fs: %s; install e2fsprogs", strerror(err));
		return -err;
	}
	if (waitpid(pid, &status, 0) < 0)
		return -errno;
	if (!WIFEXITED(status) || WEXITSTATUS(status)) {
		kbox_err("mke2fs failed to format '%s'", o->image);
		return -EIO;
	}
	return 0;
}

/* Owners as the image will show them, with a directory root's records on top. */
static void map_owner(struct copy *c, int dirfd, const char *name, const struct stat *st,
		      struct kbox_ext4_setattr *sa, dev_t *rdev, struct kbox_meta *m)
{
	sa->uid = st->st_uid;
	sa->gid = st->st_gid;
	sa->mode = st->st_mode;
	*rdev = st->st_rdev;
	m->valid = 0;
	m->xlen = 0;
	if (!c->o->root_owned)
		return;
	if (sa->uid == c->uid)
		sa->uid = 0;
	if (sa->gid == c->gid)
		sa->gid = 0;
	if (kbox_meta_get(dirfd, name, st, m))
		return;
	if (m->valid & KBOX_META_UID)
		sa->uid = m->uid;
	if (m->valid & KBOX_META_GID)
		sa->gid = m->gid;
	if (m->valid & KBOX_META_MODE)
		sa->mode = m->mode;
	if (m->valid & KBOX_META_RDEV)
		*rdev = m->rdev;
}

static int copy_data(struct copy *c, int fd, uint32_t ino, off_t size)
{
	off_t data = 0, hole;

	while (data < size) {
		data = lseek(fd, data, SEEK_DATA);
		if (data < 0)
			break; /* ENXIO: only a hole is left */
		hole = lseek(fd, data, SEEK_HOLE);
		while (data < hole) {
			size_t want = hole - data > (off_t)MiB ? MiB : (size_t)(hole - data);
			ssize_t n = pread(fd, c->buf, want, data), w;

			if (n <= 0)
				return n < 0 ? -errno : -EIO;
			w = kbox_ext4_write(c->x, ino, c->buf, n, data);
			if (w != n)
				return w < 0 ? (int)w : -ENOSPC; /* a short write: full */
			data += n;
		}
	}
	return kbox_ext4_truncate(c->x, ino, size);
}

static int copy_file(struct copy *c, int dirfd, const char *name, uint32_t ino,
		     const struct stat *st)
{
	int fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), err;

	if (fd < 0) {
		kbox_err("cannot read '%s': %s", name, strerror(errno));
		return -errno;
	}
	err = copy_data(c, fd, ino, st->st_size);
	close(fd);
	return err;
}

static int copy_xattrs(struct copy *c, int dirfd, const char *name, uint32_t ino,
		       const struct kbox_meta *m)
{
	char path[64 + NAME_MAX], list[8192], val[65536];
	ssize_t len;

	snprintf(path, sizeof(path), "/proc/self/fd/%d/%s", dirfd, name);
	len = llistxattr(path, list, sizeof(list));
	for (char *k = list; len > 0 && k < list + len; k += strlen(k) + 1) {
		ssize_t v;

		if (!strcmp(k, KBOX_META_XATTR))
			continue;
		v = lgetxattr(path, k, val, sizeof(val));
		if (v >= 0 && kbox_ext4_setxattr(c->x, ino, k, val, v, 0))
			kbox_warn("'%s': xattr %s not copied", name, k);
	}
	/* Privileged xattrs a fake root set are kept in the record. */
	len = kbox_meta_xattr_names(m, list, sizeof(list));
	for (char *k = list; len > 0 && (size_t)len <= sizeof(list) && k < list + len;
	     k += strlen(k) + 1) {
		int v = kbox_meta_xattr_get(m, k, val, sizeof(val));

		if (v >= 0 && kbox_ext4_setxattr(c->x, ino, k, val, v, 0))
			kbox_warn("'%s': xattr %s not copied", name, k);
	}
	return 0;
}

static int copy_dir(struct copy *c, int dirfd, uint32_t dir);

static struct hardlink *find_link(struct copy *c, const struct stat *st)
{
	for (size_t i = 0; i < c->nlinks; i++)
		if (c->links[i].dev == st->st_dev && c->links[i].ino == st->st_ino)
			return &c->links[i];
	return NULL;
}

static void remember_link(struct copy *c, const struct stat *st, uint32_t ino)
{
	if (c->nlinks == c->cap) {
		size_t cap = c->cap ? 2 * c->cap : 64;
		struct hardlink *n = realloc(c->links, cap * sizeof(*n));

		if (!n)
			return;
		c->links = n;
		c->cap = cap;
	}
	c->links[c->nlinks++] = (struct hardlink){st->st_dev, st->st_ino, ino};
}

static int make_object(struct copy *c, int dirfd, const char *name, uint32_t dir,
		       const struct stat *st, struct kbox_ext4_setattr *sa, dev_t rdev,
		       uint32_t *ino)
{
	char target[4096];
	ssize_t n;

	if (S_ISDIR(st->st_mode))
		return kbox_ext4_mkdir(c->x, dir, name, sa->mode & 07777, sa->uid, sa->gid, ino);
	if (!S_ISLNK(st->st_mode))
		return kbox_ext4_mknod(c->x, dir, name, sa->mode, rdev, sa->uid, sa->gid, ino);
	n = readlinkat(dirfd, name, target, sizeof(target) - 1);
	if (n < 0)
		return -errno;
	target[n] = '\0';
	return kbox_ext4_symlink(c->x, dir, name, target, sa->uid, sa->gid, ino);
}

static int copy_entry(struct copy *c, int dirfd, const char *name, uint32_t dir)
{
	struct kbox_ext4_setattr sa = {0};
	struct kbox_meta m;
	struct hardlink *hl;
	struct stat st;
	uint32_t ino;
	dev_t rdev;
	int err;

	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1 && (hl = find_link(c, &st)))
		return kbox_ext4_link(c->x, hl->img, dir, name);
	map_owner(c, dirfd, name, &st, &sa, &rdev, &m);
	err = make_object(c, dirfd, name, dir, &st, &sa, rdev, &ino);
	/* A device a fake root made is an empty placeholder on the host: no data. */
	if (!err && S_ISREG(st.st_mode) && S_ISREG(sa.mode))
		err = copy_file(c, dirfd, name, ino, &st);
	if (!err && S_ISDIR(st.st_mode)) {
		int sub = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

		err = sub < 0 ? -errno : copy_dir(c, sub, ino);
	}
	if (!err)
		err = copy_xattrs(c, dirfd, name, ino, &m);
	if (err) {
		kbox_err("cannot copy '%s' into the image: %s", name, strerror(-err));
		return err;
	}
	if (!S_ISDIR(st.st_mode) && st.st_nlink > 1)
		remember_link(c, &st, ino);
	c->files++;
	/* Times last: filling a directory changes its mtime. */
	sa.valid = KBOX_EXT4_SET_ATIME | KBOX_EXT4_SET_MTIME;
	if (!S_ISLNK(st.st_mode))
		sa.valid |= KBOX_EXT4_SET_MODE; /* a symlink's mode is always 0777 */
	sa.atime = st.st_atim;
	sa.mtime = st.st_mtim;
	return kbox_ext4_setattr(c->x, ino, &sa);
}

/* Copies the entries of @dirfd (which it closes) into image directory @dir. */
static int copy_dir(struct copy *c, int dirfd, uint32_t dir)
{
	DIR *d = fdopendir(dirfd);
	struct dirent *e;
	int err = 0;

	if (!d) {
		close(dirfd);
		return -errno;
	}
	while (!err && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		/* mke2fs made lost+found; a tree that has its own keeps the image's. */
		if (dir == KBOX_EXT4_ROOT_INO && !strcmp(e->d_name, "lost+found"))
			continue;
		err = copy_entry(c, dirfd, e->d_name, dir);
	}
	closedir(d);
	return err;
}

static int copy_root(struct copy *c, const char *from)
{
	struct kbox_ext4_setattr sa = {0};
	struct kbox_meta m;
	struct stat st;
	dev_t rdev;
	int fd = open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC), err;

	if (fd < 0 || fstat(fd, &st) < 0)
		return -errno;
	err = copy_dir(c, fd, KBOX_EXT4_ROOT_INO);
	if (err)
		return err;
	fd = open(from, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	map_owner(c, fd, ".", &st, &sa, &rdev, &m);
	close(fd);
	sa.valid = KBOX_EXT4_SET_MODE | KBOX_EXT4_SET_UID | KBOX_EXT4_SET_GID |
		   KBOX_EXT4_SET_ATIME | KBOX_EXT4_SET_MTIME;
	sa.atime = st.st_atim;
	sa.mtime = st.st_mtim;
	return kbox_ext4_setattr(c->x, KBOX_EXT4_ROOT_INO, &sa);
}

/* The store of records a directory root keeps beside itself (fs/hostdir/meta.h). */
static void open_meta_store(const char *from)
{
	char root[PATH_MAX], store[PATH_MAX + 32], *base;
	const char *paths[1] = {store};

	if (!realpath(from, root))
		return;
	base = strrchr(root, '/');
	*base = '\0';
	snprintf(store, sizeof(store), "%s/.%s.kbox-meta", root, base + 1);
	kbox_meta_store_open(paths, 1);
}

static int populate(const struct kbox_image_opts *o)
{
	struct copy c = {.o = o, .uid = getuid(), .gid = getgid()};
	char why[512];
	int err, cerr;

	c.buf = malloc(MiB);
	if (!c.buf)
		return -ENOMEM;
	err = kbox_ext4_open(o->image, true, &c.x, why, sizeof(why));
	if (err) {
		kbox_err("%s", why);
		free(c.buf);
		return err;
	}
	if (o->root_owned)
		open_meta_store(o->from);
	err = copy_root(&c, o->from);
	cerr = kbox_ext4_close(c.x);
	if (o->root_owned)
		kbox_meta_store_close();
	free(c.links);
	free(c.buf);
	if (!err && cerr)
		kbox_err("cannot finish image '%s': %s", o->image, strerror(-cerr));
	if (!err && !cerr)
		kbox_info("image '%s': %llu objects copied from '%s'", o->image,
			  (unsigned long long)c.files, o->from);
	return err ?: cerr;
}

int kbox_ext4_image_create(const struct kbox_image_opts *o)
{
	struct stat st;
	uint64_t size, inodes;
	int err;

	if (stat(o->from, &st) < 0 || !S_ISDIR(st.st_mode)) {
		kbox_err("--from '%s' is not a directory", o->from);
		return -ENOTDIR;
	}
	tree_bytes = tree_inodes = 0;
	if (nftw(o->from, measure_one, 64, FTW_PHYS) < 0) {
		kbox_err("cannot walk '%s': %s", o->from, strerror(errno));
		return -errno;
	}
	size = o->size ? o->size : default_size(tree_bytes, tree_inodes);
	inodes = tree_inodes + tree_inodes / 4 + 256;
	if (inodes < size / 16384)
		inodes = size / 16384;
	err = make_file(o->image, size);
	if (err)
		return err;
	err = run_mke2fs(o, size, inodes);
	if (!err)
		err = populate(o);
	if (err) {
		unlink(o->image);
		kbox_err("no image made ('%s' removed)", o->image);
	}
	return err;
}
