// SPDX-License-Identifier: MIT
/*
 * Calls that take a path only to name an inode for an fd-based facility:
 * inotify_add_watch, fanotify_mark, name_to_handle_at. kbox resolves the
 * path to an O_PATH fd and hands the host that fd (or /proc/self/fd/N,
 * whose magic link is the inode itself), acting on a copy of the guest's
 * inotify/fanotify fd, which shares the guest's open file.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/fanotify.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "fs_priv.h"

#ifndef AT_HANDLE_FID
#define AT_HANDLE_FID 0x200
#endif
#ifndef AT_HANDLE_MNT_ID_UNIQUE
#define AT_HANDLE_MNT_ID_UNIQUE 0x001
#endif
#define HANDLE_MAX 128 /* MAX_HANDLE_SZ */

struct kbox_result sys_inotify_add_watch(struct kbox_request *req)
{
	uint32_t mask = (uint32_t)req->args[2];
	char proc[32];
	struct fs_path p;
	int kfd, fd, r;

	r = fs_path_at(req, AT_FDCWD, req->args[1], &p);
	if (r < 0)
		return fs_ret(r);
	kfd = req->tier->get_guest_fd(req, (int)req->args[0]);
	if (kfd < 0)
		return fs_ret(-EBADF);
	fd = kbox_vfs_open_path(&p.ctx, p.path,
				((mask & IN_DONT_FOLLOW) ? 0 : KBOX_LOOKUP_FOLLOW) |
					((mask & IN_ONLYDIR) ? KBOX_LOOKUP_DIRECTORY : 0));
	r = fd;
	if (fd >= 0) {
		/* The magic link must be followed to reach the inode: drop IN_DONT_FOLLOW. */
		snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
		r = inotify_add_watch(kfd, proc, mask & ~IN_DONT_FOLLOW);
		r = r < 0 ? -errno : r;
		close(fd);
	}
	close(kfd);
	return fs_ret(r);
}

struct kbox_result sys_fanotify_mark(struct kbox_request *req)
{
	unsigned flags = (unsigned)req->args[1];
	int dirfd = (int)req->args[3], kfd, fd, r;
	struct fs_path p;

	/* A NULL path marks dirfd itself: the host can. */
	if (!req->args[4])
		return kbox_res_continue();
	r = fs_path_at(req, dirfd, req->args[4], &p);
	if (r < 0)
		return fs_ret(r);
	kfd = req->tier->get_guest_fd(req, (int)req->args[0]);
	if (kfd < 0)
		return fs_ret(-EBADF);
	fd = kbox_vfs_open_path(&p.ctx, p.path,
				((flags & FAN_MARK_DONT_FOLLOW) ? 0 : KBOX_LOOKUP_FOLLOW) |
					((flags & FAN_MARK_ONLYDIR) ? KBOX_LOOKUP_DIRECTORY : 0));
	r = fd;
	if (fd >= 0) {
		r = fanotify_mark(kfd, flags, req->args[2], fd, NULL) < 0 ? -errno : 0;
		close(fd);
	}
	close(kfd);
	return fs_ret(r);
}

struct handle_buf {
	uint32_t handle_bytes;
	int32_t handle_type;
	unsigned char f_handle[HANDLE_MAX];
};

/* Copy back the handle (also on EOVERFLOW: it carries the size needed) and the mount id. */
static int handle_out(struct kbox_request *req, const struct handle_buf *h, uint64_t mnt_id,
		      int flags)
{
	uint64_t haddr = req->args[2], maddr = req->args[3];
	size_t n = 8 + (h->handle_bytes <= HANDLE_MAX ? h->handle_bytes : 0);
	int mid32 = (int)mnt_id;
	int r = kbox_write_guest(req, haddr, h, n);

	if (r == 0 && (flags & AT_HANDLE_MNT_ID_UNIQUE))
		r = kbox_write_guest(req, maddr, &mnt_id, sizeof(mnt_id));
	else if (r == 0)
		r = kbox_write_guest(req, maddr, &mid32, sizeof(mid32));
	return r;
}

struct kbox_result sys_name_to_handle_at(struct kbox_request *req)
{
	int dirfd = (int)req->args[0], flags = (int)req->args[4], fd, r;
	struct handle_buf h = {0};
	uint64_t mnt_id = 0;
	struct fs_path p;

	if (flags & ~(AT_SYMLINK_FOLLOW | AT_EMPTY_PATH | AT_HANDLE_FID | AT_HANDLE_MNT_ID_UNIQUE))
		return fs_ret(-EINVAL);
	if (fs_path_empty(req, req->args[1], flags, &p, &r) && r == 0 && (flags & AT_EMPTY_PATH) &&
	    dirfd != AT_FDCWD)
		return kbox_res_continue();
	if (r == 0)
		r = kbox_read_guest(req, req->args[2], &h.handle_bytes, sizeof(h.handle_bytes));
	if (r == 0 && h.handle_bytes > HANDLE_MAX)
		r = -EINVAL;
	if (r == 0)
		r = fs_ctx_at(req, dirfd, &p);
	if (r < 0)
		return fs_ret(r);
	fd = kbox_vfs_open_path(&p.ctx, p.path,
				((flags & AT_SYMLINK_FOLLOW) ? KBOX_LOOKUP_FOLLOW : 0) |
					((flags & AT_EMPTY_PATH) ? KBOX_LOOKUP_EMPTY : 0));
	if (fd < 0)
		return fs_ret(fd);
	r = name_to_handle_at(fd, "", (struct file_handle *)&h, (int *)&mnt_id,
			      AT_EMPTY_PATH | (flags & (AT_HANDLE_FID | AT_HANDLE_MNT_ID_UNIQUE)));
	r = r < 0 ? -errno : 0;
	close(fd);
	if (r == 0 || r == -EOVERFLOW) {
		int w = handle_out(req, &h, mnt_id, flags);

		r = w < 0 ? w : r;
	}
	return fs_ret(r);
}
