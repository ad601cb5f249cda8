/* SPDX-License-Identifier: MIT */
/*
 * Between image.c (the VFS side of image mounts) and imagefd.c (the host
 * objects that stand for image objects). Not a public interface.
 */
#ifndef KBOX_VFS_IMAGE_PRIV_H
#define KBOX_VFS_IMAGE_PRIV_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/stat.h>

#include "internal.h"

struct kbox_ext4_setattr;

/*
 * A new host fd for a guest open of inode @ino (lstat @st, guest path
 * @guest) with @oflags: the inode's memfd or stand-in, made at its first
 * open. Returns the fd or -errno.
 */
int kbox_imgfd_open(const struct kbox_mount *m, uint32_t ino, const struct stat *st,
		    const char *guest, int oflags);
/* Flags for a host open on the guest's behalf: its access and status flags, O_CLOEXEC. */
int kbox_imgfd_flags(int oflags);
/* Write @ino's memfd back, if it has one (@unlinked: even with link count 0). */
int kbox_imgfd_flush(const struct kbox_mount *m, uint32_t ino, bool unlinked);
/*
 * Before an attribute change of @ino: its memfd's changes go to the image
 * first, a new mode reaches the memfd, and a new size is made on the memfd
 * and written back (then 1: nothing left to do). 0 or -errno otherwise.
 */
int kbox_imgfd_setattr(const struct kbox_mount *m, uint32_t ino,
		       const struct kbox_ext4_setattr *sa);
/* Size and times of a regular file whose memfd the image has not caught up with. */
void kbox_imgfd_overlay(const struct kbox_mount *m, uint32_t ino, struct stat *st);
/* Guest paths of host objects under @og now under @ng (both ways for an exchange). */
void kbox_imgfd_renamed(const char *og, const char *ng, bool exchange);
/* The stand-in path of @ino (directories, fifos, sockets): 0 or -ENAMETOOLONG. */
int kbox_imgfd_standin_path(const struct kbox_mount *m, uint32_t ino, char *path, size_t size);

/*
 * The host copy of regular file @ino (@size bytes) for its first open: a
 * file in kbox's copy directory on tmpfs (*@named), else a memfd, or above
 * the spill threshold an unlinked file on a disk file system (*@on_disk),
 * filled from the image by in-kernel copies (imagestore.c). Returns the fd
 * or -errno.
 */
int kbox_imgstore_make(const struct kbox_mount *m, uint32_t ino, uint64_t size, bool *on_disk,
		       bool *named);
/* Choose the copy directory (before the reaper is forked: it removes it), and remove it. */
void kbox_imgstore_init(void);
void kbox_imgstore_fini(void);
/* A new open file description of @ino's named copy, with open(2) @flags. */
int kbox_imgstore_reopen(const struct kbox_mount *m, uint32_t ino, int flags);
/* Remove @ino's named copy from the directory (kbox has dropped it). */
void kbox_imgstore_unlink(const struct kbox_mount *m, uint32_t ino);
/* @path (an fd's link, a mapping's name) is a memory copy, memfd or named: its image inode. */
bool kbox_imgstore_copy_ino(const char *path, size_t len, uint32_t *ino);
/* The memory kbox may still use: MemAvailable or its cgroup's room, whichever is less. */
uint64_t kbox_imgstore_room(void);
/* @path (as /proc shows a spill file: "DIR/#INO (deleted)") is a spill file: its host inode. */
int kbox_imgstore_ino_of_path(const char *path, size_t len, ino_t *ino);
/* The st_dev of spill files (0 before the first). */
dev_t kbox_imgstore_spill_dev(void);

/*
 * Calls @mark for every host copy of an image file that kbox or a guest
 * process holds open or mapped (imageuse.c). Returns 0, or -errno when
 * some process could not be read (the answer is then incomplete: the
 * caller must treat everything as in use).
 */
struct kbox_imguse_ref {
	bool memfd;   /* a memory copy named by its image inode @ino (memfd or named copy) */
	uint64_t ino; /* else the host inode @ino on @dev */
	dev_t dev;
	int self_fd; /* the fd number when the holder is kbox's own fd table, else -1 */
};
typedef void (*kbox_imguse_mark_fn)(const struct kbox_imguse_ref *ref, void *arg);
int kbox_imguse_scan(kbox_imguse_mark_fn mark, void *arg);

#endif
