// SPDX-License-Identifier: MIT
/*
 * Opening and looking at objects by guest path: open, stat, statx, access,
 * readlink, statfs. Each resolves with namei.c, then asks the backend about
 * the final (dirfd, name).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/sysmacros.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../fs/hostdir/hostdir.h"
#include "internal.h"

static bool is_tmpfile(int oflags)
{
	return (oflags & O_TMPFILE) == O_TMPFILE;
}

/*
 * The checks Linux makes before the host can: read-only mounts (EROFS
 * only where Linux's sb_permission() gives it: regular files and new
 * files) and a FIFO whose open would block until its other end opens.
 */
static int open_checks(const struct kbox_nameidata *nd, int oflags, bool *would_block)
{
	bool exists = nd->st_err == 0, creat = oflags & O_CREAT;
	bool write = (oflags & O_ACCMODE) != O_RDONLY || (oflags & O_TRUNC);
	const struct stat *st = &nd->st;

	if (!exists && nd->st_err != -ENOENT)
		return nd->st_err;
	if (!exists && !creat && !is_tmpfile(oflags))
		return -ENOENT;
	if (oflags & O_PATH)
		return 0;
	if (kbox_vfs_check_writable(nd) < 0) {
		if (is_tmpfile(oflags) || (!exists && creat))
			return -EROFS;
		if (exists && !(creat && (oflags & O_EXCL)) && S_ISREG(st->st_mode) && write)
			return -EROFS;
	}
	if (exists && S_ISFIFO(st->st_mode) && !(oflags & O_NONBLOCK) &&
	    (oflags & O_ACCMODE) != O_RDWR && would_block) {
		*would_block = true;
		return -EAGAIN;
	}
	return 0;
}

/*
 * A guest's /proc/<pid>/fd/N of a pipe, socket or deleted file (/dev/stdin
 * on a pipe, bash's <(...)): the host follows the magic link, which leads
 * only to that guest's own open object, and reopens it as Linux does.
 */
