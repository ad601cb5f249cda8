// SPDX-License-Identifier: MIT
/*
 * The exec stub end to end, without kbox: a minimal seccomp user-notify
 * supervisor answers the stub's requests itself (plans made by
 * kbox_binprm_prepare() on host paths) and lets the stub's own exec run.
 * Each test runs a guest and checks its output and exit status.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "loader/loader.h"

#ifndef GUEST_DIR
#error "GUEST_DIR: the build directory holding the test_elf_guest_* programs"
#endif

/* A plan per guest process, as kbox keeps them. */
#define PLANS_MAX 16

struct plan {
	pid_t tgid; /* 0: free */
	struct kbox_binprm bp;
};

struct sup {
	pid_t pid;
	int listener;
	int stub_fd;
	struct plan plans[PLANS_MAX];
	long failed; /* status of KBOX_STUB_OP_FAILED, 0 if none */
	int prepares;
};

static pid_t tgid_of(pid_t tid)
{
	char path[64], line[128];
	pid_t tgid = tid;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", tid);
	f = fopen(path, "re");
	if (!f)
		return tid;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Tgid: %d", &tgid) == 1)
			break;
	fclose(f);
	return tgid;
}

/* The plan of @tid's process; with @create a fresh one (an earlier one is dropped). */
static struct plan *plan_of(struct sup *s, pid_t tid, bool create)
{
	pid_t tgid = tgid_of(tid);
	struct plan *free_slot = NULL;

	for (int i = 0; i < PLANS_MAX; i++) {
		if (s->plans[i].tgid == tgid) {
			if (!create)
				return &s->plans[i];
			kbox_binprm_release(&s->plans[i].bp);
			return &s->plans[i];
		}
		if (!s->plans[i].tgid && !free_slot)
			free_slot = &s->plans[i];
	}
	if (!create || !free_slot)
		return NULL;
	free_slot->tgid = tgid;
	return free_slot;
}

static void plan_drop(struct plan *p)
{
	kbox_binprm_release(&p->bp);
	p->tgid = 0;
}

static int host_open_exec(void *arg, const char *path, bool first)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || access(path, X_OK)) {
		close(fd);
		return -EACCES;
	}
	return fd;
}

static int install_filter(void)
{
	uint64_t ip0 = kbox_stub_exec_ip(), ip1 = kbox_loader_first_exec_ip();
	struct sock_filter f[] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, KBOX_STUB_NR, 11, 0),      /* 4 -> 16 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execve, 2, 0),	       /* 5 -> 8 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_execveat, 1, 0),      /* 6 -> 8 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, __NR_rt_sigaction, 9, 11), /* 7 -> 17 : 19 */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, instruction_pointer)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ip0, 0, 2), /* 9 -> 10 : 12 */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, instruction_pointer) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ip0 >> 32, 4, 3),	  /* 11 -> 16 : 15 */
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (uint32_t)ip1, 0, 2), /* 12 -> 13 : 15 */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, instruction_pointer) + 4),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ip1 >> 32, 1, 0), /* 14 -> 16 : 15 */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),	      /* 15 */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF),    /* 16 */
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SIGSYS, 1, 0), /* 18 -> 20 : 19 */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),	   /* 19 */
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_USER_NOTIF), /* 20 */
	};
	struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};

	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -1;
	return (int)syscall(__NR_seccomp, SECCOMP_SET_MODE_FILTER, SECCOMP_FILTER_FLAG_NEW_LISTENER,
			    &prog);
}

static void send_fd(int sock, int fd)
{
	char c = 0, cbuf[CMSG_SPACE(sizeof(int))] = {0};
	struct iovec iov = {&c, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	sendmsg(sock, &msg, 0);
}

static int recv_fd(int sock)
{
	char c, cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {&c, 1};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf)};
	int fd = -1;

	if (recvmsg(sock, &msg, 0) == 1 && CMSG_FIRSTHDR(&msg))
		memcpy(&fd, CMSG_DATA(CMSG_FIRSTHDR(&msg)), sizeof(int));
	return fd;
}

/* A NUL-terminated string of the guest, read page by page. */
static int read_string(pid_t pid, uint64_t addr, char *buf, size_t size)
{
	size_t got = 0;

	while (got < size) {
		size_t chunk = 4096 - ((addr + got) & 4095);
		struct iovec local = {buf + got, chunk < size - got ? chunk : size - got};
		struct iovec remote = {(void *)(addr + got), local.iov_len};
		ssize_t n = process_vm_readv(pid, &local, 1, &remote, 1, 0);

		if (n <= 0)
			return -EFAULT;
		if (memchr(buf + got, 0, (size_t)n))
			return 0;
		got += (size_t)n;
	}
	return -ENAMETOOLONG;
}

static void reply(struct sup *s, uint64_t id, int64_t val, uint32_t flags)
{
	struct seccomp_notif_resp resp = {.id = id, .flags = flags};

	if (val < 0)
		resp.error = (int32_t)val;
	else
		resp.val = val;
	ioctl(s->listener, SECCOMP_IOCTL_NOTIF_SEND, &resp);
}

