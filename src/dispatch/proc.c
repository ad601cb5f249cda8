// SPDX-License-Identifier: MIT
/*
 * Process bookkeeping: clone family, exit, unshare. The host runs all of
 * them (only the task itself can create or end tasks); kbox notes first
 * what the child inherits and what ends.
 */
#include <errno.h>
#include <linux/sched.h>
#include <signal.h>
#include <stddef.h>

#include "../kernel/kernel.h"
#include "dispatch.h"

/* Namespaces would let the guest build its own view of the host: refused. */
#define NAMESPACE_FLAGS                                                                            \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
	 CLONE_NEWCGROUP | CLONE_NEWTIME)

static struct kbox_result announce_clone(struct kbox_request *req, uint64_t flags)
{
	if (flags & NAMESPACE_FLAGS)
		return kbox_res_value(-EPERM, KBOX_DISP_DENIED);
	kbox_kernel_clone_announce(req->task, flags);
	return kbox_res_continue();
}

struct kbox_result sys_clone(struct kbox_request *req)
{
	return announce_clone(req, req->args[0]);
}

struct kbox_result sys_clone3(struct kbox_request *req)
{
	uint64_t flags;
	int err;

	/* Linux checks the size first: CLONE_ARGS_SIZE_VER0 is 64 bytes. */
	if (req->args[1] < 64)
		return kbox_errno(EINVAL);
	err = kbox_read_guest(req, req->args[0], &flags, sizeof(flags));
	if (err)
		return kbox_errno(-err);
	return announce_clone(req, flags);
}

struct kbox_result sys_fork(struct kbox_request *req)
{
	return announce_clone(req, SIGCHLD);
}

struct kbox_result sys_vfork(struct kbox_request *req)
{
	return announce_clone(req, CLONE_VM | CLONE_VFORK | SIGCHLD);
}

/* The tid may be reused as soon as the thread is gone: forget it now. */
struct kbox_result sys_exit(struct kbox_request *req)
{
	kbox_kernel_thread_exit(req->task);
	req->task = NULL;
	return kbox_res_continue();
}

struct kbox_result sys_exit_group(struct kbox_request *req)
{
	kbox_kernel_process_gone(req->task->proc->tgid);
	req->task = NULL;
	return kbox_res_continue();
}

struct kbox_result sys_unshare(struct kbox_request *req)
{
	uint64_t flags = req->args[0];
	int err;

	if (flags & NAMESPACE_FLAGS)
		return kbox_res_value(-EPERM, KBOX_DISP_DENIED);
	if (flags & CLONE_FS) {
		err = kbox_kernel_unshare_fs(req->task);
		if (err)
			return kbox_errno(-err);
	}
	/* CLONE_FILES and CLONE_SYSVSEM are the host's to do on its own tables. */
	return kbox_res_continue();
}
