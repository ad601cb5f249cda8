// SPDX-License-Identifier: MIT
/*
 * Fake ownership (-0, --change-id): what the guest sees as a file's owner,
 * group, mode and device number, and how chown, chmod, mknod of devices and
 * privileged xattrs change it, by Linux's rules applied to the guest's
 * emulated credentials. The host file keeps the real user as owner and a
 * mode that lets kbox use it; what differs is kept per file by the backend
 * (fs/hostdir/meta.h) and laid over every stat the guest gets.
 *
 * Files the real user owns show as root's, as in a user namespace that maps
 * that user to root (and as `kbox image create --root-owned` does), in -0
 * and --change-id runs alike: the --change-id ids own what that guest
 * creates, and a record keeps them. So a file with no record is root's, and
 * what one run set means the same in the next, whichever ids it runs as.
 * Setuid bits, device nodes and file capabilities exist only in the
 * record: they never reach the host, so they never raise real privilege.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "../fs/hostdir/hostdir.h"
#include "../fs/hostdir/meta.h"
#include "internal.h"

static struct {
	bool on;
	uid_t host_uid;
	gid_t host_gid;
} own;

int kbox_vfs_owner_init(uid_t host_uid, gid_t host_gid, const char *const *stores, int nstores)
{
	own.on = true;
	own.host_uid = host_uid;
	own.host_gid = host_gid;
	return kbox_meta_store_open(stores, nstores);
}

void kbox_vfs_owner_fini(void)
{
	kbox_meta_store_close();
	own.on = false;
}

bool kbox_vfs_owner_enabled(void)
{
	return own.on;
}

/* lstat of the object: @name in @dirfd, or @dirfd itself when @name is NULL. */
static int obj_lstat(int dirfd, const char *name, struct stat *st)
{
	int r = name ? fstatat(dirfd, name, st, AT_SYMLINK_NOFOLLOW) : fstat(dirfd, st);

	return r < 0 ? -errno : 0;
}

/* The guest's view of a host stat, given the record (if any). */
static void view_apply(struct stat *st, const struct kbox_meta *m)
{
	if (st->st_uid == own.host_uid)
		st->st_uid = 0;
	if (st->st_gid == own.host_gid)
		st->st_gid = 0;
	if (!m)
		return;
	if (m->valid & KBOX_META_UID)
		st->st_uid = m->uid;
	if (m->valid & KBOX_META_GID)
		st->st_gid = m->gid;
	if (m->valid & KBOX_META_MODE)
		st->st_mode = m->mode;
	if (m->valid & KBOX_META_RDEV) {
		st->st_rdev = m->rdev;
		st->st_size = 0;
		st->st_blocks = 0;
	}
}

/* Fill @m with the record of the object (zeroed when there is none). */
static void meta_load(int dirfd, const char *name, const struct stat *st, struct kbox_meta *m)
{
	if (kbox_meta_get(dirfd, name, st, m) < 0) {
		m->valid = 0;
		m->xlen = 0;
	}
}

void kbox_owner_fix_stat(int dirfd, const char *name, struct stat *st)
{
	struct kbox_meta m;

	if (!own.on)
		return;
	meta_load(dirfd, name, st, &m);
	view_apply(st, &m);
}

void kbox_owner_fix_statx(int dirfd, const char *name, struct statx *stx)
{
	struct stat st = {.st_mode = stx->stx_mode,
			  .st_dev = makedev(stx->stx_dev_major, stx->stx_dev_minor),
			  .st_ino = stx->stx_ino,
			  .st_uid = stx->stx_uid,
			  .st_gid = stx->stx_gid,
			  .st_rdev = makedev(stx->stx_rdev_major, stx->stx_rdev_minor),
			  .st_size = (off_t)stx->stx_size,
			  .st_blocks = (blkcnt_t)stx->stx_blocks,
			  .st_ctim = {stx->stx_ctime.tv_sec, stx->stx_ctime.tv_nsec}};

	if (!own.on)
		return;
	kbox_owner_fix_stat(dirfd, name, &st);
	stx->stx_mode = (uint16_t)st.st_mode;
	stx->stx_uid = st.st_uid;
	stx->stx_gid = st.st_gid;
	stx->stx_rdev_major = major(st.st_rdev);
	stx->stx_rdev_minor = minor(st.st_rdev);
	stx->stx_size = (uint64_t)st.st_size;
	stx->stx_blocks = (uint64_t)st.st_blocks;
}

