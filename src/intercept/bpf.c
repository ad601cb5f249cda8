// SPDX-License-Identifier: MIT
/*
 * Seccomp filter builder.
 *
 * Shape:
 *   arch != x86-64 (int $0x80, i386 numbering)  -> ERRNO(ENOSYS)
 *   nr >= 0x40000000 (x32 numbering, or < 0)    -> ERRNO(ENOSYS)
 *   a binary search over ranges of numbers that share one action, whose
 *   leaves return ALLOW, USER_NOTIF, ERRNO(EPERM), or check one argument
 *   or the instruction pointer first (EXEC, SIGSYSARG, PRCTL, PEERCRED, ...).
 * Numbers past the table are notified, so kbox answers (ENOSYS) syscalls
 * it does not know rather than letting new ones through.
 */
#include "bpf.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "../dispatch/dispatch.h"

#define X32_SYSCALL_BIT 0x40000000u

/* Every namespace flag of clone(2); all fit the low 32 bits the filter checks. */
#define CLONE_NAMESPACES                                                                           \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
	 CLONE_NEWCGROUP | CLONE_NEWTIME)

#define OFF_NR	    offsetof(struct seccomp_data, nr)
#define OFF_ARCH    offsetof(struct seccomp_data, arch)
#define OFF_IP_LO   offsetof(struct seccomp_data, instruction_pointer)
#define OFF_IP_HI   (OFF_IP_LO + 4)
#define OFF_ARG0_LO offsetof(struct seccomp_data, args[0])

enum leaf {
	LEAF_ALLOW,
	LEAF_NOTIFY,
	LEAF_EPERM,
	LEAF_EXEC,
	LEAF_SIGSYSARG,
	LEAF_PRCTL,
	LEAF_OPATH1,
	LEAF_OPATH2,
	LEAF_TRAP,
	LEAF_CLONE,
	LEAF_ENOSYS,
	LEAF_PEERCRED,
	LEAF_SETOWN_FCNTL,
	LEAF_SETOWN_IOCTL,
};

struct range {
	uint32_t start;
	enum leaf leaf;
};

struct emitter {
	struct sock_filter *prog;
	int len;
	bool overflow;
	const struct kbox_filter_config *cfg;
};

static int emit(struct emitter *e, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (e->len >= KBOX_BPF_MAX) {
		e->overflow = true;
		return e->len;
	}
	e->prog[e->len] = (struct sock_filter){code, jt, jf, k};
	return e->len++;
}

static void emit_ret(struct emitter *e, uint32_t action)
{
	emit(e, BPF_RET | BPF_K, 0, 0, action);
}

static enum leaf leaf_of(int nr, const struct kbox_filter_config *cfg)
{
	const struct kbox_syscall_info *info = kbox_syscall_info(nr);

	if (!info)
		return LEAF_NOTIFY;
	switch (info->policy) {
	case KBOX_POL_ALLOW:
		return LEAF_ALLOW;
	case KBOX_POL_EPERM:
		return LEAF_EPERM;
	case KBOX_POL_EXEC:
		return LEAF_EXEC;
	case KBOX_POL_IDENT:
		return cfg->notify_ids ? LEAF_NOTIFY : LEAF_ALLOW;
	case KBOX_POL_SIGNAL:
		return cfg->notify_signals ? LEAF_NOTIFY : LEAF_ALLOW;
	case KBOX_POL_DIRENT:
		return cfg->notify_dirents ? LEAF_NOTIFY : LEAF_ALLOW;
	case KBOX_POL_FDSTAT:
		return cfg->notify_ids || cfg->notify_image ? LEAF_NOTIFY : LEAF_ALLOW;
	case KBOX_POL_IMAGE:
		return cfg->notify_image ? LEAF_NOTIFY : LEAF_ALLOW;
	case KBOX_POL_SIGSYSARG:
		return LEAF_SIGSYSARG;
	case KBOX_POL_PRCTL:
		return LEAF_PRCTL;
	case KBOX_POL_OPATH1:
		return LEAF_OPATH1;
	case KBOX_POL_OPATH2:
		return LEAF_OPATH2;
	case KBOX_POL_TRAP:
		return LEAF_TRAP;
	case KBOX_POL_CLONE:
		return LEAF_CLONE;
	case KBOX_POL_ENOSYS:
		return LEAF_ENOSYS;
	case KBOX_POL_PEERCRED:
		return LEAF_PEERCRED;
	case KBOX_POL_SETOWN:
		if (!cfg->notify_signals)
			return LEAF_ALLOW;
		return nr == SYS_fcntl ? LEAF_SETOWN_FCNTL : LEAF_SETOWN_IOCTL;
	case KBOX_POL_NOTIFY:
		break;
	}
	return LEAF_NOTIFY;
}

