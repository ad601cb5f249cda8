// SPDX-License-Identifier: MIT
/*
 * The seccomp filter, run through a small BPF interpreter: every class of
 * syscall must get the action syscalls.def gives it.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <linux/audit.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stddef.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "intercept/bpf.h"
#include "loader/stub_proto.h"

static struct sock_filter prog[KBOX_BPF_MAX];
static int prog_len;

static const uint64_t site_a = 0x6b6b00001234ull, site_b = 0x555555558000ull;
static const uint64_t sigaction_site = 0x6b6b00005678ull;

static void build_cfg(bool notify_ids, bool notify_dirents)
{
	struct kbox_filter_config cfg = {
		.notify_ids = notify_ids,
		.notify_dirents = notify_dirents,
		.exec_sites = {site_a, site_b},
		.nexec_sites = 2,
		.stub_sigaction_site = sigaction_site,
	};

	prog_len = kbox_bpf_build(&cfg, prog);
	cr_assert_gt(prog_len, 0);
	cr_assert_lt(prog_len, 4096);
}

static void build(bool notify_ids)
{
	build_cfg(notify_ids, false);
}

/* Interprets the instructions kbox_bpf_build emits; anything else fails the test. */
static uint32_t run(const struct seccomp_data *d)
{
	uint32_t a = 0;
	int pc = 0;

	while (pc < prog_len) {
		const struct sock_filter *f = &prog[pc];

		switch (f->code) {
		case BPF_LD | BPF_W | BPF_ABS:
			cr_assert_lt(f->k + 4, sizeof(*d) + 1);
			memcpy(&a, (const char *)d + f->k, 4);
			pc++;
			break;
		case BPF_JMP | BPF_JEQ | BPF_K:
			pc += 1 + (a == f->k ? f->jt : f->jf);
			break;
		case BPF_JMP | BPF_JSET | BPF_K:
			pc += 1 + ((a & f->k) ? f->jt : f->jf);
			break;
		case BPF_JMP | BPF_JGE | BPF_K:
			pc += 1 + (a >= f->k ? f->jt : f->jf);
			break;
		case BPF_JMP | BPF_JA:
			pc += 1 + (int)f->k;
			break;
		case BPF_RET | BPF_K:
			return f->k;
		default:
			cr_assert_fail("unexpected BPF opcode %#x at %d", f->code, pc);
		}
	}
	cr_assert_fail("filter ran off its end");
	return 0;
}

static uint32_t action(int nr, uint64_t arg0, uint64_t ip)
{
	struct seccomp_data d = {.nr = nr, .arch = AUDIT_ARCH_X86_64, .instruction_pointer = ip};

	d.args[0] = arg0;
	return run(&d);
}