static bool in_groups(const struct kbox_vfs_cred *c, gid_t gid)
{
	if (gid == c->fsgid)
		return true;
	for (int i = 0; i < c->ngroups; i++)
		if (c->groups[i] == gid)
			return true;
	return false;
}

/* generic_permission() for the emulated identity; @mask of R_OK/W_OK/X_OK. */
int kbox_owner_permission(const struct kbox_vfs_cred *c, const struct stat *view, int mask)
{
	mode_t mode = view->st_mode, bits;

	if (c->fsuid == 0) {
		/* CAP_DAC_OVERRIDE, but exec needs one x bit on a non-directory. */
		if ((mask & X_OK) && !S_ISDIR(mode) && !(mode & 0111))
			return -EACCES;
		return 0;
	}
	if (c->fsuid == view->st_uid)
		bits = mode >> 6;
	else if (in_groups(c, view->st_gid))
		bits = mode >> 3;
	else
		bits = mode;
	return ((bits & 7) & (mode_t)mask) == (mode_t)mask ? 0 : -EACCES;
}

/*
 * The real mode kbox gives a file whose guest mode is @mode: no setuid,
 * setgid or sticky bit, and always owner read and write (and search on a
 * directory) so kbox can keep using a file the guest locked.
 */
static mode_t real_mode(mode_t mode)
{
	mode_t keep = S_ISDIR(mode) ? S_IRWXU : S_IRUSR | S_IWUSR;

	return (mode & 0777) | keep;
}

static int obj_chmod(int dirfd, const char *name, mode_t mode)
{
	char path[32];

	if (name)
		return kbox_hostdir_chmod(dirfd, name, mode);
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
	return chmod(path, mode) < 0 ? -errno : 0;
}

/* Save @m; the record keeps only what differs from the real file's view. */
static int meta_save(int dirfd, const char *name, const struct stat *real, struct kbox_meta *m)
{
	struct stat plain = *real;

	view_apply(&plain, NULL);
	if ((m->valid & KBOX_META_UID) && m->uid == plain.st_uid)
		m->valid &= ~KBOX_META_UID;
	if ((m->valid & KBOX_META_GID) && m->gid == plain.st_gid)
		m->valid &= ~KBOX_META_GID;
	if ((m->valid & KBOX_META_MODE) && m->mode == plain.st_mode)
		m->valid &= ~KBOX_META_MODE;
	return kbox_meta_set(dirfd, name, real, m);
}

/* Set the guest mode @mode (type included) of the object whose real stat is @real. */
static int mode_set(int dirfd, const char *name, const struct stat *real, struct kbox_meta *m,
		    mode_t mode)
{
	bool placeholder = m->valid & KBOX_META_RDEV;
	mode_t want = placeholder ? S_IRUSR | S_IWUSR : real_mode(mode);
	struct stat now = *real; /* what the host file is once changed */
	int r = 0;

	if (!S_ISLNK(real->st_mode) && (real->st_mode & 07777) != want) {
		r = obj_chmod(dirfd, name, want);
		now.st_mode = (real->st_mode & S_IFMT) | want;
	}
	if (r < 0)
		return r;
	m->valid |= KBOX_META_MODE;
	m->mode = mode;
	return meta_save(dirfd, name, &now, m);
}