static int reopen_object(const struct kbox_nameidata *nd, int oflags)
{
	int fd = openat(nd->dirfd, nd->name,
			(oflags & ~(O_NOFOLLOW | O_CREAT | O_EXCL)) | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

static bool is_dev_tty(const struct stat *st)
{
	return S_ISCHR(st->st_mode) && st->st_rdev == makedev(5, 0);
}

/*
 * /dev/tty is the caller's controlling terminal, not kbox's: field 7 of
 * /proc/<tid>/stat. None gives ENXIO, as Linux does; a pseudo-terminal
 * (major 136+) opens as /dev/pts/N, any other terminal by the host's /dev/tty
 * rule, which for the guest's own session is the same device.
 */
static int open_ctty(pid_t tid, int oflags)
{
	char path[64], buf[512], *p;
	unsigned tty_nr = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -EIO;
	buf[n] = '\0';
	p = strrchr(buf, ')'); /* comm may hold spaces and parentheses */
	if (!p || sscanf(p + 1, " %*c %*d %*d %*d %u", &tty_nr) != 1)
		return -EIO;
	if (tty_nr == 0)
		return -ENXIO;
	if (major(tty_nr) >= 136 && major(tty_nr) <= 143)
		snprintf(path, sizeof(path), "/dev/pts/%u",
			 minor(tty_nr) + (major(tty_nr) - 136) * 256);
	else
		snprintf(path, sizeof(path), "/dev/tty");
	fd = open(path, (oflags & ~(O_CREAT | O_EXCL | O_TRUNC)) | O_NOCTTY | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

int kbox_vfs_open_mask(int oflags)
{
	int acc = oflags & O_ACCMODE, mask = 0;

	if (acc == O_RDONLY || acc == O_RDWR)
		mask |= R_OK;
	if (acc == O_WRONLY || acc == O_RDWR || (oflags & O_TRUNC))
		mask |= W_OK;
	return mask;
}

int kbox_vfs_open_host_device(dev_t rdev, int oflags)
{
	static const struct {
		unsigned maj, min;
		const char *path;
	} devs[] = {{1, 3, "/dev/null"},   {1, 5, "/dev/zero"},	   {1, 7, "/dev/full"},
		    {1, 8, "/dev/random"}, {1, 9, "/dev/urandom"}, {5, 2, "/dev/ptmx"}};
	const int keep = O_ACCMODE | O_APPEND | O_NONBLOCK | O_DIRECTORY | O_PATH | O_NOATIME |
			 O_DSYNC | O_SYNC | O_DIRECT;

	for (size_t i = 0; i < sizeof(devs) / sizeof(devs[0]); i++) {
		if (major(rdev) == devs[i].maj && minor(rdev) == devs[i].min) {
			int fd = open(devs[i].path, (oflags & keep) | O_NOCTTY | O_CLOEXEC);

			return fd < 0 ? -errno : fd;
		}
	}
	return -ENXIO;
}

/* The last component: a procfs file kbox shows its own way, or the backend's. */
static int open_last(const struct kbox_nameidata *nd, int oflags, mode_t mode)
{
	int fd, r = kbox_vfs_proc_open(nd, oflags, &fd);

	if (r != 0)
		return r < 0 ? r : fd;
	return kbox_hostdir_open(nd->dirfd, nd->name, oflags, mode);
}

/*
 * A fake root may open what the host user cannot: a file the user owns but
 * locked (0444, 0000, a 0555 directory). kbox gives the real file owner
 * access, keeps its guest mode in the record, and opens again.
 */
static int open_unlock(const struct kbox_vfs_cred *c, struct kbox_nameidata *nd, int oflags,
		       mode_t mode)
{
	struct stat view = nd->st;
	mode_t guest;
	int r;

	/* Never on a read-only bind: kbox would change the host file there. */
	if (c->fsuid != 0 || nd->st_err != 0 || nd->st.st_uid != getuid() ||
	    kbox_vfs_check_writable(nd) < 0)
		return -EACCES;
	kbox_owner_fix_stat(nd->dirfd, nd->name, &view);
	guest = view.st_mode;
	r = kbox_owner_chmod(c, nd->dirfd, nd->name, guest & 07777);
	if (r < 0)
		return -EACCES;
	return open_last(nd, oflags, mode);
}

/*
 * Open under fake ownership: the emulated identity's permission check on
 * an existing file, device placeholders, and the creator's ids on a new one.
 */
static int open_as(const struct kbox_vfs_cred *c, struct kbox_nameidata *nd, int oflags,
		   mode_t mode)
{
	bool exists = nd->st_err == 0;
	int r;

	if (exists && !(oflags & O_PATH)) {
		struct stat view = nd->st;

		kbox_owner_fix_stat(nd->dirfd, nd->name, &view);
		r = kbox_owner_permission(c, &view, kbox_vfs_open_mask(oflags));
		if (r < 0)
			return r;
		r = kbox_owner_open_device(nd->dirfd, nd->name, &nd->st, oflags);
		if (r != 0)
			return r;
	}
	if (!exists && (oflags & O_CREAT)) {
		r = kbox_owner_may_create(c, nd->dirfd);
		if (r < 0)
			return r;
	}
	r = open_last(nd, oflags, mode);
	if (r == -EACCES && exists)
		r = open_unlock(c, nd, oflags, mode);
	if (r >= 0 && !exists && (oflags & O_CREAT))
		kbox_owner_created(c, nd->dirfd, nd->name);
	return r;
}

int kbox_vfs_open_flags(const struct kbox_lookup_ctx *ctx, const char *path, int oflags,
			mode_t mode, unsigned lookup, bool *would_block)
{
	struct kbox_nameidata nd;
	bool creat = oflags & O_CREAT;
	unsigned flags = lookup | KBOX_LOOKUP_STAT;
	int r;

	if (would_block)
		*would_block = false;
	/* O_CREAT|O_EXCL never follows the last symlink (EEXIST instead). */
	if (!(oflags & O_NOFOLLOW) && !(creat && (oflags & O_EXCL)))
		flags |= KBOX_LOOKUP_FOLLOW;
	/* With O_CREAT a trailing slash is EISDIR before anything else. */
	if (creat)
		flags |= KBOX_LOOKUP_PARENT;
	if (is_tmpfile(oflags))
		flags |= KBOX_LOOKUP_DIRECTORY;
	r = kbox_vfs_lookup_parent(ctx, path, flags, &nd);
	if (r < 0)
		return r;
	if (creat && nd.trailing_slash)
		r = -EISDIR;
	else
		r = open_checks(&nd, oflags, would_block);
	if (r == 0 && nd.st_err == 0 && is_dev_tty(&nd.st) && ctx->tid)
		r = open_ctty(ctx->tid, oflags);
	else if (r == 0 && nd.object_link)
		r = reopen_object(&nd, oflags);
	else if (r == 0 && nd.mnt->ext4)
		r = kbox_img_open(ctx, &nd, oflags, mode);
	else if (r == 0 && ctx->cred)
		r = open_as(ctx->cred, &nd, oflags, mode);
	else if (r == 0)
		r = open_last(&nd, oflags, mode);
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_open(const struct kbox_lookup_ctx *ctx, const char *path, int oflags, mode_t mode,
		  bool *would_block)
{
	return kbox_vfs_open_flags(ctx, path, oflags, mode, 0, would_block);
}

int kbox_vfs_stat(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		  struct stat *st)
{
	struct kbox_nameidata nd;
	int r = kbox_vfs_lookup_parent(ctx, path, flags | KBOX_LOOKUP_STAT, &nd);

	if (r < 0)
		return r;
	r = nd.st_err;
	if (r == 0) {
		*st = nd.st;
		if (!nd.mnt->ext4)
			kbox_owner_fix_stat(nd.dirfd, nd.name, st);
	}
	kbox_nameidata_release(&nd);
	return r;
}

/*
 * statx straight on the last name, without the walker's own lstat; only a
 * symlink to follow needs the second, following lookup.
 */
int kbox_vfs_statx(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		   int sync_flags, unsigned mask, struct statx *stx)
{
	struct kbox_nameidata nd;
	unsigned first = flags & ~KBOX_LOOKUP_FOLLOW;
	int r = kbox_vfs_lookup_parent(ctx, path, first, &nd);

	if (r < 0)
		return r;
	r = nd.mnt->ext4
		    ? kbox_img_statx(&nd, stx)
		    : kbox_hostdir_statx(nd.dirfd, nd.name, sync_flags, mask | STATX_TYPE, stx);
	if (r == 0 && S_ISLNK(stx->stx_mode) && (flags & KBOX_LOOKUP_FOLLOW)) {
		kbox_nameidata_release(&nd);
		r = kbox_vfs_lookup_parent(ctx, path, flags, &nd);
		if (r < 0)
			return r;
		r = nd.mnt->ext4 ? kbox_img_statx(&nd, stx)
				 : kbox_hostdir_statx(nd.dirfd, nd.name, sync_flags, mask, stx);
	}
	if (r == 0 && !nd.mnt->ext4)
		kbox_owner_fix_statx(nd.dirfd, nd.name, stx);
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_access(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags, int mode,
		    bool eaccess)
{
	struct kbox_nameidata nd;
	const struct stat *st = &nd.st;
	int r = kbox_vfs_lookup_parent(ctx, path, flags | KBOX_LOOKUP_STAT, &nd);

	if (r < 0)
		return r;
	r = nd.st_err;
	if (r == 0 && nd.mnt->ext4) {
		r = kbox_img_access(ctx, &nd, mode);
	} else if (r == 0 && ctx->cred) {
		struct stat view = nd.st;

		kbox_owner_fix_stat(nd.dirfd, nd.name, &view);
		r = kbox_owner_permission(ctx->cred, &view, mode);
	} else if (r == 0) {
		r = kbox_hostdir_access(nd.dirfd, nd.name, mode, eaccess);
	}
	/* Linux answers EROFS for W_OK on files a read-only mount holds. */
	if (r == 0 && (mode & W_OK) && kbox_vfs_check_writable(&nd) < 0 &&
	    (S_ISREG(st->st_mode) || S_ISDIR(st->st_mode) || S_ISLNK(st->st_mode)))
		r = -EROFS;
	kbox_nameidata_release(&nd);
	return r;
}

static bool is_map_files(const char *dir)
{
	size_t n = strlen(dir);

	return n >= 10 && !strcmp(dir + n - 10, "/map_files");
}

/*
 * /proc/<pid>/map_files/<range> names the mapped file by its host path:
 * give the guest path instead (the link still leads only to the guest's
 * own file). A file under no mount keeps the host's text, as maps does.
 */
static int map_file_link(const struct kbox_nameidata *nd, char *buf, size_t size)
{
	char host[PATH_MAX], guest[PATH_MAX];
	const char *text = host;
	int n = kbox_hostdir_readlink(nd->dirfd, nd->name, host, sizeof(host) - 1);

	if (n < 0)
		return n;
	if (kbox_vfs_guest_path_of_host(host, (size_t)n, guest, sizeof(guest)) >= 0) {
		text = guest;
		n = (int)strlen(guest);
	}
	if ((size_t)n > size)
		n = (int)size;
	memcpy(buf, text, (size_t)n);
	return n;
}

int kbox_vfs_readlink(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		      char *buf, size_t size)
{
	struct kbox_nameidata nd;
	int r = kbox_vfs_lookup_parent(ctx, path, flags, &nd);

	if (r < 0)
		return r;
	r = kbox_vfs_proc_link(ctx, nd.mnt, nd.parent_guest, nd.name, buf, size, false);
	if (r == 0 && nd.mnt->is_proc && is_map_files(nd.parent_guest)) {
		r = map_file_link(&nd, buf, size);
	} else if (r == 0 && nd.mnt->ext4) {
		unsigned ino = 0;
		struct stat st;

		r = kbox_img_child(nd.mnt, nd.ino, nd.name, &ino, &st);
		if (r == 0 && !S_ISLNK(st.st_mode))
			r = -EINVAL;
		if (r == 0)
			r = kbox_img_readlink(nd.mnt, ino, buf, size);
	} else if (r == 0) {
		r = kbox_hostdir_readlink(nd.dirfd, nd.name, buf, size);
	}
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_statfs(const struct kbox_lookup_ctx *ctx, const char *path, struct statfs *sfs)
{
	struct kbox_nameidata nd;
	int r = kbox_vfs_lookup_parent(ctx, path, KBOX_LOOKUP_FOLLOW, &nd);

	if (r < 0)
		return r;
	r = nd.st_err;
	if (r == 0)
		r = nd.mnt->ext4 ? kbox_img_statfs(&nd, sfs)
				 : kbox_hostdir_statfs(nd.dirfd, nd.name, sfs);
	if (r == 0 && kbox_vfs_check_writable(&nd) < 0)
		sfs->f_flags |= ST_RDONLY;
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_open_path(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags)
{
	struct kbox_nameidata nd;
	int r = kbox_vfs_lookup_parent(ctx, path, flags | KBOX_LOOKUP_STAT, &nd);

	if (r < 0)
		return r;
	r = nd.st_err;
	if (r == 0 && nd.mnt->ext4)
		r = kbox_img_open(ctx, &nd, O_PATH, 0);
	else if (r == 0)
		r = kbox_hostdir_open_path(nd.dirfd, nd.name);
	kbox_nameidata_release(&nd);
	return r;
}