Test(bpf, fd_calls_run_on_the_host)
{
	build(false);
	cr_expect_eq(action(SYS_read, 0, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(action(SYS_write, 0, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(action(SYS_mmap, 0, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(action(SYS_futex, 0, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(action(SYS_getdents64, 0, 0), SECCOMP_RET_ALLOW);
}

Test(bpf, path_calls_are_notified)
{
	build(false);
	cr_expect_eq(action(SYS_openat, 0, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_open, 0, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_newfstatat, 0, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_connect, 0, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_chroot, 0, 0), SECCOMP_RET_USER_NOTIF);
}

Test(bpf, unknown_and_future_numbers_are_notified)
{
	build(false);
	cr_expect_eq(action(468, 0, 0), SECCOMP_RET_USER_NOTIF); /* file_getattr, 6.17 */
	cr_expect_eq(action(511, 0, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(4000, 0, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action((int)KBOX_STUB_NR, 0, 0), SECCOMP_RET_USER_NOTIF);
}

Test(bpf, forks_run_on_the_host_but_namespaces_are_refused)
{
	build(false);
	cr_expect_eq(action(SYS_clone, SIGCHLD, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(action(SYS_fork, 0, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(action(SYS_vfork, 0, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(action(SYS_clone, 0x3d0f00 /* pthread_create */, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(action(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0), SECCOMP_RET_ERRNO | EPERM);
	cr_expect_eq(action(SYS_clone, CLONE_NEWNS, 0), SECCOMP_RET_ERRNO | EPERM);
	cr_expect_eq(action(SYS_clone3, 0, 0), SECCOMP_RET_ERRNO | ENOSYS);
}

Test(bpf, dangerous_calls_are_refused)
{
	build(false);
	cr_expect_eq(action(SYS_ptrace, 0, 0), SECCOMP_RET_ERRNO | EPERM);
	cr_expect_eq(action(SYS_mount, 0, 0), SECCOMP_RET_ERRNO | EPERM);
	cr_expect_eq(action(SYS_bpf, 0, 0), SECCOMP_RET_ERRNO | EPERM);
	cr_expect_eq(action(SYS_io_uring_setup, 0, 0), SECCOMP_RET_ERRNO | EPERM);
	cr_expect_eq(action(SYS_process_vm_readv, 0, 0), SECCOMP_RET_ERRNO | EPERM);
	cr_expect_eq(action(SYS_pidfd_getfd, 0, 0), SECCOMP_RET_ERRNO | EPERM);
	cr_expect_eq(action(SYS_setns, 0, 0), SECCOMP_RET_ERRNO | EPERM);
}

Test(bpf, other_arches_and_x32_cannot_sneak_past)
{
	struct seccomp_data d = {.nr = 5 /* open on i386 */, .arch = AUDIT_ARCH_I386};

	build(false);
	cr_expect_eq(run(&d), SECCOMP_RET_ERRNO | ENOSYS);
	cr_expect_eq(action(0x40000000 | SYS_openat, 0, 0), SECCOMP_RET_ERRNO | ENOSYS);
	cr_expect_eq(action(0x40000000 | 2, 0, 0), SECCOMP_RET_ERRNO | ENOSYS);
	cr_expect_eq(action(-1, 0, 0), SECCOMP_RET_ERRNO | ENOSYS);
}

Test(bpf, exec_is_notified_only_from_the_exec_sites)
{
	build(false);
	cr_expect_eq(action(SYS_execve, 0, site_a), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_execveat, 0, site_b), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_execve, 0, 0x401000), SECCOMP_RET_TRAP);
	/* Same low half, other high half: still a trap. */
	cr_expect_eq(action(SYS_execveat, 0, (site_a & 0xffffffffu) | (1ull << 40)),
		     SECCOMP_RET_TRAP);
}

/* Only the stub can receive an O_PATH fd, so those opens trap to it. */
static uint32_t action_arg(int nr, int idx, uint64_t v)
{
	struct seccomp_data d = {.nr = nr, .arch = AUDIT_ARCH_X86_64};

	d.args[idx] = v;
	return run(&d);
}

Test(bpf, o_path_opens_trap_to_the_stub)
{
	build(false);
	cr_expect_eq(action_arg(SYS_openat, 2, O_RDONLY), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action_arg(SYS_openat, 2, O_PATH | O_NOFOLLOW), SECCOMP_RET_TRAP);
	cr_expect_eq(action_arg(SYS_open, 1, O_PATH), SECCOMP_RET_TRAP);
	cr_expect_eq(action_arg(SYS_open, 1, O_WRONLY | O_CREAT), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action_arg(SYS_openat2, 2, 0), SECCOMP_RET_TRAP);
}

Test(bpf, sigsys_and_dumpable_are_notified_only_for_themselves)
{
	build(false);
	cr_expect_eq(action(SYS_rt_sigaction, SIGSYS, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_rt_sigaction, SIGINT, 0), SECCOMP_RET_ALLOW);
	/* The stub's own site is let through; the same low half elsewhere is not. */
	cr_expect_eq(action(SYS_rt_sigaction, SIGSYS, sigaction_site), SECCOMP_RET_ALLOW);
	cr_expect_eq(action(SYS_rt_sigaction, SIGSYS, sigaction_site & 0xffffffffu),
		     SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_rt_sigaction, SIGINT, sigaction_site), SECCOMP_RET_ALLOW);
	cr_expect_eq(action(SYS_prctl, PR_SET_DUMPABLE, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_prctl, PR_GET_DUMPABLE, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_prctl, PR_SET_NAME, 0), SECCOMP_RET_ALLOW);
}

Test(bpf, identity_calls_follow_the_fake_id_setting)
{
	build(false);
	cr_expect_eq(action(SYS_getuid, 0, 0), SECCOMP_RET_ALLOW);
	build(true);
	cr_expect_eq(action(SYS_getuid, 0, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_setresuid, 0, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_read, 0, 0), SECCOMP_RET_ALLOW);
}

Test(bpf, getsockopt_is_notified_only_for_so_peercred)
{
	build(false);
	cr_expect_eq(action_arg(SYS_getsockopt, 2, SO_PEERCRED), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action_arg(SYS_getsockopt, 2, SO_ERROR), SECCOMP_RET_ALLOW);
	cr_expect_eq(action_arg(SYS_getsockopt, 2, SO_DOMAIN), SECCOMP_RET_ALLOW);
	cr_expect_eq(action_arg(SYS_setsockopt, 2, SO_PEERCRED), SECCOMP_RET_ALLOW);
}

Test(bpf, directory_listings_are_notified_only_with_a_procfs)
{
	build_cfg(false, false);
	cr_expect_eq(action(SYS_getdents64, 0, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(action(SYS_getdents, 0, 0), SECCOMP_RET_ALLOW);
	build_cfg(false, true);
	cr_expect_eq(action(SYS_getdents64, 0, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_getdents, 0, 0), SECCOMP_RET_USER_NOTIF);
	cr_expect_eq(action(SYS_getuid, 0, 0), SECCOMP_RET_ALLOW);
	cr_expect_eq(action(SYS_read, 0, 0), SECCOMP_RET_ALLOW);
}
