/* SPDX-License-Identifier: MIT */
/*
 * The guest's own execve/execveat, trapped by the seccomp filter
 * (SECCOMP_RET_TRAP) everywhere except at the stub's exec site.
 *
 * The handler may run in any thread and in a vfork child, whose stack and
 * memory belong to the parent: it uses only its own frames and writes no
 * global. It is installed with SA_NODEFER and an empty sa_mask, so the
 * signal mask at the exec site is the guest's own, which exec passes on to
 * the new program.
 */
#include <asm/siginfo.h>

#include "stub.h"
#include "sys.h"

#define NR_OPEN		  2
#define NR_FSTAT	  5
#define NR_RECVMSG	  47
#define NR_OPENAT	  257
#define NR_OPENAT2	  437
#define O_CLOEXEC_	  02000000
#define S_IFMT_		  0170000
#define S_IFSOCK_	  0140000
#define SOL_SOCKET_	  1
#define SCM_RIGHTS_	  1
#define MSG_CMSG_CLOEXEC_ 0x40000000
#define NR_EXECVE	  59
#define NR_EXECVEAT	  322
#define SIG_SYS		  31
#define SYS_SECCOMP_CODE  1
#define AT_FDCWD_	  (-100)
#define AT_EMPTY_PATH_	  0x1000
#define SA_SIGINFO_	  0x00000004UL
#define SA_RESTORER_	  0x04000000UL
#define SA_NODEFER_	  0x40000000UL

/*
 * The x86-64 signal frame's ucontext up to the registers the handler uses
 * (struct ucontext and struct sigcontext_64 of the kernel's uapi; glibc's
 * headers cannot be used without libc, the uapi ones hide them).
 */
struct stub_ucontext {
	unsigned long uc_flags;
	void *uc_link;
	void *ss_sp;
	int ss_flags;
	unsigned long ss_size;
	uint64_t r8, r9, r10, r11, r12, r13, r14, r15;
	uint64_t rdi, rsi, rbp, rbx, rdx, rax, rcx, rsp, rip;
};

/* The kernel's struct sigaction for rt_sigaction on x86-64. */
struct kernel_sigaction {
	void *handler;
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

/*
 * A SIGSYS that is not a trapped exec (the guest raised it itself): act as
 * the default disposition would and end the process with SIGSYS.
 */
static void die_of_sigsys(void)
{
	struct kernel_sigaction dfl = {0};

	kbox_stub_rt_sigaction(SIG_SYS, &dfl, 0, sizeof(dfl.mask));
	stub_syscall(STUB_NR_TGKILL, stub_syscall(STUB_NR_GETPID, 0, 0, 0),
		     stub_syscall(STUB_NR_GETTID, 0, 0, 0), SIG_SYS);
}

/* struct msghdr and struct cmsghdr of the x86-64 ABI, for one SCM_RIGHTS fd. */
struct stub_iovec {
	void *base;
	unsigned long len;
};

struct stub_msghdr {
	void *name;
	int namelen;
	struct stub_iovec *iov;
	unsigned long iovlen;
	void *control;
	unsigned long controllen;
	int flags;
};

struct stub_cmsg_fd {
	unsigned long len;
	int level;
	int type;
	int fd;
	int pad;
};

/* Take the fd kbox queued in @carrier (see KBOX_STUB_OP_OPEN). */
static long receive_fd(long carrier, int cloexec)
{
	struct stub_cmsg_fd cm = {0};
	int token;
	struct stub_iovec iov = {&token, sizeof(token)};
	struct stub_msghdr msg = {
		.iov = &iov, .iovlen = 1, .control = &cm, .controllen = sizeof(cm)};
	long r = stub_syscall(NR_RECVMSG, carrier, &msg, cloexec ? MSG_CMSG_CLOEXEC_ : 0);

	stub_syscall(STUB_NR_CLOSE, carrier, 0, 0);
	if (r < 0)
		return r;
	if (cm.level != SOL_SOCKET_ || cm.type != SCM_RIGHTS_)
		return -5; /* EIO: kbox sent no fd */
	return cm.fd;
}

/* An O_PATH open or an openat2 the filter trapped: kbox opens, the fd comes back here. */
static long forward_open(struct stub_ucontext *mc, long nr)
{
	unsigned long st[18]; /* struct stat: st_mode is the 32 bits at byte 24 */
	long fd, flags;

	fd = stub_request(KBOX_STUB_OP_OPEN, nr, mc->rdi, mc->rsi, mc->rdx, mc->r10);
	if (fd < 0)
		return fd;
	if (stub_syscall(NR_FSTAT, fd, st, 0) < 0 || ((unsigned)st[3] & S_IFMT_) != S_IFSOCK_)
		return fd; /* an open that waited (a FIFO) arrives as itself */
	if (nr == NR_OPEN)
		flags = mc->rsi;
	else if (nr == NR_OPENAT)
		flags = mc->rdx;
	else
		flags = *(const long *)mc->rdx; /* struct open_how: flags first; kbox read it */
	return receive_fd(fd, flags & O_CLOEXEC_);
}

static void on_sigsys(int sig, siginfo_t *si, void *ctx)
{
	struct stub_ucontext *mc = ctx;
	long dirfd, path, argv, envp, flags, fd, r;

	if (si->si_code == SYS_SECCOMP_CODE &&
	    (si->si_syscall == NR_OPEN || si->si_syscall == NR_OPENAT ||
	     si->si_syscall == NR_OPENAT2)) {
		mc->rax = forward_open(mc, si->si_syscall);
		return;
	}
	if (si->si_code != SYS_SECCOMP_CODE ||
	    (si->si_syscall != NR_EXECVE && si->si_syscall != NR_EXECVEAT)) {
		die_of_sigsys();
		return;
	}
	if (si->si_syscall == NR_EXECVE) {
		dirfd = AT_FDCWD_;
		path = mc->rdi;
		argv = mc->rsi;
		envp = mc->rdx;
		flags = 0;
	} else {
		dirfd = mc->rdi;
		path = mc->rsi;
		argv = mc->rdx;
		envp = mc->r10;
		flags = mc->r8;
	}
	fd = stub_request(KBOX_STUB_OP_EXEC_PREPARE, dirfd, path, argv, envp, flags);
	if (fd < 0) {
		mc->rax = fd;
		return;
	}
	r = kbox_stub_execveat(fd, "", argv, envp, AT_EMPTY_PATH_);
	/* Only reached when the exec failed (E2BIG, EFAULT, ENOMEM...). */
	stub_syscall(STUB_NR_CLOSE, fd, 0, 0);
	mc->rax = r;
}

long stub_install_sigsys(void)
{
	struct kernel_sigaction sa = {
		.handler = (void *)on_sigsys,
		.flags = SA_SIGINFO_ | SA_RESTORER_ | SA_NODEFER_,
		.restorer = kbox_stub_restorer,
		.mask = 0,
	};

	return kbox_stub_rt_sigaction(SIG_SYS, &sa, 0, sizeof(sa.mask));
}