int kbox_owner_chmod(const struct kbox_vfs_cred *c, int dirfd, const char *name, mode_t mode)
{
	struct stat real, view;
	struct kbox_meta m;
	int r = obj_lstat(dirfd, name, &real);

	if (r < 0)
		return r;
	if (S_ISLNK(real.st_mode))
		return -EOPNOTSUPP;
	meta_load(dirfd, name, &real, &m);
	view = real;
	view_apply(&view, &m);
	if (c->fsuid != 0 && c->fsuid != view.st_uid)
		return -EPERM;
	/* setattr_copy(): a non-member loses setgid unless privileged. */
	if (c->fsuid != 0 && !in_groups(c, view.st_gid))
		mode &= ~(mode_t)S_ISGID;
	return mode_set(dirfd, name, &real, &m, (view.st_mode & S_IFMT) | (mode & 07777));
}

static int chown_allowed(const struct kbox_vfs_cred *c, const struct stat *view, uid_t uid,
			 gid_t gid)
{
	if (c->fsuid == 0)
		return 0;
	if (uid != (uid_t)-1 && uid != view->st_uid)
		return -EPERM;
	if (gid != (gid_t)-1 && gid != view->st_gid &&
	    (c->fsuid != view->st_uid || !in_groups(c, gid)))
		return -EPERM;
	return 0;
}

int kbox_owner_chown(const struct kbox_vfs_cred *c, int dirfd, const char *name, uid_t uid,
		     gid_t gid)
{
	struct stat real, view;
	struct kbox_meta m;
	mode_t mode;
	int r = obj_lstat(dirfd, name, &real);

	if (r < 0)
		return r;
	meta_load(dirfd, name, &real, &m);
	view = real;
	view_apply(&view, &m);
	r = chown_allowed(c, &view, uid, gid);
	if (r < 0)
		return r;
	if (uid != (uid_t)-1) {
		m.valid |= KBOX_META_UID;
		m.uid = uid;
	}
	if (gid != (gid_t)-1) {
		m.valid |= KBOX_META_GID;
		m.gid = gid;
	}
	/* chown_common(): a non-directory loses setuid, and setgid with group exec. */
	mode = view.st_mode;
	if (!S_ISDIR(mode) && !S_ISLNK(mode)) {
		mode &= ~(mode_t)S_ISUID;
		if (mode & S_IXGRP)
			mode &= ~(mode_t)S_ISGID;
	}
	if (mode != view.st_mode) {
		m.valid |= KBOX_META_MODE;
		m.mode = mode;
	}
	return meta_save(dirfd, name, &real, &m);
}

/*
 * After the guest created @name (mkdir, mknod, symlink, open O_CREAT): give
 * it the creator's fs ids, and keep a mode that would lock kbox out (0555
 * directories, 0444 files) in the record instead of on the host.
 */
void kbox_owner_created(const struct kbox_vfs_cred *c, int dirfd, const char *name)
{
	struct stat real;
	struct kbox_meta m = {0};

	if (!c || obj_lstat(dirfd, name, &real) < 0)
		return;
	m.valid = KBOX_META_UID | KBOX_META_GID;
	m.uid = c->fsuid;
	m.gid = c->fsgid;
	if (!S_ISLNK(real.st_mode) && (real.st_mode & 07777) != real_mode(real.st_mode)) {
		mode_set(dirfd, name, &real, &m, real.st_mode);
		return;
	}
	meta_save(dirfd, name, &real, &m);
}

/*
 * mknod of a character or block device by the fake root: an empty regular
 * file stands in for it, with the type and number in its record. -EPERM
 * for anyone else, as without CAP_MKNOD.
 */
