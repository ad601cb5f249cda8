// SPDX-License-Identifier: MIT
/*
 * The host's process tree below a pid. The reaper ends the guest with it,
 * and kbox finds the guest's processes with it (kill(-1), kill(0)): kbox
 * meets a forked child only at its first notified call, so its own tables
 * cannot answer "all guest processes"; the host's tree can.
 */
#include <dirent.h>
#include <stdio.h>

#include "proctree.h"

#define MAX_DEPTH 256

static int walk(pid_t pid, int depth, int (*fn)(pid_t, void *), void *arg)
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
				r = walk(child, depth + 1, fn, arg);
		}
		fclose(f);
	}
	closedir(tasks);
	return r;
}

int kbox_proctree_walk(pid_t pid, int (*fn)(pid_t child, void *arg), void *arg)
{
	return walk(pid, 0, fn, arg);
}
