// SPDX-License-Identifier: MIT
/*
 * The seccomp user-notify supervisor: a few threads take turns receiving
 * the notified syscalls of every guest task (turns.c) and answer them one
 * at a time (the kernel state has one lock). Several receivers matter for
 * correctness, not only speed: until a notification is received, a signal
 * to the guest aborts it and the call fails with EINTR where Linux would
 * not fail; once it is received (WAIT_KILLABLE_RECV), only a fatal signal
 * can.
 *
 * Lifecycle of one notification (struct seccomp_notif):
 *   RECV        the guest task sleeps in the kernel (killable only when
 *               WAIT_KILLABLE_RECV is on, so a signal cannot restart a call
 *               whose side effects kbox already performed)
 *   dispatch    handlers read guest memory with process_vm_readv; after
 *               every read ID_VALID is checked, since the tid may have died
 *               and been reused (paths may come through the process's
 *               /proc/PID/mem instead: um_read_str)
 *   SEND        value/errno, CONTINUE, or ADDFD|SEND (install an fd and
 *               answer in one step, so an interrupted guest leaks no fd);
 *               ENOENT means the guest is gone and is not an error
 */
#include "unotify.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <fcntl.h>
#include <linux/seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../dispatch/dispatch.h"
#include "../../kernel/kernel.h"
#include "../../lib/fdtable.h"
#include "../../lib/log.h"
#include "../../loader/loader.h"
#include "../../obs/obs.h"
#include "../../vfs/vfs.h"
#include "../bpf.h"
#include "../landlock.h"

#ifndef SECCOMP_IOCTL_NOTIF_SET_FLAGS
#define SECCOMP_IOCTL_NOTIF_SET_FLAGS	   SECCOMP_IOW(4, __u64)
#define SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (1UL << 0)
#endif

static int listener = -1;
/* Kernel state, the dispatch table's handlers and statistics: one at a time. */
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;

/* Reads by tid before a process's memfd is worth its open (measured: 6 us). */
#define READS_BEFORE_MEMFD 16

/*
 * The calling process's memfd, opened through the calling thread once the
 * process has read enough. Its tid names the notifying thread only while
 * the notification is pending, hence the check after the open.
 */
static int proc_memfd(struct kbox_request *req)
{
	struct kbox_process *p = req->task ? req->task->proc : NULL;
	char path[48];
	int fd;

	if (!p)
		return -1;
	if (p->memfd >= 0)
		return p->memfd;
	if (++p->mem_reads < READS_BEFORE_MEMFD)
		return -1;
	snprintf(path, sizeof(path), "/proc/%d/mem", (int)req->tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		p->mem_reads = 0; /* try again after as many reads */
		return -1;
	}
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id)) {
		close(fd);
		return -1;
	}
	p->memfd = fd;
	return fd;
}

static ssize_t um_read(struct kbox_request *req, void *dst, uint64_t gaddr, size_t len)
{
	struct iovec local = {dst, len}, remote = {(void *)gaddr, len};
	ssize_t n = process_vm_readv(req->tid, &local, 1, &remote, 1, 0);

	if (n < 0)
		return errno == ESRCH ? -ESRCH : -EFAULT;
	/* The tid could have been reused between RECV and the read. */
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id))
		return -ESRCH;
	return n;
}

/*
 * A path, through the process's memfd: one call, and no ID_VALID, since
 * the fd cannot name another process's memory. But /proc/PID/mem reads
 * with FOLL_FORCE, so memory the guest may not read (PROT_NONE, where a
 * bad pointer usually points) reads as its contents, often zeros, where
 * Linux gives EFAULT. So only a string that ends after its first byte
 * within this read is taken; the rest (an empty path, a path running on
 * into the next page, a memfd that failed) is read by tid.
 */
static ssize_t um_read_str(struct kbox_request *req, void *dst, uint64_t gaddr, size_t len)
{
	int fd = proc_memfd(req);
	ssize_t n = fd < 0 ? -1 : pread(fd, dst, len, (off_t)gaddr);
	const char *nul = n > 1 ? memchr(dst, '\0', (size_t)n) : NULL;

	if (nul && nul != dst)
		return n;
	if (fd >= 0 && n == 0)
		kbox_kernel_forget_mm(req->task->proc); /* exec'd or exiting */
	return um_read(req, dst, gaddr, len);
}

