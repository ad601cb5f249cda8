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
#include <fcntl.h>
#include <limits.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

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

/*
 * Signals without Landlock's signal scope (SIGNAL policy: ABI < 6): each
 * call may reach guest processes only, as if the guest had a pid namespace
 * of its own. A single target that is the guest's is left to the host
 * (CONTINUE keeps the sender's siginfo); any other pid does not exist for
 * the guest (ESRCH). Group targets (kill(0), kill(-1), kill(-pgrp)) are
 * sent by kbox to each guest process through a pidfd checked after it was
 * opened, so a pid reused meanwhile by a host process is never signalled;
 * those signals carry kbox's pid as sender.
 */
#define MAX_SIG 64

static struct kbox_result to_guest_only(pid_t pid)
{
	if (pid <= 0)
		return kbox_errno(EINVAL);
	return kbox_kernel_is_guest_pid(pid) ? kbox_res_continue() : kbox_errno(ESRCH);
}

struct group_kill {
	pid_t pgrp; /* 0: every guest process but @self (kill(-1)) */
	pid_t self;
	int sig;
	int sent;
	int err;
};

static int send_one(pid_t tgid, void *arg)
{
	struct group_kill *g = arg;
	int pidfd;

	if (g->pgrp ? getpgid(tgid) != g->pgrp : tgid == g->self)
		return 0;
	pidfd = (int)syscall(SYS_pidfd_open, tgid, 0);
	if (pidfd < 0)
		return 0;
	if (kbox_kernel_is_guest_pid(tgid)) {
		if (syscall(SYS_pidfd_send_signal, pidfd, g->sig, NULL, 0) == 0)
			g->sent++;
		else
			g->err = errno;
	}
	close(pidfd);
	return 0;
}

struct kbox_result sys_kill(struct kbox_request *req)
{
	pid_t pid = (pid_t)req->args[0];
	struct group_kill g = {.self = req->task->proc->tgid, .sig = (int)req->args[1]};

	if (req->args[1] > MAX_SIG)
		return kbox_errno(EINVAL);
	if (pid > 0)
		return to_guest_only(pid);
	if (pid == INT_MIN)
		return kbox_errno(ESRCH);
	g.pgrp = pid == 0 ? getpgid(g.self) : pid == -1 ? 0 : -pid;
	kbox_kernel_for_each_guest(send_one, &g);
	if (g.sent)
		return kbox_res_value(0, KBOX_DISP_EMULATED);
	return kbox_errno(g.err ? g.err : ESRCH);
}

struct kbox_result sys_tkill(struct kbox_request *req)
{
	return to_guest_only((pid_t)req->args[0]);
}

struct kbox_result sys_tgkill(struct kbox_request *req)
{
	if ((pid_t)req->args[0] <= 0)
		return kbox_errno(EINVAL);
	return to_guest_only((pid_t)req->args[1]);
}

struct kbox_result sys_rt_sigqueueinfo(struct kbox_request *req)
{
	pid_t pid = (pid_t)req->args[0];

	return pid > 0 ? to_guest_only(pid) : kbox_errno(ESRCH);
}

struct kbox_result sys_rt_tgsigqueueinfo(struct kbox_request *req)
{
	if ((pid_t)req->args[0] <= 0)
		return kbox_errno(EINVAL);
	return to_guest_only((pid_t)req->args[1]);
}

/* A pidfd is a lasting handle: only guest processes may be opened. */
struct kbox_result sys_pidfd_open(struct kbox_request *req)
{
	return to_guest_only((pid_t)req->args[0]);
}

/*
 * The SIGIO owner of an open file (SETOWN policy, ABI < 6 only): the
 * kernel signals it when I/O is ready, so it too must be a guest process,
 * or a process group whose leader is one. A pid in guest memory (F_SETOWN_EX,
 * FIOSETOWN, SIOCSPGRP) is read once and set by kbox on its copy of the fd,
 * which shares the owner with the guest's: a CONTINUE would read it again.
 */
static int owner_allowed(pid_t who)
{
	if (who == 0)
		return 0;
	if (who == INT_MIN)
		return -EINVAL;
	/* A negative pid names a process group: allowed by its leader. */
	return kbox_kernel_is_guest_pid(who < 0 ? -who : who) ? 0 : -ESRCH;
}

/* The same call on kbox's copy of the fd, with the argument kbox checked. */
static struct kbox_result set_owner_on_copy(struct kbox_request *req, bool ioctl_call, void *arg)
{
	int kfd = req->tier->get_guest_fd(req, (int)req->args[0]), r;

	if (kfd < 0)
		return kbox_errno(EBADF);
	r = ioctl_call ? ioctl(kfd, (unsigned long)(unsigned)req->args[1], arg)
		       : fcntl(kfd, F_SETOWN_EX, arg);
	r = r < 0 ? -errno : 0;
	close(kfd);
	return r < 0 ? kbox_errno(-r) : kbox_res_value(0, KBOX_DISP_EMULATED);
}

struct kbox_result sys_fcntl(struct kbox_request *req)
{
	struct f_owner_ex ex;
	int r;

	if ((int)req->args[1] == F_SETOWN) {
		r = owner_allowed((pid_t)req->args[2]);
		return r < 0 ? kbox_errno(-r) : kbox_res_continue();
	}
	r = kbox_read_guest(req, req->args[2], &ex, sizeof(ex));
	if (r == 0)
		r = owner_allowed(ex.type == F_OWNER_PGRP ? -ex.pid : ex.pid);
	return r < 0 ? kbox_errno(-r) : set_owner_on_copy(req, false, &ex);
}

struct kbox_result sys_ioctl(struct kbox_request *req)
{
	int who, r = kbox_read_guest(req, req->args[2], &who, sizeof(who));

	if (r == 0)
		r = owner_allowed(who);
	return r < 0 ? kbox_errno(-r) : set_owner_on_copy(req, true, &who);
}
