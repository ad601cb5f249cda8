/* SPDX-License-Identifier: MIT */
/*
 * hostdir per-file metadata that the host user cannot really set: the
 * owner and group a fake-root guest gave a file, a mode the real file must
 * not have (setuid bits, modes that would lock kbox out), a device node's
 * type and number (the real file is an empty placeholder), and privileged
 * extended attributes (security.capability, trusted.*).
 *
 * Where it lives: the user xattr "user.kbox" of the file itself (regular
 * files and directories on file systems with user xattrs), so it follows
 * the inode through renames and hard links and goes with it; otherwise
 * (symlinks, fifos, sockets, no user xattrs) a store file beside the root,
 * keyed by (st_dev, st_ino), that kbox loads at start and appends to. A
 * torn last record (kbox killed mid-write) is ignored when loading.
 *
 * All functions return 0 or a count on success and -errno on failure.
 * Thread-safe.
 */
#ifndef KBOX_FS_HOSTDIR_META_H
#define KBOX_FS_HOSTDIR_META_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/types.h>

/* The xattr name kbox keeps its record under; hidden from the guest. */
#define KBOX_META_XATTR "user.kbox"

enum {
	KBOX_META_UID = 1u << 0,
	KBOX_META_GID = 1u << 1,
	KBOX_META_MODE = 1u << 2, /* full st_mode, type included */
	KBOX_META_RDEV = 1u << 3,
};

/* Privileged xattrs the guest set, packed: (u8 name length, u16 value length, name, value)*. */
#define KBOX_META_XATTRS_MAX 3800

struct kbox_meta {
	unsigned valid; /* KBOX_META_* */
	uid_t uid;
	gid_t gid;
	mode_t mode;
	dev_t rdev;
	uint16_t xlen; /* bytes of xattrs used */
	unsigned char xattrs[KBOX_META_XATTRS_MAX];
};

/*
 * The object: @name in directory @dirfd (never followed), or @dirfd itself
 * when @name is NULL. @st is the object's lstat (type, st_dev, st_ino).
 * get: -ENODATA when kbox holds nothing for it.
 */
int kbox_meta_get(int dirfd, const char *name, const struct stat *st, struct kbox_meta *m);
/* Store @m (an empty @m: valid 0 and no xattrs, removes the record). */
int kbox_meta_set(int dirfd, const char *name, const struct stat *st, const struct kbox_meta *m);
/* The inode @st is gone (its last link was removed): drop its store record. */
void kbox_meta_forget(const struct stat *st);
/*
 * DT_CHR or DT_BLK when inode @ino of @dev is a device placeholder (whose
 * records go to the store as well as the xattr), else 0: for getdents.
 */
int kbox_meta_dirent_type(dev_t dev, ino_t ino);
/* True when the store has a record for @st (kbox_meta_forget() has work to do). */
bool kbox_meta_in_store(const struct stat *st);

/*
 * The store file: the first of @paths (best first) that exists is loaded;
 * when none does, the first that can be created is, once there is a record
 * to keep. Without any, records last for this run only (said once).
 */
int kbox_meta_store_open(const char *const *paths, int n);
void kbox_meta_store_close(void);
const char *kbox_meta_store_path(void);

/* Privileged xattr helpers on m->xattrs. get: value length, -ENODATA, -ERANGE. */
int kbox_meta_xattr_get(const struct kbox_meta *m, const char *name, void *val, size_t size);
/* @flags XATTR_CREATE / XATTR_REPLACE as setxattr(2). -ENOSPC when full. */
int kbox_meta_xattr_set(struct kbox_meta *m, const char *name, const void *val, size_t size,
			int flags);
int kbox_meta_xattr_remove(struct kbox_meta *m, const char *name);
/* Append the names (NUL-terminated each) to @list; returns the bytes they need. */
size_t kbox_meta_xattr_names(const struct kbox_meta *m, char *list, size_t size);

#endif
