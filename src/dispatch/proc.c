// SPDX-License-Identifier: MIT
/*
 * Process bookkeeping: exit and unshare. The host runs them (only the
 * task itself can end tasks or unshare); kbox notes what ends and what is
 * no longer shared. The clone family is not notified at all: see
 * src/kernel/task.c for how children are found.
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

/* getppid() agrees with /proc/self/status: 0 for a parent outside the guest. */
struct kbox_result sys_getppid(struct kbox_request *req)
{
	return kbox_res_value(kbox_kernel_guest_ppid(req->task), KBOX_DISP_EMULATED);
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
