/* SPDX-License-Identifier: MIT */
/*
 * Dispatch: what a syscall means. One table from number to handler,
 * generated from syscalls.def; handlers are sys_<name> grouped by family
 * (fs.c, fd.c, proc.c, exec.c, id.c, signal.c, net.c).
 */
#ifndef KBOX_DISPATCH_DISPATCH_H
#define KBOX_DISPATCH_DISPATCH_H

#include "../intercept/request.h"

enum kbox_policy {
	KBOX_POL_ALLOW,
	KBOX_POL_NOTIFY,
	KBOX_POL_EXEC,
	KBOX_POL_OPATH1,
	KBOX_POL_OPATH2,
	KBOX_POL_TRAP,
	KBOX_POL_IDENT,
	KBOX_POL_SIGNAL,
	KBOX_POL_DIRENT,
	KBOX_POL_FDSTAT,
	KBOX_POL_IMAGE,
	KBOX_POL_SIGSYSARG,
	KBOX_POL_PRCTL,
	KBOX_POL_EPERM,
	KBOX_POL_CLONE,
	KBOX_POL_ENOSYS,
	KBOX_POL_PEERCRED,
	KBOX_POL_SETOWN,
};

typedef struct kbox_result (*kbox_handler_fn)(struct kbox_request *req);

struct kbox_syscall_info {
	int nr;
	const char *name;
	enum kbox_policy policy;
	kbox_handler_fn handler; /* NULL for ALLOW and EPERM */
};

#define KBOX_SYSCALL_MAX 512

/* NULL for numbers kbox does not know. */
const struct kbox_syscall_info *kbox_syscall_info(int nr);
const char *kbox_syscall_name(int nr);

/*
 * Answer one request. Fills req->task (NULL if the task vanished: the
 * result is then ENOSYS and the tier drops it).
 */
struct kbox_result kbox_dispatch(struct kbox_request *req);

/* Declarations of every handler named in syscalls.def. */
#define KBOX_DECLARE_ALLOW(nr, name)
#define KBOX_DECLARE_EPERM(nr, name)
#define KBOX_DECLARE_CLONE(nr, name)
#define KBOX_DECLARE_ENOSYS(nr, name)
#define KBOX_DECLARE_NOTIFY(nr, name) struct kbox_result sys_##name(struct kbox_request *req);
#define KBOX_DECLARE_EXEC	      KBOX_DECLARE_NOTIFY
#define KBOX_DECLARE_OPATH1	      KBOX_DECLARE_NOTIFY
#define KBOX_DECLARE_OPATH2	      KBOX_DECLARE_NOTIFY
#define KBOX_DECLARE_TRAP	      KBOX_DECLARE_NOTIFY
#define KBOX_DECLARE_IDENT	      KBOX_DECLARE_NOTIFY
#define KBOX_DECLARE_SIGNAL	      KBOX_DECLARE_NOTIFY
#define KBOX_DECLARE_DIRENT	      KBOX_DECLARE_NOTIFY
#define KBOX_DECLARE_FDSTAT	      KBOX_DECLARE_NOTIFY
#define KBOX_DECLARE_IMAGE	      KBOX_DECLARE_NOTIFY
#define KBOX_DECLARE_SIGSYSARG	      KBOX_DECLARE_NOTIFY
#define KBOX_DECLARE_PRCTL	      KBOX_DECLARE_NOTIFY
#define KBOX_DECLARE_PEERCRED	      KBOX_DECLARE_NOTIFY
#define KBOX_DECLARE_SETOWN	      KBOX_DECLARE_NOTIFY
#define KBOX_SYSCALL(nr, name, pol)   KBOX_DECLARE_##pol(nr, name)
#include "syscalls.def"
#undef KBOX_SYSCALL

/* Helpers shared by handlers: guest memory and errors. */
struct kbox_result kbox_errno(int err); /* err > 0: -err to the guest */
int kbox_read_guest_string(struct kbox_request *req, uint64_t gaddr, char *buf, size_t size);
/* The same for the path of an AT_EMPTY_PATH call, which is usually "". */
int kbox_read_guest_path_maybe_empty(struct kbox_request *req, uint64_t gaddr, char *buf,
				     size_t size);
int kbox_read_guest(struct kbox_request *req, uint64_t gaddr, void *buf, size_t len);
int kbox_write_guest(struct kbox_request *req, uint64_t gaddr, const void *buf, size_t len);

#endif