static ssize_t um_write(struct kbox_request *req, uint64_t gaddr, const void *src, size_t len)
{
	struct iovec local = {(void *)src, len}, remote = {(void *)gaddr, len};
	ssize_t n;

	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id))
		return -ESRCH;
	n = process_vm_writev(req->tid, &local, 1, &remote, 1, 0);
	return n < 0 ? (errno == ESRCH ? -ESRCH : -EFAULT) : n;
}

static int um_get_guest_fd(struct kbox_request *req, int gfd)
{
	int fd;

	if (!req->task || req->task->proc->pidfd < 0)
		return -EBADF;
	fd = (int)syscall(SYS_pidfd_getfd, req->task->proc->pidfd, gfd, 0);
	if (fd < 0)
		return errno == EBADF ? -EBADF : -errno;
	return fd;
}

static bool um_still_valid(struct kbox_request *req)
{
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_ID_VALID, &req->id) == 0;
}

/*
 * Calls whose handler never waits: metadata of a name or an fd, identity,
 * and opens in host directories (a fifo's open, which may block, is
 * answered from a thread of its own). Their receiver keeps its turn.
 */
static bool answers_quickly(int nr)
{
	switch (nr) {
	case SYS_stat:
	case SYS_lstat:
	case SYS_newfstatat:
	case SYS_statx:
	case SYS_fstat:
	case SYS_access:
	case SYS_faccessat:
	case SYS_faccessat2:
	case SYS_readlink:
	case SYS_readlinkat:
	case SYS_getcwd:
	case SYS_getppid:
	case SYS_getuid:
	case SYS_geteuid:
	case SYS_getgid:
	case SYS_getegid:
	case SYS_getresuid:
	case SYS_getresgid:
	case SYS_getgroups:
		return true;
	case SYS_open:
	case SYS_openat:
		return !kbox_vfs_has_image(); /* an image file's first open copies it */
	default:
		return false;
	}
}

static int send_value(uint64_t id, int64_t value)
{
	struct seccomp_notif_resp resp = {.id = id};

	if (value < 0)
		resp.error = (int32_t)value;
	else
		resp.val = value;
	return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) ? -errno : 0;
}

/*
 * Install an fd and answer in one step. If the guest cannot take it (its
 * RLIMIT_NOFILE, or an O_PATH file, which ADDFD refuses), the guest still
 * gets an answer: the error.
 */
static int send_fd(uint64_t id, const struct kbox_result *res)
{
	struct seccomp_notif_addfd addfd = {
		.id = id,
		.flags = SECCOMP_ADDFD_FLAG_SEND,
		.srcfd = (uint32_t)res->fd,
		.newfd_flags = res->fd_cloexec ? O_CLOEXEC : 0,
	};
	int ret;

	kbox_turn_before_fd_install();
	ret = ioctl(listener, SECCOMP_IOCTL_NOTIF_ADDFD, &addfd);
	ret = ret < 0 ? -errno : 0;
	close(res->fd);
	if (ret && ret != -ENOENT)
		return send_value(id, ret);
	return ret;
}

static int um_respond(struct kbox_request *req, const struct kbox_result *res)
{
	struct seccomp_notif_resp resp = {.id = req->id};

	switch (res->kind) {
	case KBOX_RES_FD:
		return send_fd(req->id, res);
	case KBOX_RES_CONTINUE:
		resp.flags = SECCOMP_USER_NOTIF_FLAG_CONTINUE;
		return ioctl(listener, SECCOMP_IOCTL_NOTIF_SEND, &resp) ? -errno : 0;
	case KBOX_RES_VALUE:
		return send_value(req->id, res->value);
	case KBOX_RES_DEFERRED:
		break;
	}
	return 0;
}

static const struct kbox_tier_ops unotify_ops = {
	.name = "seccomp",
	.read_mem = um_read,
	.read_str = um_read_str,
	.write_mem = um_write,
	.get_guest_fd = um_get_guest_fd,
	.still_valid = um_still_valid,
	.respond = um_respond,
};

