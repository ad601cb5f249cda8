/* SPDX-License-Identifier: MIT */
/*
 * ext4: an ext2/3/4 image file served as a guest tree through libext2fs.
 *
 * The VFS calls these on inode numbers: it resolves paths itself, one
 * component at a time with kbox_ext4_lookup(), and keeps its own open
 * files. Nothing is mounted and nothing needs root: ownership, modes,
 * device numbers and xattrs live in the image.
 *
 * Contract:
 * - All functions return 0 or a count on success and -errno on failure
 *   (libext2fs errors are translated once, in errcode.c; a corrupt image
 *   gives -EUCLEAN).
 * - Thread-safe: one mutex per image serialises every call (libext2fs has
 *   no locking of its own).
 * - Names are single components: never "", ".", ".." (the VFS folds those)
 *   nor containing '/'; at most 255 bytes (-ENAMETOOLONG).
 * - Permission checks are the VFS's: the backend does what it is asked.
 * - Write ordering keeps the image repairable by `e2fsck -p` if kbox is
 *   killed at any point (README.md says which operations have a window).
 */
#ifndef KBOX_FS_EXT4_EXT4_H
#define KBOX_FS_EXT4_EXT4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>

struct statx;
struct statfs;
struct kbox_ext4;

#define KBOX_EXT4_ROOT_INO 2u

/*
 * Open @path. Validates it read-only first (magic, size, features,
 * checksums, group descriptors, journal state) and on failure writes
 * nothing: -EINVAL (not an ext image), -EUCLEAN (corrupt or truncated),
 * -EOPNOTSUPP (features libext2fs cannot handle), -EBUSY (another kbox
 * holds it: a writer excludes everyone, readers exclude a writer),
 * -EAGAIN (read-write refused: the journal or a crash left it needing
 * e2fsck). @why (may be NULL) gets a sentence for the user.
 * Read-write marks the image not-clean until kbox_ext4_close().
 */
int kbox_ext4_open(const char *path, bool rw, struct kbox_ext4 **out, char *why, size_t whysize);
/* Flush everything, mark the image clean again (read-write) and free. */
int kbox_ext4_close(struct kbox_ext4 *x);
bool kbox_ext4_is_rw(const struct kbox_ext4 *x);

/* @name in directory @dir -> *ino. -ENOENT, -ENOTDIR. Served from a cache. */
int kbox_ext4_lookup(struct kbox_ext4 *x, uint32_t dir, const char *name, uint32_t *ino);

/*
 * statx fields of @ino (ino, mode, nlink, uid, gid, size, blocks, blksize,
 * a/m/c/btime with nanoseconds, rdev, attributes). stx_dev_* is the
 * caller's to fill. getattr gives the same as a struct stat.
 */
int kbox_ext4_statx(struct kbox_ext4 *x, uint32_t ino, struct statx *stx);
int kbox_ext4_getattr(struct kbox_ext4 *x, uint32_t ino, struct stat *st);

enum {
	KBOX_EXT4_SET_MODE = 1u << 0, /* permission bits and S_ISUID/S_ISGID/S_ISVTX */
	KBOX_EXT4_SET_UID = 1u << 1,
	KBOX_EXT4_SET_GID = 1u << 2,
	KBOX_EXT4_SET_ATIME = 1u << 3, /* tv_nsec may be UTIME_NOW */
	KBOX_EXT4_SET_MTIME = 1u << 4,
	KBOX_EXT4_SET_SIZE = 1u << 5, /* truncate or extend (sparse) */
};

struct kbox_ext4_setattr {
	unsigned valid; /* KBOX_EXT4_SET_* */
	mode_t mode;
	uid_t uid;
	gid_t gid;
	struct timespec atime, mtime;
	uint64_t size;
};
/*
 * @sa for utimensat(2)'s @ts: NULL is now for both, UTIME_NOW is now and
 * UTIME_OMIT leaves that time alone. False when nothing is left to set.
 */
static inline bool kbox_ext4_setattr_times(struct kbox_ext4_setattr *sa,
					   const struct timespec ts[2])
{
	*sa = (struct kbox_ext4_setattr){.valid = KBOX_EXT4_SET_ATIME | KBOX_EXT4_SET_MTIME};
	sa->atime = ts ? ts[0] : (struct timespec){.tv_nsec = UTIME_NOW};
	sa->mtime = ts ? ts[1] : (struct timespec){.tv_nsec = UTIME_NOW};
	if (sa->atime.tv_nsec == UTIME_OMIT)
		sa->valid &= ~(unsigned)KBOX_EXT4_SET_ATIME;
	if (sa->mtime.tv_nsec == UTIME_OMIT)
		sa->valid &= ~(unsigned)KBOX_EXT4_SET_MTIME;
	return sa->valid != 0;
}

/* Sets what @sa names and ctime to now. */
int kbox_ext4_setattr(struct kbox_ext4 *x, uint32_t ino, const struct kbox_ext4_setattr *sa);

/*
 * readdir: calls @fill for each entry from position *pos on ("." and ".."
 * included), in directory order, until @fill returns nonzero (that entry
 * is not consumed) or the end. *pos is left at the next entry. Positions
 * are byte offsets in the directory, stable while entries come and go
 * (a deleted entry's space merges into its neighbour; a new one goes into
 * free space), except where libext2fs splits an htree leaf.
 */
