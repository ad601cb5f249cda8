// SPDX-License-Identifier: MIT
/*
 * The guest's processes as the host sees them: every descendant of the
 * reaper. kbox meets a forked child only at its first notified call, so
 * its own tables cannot answer "all guest processes" (kill(-1), kill(0));
 * the host's process tree can.
 */
#include <dirent.h>
#include <stdio.h>

#include "kernel.h"

/* Depth bound: a guest cannot make kbox recurse without limit. */
#define MAX_DEPTH 256

static int walk_children(pid_t pid, int depth, int (*fn)(pid_t, void *), void *arg)
{
	char path[64];
	struct dirent *de;
	DIR *tasks;
	int r = 0;

	if (depth > MAX_DEPTH)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	tasks = opendir(path);
	if (!tasks)
		return 0;
	while (!r && (de = readdir(tasks))) {
		char cpath[64 + sizeof(de->d_name)];
		FILE *f;
		int child;

		if (de->d_name[0] == '.')
			continue;
		snprintf(cpath, sizeof(cpath), "/proc/%d/task/%s/children", (int)pid, de->d_name);
		f = fopen(cpath, "re");
		if (!f)
			continue;
		while (!r && fscanf(f, "%d", &child) == 1) {
			r = fn(child, arg);
			if (!r)
				r = walk_children(child, depth + 1, fn, arg);
		}
		fclose(f);
	}
	closedir(tasks);
	return r;
}

int kbox_kernel_for_each_guest(int (*fn)(pid_t tgid, void *arg), void *arg)
{
	pid_t reaper = kbox_kernel_reaper();

	return reaper > 0 ? walk_children(reaper, 0, fn, arg) : 0;
}