/* Consecutive numbers with one action become one range; the last runs to the x32 bit. */
static int build_ranges(const struct kbox_filter_config *cfg, struct range *r)
{
	int n = 0;

	for (int nr = 0; nr < KBOX_SYSCALL_MAX; nr++) {
		enum leaf l = leaf_of(nr, cfg);

		if (n == 0 || r[n - 1].leaf != l)
			r[n++] = (struct range){(uint32_t)nr, l};
	}
	if (r[n - 1].leaf != LEAF_NOTIFY)
		r[n++] = (struct range){KBOX_SYSCALL_MAX, LEAF_NOTIFY};
	return n;
}

/* Return @action when the call comes from instruction pointer @ip, else go on. */
static void emit_ret_if_ip(struct emitter *e, uint64_t ip, uint32_t action)
{
	emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_IP_LO);
	emit(e, BPF_JMP | BPF_JEQ | BPF_K, 0, 3, (uint32_t)ip);
	emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_IP_HI);
	emit(e, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, (uint32_t)(ip >> 32));
	emit_ret(e, action);
}

/* execve/execveat: notified from kbox's exec sites, else SIGSYS to the stub. */
static void emit_exec_leaf(struct emitter *e)
{
	for (int i = 0; i < e->cfg->nexec_sites; i++)
		emit_ret_if_ip(e, e->cfg->exec_sites[i], SECCOMP_RET_USER_NOTIF);
	emit_ret(e, SECCOMP_RET_TRAP);
}

/*
 * rt_sigaction: SIGSYS is the stub's, so the guest's own SIGSYS action is
 * kept by kbox (notified); the stub setting its handler, from its one
 * rt_sigaction site, is allowed (a round trip less per exec; kbox would
 * only let it through).
 */
static void emit_sigsys_leaf(struct emitter *e)
{
	uint64_t ip = e->cfg->stub_sigaction_site;

	emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARG0_LO);
	emit(e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, SIGSYS);
	emit_ret(e, SECCOMP_RET_ALLOW);
	if (ip)
		emit_ret_if_ip(e, ip, SECCOMP_RET_ALLOW);
	emit_ret(e, SECCOMP_RET_USER_NOTIF);
}

/* Notify when the low word of argument 1 (a command: an unsigned int) is @a or @b. */
static void emit_arg1_either(struct emitter *e, uint32_t a, uint32_t b)
{
	emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARG0_LO + 8);
	emit(e, BPF_JMP | BPF_JEQ | BPF_K, 2, 0, a);
	emit(e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, b);
	emit_ret(e, SECCOMP_RET_ALLOW);
	emit_ret(e, SECCOMP_RET_USER_NOTIF);
}

