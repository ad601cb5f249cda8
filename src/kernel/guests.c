// SPDX-License-Identifier: MIT
/* The guest's processes as the host sees them: every descendant of the reaper. */
#include "../lib/proctree.h"
#include "kernel.h"

int kbox_kernel_for_each_guest(int (*fn)(pid_t tgid, void *arg), void *arg)
{
	pid_t reaper = kbox_kernel_reaper();

	return reaper > 0 ? kbox_proctree_walk(reaper, fn, arg) : 0;
}
