// SPDX-License-Identifier: MIT
/*
 * Helpers of the path-syscall handlers: guest paths, dirfd contexts and
 * deferred answers.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fs_priv.h"

int fs_read_path(struct kbox_request *req, uint64_t addr, struct fs_path *p)
{
	int r = kbox_read_guest_string(req, addr, p->path, sizeof(p->path));

	return r < 0 ? r : 0;
}

int fs_read_path_flags(struct kbox_request *req, uint64_t addr, int flags, struct fs_path *p)
{
	int r = flags & AT_EMPTY_PATH
			? kbox_read_guest_path_maybe_empty(req, addr, p->path, sizeof(p->path))
			: kbox_read_guest_string(req, addr, p->path, sizeof(p->path));

	return r < 0 ? r : 0;
}

int fs_ctx_at(struct kbox_request *req, int dirfd, struct fs_path *p)
{
	return fs_ctx_dirfd(req, dirfd, p, false);
}

const struct kbox_vfs_cred *fs_cred(struct kbox_request *req, struct kbox_vfs_cred *buf)
{
	const struct kbox_creds *c;

	if (!kbox_vfs_owner_enabled() || !req->task)
		return NULL;
	c = kbox_task_creds(req->task);
	buf->fsuid = c->fsuid;
	buf->fsgid = c->fsgid;
	buf->ngroups = c->ngroups;
	buf->groups = c->groups;
	return buf;
}

int fs_ctx_dirfd(struct kbox_request *req, int dirfd, struct fs_path *p, bool always)
{
	struct kbox_fs_state *fs = kbox_task_fs(req->task);
	struct stat st;
	int kfd, r;

	p->ctx.root = fs->root;
	p->ctx.base = fs->cwd;
	p->ctx.tgid = req->task->proc->tgid;
	p->ctx.tid = req->task->tid;
	p->ctx.cred = fs_cred(req, &p->cred);
	/* getname(): "" is ENOENT before the dirfd is looked at (fd-only calls never get here). */
	if (!p->path[0] && dirfd != AT_FDCWD)
		return -ENOENT;
	if ((p->path[0] == '/' && !always) || dirfd == AT_FDCWD)
		return 0;
	kfd = req->tier->get_guest_fd(req, dirfd);
	if (kfd < 0)
		return -EBADF;
	r = fstat(kfd, &st) < 0 ? -errno : 0;
	if (r == 0 && !S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	if (r == 0)
		r = kbox_vfs_guest_path_of_fd(kfd, p->base, sizeof(p->base));
	close(kfd);
	if (r < 0)
		return r;
	p->ctx.base = p->base;
	return 0;
}

int fs_path_at(struct kbox_request *req, int dirfd, uint64_t addr, struct fs_path *p)
{
	int r = fs_read_path(req, addr, p);

	return r < 0 ? r : fs_ctx_at(req, dirfd, p);
}

bool fs_path_empty(struct kbox_request *req, uint64_t addr, int flags, struct fs_path *p, int *err)
{
	*err = 0;
	p->path[0] = '\0';
	if (!addr)
		return true;
	*err = fs_read_path_flags(req, addr, flags, p);
	return *err == 0 && p->path[0] == '\0';
}

static void *job_thread(void *arg)
{
	struct fs_job *job = arg;
	struct kbox_result res = job->run(job);

	job->req.tier->respond(&job->req, &res);
	free(job);
	return NULL;
}

struct kbox_result fs_defer(struct kbox_request *req, struct fs_job *job)
{
	pthread_attr_t attr;
	pthread_t th;
	int r;

	job->req = *req;
	job->req.task = NULL; /* kernel state belongs to the supervisor thread */
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	r = pthread_create(&th, &attr, job_thread, job);
	pthread_attr_destroy(&attr);
	if (r != 0) {
		free(job);
		return fs_ret(-ENOMEM);
	}
	return kbox_res_deferred();
}