static void emit_leaf(struct emitter *e, enum leaf l)
{
	switch (l) {
	case LEAF_ALLOW:
		emit_ret(e, SECCOMP_RET_ALLOW);
		break;
	case LEAF_NOTIFY:
		emit_ret(e, SECCOMP_RET_USER_NOTIF);
		break;
	case LEAF_EPERM:
		emit_ret(e, SECCOMP_RET_ERRNO | EPERM);
		break;
	case LEAF_EXEC:
		emit_exec_leaf(e);
		break;
	case LEAF_SIGSYSARG: /* rt_sigaction(SIGSYS, ...) only */
		emit_sigsys_leaf(e);
		break;
	case LEAF_OPATH1: /* open(path, flags): O_PATH goes to the stub */
	case LEAF_OPATH2: /* openat(dirfd, path, flags) */
		emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0,
		     OFF_ARG0_LO + 8 * (l == LEAF_OPATH1 ? 1 : 2));
		emit(e, BPF_JMP | BPF_JSET | BPF_K, 0, 1, O_PATH);
		emit_ret(e, SECCOMP_RET_TRAP);
		emit_ret(e, SECCOMP_RET_USER_NOTIF);
		break;
	case LEAF_TRAP:
		emit_ret(e, SECCOMP_RET_TRAP);
		break;
	case LEAF_CLONE: /* clone(flags, ...): no namespaces */
		emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARG0_LO);
		emit(e, BPF_JMP | BPF_JSET | BPF_K, 0, 1, CLONE_NAMESPACES);
		emit_ret(e, SECCOMP_RET_ERRNO | EPERM);
		emit_ret(e, SECCOMP_RET_ALLOW);
		break;
	case LEAF_ENOSYS:
		emit_ret(e, SECCOMP_RET_ERRNO | ENOSYS);
		break;
	case LEAF_PEERCRED: /* getsockopt(fd, level, SO_PEERCRED, ...) only; optname is an int */
		emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARG0_LO + 8 * 2);
		emit(e, BPF_JMP | BPF_JEQ | BPF_K, 0, 1, SO_PEERCRED);
		emit_ret(e, SECCOMP_RET_USER_NOTIF);
		emit_ret(e, SECCOMP_RET_ALLOW);
		break;
	case LEAF_SETOWN_FCNTL: /* fcntl(fd, F_SETOWN or F_SETOWN_EX, ...) only */
		emit_arg1_either(e, F_SETOWN, F_SETOWN_EX);
		break;
	case LEAF_SETOWN_IOCTL: /* ioctl(fd, FIOSETOWN or SIOCSPGRP, ...) only */
		emit_arg1_either(e, FIOSETOWN, SIOCSPGRP);
		break;
	case LEAF_PRCTL: /* PR_SET_DUMPABLE / PR_GET_DUMPABLE only */
		emit(e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARG0_LO);
		emit(e, BPF_JMP | BPF_JEQ | BPF_K, 2, 0, PR_SET_DUMPABLE);
		emit(e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, PR_GET_DUMPABLE);
		emit_ret(e, SECCOMP_RET_ALLOW);
		emit_ret(e, SECCOMP_RET_USER_NOTIF);
		break;
	}
}

/*
 * Ranges [lo, hi) with the syscall number in A. Each split is
 *   jge K, +0, +1 ; ja <right> ; <left> ; <right>
 * so no conditional jump ever needs more than its 8-bit offset.
 */
static void emit_tree(struct emitter *e, const struct range *r, int lo, int hi)
{
	int mid, ja;

	if (hi - lo == 1) {
		emit_leaf(e, r[lo].leaf);
		return;
	}
	mid = lo + (hi - lo) / 2;
	emit(e, BPF_JMP | BPF_JGE | BPF_K, 0, 1, r[mid].start);
	ja = emit(e, BPF_JMP | BPF_JA, 0, 0, 0);
	emit_tree(e, r, lo, mid);
	if (!e->overflow)
		e->prog[ja].k = (uint32_t)(e->len - ja - 1);
	emit_tree(e, r, mid, hi);
}

int kbox_bpf_build(const struct kbox_filter_config *cfg, struct sock_filter *prog)
{
	struct range ranges[KBOX_SYSCALL_MAX + 1];
	struct emitter e = {.prog = prog, .cfg = cfg};
	int n = build_ranges(cfg, ranges);

	emit(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_ARCH);
	emit(&e, BPF_JMP | BPF_JEQ | BPF_K, 1, 0, AUDIT_ARCH_X86_64);
	emit_ret(&e, SECCOMP_RET_ERRNO | ENOSYS);
	emit(&e, BPF_LD | BPF_W | BPF_ABS, 0, 0, OFF_NR);
	emit(&e, BPF_JMP | BPF_JGE | BPF_K, 0, 1, X32_SYSCALL_BIT);
	emit_ret(&e, SECCOMP_RET_ERRNO | ENOSYS);
	emit_tree(&e, ranges, 0, n);
	return e.overflow ? -E2BIG : e.len;
}