int kbox_owner_mknod_dev(const struct kbox_vfs_cred *c, int dirfd, const char *name, mode_t mode,
			 dev_t dev)
{
	struct kbox_meta m = {0};
	struct stat real;
	int fd, r;

	if (c->fsuid != 0)
		return -EPERM;
	fd = kbox_hostdir_open(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
	if (fd < 0)
		return fd;
	r = fstat(fd, &real) < 0 ? -errno : 0;
	close(fd);
	if (r < 0)
		return r;
	m.valid = KBOX_META_UID | KBOX_META_GID | KBOX_META_MODE | KBOX_META_RDEV;
	m.uid = c->fsuid;
	m.gid = c->fsgid;
	m.mode = mode;
	m.rdev = dev;
	r = kbox_meta_set(dirfd, name, &real, &m);
	if (r < 0)
		unlinkat(dirfd, name, 0);
	return r;
}

/*
 * Before @name in @dirfd goes (unlink, rmdir, rename over it): true when
 * the store holds a record that must go with it, the inode losing its last
 * name. @st receives the object's lstat for kbox_owner_gone().
 */
bool kbox_owner_going(int dirfd, const char *name, struct stat *st)
{
	if (!own.on || obj_lstat(dirfd, name, st) < 0)
		return false;
	return kbox_meta_in_store(st) && (S_ISDIR(st->st_mode) || st->st_nlink <= 1);
}

void kbox_owner_gone(const struct stat *st)
{
	kbox_meta_forget(st);
}

/*
 * A device placeholder being opened: Linux would open the device, so the
 * host's own node opens for the harmless ones (kbox_vfs_open_host_device()).
 * Returns 0 when @st is no placeholder.
 */
int kbox_owner_open_device(int dirfd, const char *name, const struct stat *st, int oflags)
{
	struct kbox_meta m;

	if (!own.on || !S_ISREG(st->st_mode) || st->st_size != 0)
		return 0;
	if (kbox_meta_get(dirfd, name, st, &m) < 0 || !(m.valid & KBOX_META_RDEV))
		return 0;
	return S_ISCHR(m.mode) ? kbox_vfs_open_host_device(m.rdev, oflags) : -ENXIO;
}

/* ---- extended attributes ---- */

static bool is_kbox_name(const char *xname)
{
	return strcmp(xname, KBOX_META_XATTR) == 0;
}

/* Names only a privileged process may set: kept in the record for the fake root. */
static bool is_privileged_name(const char *xname)
{
	return !strncmp(xname, "security.capability", 19) || !strncmp(xname, "trusted.", 8);
}

static int obj_xattr(int dirfd, const char *name, enum kbox_xattr_op op, const char *xname,
		     void *val, size_t size, int xflags)
{
	char path[32];
	ssize_t r;

	if (name) {
		switch (op) {
		case KBOX_XATTR_GET:
			return kbox_hostdir_getxattr(dirfd, name, xname, val, size);
		case KBOX_XATTR_SET:
			return kbox_hostdir_setxattr(dirfd, name, xname, val, size, xflags);
		case KBOX_XATTR_LIST:
			return kbox_hostdir_listxattr(dirfd, name, val, size);
		default:
			return kbox_hostdir_removexattr(dirfd, name, xname);
		}
	}
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dirfd);
	switch (op) {
	case KBOX_XATTR_GET:
		r = getxattr(path, xname, val, size);
		break;
	case KBOX_XATTR_SET:
		r = setxattr(path, xname, val, size, xflags);
		break;
	case KBOX_XATTR_LIST:
		r = listxattr(path, val, size);
		break;
	default:
		r = removexattr(path, xname);
		break;
	}
	return r < 0 ? -errno : (int)r;
}

/* The host's list without kbox's name, then the record's names. */
static int xattr_list(int dirfd, const char *name, const struct kbox_meta *m, char *list,
		      size_t size)
{
	char real[XATTR_LIST_MAX];
	size_t out = 0, need;
	int n = obj_xattr(dirfd, name, KBOX_XATTR_LIST, NULL, real, sizeof(real), 0);

	if (n < 0 && n != -ENOTSUP && n != -EPERM)
		return n;
	for (int off = 0; off < n; off += (int)strlen(real + off) + 1) {
		size_t len = strlen(real + off) + 1;

		if (is_kbox_name(real + off))
			continue;
		if (size && out + len <= size)
			memcpy(list + out, real + off, len);
		out += len;
	}
	need = out + kbox_meta_xattr_names(m, NULL, 0);
	if (size && need > size)
		return -ERANGE;
	if (size)
		kbox_meta_xattr_names(m, list + out, size - out);
	return need > XATTR_LIST_MAX ? -E2BIG : (int)need;
}

