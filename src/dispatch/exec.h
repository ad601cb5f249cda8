/* SPDX-License-Identifier: MIT */
/*
 * Exec: the guest's execve/execveat and the stub's requests. See
 * loader/stub_proto.h for the lifecycle of one exec; this file keeps the
 * plan in struct kbox_process between KBOX_STUB_OP_EXEC_PREPARE and the
 * new stub's last KBOX_STUB_OP_OPEN_FD, which commits the exec.
 */
#ifndef KBOX_DISPATCH_EXEC_H
#define KBOX_DISPATCH_EXEC_H

#include <stddef.h>

#include "../intercept/request.h"
#include "../kernel/kernel.h"
#include "../vfs/vfs.h"

/* Requests of syscall KBOX_STUB_NR (any op); called by kbox_dispatch(). */
struct kbox_result kbox_stub_request(struct kbox_request *req);

/*
 * Prepare @p to exec @path as execveat(2) would with @at_flags
 * (AT_EMPTY_PATH, AT_SYMLINK_NOFOLLOW): resolve it in the guest, follow
 * #! lines, check the ELF and its PT_INTERP, and store the plan in
 * p->plan (replacing any earlier one that never ran). @ctx gives the root
 * and the cwd (#! interpreters and PT_INTERP are resolved from the cwd, as
 * Linux does); a relative @path starts from @dirfd_kbox (a kbox-owned fd
 * of the guest's dirfd) when it is >= 0, else from the cwd. Returns 0 or
 * the -errno execve would fail with. p->exe is set when the exec commits.
 */
int kbox_exec_prepare(struct kbox_process *p, const struct kbox_lookup_ctx *ctx, int dirfd_kbox,
		      const char *path, int at_flags);

/*
 * Find the program kbox was asked to run, as env(1) and execvp do: a @name
 * with a '/' is used as it is, else each directory of the default PATH
 * (/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin) is tried
 * in the guest. Returns 0 with the path in @out, -ENOENT if there is no
 * such file, -EACCES if one was found but none can be executed.
 */
int kbox_exec_find_program(const struct kbox_lookup_ctx *ctx, const char *name, char *out,
			   size_t size);

/* KBOX_STUB_OP_OPEN: an open the stub forwards, answered through an fd carrier. */
struct kbox_result kbox_stub_open(struct kbox_request *req);

#endif
