// SPDX-License-Identifier: MIT
/*
 * The few signal and prctl calls kbox must see: SIGSYS belongs to the exec
 * stub (it turns the guest's execve into a request to kbox), and the guest
 * must stay dumpable for kbox to read its memory. Both are emulated: the
 * guest sees what it set, the host state does not change.
 */
#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>

#include "../kernel/kernel.h"
#include "../loader/loader.h"
#include "dispatch.h"

#define KERNEL_SIGSET_SIZE 8

/* struct kernel_sigaction on x86-64: handler, flags, restorer, mask. */
struct kernel_sigaction {
	uint64_t handler;
	uint64_t flags;
	uint64_t restorer;
	uint64_t mask;
};

struct kbox_result sys_rt_sigaction(struct kbox_request *req)
{
	struct kbox_process *p = req->task->proc;
	struct kernel_sigaction act, old;
	int err;

	/* The stub installing its own handler is the one real SIGSYS action. */
	if (req->ip == kbox_stub_sigaction_ip())
		return kbox_res_continue();
	if (req->args[3] != KERNEL_SIGSET_SIZE)
		return kbox_errno(EINVAL);
	if (req->args[1]) {
		err = kbox_read_guest(req, req->args[1], &act, sizeof(act));
		if (err)
			return kbox_errno(-err);
	}
	memcpy(&old, p->sigsys_act, sizeof(old));
	if (req->args[2]) {
		err = kbox_write_guest(req, req->args[2], &old, sizeof(old));
		if (err)
			return kbox_errno(-err);
	}
	if (req->args[1]) {
		memcpy(p->sigsys_act, &act, sizeof(act));
		p->sigsys_act_set = true;
	}
	return kbox_res_value(0, KBOX_DISP_EMULATED);
}

struct kbox_result sys_prctl(struct kbox_request *req)
{
	struct kbox_process *p = req->task->proc;

	if (req->args[0] == PR_GET_DUMPABLE)
		return kbox_res_value(p->dumpable, KBOX_DISP_EMULATED);
	if (req->args[1] > 1) /* SUID_DUMP_ROOT is not settable by prctl either */
		return kbox_errno(EINVAL);
	p->dumpable = req->args[1] == 1;
	return kbox_res_value(0, KBOX_DISP_EMULATED);
}
