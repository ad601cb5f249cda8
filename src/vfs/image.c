// SPDX-License-Identifier: MIT
/*
 * Image mounts: the guest tree of an ext2/3/4 image file (fs/ext4/), whose
 * objects are inode numbers, behind the same vfs entry points as host
 * directories: lookups, opens, namespace operations and attributes, with
 * Linux's permission checks for the guest's identity (the emulated one
 * under -0/--change-id, else the real user) against the image's owners and
 * modes. The host fds the guest gets for image objects are imagefd.c's.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/limits.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../fs/ext4/ext4.h"
#include "image_priv.h"

static void fix_dev(const struct kbox_mount *m, struct stat *st)
{
	st->st_dev = m->dev;
}

static int img_stat(const struct kbox_mount *m, uint32_t ino, struct stat *st)
{
	int r = kbox_ext4_getattr(m->ext4, ino, st);

	if (r == 0) {
		fix_dev(m, st);
		kbox_imgfd_overlay(m, ino, st);
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

/* A device node in the image: the host's own node for the harmless ones. */
static int open_device(const struct stat *st, int oflags)
{
	return S_ISCHR(st->st_mode) ? kbox_vfs_open_host_device(st->st_rdev, oflags) : -ENXIO;
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
	return kbox_owner_permission(cred_of(ctx), st, kbox_vfs_open_mask(oflags));
}

static int create_check(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
			bool dir);
static int writable(const struct kbox_nameidata *nd);

