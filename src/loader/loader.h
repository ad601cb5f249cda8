/* SPDX-License-Identifier: MIT */
/*
 * Loader: what kbox knows about the programs it execs.
 *
 *   - ELF and #! inspection, with the errors Linux's execve gives
 *     (binfmt_elf, binfmt_script). Pure functions on an fd or a buffer.
 *   - The exec stub (stub/, protocol in stub_proto.h) that kbox carries in
 *     its own binary: a sealed memfd of it and the addresses of its syscall
 *     sites, which the seccomp filter keys on.
 *   - The first exec from kbox's own forked child, from a known site.
 *
 * All int functions return 0 (or a count / an fd) on success and -errno on
 * failure.
 */
#ifndef KBOX_LOADER_LOADER_H
#define KBOX_LOADER_LOADER_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "stub_proto.h"

/* Linux reads this much of a file to pick its binary format (BINPRM_BUF_SIZE). */
#define KBOX_BINPRM_BUF_SIZE 256
/*
 * How many #! scripts Linux follows before the final binary: exec_binprm()
 * gives up with ELOOP when a sixth rewrite would be needed.
 */
#define KBOX_BINPRM_MAX_SCRIPTS 5

/* What exec needs to know of a valid ELF64 x86-64 program. */
struct kbox_elf_info {
	bool is_dyn;	       /* ET_DYN (PIE or shared object) rather than ET_EXEC */
	bool has_interp;       /* PT_INTERP present */
	char interp[PATH_MAX]; /* its path, as written in the file */
};

/*
 * Check a program's ELF header and program headers the way binfmt_elf
 * does before it opens the interpreter. Returns 0, -ENOEXEC (not an ELF
 * file this loader runs: wrong magic, class, machine, type, program header
 * size or count, a truncated program header table, a bad PT_INTERP), or
 * -EIO (PT_INTERP past the end of the file). 32-bit programs get -ENOEXEC:
 * unlike Linux, kbox has no compat loader.
 */
int kbox_elf_inspect(int fd, struct kbox_elf_info *info);

/*
 * Check an ELF interpreter (the file PT_INTERP names) as binfmt_elf does:
 * -EIO when its header is truncated, -ELIBBAD when it is not an ELF64
 * x86-64 ET_EXEC/ET_DYN with a readable program header table. (Linux
 * notices a wrong e_type only after the point of no return and kills the
 * process; kbox fails the exec with ELIBBAD instead.)
 */
int kbox_elf_check_interp(int fd);

/* A parsed #! line. */
struct kbox_script {
	char interp[KBOX_BINPRM_BUF_SIZE];
	char arg[KBOX_BINPRM_BUF_SIZE]; /* valid if has_arg */
	bool has_arg;
};

/*
 * Parse the first @len bytes of a file (Linux looks at most at the first
 * KBOX_BINPRM_BUF_SIZE) exactly as binfmt_script's load_script() does:
 * the interpreter is the first word after "#!" and optional blanks; the
 * optional argument is the rest of the line with its outer blanks trimmed
 * (one argument, spaces inside kept). Returns 0, or -ENOEXEC when the file
 * does not start with "#!", names no interpreter, or the interpreter path
 * may have been truncated by the buffer limit.
 */
int kbox_script_parse(const char *buf, size_t len, struct kbox_script *out);

/*
 * What an exec runs, worked out as Linux's exec_binprm() does: follow #!
 * lines (at most KBOX_BINPRM_MAX_SCRIPTS, then -ELOOP), check the final
 * ELF and open its PT_INTERP. Files are opened through @ops, so the same
 * logic serves guest paths (dispatch/exec.c) and tests.
 */
struct kbox_binprm_ops {
	/*
	 * Open @path as Linux's open_exec() would: resolve it (@first: the
	 * program itself, with the caller's dirfd and AT_* flags; else a #!
	 * interpreter or PT_INTERP, resolved from the cwd following
	 * symlinks), require a regular file (-EACCES otherwise, a directory
	 * included) the caller may execute (-EACCES), and return a kbox-owned
	 * O_RDONLY fd or -errno.
	 */
	int (*open_exec)(void *arg, const char *path, bool first);
	void *arg;
};

/* The result: the fds and strings of a struct kbox_stub_plan. */
struct kbox_binprm {
	int prog_fd;	/* the ELF program, or -1; the caller closes it */
	int interp_fd;	/* its PT_INTERP, or -1; the caller closes it */
	uint32_t flags; /* KBOX_PLAN_* */
	uint32_t nprefix;
	uint32_t strings_len;
	char strings[KBOX_STUB_PLAN_MAX - sizeof(struct kbox_stub_plan)];
};

/*
 * Prepare the exec of @path. @filename is what Linux calls
 * bprm->filename: the path as the guest passed it, or "/dev/fd/N[/path]"
 * for execveat relative to a dirfd; it becomes AT_EXECFN and the script
 * path a #! interpreter gets. @path_inaccessible: the dirfd is
 * close-on-exec, so a script could not be reopened by its interpreter
 * (-ENOENT, as Linux). On failure no fd is left open.
 */
int kbox_binprm_prepare(const struct kbox_binprm_ops *ops, const char *path, const char *filename,
			bool path_inaccessible, struct kbox_binprm *bp);
void kbox_binprm_release(struct kbox_binprm *bp);

/*
 * The embedded stub as a sealed, read-only memfd, created on the first
 * call (not thread safe: call it once at start-up before other threads).
 * kbox owns the fd (O_CLOEXEC); callers dup it. Returns the fd or -errno.
 */
int kbox_stub_memfd(void);

/* True if @fd is the stub (same st_dev/st_ino as kbox_stub_memfd()). */
bool kbox_stub_is_stub_fd(int fd);

/*
 * Addresses in every guest (the stub is linked at KBOX_STUB_BASE), read
 * from the embedded stub's symbol table; 0 if the symbol is missing.
 *   exec IP: after the syscall instruction of the stub's execveat, the
 *            only place a guest may exec from.
 *   sigaction IP: after the syscall instruction with which the stub
 *            installs its SIGSYS handler (rt_sigaction), so kbox can let
 *            that one through and emulate the guest's own.
 */
uint64_t kbox_stub_exec_ip(void);
uint64_t kbox_stub_sigaction_ip(void);
uint64_t kbox_stub_symbol(const char *name);

/*
 * execveat(stub_fd, "", argv, envp, AT_EMPTY_PATH) from kbox's first-exec
 * site, for kbox's own forked child. Returns only on failure, with -errno.
 */
int kbox_loader_exec_first(int stub_fd, char *const argv[], char *const envp[]);
/* The address right after that syscall instruction, in this (and a forked) process. */
uint64_t kbox_loader_first_exec_ip(void);

#endif
