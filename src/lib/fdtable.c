// SPDX-License-Identifier: MIT
/* kbox's own fd table, grown ahead of need (see fdtable.h). */
#include "fdtable.h"

#include <fcntl.h>
#include <sys/resource.h>
#include <unistd.h>

void kbox_fdtable_reserve(unsigned n)
{
	struct rlimit rl;
	int any, top;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < n)
		n = (unsigned)rl.rlim_cur;
	if (n < 2)
		return;
	/* The table keeps its size once grown: one fd near the top is enough. */
	any = open("/", O_PATH | O_CLOEXEC);
	if (any < 0)
		return;
	top = fcntl(any, F_DUPFD_CLOEXEC, (int)n - 1);
	if (top >= 0)
		close(top);
	close(any);
}
