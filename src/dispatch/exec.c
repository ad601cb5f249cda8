// SPDX-License-Identifier: MIT
/*
 * execve/execveat and the stub's requests (loader/stub_proto.h).
 *
 * The guest's own execve never reaches the host: the filter traps it to
 * the stub (SIGSYS), the stub asks kbox to prepare (KBOX_STUB_OP_EXEC_PREPARE)
 * and re-execs itself from its exec site, which is the only exec the
 * filter notifies and the only one kbox lets the host run.
 */
#include "exec.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../loader/loader.h"
#include "dispatch.h"

/* How the files of one exec are opened: the program, then interpreters. */
struct exec_open {
	const struct kbox_lookup_ctx *cwd; /* interpreters and PT_INTERP */
	struct kbox_lookup_ctx first;	   /* the program: cwd or the dirfd's directory */
	int dirfd_kbox;
	int at_flags;
};

/* access(X_OK) with effective ids of O_PATH @fd, whose /proc/self/fd link is @proc. */
static int may_execute(int fd, const char *proc)
{
	/* Linux 5.8: the O_PATH fd itself, without a lookup in /proc (3 us here). */
	if (syscall(SYS_faccessat2, fd, "", X_OK, AT_EACCESS | AT_EMPTY_PATH) == 0)
		return 0;
	if (errno != ENOSYS && errno != EINVAL)
		return -1;
	return faccessat(AT_FDCWD, proc, X_OK, AT_EACCESS);
}

/*
 * What open_exec() checks once the path is resolved: a regular file
 * (may_open() gives EACCES for anything else, directories included) with
 * execute permission, which access(2) also denies on noexec mounts. The
 * stub must read the file, so unlike Linux an execute-only file fails
 * with EACCES.
 */
static int check_and_reopen(int fd)
{
	char proc[64];
	struct stat st;
	int ro;

	if (fstat(fd, &st) < 0)
		return -errno;
	if (S_ISLNK(st.st_mode))
		return -ELOOP; /* AT_SYMLINK_NOFOLLOW met a symlink */
	if (!S_ISREG(st.st_mode))
		return -EACCES;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", fd);
	if (may_execute(fd, proc) < 0)
		return -errno;
	ro = open(proc, O_RDONLY | O_CLOEXEC);
	return ro < 0 ? -errno : ro;
}