static void handle_one(struct seccomp_notif *n)
{
	struct kbox_request req = {
		.nr = n->data.nr,
		.ip = n->data.instruction_pointer,
		.tid = (pid_t)n->pid,
		.id = n->id,
		.tier = &unotify_ops,
	};
	char args[768]; /* only written when tracing: not zeroed per call */
	struct kbox_result res;

	args[0] = '\0';
	memcpy(req.args, n->data.args, sizeof(req.args));
	if (!answers_quickly(req.nr))
		kbox_turn_pass();
	if (kbox_obs_active())
		req.start_ns = kbox_obs_now_ns();
	if (kbox_obs_tracing())
		kbox_obs_decode_args(&req, args, sizeof(args));
	pthread_mutex_lock(&state_lock);
	kbox_watcher_drain();
	res = kbox_dispatch(&req);
	/*
	 * Time the handler, not the send: with a synchronous wakeup the guest
	 * may run on this CPU before the send returns.
	 */
	if (kbox_obs_active()) {
		req.end_ns = kbox_obs_now_ns();
		kbox_obs_record(&req, &res, args);
	}
	pthread_mutex_unlock(&state_lock);
	um_respond(&req, &res);
	kbox_turn_after_answer();
}

/* No task uses the filter any more: every guest task is gone. */
static bool listener_hung_up(void)
{
	struct pollfd pfd = {.fd = listener, .events = POLLIN};

	return poll(&pfd, 1, 0) == 1 && (pfd.revents & POLLHUP);
}

/* One notification; false once no guest task is left to send any. */
static bool receive(void)
{
	struct seccomp_notif n;

	memset(&n, 0, sizeof(n));
	kbox_turn_trim();
	if (!kbox_turn_held())
		kbox_turn_take();
	if (kbox_watcher_stop_requested())
		return false;
	if (ioctl(listener, SECCOMP_IOCTL_NOTIF_RECV, &n)) {
		/*
		 * ENOENT: the task died between the wakeup and RECV, or none is
		 * left, and then RECV fails at once: stop instead of spinning.
		 */
		if (errno == ENOENT)
			return !listener_hung_up();
		if (errno != EINTR)
			kbox_debug("NOTIF_RECV: %s", strerror(errno));
		return true;
	}
	handle_one(&n);
	return true;
}

/*
 * Serve until the first guest exits. The thread blocks in RECV itself:
 * with SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (6.6) the kernel then switches
 * guest and supervisor on one CPU instead of waking a sleeping one.
 */
static void *serve_loop(void *arg)
{
	(void)arg;
	kbox_watcher_add_receiver();
	while (!kbox_watcher_stop_requested() && receive())
		;
	kbox_turn_pass(); /* the others must see the hang-up or the stop too */
	kbox_watcher_receiver_done();
	return NULL;
}

/*
 * The CPUs kbox may run on; its guest inherited the same set. With one
 * (taskset, a one-CPU cpuset or machine) extra receivers cannot run beside
 * the one answering: they only add wakeups and turn hand-overs, so kbox
 * keeps one (measured on one CPU, alternating runs: open+close 16.5-17.4
 * -> 13.4 us on a directory, 16.2 -> 12.2 us on an image). While a
 * handler waits on the disk, the next call then waits too.
 */
static int usable_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set) != 0)
		return 2; /* unknown: assume more than one */
	return CPU_COUNT(&set);
}

static int serve(int status_fd, int *status)
{
	pthread_t extra[KBOX_RECEIVERS - 1];
	int n = 0, nextra = usable_cpus() > 1 ? KBOX_RECEIVERS - 1 : 0, err;

	/* While kbox has one thread, growing costs no RCU wait (image copies hold fds). */
	kbox_fdtable_reserve(1024);
	err = kbox_watcher_start(status_fd);
	if (err)
		return err;
	while (n < nextra && pthread_create(&extra[n], NULL, serve_loop, NULL) == 0)
		n++;
	serve_loop(NULL);
	while (n--)
		pthread_join(extra[n], NULL);
	return kbox_watcher_finish(status);
}

static void enable_sync_wakeup(struct kbox_features *f)
{
	f->sync_wakeup = ioctl(listener, SECCOMP_IOCTL_NOTIF_SET_FLAGS,
			       SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP, 0) == 0;
	if (!f->sync_wakeup)
		kbox_info("no SECCOMP_USER_NOTIF_FD_SYNC_WAKE_UP (Linux 6.6): each answered "
			  "syscall may cost a cross-CPU wakeup");
}

static volatile pid_t relay_target;

/*
 * A signal someone sent to kbox itself (kill, timeout, a supervisor) is
 * meant for the program it runs, as it would be for env or chroot, which
 * exec it. One the terminal sent (Ctrl-C, si_code SI_KERNEL) already
 * reached the guest, which is in the same process group: not sent twice.
 */
static void relay_signal(int sig, siginfo_t *si, void *ctx)
{
	(void)ctx;
	if (si->si_code <= 0 && relay_target > 0)
		kill(relay_target, sig);
}

