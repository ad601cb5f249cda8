// SPDX-License-Identifier: MIT
/*
 * cwd, root and umask: kernel state kbox keeps for the guest (the host
 * process's own cwd and root are never changed), emulated here.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "fs_priv.h"

/* Canonical guest paths resolve from the real guest "/", whatever the task's root. */
static const struct kbox_lookup_ctx top = {.root = "/", .base = "/"};

/* A directory the guest may enter: canonical path, ENOTDIR, EACCES (search). */
static int enter_dir(struct kbox_request *req, uint64_t addr, char out[PATH_MAX])
{
	struct kbox_lookup_ctx canon = top;
	struct fs_path p;
	int r = fs_path_at(req, AT_FDCWD, addr, &p);

	if (r == 0)
		r = kbox_vfs_realpath(&p.ctx, p.path, KBOX_LOOKUP_FOLLOW | KBOX_LOOKUP_DIRECTORY,
				      out, PATH_MAX);
	/* the search permission of the caller's guest identity (uid 0 under -0) */
	canon.cred = p.ctx.cred;
	if (r >= 0)
		r = kbox_vfs_access(&canon, out, KBOX_LOOKUP_FOLLOW, X_OK, false);
	return r;
}

struct kbox_result sys_chdir(struct kbox_request *req)
{
	char path[PATH_MAX];
	int r = enter_dir(req, req->args[0], path);

	if (r == 0)
		memcpy(kbox_task_fs(req->task)->cwd, path, sizeof(path));
	return fs_ret(r);
}

struct kbox_result sys_fchdir(struct kbox_request *req)
{
	char path[PATH_MAX];
	struct stat st;
	int kfd = req->tier->get_guest_fd(req, (int)req->args[0]);
	int r;

	if (kfd < 0)
		return fs_ret(-EBADF);
	r = fstat(kfd, &st) < 0 ? -errno : 0;
	if (r == 0 && !S_ISDIR(st.st_mode))
		r = -ENOTDIR;
	if (r == 0 && syscall(SYS_faccessat2, kfd, "", X_OK, AT_EMPTY_PATH) < 0)
		r = -errno;
	if (r == 0)
		r = kbox_vfs_guest_path_of_fd(kfd, path, sizeof(path));
	close(kfd);
	if (r >= 0)
		memcpy(kbox_task_fs(req->task)->cwd, path, sizeof(path));
	return fs_ret(r < 0 ? r : 0);
}

/*
 * As Linux's getcwd: the path relative to the task's root, or
 * "(unreachable)" before it when the cwd lies outside that root.
 */
struct kbox_result sys_getcwd(struct kbox_request *req)
{
	struct kbox_fs_state *fs = kbox_task_fs(req->task);
	size_t rlen = strlen(fs->root), size = req->args[1];
	const char *rel = fs->cwd;
	char out[PATH_MAX + 16];
	struct stat st;
	int n, r;

	if (rlen > 1 && strncmp(fs->cwd, fs->root, rlen) == 0 &&
	    (!fs->cwd[rlen] || fs->cwd[rlen] == '/'))
		rel = fs->cwd[rlen] ? fs->cwd + rlen : "/";
	if (rlen > 1 && rel == fs->cwd)
		n = snprintf(out, sizeof(out), "(unreachable)%s", fs->cwd);
	else
		n = snprintf(out, sizeof(out), "%s", rel);
	if ((size_t)n + 1 > size)
		return fs_ret(-ERANGE);
	/* A removed cwd is ENOENT, as Linux's d_unlinked() check. */
	if (kbox_vfs_stat(&top, fs->cwd, 0, &st) == -ENOENT)
		return fs_ret(-ENOENT);
	r = kbox_write_guest(req, req->args[0], out, (size_t)n + 1);
	return fs_ret(r < 0 ? r : n + 1);
}

/*
 * Linux wants CAP_SYS_CHROOT: a guest that kbox shows as root (-0, or a
 * real root run) may chroot, any other gets EPERM as it would on Linux.
 * The new root only narrows what the guest's own paths can reach.
 */
struct kbox_result sys_chroot(struct kbox_request *req)
{
	char path[PATH_MAX];
	int r;

	r = enter_dir(req, req->args[0], path);
	if (r == 0 && kbox_task_creds(req->task)->euid != 0)
		r = -EPERM; /* after the lookup, as in ksys_chroot() */
	if (r == 0)
		memcpy(kbox_task_fs(req->task)->root, path, sizeof(path));
	return fs_ret(r);
}

struct kbox_result sys_umask(struct kbox_request *req)
{
	struct kbox_fs_state *fs = kbox_task_fs(req->task);
	mode_t old = fs->umask;

	fs->umask = (mode_t)req->args[0] & 0777;
	return kbox_res_value(old, KBOX_DISP_EMULATED);
}
