/* SPDX-License-Identifier: MIT */
/*
 * kbox-stub: the only program the host kernel ever execs for the guest.
 * See src/loader/stub_proto.h for the protocol and the lifecycle of an
 * exec; start.S for entry and exit; load.c, stack.c and sigsys.c for the
 * stages.
 */
#include "stub.h"
#include "sys.h"

#define EINVAL 22

/* What _start jumps to, returned in rax:rdx. */
struct stub_entry {
	uint64_t entry;
	uint64_t sp;
};

struct stub_entry kbox_stub_main(uint64_t *ksp);

long stub_request(long op, long a, long b, long c, long d, long e)
{
	return stub_syscall6((long)KBOX_STUB_NR, op, a, b, c, d, e);
}

static void say(const char *s)
{
	stub_syscall(STUB_NR_WRITE, 2, s, stub_strlen(s));
}

/* Past the host's exec there is no way back: report, then end like a failed exec. */
static __attribute__((noreturn)) void fail(long status, const char *what)
{
	stub_request(KBOX_STUB_OP_FAILED, status, 0, 0, 0, 0);
	say("kbox-stub: ");
	say(what);
	say("\n");
	for (;;)
		stub_syscall(STUB_NR_EXIT_GROUP, 127, 0, 0);
}

/* The plan must hold execfn and nprefix more NUL-terminated strings. */
static int plan_ok(const struct kbox_stub_plan *plan, long len)
{
	uint32_t nuls = 0;

	if (len < (long)sizeof(*plan) || plan->magic != KBOX_STUB_MAGIC ||
	    plan->strings_len > len - sizeof(*plan) || plan->strings_len == 0 ||
	    plan->strings[plan->strings_len - 1] != '\0')
		return 0;
	for (uint32_t i = 0; i < plan->strings_len; i++)
		nuls += plan->strings[i] == '\0';
	return nuls == plan->nprefix + 1;
}

static void load(long which, int pie_base, struct stub_image *img)
{
	long fd = stub_request(KBOX_STUB_OP_OPEN_FD, which, 0, 0, 0, 0);
	long r;

	if (fd < 0)
		fail(fd, "kbox did not hand over the program");
	r = stub_load_elf((int)fd, pie_base, img);
	stub_syscall(STUB_NR_CLOSE, fd, 0, 0);
	if (r)
		fail(r, which == KBOX_STUB_FD_PROGRAM ? "cannot map the program"
						      : "cannot map the ELF interpreter");
}

/*
 * Linux names the task after the file it execs (kbasename(bprm->filename),
 * 15 bytes); the host named it after the stub's fd. Put the guest's back.
 */
static void set_comm(const char *execfn)
{
	char comm[16] = {0};
	const char *base = execfn;

	for (const char *c = execfn; *c; c++)
		if (*c == '/')
			base = c + 1;
	for (int i = 0; i < 15 && base[i]; i++)
		comm[i] = base[i];
	stub_syscall(STUB_NR_PRCTL, 15 /* PR_SET_NAME */, comm, 0);
}

struct stub_entry kbox_stub_main(uint64_t *ksp)
{
	union {
		struct kbox_stub_plan plan;
		char bytes[KBOX_STUB_PLAN_MAX];
	} u;
	struct stub_image prog, interp;
	int has_interp;
	long r;

	r = stub_request(KBOX_STUB_OP_LOAD_INFO, (long)&u, sizeof(u), 0, 0, 0);
	if (r < 0)
		fail(r, "no exec plan from kbox (was kbox-stub run by hand?)");
	if (!plan_ok(&u.plan, r))
		fail(-EINVAL, "malformed exec plan from kbox");
	has_interp = !!(u.plan.flags & KBOX_PLAN_HAS_INTERP);
	load(KBOX_STUB_FD_PROGRAM, has_interp, &prog);
	if (has_interp)
		load(KBOX_STUB_FD_INTERP, 0, &interp);
	set_comm(u.plan.strings);
	r = stub_install_sigsys();
	if (r)
		fail(r, "cannot install the SIGSYS handler");
	return (struct stub_entry){
		.entry = has_interp ? interp.entry : prog.entry,
		.sp = stub_build_stack(ksp, &u.plan, &prog, has_interp ? &interp : 0),
	};
}