static void relay_signals_to(pid_t guest)
{
	static const int sigs[] = {SIGINT, SIGQUIT, SIGTERM, SIGHUP};
	struct sigaction sa = {.sa_sigaction = relay_signal, .sa_flags = SA_SIGINFO | SA_RESTART};

	relay_target = guest;
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaction(sigs[i], &sa, NULL);
}

static int build_filter(const struct kbox_launch *l, struct sock_filter *insns,
			struct sock_fprog *prog)
{
	struct kbox_filter_config fc = {
		.notify_ids = l->notify_ids,
		.notify_signals = !kbox_landlock_scopes_signals(),
		.notify_dirents = l->notify_dirents,
		.notify_image = l->notify_image,
		.exec_sites = {kbox_stub_exec_ip(), kbox_loader_first_exec_ip()},
		.nexec_sites = 2,
		.stub_sigaction_site = kbox_stub_sigaction_ip(),
	};
	int n = kbox_bpf_build(&fc, insns);

	if (n < 0)
		return n;
	prog->len = (unsigned short)n;
	prog->filter = insns;
	return 0;
}

static int take_listener(struct kbox_unotify_pipes *p, struct kbox_features *f)
{
	struct kbox_handshake hs;
	int pidfd;

	if (read(p->up[0], &hs, sizeof(hs)) != sizeof(hs))
		return -ECHILD;
	if (hs.err) {
		if (hs.err == -EINVAL || hs.err == -ENOSYS || hs.err == -EACCES)
			kbox_err("this kernel refused a seccomp filter with a user-notification "
				 "listener (%s); kbox needs Linux 5.9 or newer built with "
				 "CONFIG_SECCOMP_FILTER",
				 strerror(-hs.err));
		else
			kbox_err("cannot set up the guest: %s", strerror(-hs.err));
		return hs.err;
	}
	f->wait_killable_recv = hs.killable;
	f->landlock_on = hs.landlocked;
	if (!hs.landlocked)
		kbox_warn("%s: the guest is confined by the seccomp supervisor alone",
			  f->landlock_abi ? "Landlock refused to restrict the guest"
					  : "this kernel has no Landlock (Linux 5.13+ with "
					    "Landlock enabled in lsm=)");
	if (!hs.killable)
		kbox_warn("this kernel lacks SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV (Linux 5.19): "
			  "a signal that interrupts a call kbox is answering may repeat it");
	pidfd = (int)syscall(SYS_pidfd_open, hs.pid, 0);
	if (pidfd < 0)
		return -errno;
	listener = (int)syscall(SYS_pidfd_getfd, pidfd, hs.listener, 0);
	close(pidfd);
	if (listener < 0) {
		kbox_err("cannot take the seccomp listener from the guest (pidfd_getfd: %s); "
			 "kbox needs Linux 5.6 or newer",
			 strerror(errno));
		return -errno;
	}
	return hs.pid;
}

int kbox_unotify_run(const struct kbox_launch *l, struct kbox_features *f)
{
	static struct sock_filter insns[KBOX_BPF_MAX];
	struct kbox_unotify_pipes p;
	struct sock_fprog prog;
	int status = 0, err;
	pid_t reaper, guest;

	p.stub_fd = kbox_stub_memfd();
	p.landlock_abi = f->landlock_abi = kbox_landlock_abi();
	if (p.stub_fd < 0)
		return p.stub_fd;
	/* Before the guest is forked and before kbox has other threads (see landlock.c). */
	f->abstract_scope = kbox_landlock_scope_supervisor(f->landlock_abi) == 0;
	err = build_filter(l, insns, &prog);
	if (!err)
		err = kbox_unotify_spawn(l, &prog, &p, &reaper);
	if (err)
		return err;
	guest = take_listener(&p, f);
	if (guest > 0) {
		enable_sync_wakeup(f);
		relay_signals_to(guest);
	}
	err = guest < 0 ? guest : l->prepare_first(guest, l->prepare_arg);
	if (!err && write(p.down[1], "g", 1) != 1)
		err = -errno;
	close(p.down[1]);
	close(p.up[0]);
	if (!err)
		err = serve(p.status[0], &status);
	if (listener >= 0)
		close(listener);
	close(p.status[0]);
	/* The reaper ends every guest process that is left, then exits. */
	if (err)
		kill(reaper, SIGUSR1);
	waitpid(reaper, NULL, 0);
	return err ? err : status;
}