static void reply_fd(struct sup *s, uint64_t id, int fd)
{
	struct seccomp_notif_addfd a = {
		.id = id, .flags = SECCOMP_ADDFD_FLAG_SEND, .srcfd = fd, .newfd_flags = O_CLOEXEC};

	ioctl(s->listener, SECCOMP_IOCTL_NOTIF_ADDFD, &a);
}

static void prepare(struct sup *s, const struct seccomp_notif *n)
{
	static char path[4096];
	struct kbox_binprm_ops ops = {.open_exec = host_open_exec};
	int err = read_string(n->pid, n->data.args[2], path, sizeof(path));
	struct plan *p = plan_of(s, n->pid, true);

	s->prepares++;
	if (!err && !p)
		err = -ENOMEM;
	if (!err)
		err = kbox_binprm_prepare(&ops, path, path, false, &p->bp);
	if (err) {
		if (p)
			p->tgid = 0;
		reply(s, n->id, err, 0);
		return;
	}
	reply_fd(s, n->id, s->stub_fd);
}

static void load_info(struct sup *s, const struct seccomp_notif *n)
{
	static union {
		struct kbox_stub_plan hdr;
		char bytes[KBOX_STUB_PLAN_MAX];
	} out;
	struct plan *p = plan_of(s, n->pid, false);
	size_t len = sizeof(out.hdr) + (p ? p->bp.strings_len : 0);
	struct iovec local = {&out, len}, remote = {(void *)n->data.args[1], len};

	if (p) {
		out.hdr = (struct kbox_stub_plan){KBOX_STUB_MAGIC, p->bp.flags, p->bp.nprefix,
						  p->bp.strings_len};
		memcpy(out.hdr.strings, p->bp.strings, p->bp.strings_len);
	}
	if (!p || process_vm_writev(n->pid, &local, 1, &remote, 1, 0) != (ssize_t)len)
		reply(s, n->id, -ENOENT, 0);
	else
		reply(s, n->id, (int64_t)len, 0);
}

static void open_fd(struct sup *s, const struct seccomp_notif *n)
{
	struct plan *p = plan_of(s, n->pid, false);
	bool interp = n->data.args[1] == KBOX_STUB_FD_INTERP;

	if (!p) {
		reply(s, n->id, -ENOENT, 0);
		return;
	}
	reply_fd(s, n->id, interp ? p->bp.interp_fd : p->bp.prog_fd);
	/* The last fd commits the exec, as in kbox. */
	if (interp || !(p->bp.flags & KBOX_PLAN_HAS_INTERP))
		plan_drop(p);
}

/*
 * The guest's own rt_sigaction(SIGSYS), emulated as kbox does: the stub
 * owns the real handler (posix_spawn children reset every handler they
 * find). This minimal version reports SIG_DFL and drops the new action.
 */
static void sigaction_sigsys(struct sup *s, const struct seccomp_notif *n)
{
	char dfl[32] = {0};
	struct iovec local = {dfl, sizeof(dfl)}, remote = {(void *)n->data.args[2], sizeof(dfl)};

	if (n->data.instruction_pointer == kbox_stub_sigaction_ip()) {
		reply(s, n->id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
		return;
	}
	if (n->data.args[2])
		process_vm_writev(n->pid, &local, 1, &remote, 1, 0);
	reply(s, n->id, 0, 0);
}

static void handle(struct sup *s, const struct seccomp_notif *n)
{
	if (n->data.nr == __NR_rt_sigaction) {
		sigaction_sigsys(s, n);
		return;
	}
	if (n->data.nr == __NR_execveat) {
		reply(s, n->id, 0, SECCOMP_USER_NOTIF_FLAG_CONTINUE);
		return;
	}
	if (n->data.nr != (int)KBOX_STUB_NR) {
		reply(s, n->id, -EACCES, 0);
		return;
	}
	switch (n->data.args[0]) {
	case KBOX_STUB_OP_EXEC_PREPARE:
		prepare(s, n);
		break;
	case KBOX_STUB_OP_LOAD_INFO:
		load_info(s, n);
		break;
	case KBOX_STUB_OP_OPEN_FD:
		open_fd(s, n);
		break;
	default:
		s->failed = (long)n->data.args[1];
		reply(s, n->id, 0, 0);
	}
}

static void supervise(struct sup *s)
{
	struct pollfd pfd = {.fd = s->listener, .events = POLLIN};
	struct seccomp_notif n;

	while (poll(&pfd, 1, 10000) > 0 && !(pfd.revents & POLLHUP)) {
		memset(&n, 0, sizeof(n));
		if (ioctl(s->listener, SECCOMP_IOCTL_NOTIF_RECV, &n) == 0)
			handle(s, &n);
	}
}

static __attribute__((noreturn)) void guest(int sock, int out, char *const argv[])
{
	char *envp[] = {"KBOX_TEST=yes", NULL};
	int listener;

	dup2(out, 1);
	dup2(out, 2);
	listener = install_filter();
	if (listener < 0)
		_exit(124);
	send_fd(sock, listener);
	close(listener);
	kbox_loader_exec_first(kbox_stub_memfd(), argv, envp);
	_exit(125);
}

/* Run argv[0] under the stub; returns its wait status, output in @out. */
static int run(char *const argv[], char *out, size_t size, struct sup *s)
{
	int sv[2], pipefd[2], status = -1;
	ssize_t n, got = 0;

	struct kbox_binprm_ops ops = {.open_exec = host_open_exec};

	memset(s, 0, sizeof(*s));
	s->stub_fd = kbox_stub_memfd();
	cr_assert_geq(s->stub_fd, 0);
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	s->pid = fork();
	if (s->pid == 0)
		guest(sv[1], pipefd[1], argv);
	/* kbox prepares the first plan itself, before the first exec. */
	s->plans[0].tgid = s->pid;
	cr_assert_eq(kbox_binprm_prepare(&ops, argv[0], argv[0], false, &s->plans[0].bp), 0, "%s",
		     argv[0]);
	close(sv[1]);
	close(pipefd[1]);
	s->listener = recv_fd(sv[0]);
	cr_assert_geq(s->listener, 0, "no listener from the guest");
	supervise(s);
	while ((n = read(pipefd[0], out + got, size - 1 - (size_t)got)) > 0)
		got += n;
	out[got] = '\0';
	waitpid(s->pid, &status, 0);
	close(pipefd[0]);
	close(sv[0]);
	close(s->listener);
	return status;
}

static void expect_report(const char *prog, const char *out, int status)
{
	cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 7, "%s: status %#x, output:\n%s",
		  prog, status, out);
	cr_expect(strstr(out, "phdr=1 bss=1 sigsys-blocked=0 random=1\n"), "%s:\n%s", prog, out);
	cr_expect(strstr(out, "env=yes\n"), "%s:\n%s", prog, out);
}

