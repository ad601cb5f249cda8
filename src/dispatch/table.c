// SPDX-License-Identifier: MIT
/* The syscall table, generated from syscalls.def; unknown numbers get ENOSYS. */
#include "dispatch.h"

#include <errno.h>
#include <stddef.h>

#include "../kernel/kernel.h"
#include "../loader/stub_proto.h"
#ifndef KBOX_TABLE_ONLY
#include "exec.h"
#endif

/* KBOX_TABLE_ONLY: the policy table alone, for unit tests of the filter. */
#ifdef KBOX_TABLE_ONLY
#define HANDLER(name) NULL
#else
#define HANDLER(name) sys_##name
#endif
#define KBOX_HANDLER_ALLOW(name)     NULL
#define KBOX_HANDLER_EPERM(name)     NULL
#define KBOX_HANDLER_NOTIFY(name)    HANDLER(name)
#define KBOX_HANDLER_EXEC(name)	     HANDLER(name)
#define KBOX_HANDLER_OPATH1(name)    HANDLER(name)
#define KBOX_HANDLER_OPATH2(name)    HANDLER(name)
#define KBOX_HANDLER_TRAP(name)	     HANDLER(name)
#define KBOX_HANDLER_IDENT(name)     HANDLER(name)
#define KBOX_HANDLER_SIGSYSARG(name) HANDLER(name)
#define KBOX_HANDLER_PRCTL(name)     HANDLER(name)

static const struct kbox_syscall_info table[KBOX_SYSCALL_MAX] = {
#define KBOX_SYSCALL(nr, name, pol)                                                                \
	[nr] = {nr, #name, KBOX_POL_##pol, KBOX_HANDLER_##pol(name)},
#include "syscalls.def"
#undef KBOX_SYSCALL
};

const struct kbox_syscall_info *kbox_syscall_info(int nr)
{
	if (nr < 0 || nr >= KBOX_SYSCALL_MAX || !table[nr].name)
		return NULL;
	return &table[nr];
}

const char *kbox_syscall_name(int nr)
{
	const struct kbox_syscall_info *info = kbox_syscall_info(nr);

	if (nr == (int)KBOX_STUB_NR)
		return "kbox_stub";
	return info ? info->name : NULL;
}

#ifndef KBOX_TABLE_ONLY
struct kbox_result kbox_errno(int err)
{
	return kbox_res_value(-err, KBOX_DISP_EMULATED);
}

struct kbox_result kbox_dispatch(struct kbox_request *req)
{
	const struct kbox_syscall_info *info;

	req->task = kbox_kernel_task_get(req->tid);
	if (!req->task)
		return kbox_res_value(-ENOSYS, KBOX_DISP_DENIED);
	if (req->nr == (int)KBOX_STUB_NR)
		return kbox_stub_request(req);
	info = kbox_syscall_info(req->nr);
	if (!info || !info->handler)
		return kbox_res_value(info && info->policy == KBOX_POL_EPERM ? -EPERM : -ENOSYS,
				      KBOX_DISP_DENIED);
	return info->handler(req);
}
#endif
