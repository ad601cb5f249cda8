/* SPDX-License-Identifier: MIT */
/*
 * The protocol between kbox and its exec stub.
 *
 * Why a stub: the host kernel must never resolve a guest path, and a
 * seccomp supervisor can neither change a task's registers nor exec for it.
 * So the host kernel only ever execs kbox-stub, a tiny static binary linked
 * at a fixed address (KBOX_STUB_BASE). The stub asks kbox what to run, maps
 * the program and its interpreter from fds kbox hands it, builds the stack
 * and jumps. It stays mapped in the guest and catches the guest's own
 * execve/execveat as SIGSYS (the filter traps them when they do not come
 * from the stub), turns them into "prepare" requests to kbox, and then
 * re-execs itself from its one allowed exec site.
 *
 * Requests are the syscall KBOX_STUB_NR, which is no Linux syscall; the
 * seccomp filter always notifies it. arg0 is the operation.
 *
 * Lifecycle of one guest exec (kbox keeps the plan per guest process):
 *   guest: execve(path, argv, envp)       -> SIGSYS into the stub
 *   stub:  KBOX_STUB_OP_EXEC_PREPARE      -> kbox resolves path, #!, PT_INTERP
 *                                            and stores a plan; returns a
 *                                            CLOEXEC fd of the stub, or -errno
 *   stub:  execveat(stubfd, "", argv, envp, AT_EMPTY_PATH) from its exec site
 *                                         -> kbox checks it is the stub; CONTINUE
 *   new stub: KBOX_STUB_OP_LOAD_INFO      -> the plan (struct kbox_stub_plan)
 *   new stub: KBOX_STUB_OP_OPEN_FD x1..2  -> program fd, interpreter fd
 *   new stub: maps, builds stack, jumps; kbox marks the exec committed.
 */
#ifndef KBOX_LOADER_STUB_PROTO_H
#define KBOX_LOADER_STUB_PROTO_H

#include <stdint.h>

/* clang-format off */
#define KBOX_STUB_NR	0x4b42UL	 /* "KB": not a syscall on any Linux arch */
#define KBOX_STUB_BASE	0x6b6b00000000UL /* where the stub is linked; far from PIE and mmap areas */
#define KBOX_STUB_MAGIC 0x6b626f78u	 /* "kbox" */
/* clang-format on */

enum kbox_stub_op {
	/*
	 * (op, dirfd, path, argv, envp, flags): the guest's execveat (execve is
	 * passed as dirfd = AT_FDCWD, flags = 0). Returns a CLOEXEC fd of the
	 * stub for the stub to exec, or -errno exactly as Linux's execve would
	 * fail (ENOENT, EACCES, ENOEXEC, ELOOP, ENAMETOOLONG, E2BIG...).
	 */
	KBOX_STUB_OP_EXEC_PREPARE = 1,
	/*
	 * (op, buf, size): writes a struct kbox_stub_plan into buf. Returns its
	 * length, -ERANGE if size is too small, -ENOENT if no plan is pending.
	 */
	KBOX_STUB_OP_LOAD_INFO = 2,
	/* (op, which): which is KBOX_STUB_FD_PROGRAM or _INTERP; returns an fd. */
	KBOX_STUB_OP_OPEN_FD = 3,
	/* (op, status): the stub could not load the program; kbox logs why. */
	KBOX_STUB_OP_FAILED = 4,
	/*
	 * (op, nr, a0, a1, a2, a3): an open(2)/openat(2) with O_PATH or an
	 * openat2(2), which the filter traps to the stub because only the stub
	 * can receive an O_PATH file (SECCOMP_IOCTL_NOTIF_ADDFD refuses them).
	 * Returns -errno; or a CLOEXEC unix socket (the "carrier") from which
	 * the stub receives the opened fd with SCM_RIGHTS; or, for an open that
	 * had to wait (a FIFO), the opened fd itself, which is never a socket.
	 */
	KBOX_STUB_OP_OPEN = 5,
};

enum {
	KBOX_STUB_FD_PROGRAM = 0,
	KBOX_STUB_FD_INTERP = 1,
};

enum {
	KBOX_PLAN_HAS_INTERP = 1u << 0, /* PT_INTERP: load the interpreter and enter there */
	KBOX_PLAN_DROP_ARGV0 = 1u << 1, /* #! script: argv[0] is replaced by the prefix */
};

/*
 * The plan for one exec. strings[] holds, NUL-terminated and back to back:
 * execfn (the guest path for AT_EXECFN), then nprefix argv strings that go
 * before the guest's argv (for "#!/bin/sh -e" run as "s a": "/bin/sh",
 * "-e", "s"; with DROP_ARGV0 the guest's argv[0] is left out).
 */
struct kbox_stub_plan {
	uint32_t magic;
	uint32_t flags;
	uint32_t nprefix;
	uint32_t strings_len;
	char strings[];
};

#define KBOX_STUB_PLAN_MAX 16384

#endif
