// SPDX-License-Identifier: MIT
/*
 * AF_UNIX socket paths. sun_path holds 108 bytes and the host resolves it
 * against kbox's root, so a guest path is never handed over: connect and
 * send go to /proc/self/fd/M of an O_PATH fd of the socket inode; bind runs
 * on a short-lived thread that unshares its fs state and fchdirs into the
 * resolved parent, so the relative name fits and the guest's umask applies
 * to the new socket file without touching kbox's own cwd or umask.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../fs/hostdir/hostdir.h"
#include "internal.h"

struct bind_job {
	int sockfd;
	int dirfd;
	const char *name;
	mode_t umask;
	int result;
};

static void *bind_thread(void *arg)
{
	struct bind_job *j = arg;
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	size_t n = strlen(j->name);

	j->result = -ENAMETOOLONG;
	if (n >= sizeof(sun.sun_path))
		return NULL;
	memcpy(sun.sun_path, j->name, n + 1);
	if (unshare(CLONE_FS) < 0 || fchdir(j->dirfd) < 0) {
		j->result = -errno;
		return NULL;
	}
	umask(j->umask);
	j->result = bind(j->sockfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
	return NULL;
}

int kbox_vfs_unix_bind(const struct kbox_lookup_ctx *ctx, const char *path, int sockfd,
		       mode_t umask)
{
	struct kbox_nameidata nd;
	struct bind_job j = {.sockfd = sockfd, .umask = umask & 0777};
	pthread_t th;
	int r = kbox_vfs_lookup_parent(ctx, path, KBOX_LOOKUP_PARENT, &nd);

	if (r < 0)
		return r;
	if (nd.last != KBOX_LAST_NORM || nd.trailing_slash)
		r = -EADDRINUSE;
	else if (nd.mnt->ext4)
		r = kbox_img_unix_bind(ctx, &nd, sockfd, umask) ?: 1;
	else
		r = kbox_vfs_check_writable(&nd);
	if (r == 1)
		r = 0;
	else if (r == 0) {
		j.dirfd = nd.dirfd;
		j.name = nd.name;
		r = -pthread_create(&th, NULL, bind_thread, &j);
		if (r == 0) {
			pthread_join(th, NULL);
			r = j.result;
		}
		kbox_dcache_forget(&nd);
	}
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_unix_addr(const struct kbox_lookup_ctx *ctx, const char *path, char *sun_path,
		       size_t size)
{
	int fd = kbox_vfs_open_path(ctx, path, KBOX_LOOKUP_FOLLOW);

	if (fd < 0)
		return fd;
	snprintf(sun_path, size, "/proc/self/fd/%d", fd);
	return fd;
}

int kbox_vfs_unix_connect(const struct kbox_lookup_ctx *ctx, const char *path, int sockfd)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	int fd = kbox_vfs_unix_addr(ctx, path, sun.sun_path, sizeof(sun.sun_path));
	int r;

	if (fd < 0)
		return fd;
	r = connect(sockfd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ? -errno : 0;
	close(fd);
	return r;
}