static int socket_path(const struct kbox_mount *m, uint32_t ino, char *path, size_t size)
{
	return kbox_imgfd_standin_path(m, ino, path, size);
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
	/* The stand-in's name must fit sun_path, whatever the inode number. */
	if (socket_path(nd->mnt, UINT32_MAX, path, sizeof(path)) < 0 ||
	    strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
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
	r = kbox_imgfd_open(nd->mnt, ino, &st, guest, oflags & ~O_TMPFILE);
	kbox_ext4_unlink(nd->mnt->ext4, dino, name);
	return r;
}

int kbox_vfs_image_link_fd(int fd, const struct kbox_lookup_ctx *ctx,
			   const struct kbox_nameidata *n)
{
	const struct kbox_mount *m;
	unsigned ino = 0;
	int r = kbox_img_of_fd(fd, &m, &ino, NULL, 0);

	if (r <= 0)
		return r < 0 ? r : 1;
	if (m != n->mnt)
		return -EXDEV;
	r = create_check(ctx, n, false);
	if (r < 0)
		return r;
	r = kbox_imgfd_flush(m, ino, true); /* its data before its name */
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
	return r < 0 ? r : kbox_imgfd_open(nd->mnt, ino, &st, guest, oflags);
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

int kbox_vfs_image_fstatfs(int fd, struct statfs *sfs)
{
	const struct kbox_mount *m;
	unsigned ino = 0;
	int r = kbox_img_of_fd(fd, &m, &ino, NULL, 0);

	return r <= 0 ? (r < 0 ? r : 1) : kbox_ext4_statfs(m->ext4, sfs);
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
	/* what the VFS adds to every file system's answer (vfs_getattr_nosec, vfs_statx) */
	stx->stx_attributes_mask |= STATX_ATTR_AUTOMOUNT | STATX_ATTR_DAX | STATX_ATTR_MOUNT_ROOT;
	if (ino == 2) /* EXT2_ROOT_INO: an image's root is the root of its mount */
		stx->stx_attributes |= STATX_ATTR_MOUNT_ROOT;
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

/* Host objects below a renamed name keep their guest paths right (dirfds, fchdir, maps). */
static void renamed(const struct kbox_nameidata *o, const struct kbox_nameidata *n, bool exchange)
{
	char og[PATH_MAX], ng[PATH_MAX];

	if (guest_of(o, og, sizeof(og)) >= 0 && guest_of(n, ng, sizeof(ng)) >= 0)
		kbox_imgfd_renamed(og, ng, exchange);
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
	int r = img_stat(m, ino, &st);

	if (r == 0)
		r = setattr_allowed(c, &st, sa);
	if (r == 0 && (m->readonly || !kbox_ext4_is_rw(m->ext4)))
		r = -EROFS;
	if (r < 0)
		return r;
	r = kbox_imgfd_setattr(m, ino, sa); /* 1: a truncate the memfd took */
	return r != 0 ? (r < 0 ? r : 0) : kbox_ext4_setattr(m->ext4, ino, sa);
}

int kbox_img_setattr(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		     struct kbox_ext4_setattr *sa)
{
	unsigned ino = 0;
	struct stat st;
	int r = kbox_img_child(nd->mnt, nd->ino, nd->name, &ino, &st);

	return r < 0 ? r : setattr_ino(cred_of(ctx), nd->mnt, ino, sa);
}

/*
 * xattr_permission() of Linux's fs/xattr.c for a get (@write false) or a
 * set/remove: trusted.* needs CAP_SYS_ADMIN (uid 0 here; without it a
 * read finds nothing), user.* lives only on regular files and directories
 * (and on a sticky directory only its owner may write one), and then the
 * inode's own read or write permission.
 */
static int xattr_permission(const struct kbox_vfs_cred *c, const struct stat *st, const char *xname,
			    bool write)
{
	if (!strncmp(xname, "security.", 9) || !strncmp(xname, "system.", 7))
		return 0;
	if (!strncmp(xname, "trusted.", 8))
		return c->fsuid == 0 ? 0 : write ? -EPERM : -ENODATA;
	if (!strncmp(xname, "user.", 5)) {
		if (!S_ISREG(st->st_mode) && !S_ISDIR(st->st_mode))
			return write ? -EPERM : -ENODATA;
		if (S_ISDIR(st->st_mode) && (st->st_mode & S_ISVTX) && write && c->fsuid != 0 &&
		    c->fsuid != st->st_uid)
			return -EPERM;
	}
	return kbox_owner_permission(c, st, write ? W_OK : R_OK);
}

/* listxattr hides trusted.* from all but CAP_SYS_ADMIN (ext4_xattr_trusted_list). */
static int hide_trusted(char *list, int len)
{
	int out = 0;

	for (int i = 0; i < len;) {
		int n = (int)strnlen(list + i, (size_t)(len - i)) + 1;

		if (strncmp(list + i, "trusted.", 8)) {
			memmove(list + out, list + i, (size_t)n);
			out += n;
		}
		i += n;
	}
	return out;
}

/* The list without trusted.*, sized as listxattr sizes it (0: the length only). */
static int list_untrusted(struct kbox_ext4 *x, unsigned ino, char *val, size_t size)
{
	char *all = malloc(XATTR_LIST_MAX);
	int n = all ? kbox_ext4_listxattr(x, ino, all, XATTR_LIST_MAX) : -ENOMEM;

	if (n >= 0)
		n = hide_trusted(all, n);
	if (n > 0 && size) {
		if ((size_t)n > size)
			n = -ERANGE;
		else
			memcpy(val, all, (size_t)n);
	}
	free(all);
	return n;
}

int kbox_img_xattr(const struct kbox_lookup_ctx *ctx, const struct kbox_nameidata *nd,
		   enum kbox_xattr_op op, const char *xname, void *val, size_t size, int xflags)
{
	const struct kbox_vfs_cred *c = cred_of(ctx);
	struct kbox_ext4 *x = nd->mnt->ext4;
	unsigned ino = 0;
	struct stat st;
	int r = kbox_img_child(nd->mnt, nd->ino, nd->name, &ino, &st);

	if (r < 0)
		return r;
	switch (op) {
	case KBOX_XATTR_GET:
		r = xattr_permission(c, &st, xname, false);
		return r ?: kbox_ext4_getxattr(x, ino, xname, val, size);
	case KBOX_XATTR_LIST:
		if (c->fsuid == 0)
			return kbox_ext4_listxattr(x, ino, val, size);
		return list_untrusted(x, ino, val, size);
	case KBOX_XATTR_SET:
		r = writable(nd);
		r = r ?: xattr_permission(c, &st, xname, true);
		return r ?: kbox_ext4_setxattr(x, ino, xname, val, size, xflags);
	case KBOX_XATTR_REMOVE:
		break;
	}
	r = writable(nd);
	r = r ?: xattr_permission(c, &st, xname, true);
	return r ?: kbox_ext4_removexattr(x, ino, xname);
}

int kbox_vfs_image_fd_access(int fd, const struct kbox_vfs_cred *c, int mode)
{
	struct stat st;
	int r = kbox_vfs_image_fstat(fd, &st);

	if (r != 0 || !mode)
		return r;
	return kbox_owner_permission(c ? c : cred_of(NULL), &st, mode);
}

bool kbox_vfs_image_fd_xattr(int fd, const struct kbox_vfs_cred *c, enum kbox_xattr_op op,
			     const char *xname, void *val, size_t size, int xflags, int *ret)
{
	struct kbox_nameidata nd = {.name = ".", .last = KBOX_LAST_DOT};
	struct kbox_lookup_ctx ctx = {.cred = c};
	const struct kbox_mount *m;
	int r = kbox_img_of_fd(fd, &m, &nd.ino, NULL, 0);

	if (r <= 0) {
		*ret = r;
		return r < 0;
	}
	nd.mnt = m;
	*ret = kbox_img_xattr(&ctx, &nd, op, xname, val, size, xflags);
	return true;
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
