// SPDX-License-Identifier: MIT
/*
 * getdents, getdents64: notified only when the guest has a procfs mount,
 * whose root would list the host's pids. The call runs on kbox's copy of
 * the guest's fd, which shares its file offset, and kbox writes the entries
 * back; never a CONTINUE, since another guest thread could dup2 a procfs
 * root onto the fd between kbox's look and the host's call.
 */
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "fs_priv.h"

/* Larger buffers are filled in part, as getdents may. */
#define DIRENT_BUF_MAX (64 * 1024)

/*
 * Linux checks the fd (EBADF), then the buffer (EFAULT) before reading. kbox
 * writes the buffer after reading: an unwritable buffer still gets EFAULT,
 * but the directory offset has moved past the entries lost.
 */
static struct kbox_result do_getdents(struct kbox_request *req, bool dirent64)
{
	size_t size = (unsigned int)req->args[2];
	int kfd = req->tier->get_guest_fd(req, (int)req->args[0]);
	void *buf;
	long n;

	if (kfd < 0)
		return fs_ret(-EBADF);
	if (size > DIRENT_BUF_MAX)
		size = DIRENT_BUF_MAX;
	buf = malloc(size ? size : 1);
	n = buf ? kbox_vfs_getdents(kfd, buf, size, dirent64) : -ENOMEM;
	if (n > 0) {
		int r = kbox_write_guest(req, req->args[1], buf, (size_t)n);

		n = r < 0 ? r : n;
	}
	free(buf);
	close(kfd);
	return fs_ret(n);
}

struct kbox_result sys_getdents(struct kbox_request *req)
{
	return do_getdents(req, false);
}

struct kbox_result sys_getdents64(struct kbox_request *req)
{
	return do_getdents(req, true);
}