static int xattr_change(const struct kbox_vfs_cred *c, int dirfd, const char *name,
			const struct stat *real, struct kbox_meta *m, enum kbox_xattr_op op,
			const char *xname, const void *val, size_t size, int xflags)
{
	int r;

	if (op == KBOX_XATTR_REMOVE && kbox_meta_xattr_get(m, xname, NULL, 0) >= 0)
		r = kbox_meta_xattr_remove(m, xname);
	else if (op == KBOX_XATTR_REMOVE || !is_privileged_name(xname))
		return obj_xattr(dirfd, name, op, xname, (void *)val, size, xflags);
	else if (c->fsuid != 0)
		return -EPERM;
	else
		r = kbox_meta_xattr_set(m, xname, val, size, xflags);
	return r < 0 ? r : meta_save(dirfd, name, real, m);
}

/*
 * An xattr call under fake ownership. kbox's own record is invisible
 * (ENODATA, and never listed); privileged names the fake root sets live
 * in the record; everything else is the host's.
 */
int kbox_owner_xattr(const struct kbox_vfs_cred *c, int dirfd, const char *name,
		     enum kbox_xattr_op op, const char *xname, void *val, size_t size, int xflags)
{
	struct stat real;
	struct kbox_meta m;
	int r;

	if (op != KBOX_XATTR_LIST && is_kbox_name(xname))
		return op == KBOX_XATTR_SET ? -EPERM : -ENODATA;
	r = obj_lstat(dirfd, name, &real);
	if (r < 0)
		return r;
	meta_load(dirfd, name, &real, &m);
	switch (op) {
	case KBOX_XATTR_GET:
		r = kbox_meta_xattr_get(&m, xname, val, size);
		return r != -ENODATA ? r : obj_xattr(dirfd, name, op, xname, val, size, 0);
	case KBOX_XATTR_LIST:
		return xattr_list(dirfd, name, &m, val, size);
	default:
		return xattr_change(c, dirfd, name, &real, &m, op, xname, val, size, xflags);
	}
}

/* The guest's view of the object (its lstat with the record laid over). */
static int obj_view(int dirfd, const char *name, struct stat *view)
{
	int r = obj_lstat(dirfd, name, view);

	if (r == 0)
		kbox_owner_fix_stat(dirfd, name, view);
	return r;
}

int kbox_owner_may_create(const struct kbox_vfs_cred *c, int dirfd)
{
	struct stat dir;

	if (!c || c->fsuid == 0 || obj_view(dirfd, NULL, &dir) < 0)
		return 0;
	return kbox_owner_permission(c, &dir, W_OK | X_OK);
}

/*
 * may_delete(): write and search on the directory, and in a sticky one
 * (/tmp) only the owner of the file or of the directory may remove it.
 */
int kbox_owner_may_delete(const struct kbox_vfs_cred *c, int dirfd, const char *name)
{
	struct stat dir, victim;
	int r;

	if (!c || c->fsuid == 0)
		return 0;
	r = obj_view(dirfd, name, &victim);
	if (r == 0)
		r = obj_view(dirfd, NULL, &dir);
	if (r == 0)
		r = kbox_owner_permission(c, &dir, W_OK | X_OK);
	if (r < 0 || !(dir.st_mode & S_ISVTX))
		return r;
	if (victim.st_uid != c->fsuid && dir.st_uid != c->fsuid)
		return -EPERM;
	return 0;
}
