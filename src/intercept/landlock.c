// SPDX-License-Identifier: MIT
/*
 * A kernel wall behind the supervisor: before the first guest program runs,
 * its task restricts itself with Landlock so that it can open, create,
 * remove or execute no host path at all. Everything the guest reaches by
 * path, kbox opens for it (fds opened outside the domain keep their
 * rights), and the stub it execs is a memfd, which Landlock does not
 * govern. A path the host reads from guest memory after kbox checked it
 * (a CONTINUEd call, a raw syscall the filter lets through) then gains
 * nothing. With ABI 6 the domain is also scoped for signals, so kill(-1)
 * and kill(0) reach only guest processes, and for abstract AF_UNIX sockets.
 *
 * Every right the host's ABI knows is handled and none is granted.
 *
 * The guest never connects an AF_UNIX socket itself: kbox does it on a copy
 * of the socket (dispatch/net.c), and Landlock judges an abstract connect
 * or send by the domain of the task that makes it. So kbox's own threads
 * get a domain too, scoped for abstract sockets only, before the guest is
 * forked: the guest's domain is then nested in kbox's, so kbox reaches the
 * guest's abstract sockets and no host process's.
 */
#include "landlock.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#define LL_CREATE_RULESET_VERSION (1u << 0)
#define LL_SCOPE_ABSTRACT_UNIX	  (1ull << 0)
#define LL_SCOPE_SIGNAL		  (1ull << 1)

/* struct landlock_ruleset_attr as of ABI 6; older kernels take a prefix. */
struct ll_ruleset_attr {
	uint64_t handled_access_fs;
	uint64_t handled_access_net;
	uint64_t scoped;
};

/*
 * KBOX_LANDLOCK_ABI=N caps the ABI kbox uses (0: none), so that the test
 * suite can run what an older kernel gets on a newer one. It can only take
 * protection away, and only the user who starts kbox sets it.
 */
int kbox_landlock_abi(void)
{
	long abi = syscall(SYS_landlock_create_ruleset, NULL, 0, LL_CREATE_RULESET_VERSION);
	const char *cap = getenv("KBOX_LANDLOCK_ABI");

	if (abi < 0)
		return 0;
	if (cap && *cap && atoi(cap) < abi)
		abi = atoi(cap) < 0 ? 0 : atoi(cap);
	return (int)abi;
}

bool kbox_landlock_scopes_signals(void)
{
	return kbox_landlock_abi() >= 6;
}

/*
 * Filesystem rights per ABI: 1 EXECUTE..MAKE_SYM (bits 0-12), 2 REFER,
 * 3 TRUNCATE, 5 IOCTL_DEV.
 */
static uint64_t fs_rights(int abi)
{
	uint64_t r = (1ull << 13) - 1;

	if (abi >= 2)
		r |= 1ull << 13;
	if (abi >= 3)
		r |= 1ull << 14;
	if (abi >= 5)
		r |= 1ull << 15;
	return r;
}

static int restrict_self(const struct ll_ruleset_attr *attr, size_t size)
{
	long fd = syscall(SYS_landlock_create_ruleset, attr, size, 0);
	int err = 0;

	if (fd < 0)
		return -errno;
	if (syscall(SYS_landlock_restrict_self, fd, 0))
		err = -errno;
	close((int)fd);
	return err;
}

int kbox_landlock_restrict(int abi)
{
	struct ll_ruleset_attr attr = {.handled_access_fs = fs_rights(abi)};
	size_t size = sizeof(attr.handled_access_fs);

	if (abi >= 6) {
		attr.scoped = LL_SCOPE_SIGNAL | LL_SCOPE_ABSTRACT_UNIX;
		size = sizeof(attr);
	}
	return restrict_self(&attr, size);
}

static bool supervisor_scoped;

int kbox_landlock_scope_supervisor(int abi)
{
	struct ll_ruleset_attr attr = {.scoped = LL_SCOPE_ABSTRACT_UNIX};
	int r;

	if (abi < 6)
		return -EOPNOTSUPP;
	/* Without CAP_SYS_ADMIN, Landlock needs it; kbox itself never execs. */
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return -errno;
	r = restrict_self(&attr, sizeof(attr));
	supervisor_scoped = r == 0;
	return r;
}

bool kbox_landlock_abstract_scoped(void)
{
	return supervisor_scoped;
}