#define GUEST(kind) GUEST_DIR "/test_elf_guest_" kind

static void run_report(const char *prog)
{
	char out[8192], expect[512];
	char *argv[] = {(char *)prog, "one", "two words", NULL};
	struct sup s;
	int status = run(argv, out, sizeof(out), &s);

	expect_report(prog, out, status);
	snprintf(expect, sizeof(expect),
		 "argc=3\nargv[0]=%s\nargv[1]=one\nargv[2]=two words\nexecfn=%s\n", prog, prog);
	cr_expect(strstr(out, expect), "%s:\n%s", prog, out);
	cr_expect_eq(s.failed, 0);
}

Test(stub, loads_static_glibc)
{
	run_report(GUEST("static"));
}

Test(stub, loads_static_pie)
{
	run_report(GUEST("static_pie"));
}

Test(stub, loads_dynamic_with_interpreter)
{
	run_report(GUEST("dynamic"));
}

Test(stub, runs_dynamic_system_program)
{
	char out[256];
	char *argv[] = {"/bin/true", NULL};
	struct sup s;

	cr_expect_eq(run(argv, out, sizeof(out), &s), 0, "output: %s", out);
}

/* The guest's own execve traps to the stub, which asks for a plan and re-execs itself. */
Test(stub, guest_execve_goes_through_the_stub)
{
	char out[8192];
	char *argv[] = {GUEST("dynamic"), "exec", GUEST("static"), "again", NULL};
	struct sup s;
	int status = run(argv, out, sizeof(out), &s);

	expect_report("exec", out, status);
	cr_expect(strstr(out, "argc=2\nargv[0]=" GUEST("static") "\nargv[1]=again\n"), "%s", out);
	cr_expect_eq(s.prepares, 1);
}

Test(stub, failed_guest_execve_returns_errno)
{
	char out[8192];
	char *argv[] = {GUEST("static"), "exec", "/nonexistent/prog", NULL};
	struct sup s;
	int status = run(argv, out, sizeof(out), &s);

	cr_expect(WIFEXITED(status) && WEXITSTATUS(status) == 0, "status %#x: %s", status, out);
	cr_expect(strstr(out, "exec-errno=2\n"), "%s", out);
}

Test(stub, runs_script_with_argument)
{
	char dir[] = "/tmp/kbox-stub-test-XXXXXX", script[64], out[8192], expect[512];
	struct sup s;
	FILE *f;
	int status;

	cr_assert(mkdtemp(dir));
	snprintf(script, sizeof(script), "%s/s", dir);
	f = fopen(script, "w");
	fprintf(f, "#!%s  -x  y \nrest\n", GUEST("static"));
	fclose(f);
	chmod(script, 0755);
	{
		char *argv[] = {"ignored-argv0", "a", NULL};

		/* The plan is made from the path the first exec names: argv[0] here. */
		argv[0] = script;
		status = run(argv, out, sizeof(out), &s);
	}
	unlink(script);
	rmdir(dir);
	expect_report(script, out, status);
	snprintf(expect, sizeof(expect),
		 "argc=4\nargv[0]=%s\nargv[1]=-x  y\nargv[2]=%s\nargv[3]=a\nexecfn=%s\n",
		 GUEST("static"), script, script);
	cr_expect(strstr(out, expect), "%s", out);
}
