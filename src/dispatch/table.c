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
#define KBOX_HANDLER_CLONE(name)     NULL
#define KBOX_HANDLER_ENOSYS(name)    NULL
#define KBOX_HANDLER_NOTIFY(name)    HANDLER(name)
#define KBOX_HANDLER_EXEC(name)	     HANDLER(name)
#define KBOX_HANDLER_OPATH1(name)    HANDLER(name)
#define KBOX_HANDLER_OPATH2(name)    HANDLER(name)
#define KBOX_HANDLER_TRAP(name)	     HANDLER(name)
#define KBOX_HANDLER_IDENT(name)     HANDLER(name)
#define KBOX_HANDLER_SIGNAL(name)    HANDLER(name)
#define KBOX_HANDLER_DIRENT(name)    HANDLER(name)
#define KBOX_HANDLER_FDSTAT(name)    HANDLER(name)
#define KBOX_HANDLER_IMAGE(name)     HANDLER(name)
#define KBOX_HANDLER_SIGSYSARG(name) HANDLER(name)
#define KBOX_HANDLER_PRCTL(name)     HANDLER(name)
#define KBOX_HANDLER_PEERCRED(name)  HANDLER(name)
#define KBOX_HANDLER_SETOWN(name)    HANDLER(name)

static const struct kbox_syscall_info table[KBOX_SYSCALL_MAX] = {
#define KBOX_SYSCALL(nr, name, pol) [nr] = {nr, #name, KBOX_POL_##pol, KBOX_HANDLER_##pol(name)},
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

/*
 * Calls after which a child forked earlier would inherit something else
 * (see kbox_kernel_adopt_children): chdir, fchdir, chroot, umask, the
 * set*id family, unshare, exit_group, and the stub committing an exec.
 */
static bool changes_inheritance(const struct kbox_request *req)
{
	switch (req->nr) {
	case 80:
	case 81:
	case 161:
	case 95:
	case 105:
	case 106:
	case 113:
	case 114:
	case 116:
	case 117:
	case 119:
	case 122:
	case 123:
	case 272:
	case 231:
		return true;
	case (int)KBOX_STUB_NR:
		return req->args[0] == KBOX_STUB_OP_LOAD_INFO;
	default:
		return false;
	}
}

struct kbox_result kbox_dispatch(struct kbox_request *req)
{
	const struct kbox_syscall_info *info;

	req->task = kbox_kernel_task_get(req->tid);
	if (!req->task)
		return kbox_res_value(-ENOSYS, KBOX_DISP_DENIED);
	if (changes_inheritance(req))
		kbox_kernel_adopt_children(req->task);
	if (req->nr == (int)KBOX_STUB_NR)
		return kbox_stub_request(req);
	info = kbox_syscall_info(req->nr);
	if (!info || !info->handler)
		return kbox_res_value(info && info->policy == KBOX_POL_EPERM ? -EPERM : -ENOSYS,
				      KBOX_DISP_DENIED);
	return info->handler(req);
}
#endif