static int open_exec(void *arg, const char *path, bool first)
{
	struct exec_open *eo = arg;
	int oflags = O_PATH | O_CLOEXEC, fd, ro;
	bool would_block = false;

	if (first && !path[0] && eo->dirfd_kbox >= 0) {
		fd = fcntl(eo->dirfd_kbox, F_DUPFD_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
	} else {
		if (first && (eo->at_flags & AT_SYMLINK_NOFOLLOW))
			oflags |= O_NOFOLLOW;
		/* AT_EMPTY_PATH from AT_FDCWD execs the cwd: "." fails as a directory. */
		fd = kbox_vfs_open(first ? &eo->first : eo->cwd, path[0] ? path : ".", oflags, 0,
				   &would_block);
		if (fd < 0)
			return fd;
	}
	ro = check_and_reopen(fd);
	close(fd);
	return ro;
}

/* Linux's bprm->filename: the path as given, or /dev/fd/N[/path] for a dirfd. */
static int exec_filename(int gdirfd, const char *path, char *out, size_t size)
{
	int n;

	if (gdirfd == AT_FDCWD || path[0] == '/')
		n = snprintf(out, size, "%s", path);
	else if (!path[0])
		n = snprintf(out, size, "/dev/fd/%d", gdirfd);
	else
		n = snprintf(out, size, "/dev/fd/%d/%s", gdirfd, path);
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

static int store_plan(struct kbox_process *p, struct kbox_binprm *bp)
{
	struct kbox_exec_plan *plan;

	if (bp->strings_len > sizeof(plan->strings))
		return -E2BIG;
	/* A plan still here is an exec that never ran (its host execveat failed). */
	kbox_kernel_plan_drop(p);
	kbox_kernel_forget_mm(p);
	plan = calloc(1, sizeof(*plan));
	if (!plan)
		return -ENOMEM;
	p->plan = plan;
	plan->pending = true;
	plan->prog_fd = bp->prog_fd;
	plan->interp_fd = bp->interp_fd;
	plan->flags = bp->flags;
	plan->nprefix = bp->nprefix;
	plan->strings_len = bp->strings_len;
	memcpy(plan->strings, bp->strings, bp->strings_len);
	return 0;
}

/* The directory a relative path starts from, as a guest path. */
static int dirfd_base(int dirfd_kbox, char *out, size_t size)
{
	struct stat st;

	if (fstat(dirfd_kbox, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	return kbox_vfs_guest_path_of_fd(dirfd_kbox, out, size);
}

static int exec_prepare_at(struct kbox_process *p, const struct kbox_lookup_ctx *ctx,
			   int dirfd_kbox, int gdirfd, const char *path, int at_flags,
			   bool path_inaccessible)
{
	struct exec_open eo = {
		.cwd = ctx, .first = *ctx, .dirfd_kbox = dirfd_kbox, .at_flags = at_flags};
	struct kbox_binprm_ops ops = {.open_exec = open_exec, .arg = &eo};
	char base[PATH_MAX], filename[PATH_MAX + 32];
	struct kbox_binprm *bp;
	int err;

	/* getname() refuses "" before do_open_execat() checks the flags. */
	if (!path[0] && !(at_flags & AT_EMPTY_PATH))
		return -ENOENT;
	if (at_flags & ~(AT_EMPTY_PATH | AT_SYMLINK_NOFOLLOW))
		return -EINVAL;
	if (dirfd_kbox >= 0 && path[0] && path[0] != '/') {
		err = dirfd_base(dirfd_kbox, base, sizeof(base));
		if (err)
			return err;
		eo.first.base = base;
	}
	err = exec_filename(gdirfd, path, filename, sizeof(filename));
	if (err)
		return err;
	bp = malloc(sizeof(*bp));
	if (!bp)
		return -ENOMEM;
	err = kbox_binprm_prepare(&ops, path, filename, path_inaccessible, bp);
	if (!err) {
		err = store_plan(p, bp);
		if (err)
			kbox_binprm_release(bp);
	}
	free(bp);
	return err;
}

int kbox_exec_prepare(struct kbox_process *p, const struct kbox_lookup_ctx *ctx, int dirfd_kbox,
		      const char *path, int at_flags)
{
	return exec_prepare_at(p, ctx, dirfd_kbox, dirfd_kbox >= 0 ? dirfd_kbox : AT_FDCWD, path,
			       at_flags, false);
}

/*
 * Linux gives up on a script exec'd through a close-on-exec dirfd
 * (BINPRM_FLAGS_PATH_INACCESSIBLE): its interpreter could not open
 * /dev/fd/N. The flag lives in the guest's fd table: read it from fdinfo.
 */
static bool guest_fd_cloexec(pid_t tid, int gfd)
{
	char path[64], line[128];
	unsigned long flags = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", tid, gfd);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = sscanf(line, "flags: %lo", &flags) == 1;
	fclose(f);
	return found && (flags & O_CLOEXEC);
}

static struct kbox_result stub_exec_prepare(struct kbox_request *req)
{
	struct kbox_fs_state *fs = kbox_task_fs(req->task);
	struct kbox_lookup_ctx ctx = {.root = fs->root,
				      .base = fs->cwd,
				      .tgid = req->task->proc->tgid,
				      .tid = req->task->tid};
	int gdirfd = (int)req->args[1], flags = (int)req->args[5], kfd = -1, err, sfd;
	char path[PATH_MAX];
	bool inaccessible = false;

	err = kbox_read_guest_string(req, req->args[2], path, sizeof(path));
	if (err < 0)
		return kbox_errno(-err);
	if (gdirfd != AT_FDCWD && path[0] != '/') {
		kfd = req->tier->get_guest_fd(req, gdirfd);
		if (kfd < 0)
			return kbox_errno(EBADF);
		inaccessible = guest_fd_cloexec(req->tid, gdirfd);
	}
	err = exec_prepare_at(req->task->proc, &ctx, kfd, gdirfd, path, flags, inaccessible);
	if (kfd >= 0)
		close(kfd);
	if (err)
		return kbox_errno(-err);
	sfd = fcntl(kbox_stub_memfd(), F_DUPFD_CLOEXEC, 0);
	if (sfd < 0)
		return kbox_errno(errno);
	return kbox_res_fd(sfd, true);
}

static struct kbox_exec_plan *pending_plan(struct kbox_request *req)
{
	struct kbox_exec_plan *plan = req->task->proc->plan;

	return plan && plan->pending ? plan : NULL;
}

static struct kbox_result stub_load_info(struct kbox_request *req)
{
	struct kbox_exec_plan *plan = pending_plan(req);
	struct kbox_stub_plan *out;
	size_t len;
	int err;

	if (!plan)
		return kbox_errno(ENOENT);
	/* The stub's first call: the exec is done, its memfd may name the old mm. */
	kbox_kernel_forget_mm(req->task->proc);
	len = sizeof(*out) + plan->strings_len;
	if (req->args[2] < len)
		return kbox_errno(ERANGE);
	out = malloc(len);
	if (!out)
		return kbox_errno(ENOMEM);
	*out = (struct kbox_stub_plan){.magic = KBOX_STUB_MAGIC,
				       .flags = plan->flags,
				       .nprefix = plan->nprefix,
				       .strings_len = plan->strings_len};
	memcpy(out->strings, plan->strings, plan->strings_len);
	err = kbox_write_guest(req, req->args[1], out, len);
	free(out);
	if (err < 0)
		return kbox_errno(-err);
	return kbox_res_value((int64_t)len, KBOX_DISP_EMULATED);
}

/*
 * Exec's effect on the emulated ids (bprm_creds_from_file()): a setuid or
 * setgid program, as the guest sees it, gives its owner or group as the
 * effective id; then the saved and fs ids follow the effective ones. Only
 * the emulated ids change: the host never sees the bit (see owner.c).
 */
static void exec_ids(struct kbox_process *p, int prog_fd)
{
	struct kbox_creds *c = &p->creds;
	struct stat st;

	int r;

	if (!kbox_vfs_owner_enabled())
		return;
	/* An image's file: its inode says; a directory root's: the record does. */
	r = kbox_vfs_image_fstat(prog_fd, &st);
	if (r == 1) {
		r = fstat(prog_fd, &st) < 0 ? -errno : 0;
		if (r == 0)
			kbox_owner_fix_stat(prog_fd, NULL, &st);
	}
	if (r < 0)
		return;
	if (st.st_mode & S_ISUID)
		c->euid = st.st_uid;
	if ((st.st_mode & (S_ISGID | S_IXGRP)) == (S_ISGID | S_IXGRP))
		c->egid = st.st_gid;
	c->suid = c->fsuid = c->euid;
	c->sgid = c->fsgid = c->egid;
}

/* The program runs now: /proc/self/exe names it, and the plan is spent. */
static void commit(struct kbox_request *req, struct kbox_exec_plan *plan)
{
	struct kbox_process *p = req->task->proc;

	exec_ids(p, plan->prog_fd);
	kbox_kernel_set_exe(p, plan->prog_fd, plan->strings); /* strings start with execfn */
	plan->prog_fd = -1;
	kbox_kernel_exec_commit(req->task);
}

static struct kbox_result stub_open_fd(struct kbox_request *req)
{
	struct kbox_exec_plan *plan = pending_plan(req);
	bool has_interp, last;
	int fd;

	if (!plan)
		return kbox_errno(ENOENT);
	has_interp = plan->flags & KBOX_PLAN_HAS_INTERP;
	if (req->args[1] == KBOX_STUB_FD_PROGRAM)
		fd = plan->prog_fd;
	else if (req->args[1] == KBOX_STUB_FD_INTERP && has_interp)
		fd = plan->interp_fd;
	else
		return kbox_errno(EINVAL);
	fd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
	if (fd < 0)
		return kbox_errno(errno);
	last = req->args[1] == KBOX_STUB_FD_INTERP || !has_interp;
	if (last)
		commit(req, plan);
	return kbox_res_fd(fd, true);
}

struct kbox_result kbox_stub_request(struct kbox_request *req)
{
	switch (req->args[0]) {
	case KBOX_STUB_OP_EXEC_PREPARE:
		return stub_exec_prepare(req);
	case KBOX_STUB_OP_LOAD_INFO:
		return stub_load_info(req);
	case KBOX_STUB_OP_OPEN_FD:
		return stub_open_fd(req);
	case KBOX_STUB_OP_OPEN:
		return kbox_stub_open(req);
	case KBOX_STUB_OP_FAILED:
		kbox_err("process %d: the exec stub could not load its program: %s",
			 req->task->proc->tgid, strerror((int)-(int64_t)req->args[1]));
		return kbox_res_value(0, KBOX_DISP_EMULATED);
	default:
		return kbox_errno(EINVAL);
	}
}

/* A raw execve from an exec site: the stub never makes one. */
struct kbox_result sys_execve(struct kbox_request *req)
{
	return kbox_errno(EACCES);
}

/*
 * From an exec site (the filter notifies no other): let the host run it
 * only if it execs the stub itself, by fd. The host kernel then resolves
 * no path: "" with AT_EMPTY_PATH.
 */
struct kbox_result sys_execveat(struct kbox_request *req)
{
	char path[2];
	bool stub;
	int kfd;

	if (req->args[4] != AT_EMPTY_PATH)
		return kbox_errno(EACCES);
	if (kbox_read_guest_string(req, req->args[1], path, sizeof(path)) != 0 || path[0])
		return kbox_errno(EACCES);
	kfd = req->tier->get_guest_fd(req, (int)req->args[0]);
	if (kfd < 0)
		return kbox_errno(EACCES);
	stub = kbox_stub_is_stub_fd(kfd);
	close(kfd);
	return stub ? kbox_res_continue() : kbox_errno(EACCES);
}

static int check_candidate(const struct kbox_lookup_ctx *ctx, const char *path)
{
	bool would_block = false;
	int fd = kbox_vfs_open(ctx, path, O_PATH | O_CLOEXEC, 0, &would_block), ro;

	if (fd < 0)
		return fd;
	ro = check_and_reopen(fd);
	close(fd);
	if (ro < 0)
		return ro;
	close(ro);
	return 0;
}

int kbox_exec_find_program(const struct kbox_lookup_ctx *ctx, const char *name, char *out,
			   size_t size)
{
	static const char *const dirs[] = {"/usr/local/sbin", "/usr/local/bin", "/usr/sbin",
					   "/usr/bin",	      "/sbin",		"/bin"};
	bool denied = false;
	int err;

	if (!name[0])
		return -ENOENT;
	if (strchr(name, '/')) {
		err = check_candidate(ctx, name);
		if (!err && snprintf(out, size, "%s", name) >= (int)size)
			err = -ENAMETOOLONG;
		return err;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if (snprintf(out, size, "%s/%s", dirs[i], name) >= (int)size)
			return -ENAMETOOLONG;
		err = check_candidate(ctx, out);
		if (!err)
			return 0;
		denied |= err == -EACCES;
	}
	return denied ? -EACCES : -ENOENT;
}