typedef int (*kbox_ext4_fill_fn)(void *arg, const char *name, size_t len, uint32_t ino,
				 unsigned dtype, uint64_t next_pos);
int kbox_ext4_readdir(struct kbox_ext4 *x, uint32_t dir, uint64_t *pos, kbox_ext4_fill_fn fill,
		      void *arg);

/* Data at byte offsets. Holes and unwritten extents read as zeros. */
ssize_t kbox_ext4_read(struct kbox_ext4 *x, uint32_t ino, void *buf, size_t count, uint64_t off);
ssize_t kbox_ext4_write(struct kbox_ext4 *x, uint32_t ino, const void *buf, size_t count,
			uint64_t off);
int kbox_ext4_truncate(struct kbox_ext4 *x, uint32_t ino, uint64_t size);
/* lseek(SEEK_DATA / SEEK_HOLE) from @off: the offset, or -ENXIO past the data. */
int64_t kbox_ext4_seek(struct kbox_ext4 *x, uint32_t ino, uint64_t off, int whence);
int kbox_ext4_readlink(struct kbox_ext4 *x, uint32_t ino, char *buf, size_t size);

/*
 * Where a regular file's data lies in the image file: byte ranges
 * (@off in the file, @img_off in the image, @len), ascending, below the
 * size; holes and unwritten extents are left out (they read as zeros).
 * Valid while nothing writes the inode. 0 with @s->v malloc'ed (the
 * caller frees it), or -errno (-EOPNOTSUPP: inline data, read it instead).
 */
struct kbox_ext4_span {
	uint64_t off, img_off, len;
};
struct kbox_ext4_spans {
	struct kbox_ext4_span *v;
	size_t n, cap;
};
int kbox_ext4_data_spans(struct kbox_ext4 *x, uint32_t ino, struct kbox_ext4_spans *s);
/* kbox's own fd of the image file (for reading the spans above; never closed by the caller). */
int kbox_ext4_image_fd(const struct kbox_ext4 *x);

/*
 * Namespace. New objects get @uid/@gid and @mode as given (umask applied
 * by the caller). mknod makes regular files, fifos, sockets and devices
 * (@rdev). -EEXIST when @name exists.
 */
int kbox_ext4_mknod(struct kbox_ext4 *x, uint32_t dir, const char *name, mode_t mode, dev_t rdev,
		    uid_t uid, gid_t gid, uint32_t *ino);
int kbox_ext4_mkdir(struct kbox_ext4 *x, uint32_t dir, const char *name, mode_t mode, uid_t uid,
		    gid_t gid, uint32_t *ino);
int kbox_ext4_symlink(struct kbox_ext4 *x, uint32_t dir, const char *name, const char *target,
		      uid_t uid, gid_t gid, uint32_t *ino);
int kbox_ext4_link(struct kbox_ext4 *x, uint32_t ino, uint32_t dir, const char *name);
int kbox_ext4_unlink(struct kbox_ext4 *x, uint32_t dir, const char *name);
int kbox_ext4_rmdir(struct kbox_ext4 *x, uint32_t dir, const char *name);
/* @flags: RENAME_NOREPLACE or RENAME_EXCHANGE (others -EINVAL). */
int kbox_ext4_rename(struct kbox_ext4 *x, uint32_t odir, const char *oname, uint32_t ndir,
		     const char *nname, unsigned flags);

/*
 * Open references: an inode whose last name goes while referenced stays
 * (link count 0) until the last kbox_ext4_iput(), which frees it.
 */
int kbox_ext4_iget(struct kbox_ext4 *x, uint32_t ino);
int kbox_ext4_iput(struct kbox_ext4 *x, uint32_t ino);

/* Extended attributes, with setxattr(2)'s names, flags and errors. */
int kbox_ext4_getxattr(struct kbox_ext4 *x, uint32_t ino, const char *name, void *val, size_t size);
int kbox_ext4_setxattr(struct kbox_ext4 *x, uint32_t ino, const char *name, const void *val,
		       size_t size, int flags);
int kbox_ext4_listxattr(struct kbox_ext4 *x, uint32_t ino, char *list, size_t size);
int kbox_ext4_removexattr(struct kbox_ext4 *x, uint32_t ino, const char *name);

int kbox_ext4_statfs(struct kbox_ext4 *x, struct statfs *sfs);
/*
 * Make what is written to @ino durable: its data and the metadata that
 * reaches it are already in the image file (nothing is cached), so this
 * is one fdatasync of the image, not a rewrite of the bitmaps.
 */
int kbox_ext4_fsync(struct kbox_ext4 *x, uint32_t ino, bool datasync);
/* Everything, bitmaps and counters included (sync, syncfs). */
int kbox_ext4_sync(struct kbox_ext4 *x);

/*
 * `kbox image create`: a new ext4 image at @image holding a copy of host
 * directory @from. @size 0: content plus headroom. @root_owned: what the
 * user owns becomes root's, and a fake-ownership record kept by a
 * directory root (fs/hostdir/meta.h) wins over the host's view.
 * Progress and errors go to the log; returns 0 or -errno.
 */
struct kbox_image_opts {
	const char *from;
	const char *image;
	uint64_t size;
	bool root_owned;
};
int kbox_ext4_image_create(const struct kbox_image_opts *o);

#endif
