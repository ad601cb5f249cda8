// SPDX-License-Identifier: MIT
/*
 * The run's own directories. They are listed in kbox's memory, which the
 * reaper inherits when it is forked after the mounts are set up; a killed
 * kbox cannot clean up, so its reaper does, once every guest process is
 * gone and nothing writes there any more.
 */
#include "rundir.h"

#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RUNDIRS_MAX 8

static char made[RUNDIRS_MAX][PATH_MAX];

int kbox_rundir_make(char *path, size_t size, const char *prefix)
{
	return kbox_rundir_make_in(getenv("TMPDIR") ?: "/tmp", path, size, prefix);
}

int kbox_rundir_make_in(const char *base, char *path, size_t size, const char *prefix)
{
	int slot = 0;

	while (slot < RUNDIRS_MAX && made[slot][0])
		slot++;
	if (slot == RUNDIRS_MAX)
		return -ENOSPC;
	if ((size_t)snprintf(path, size, "%s/%s-XXXXXX", base, prefix) >= size ||
	    size > sizeof(made[slot])) {
		path[0] = '\0';
		return -ENAMETOOLONG;
	}
	if (!mkdtemp(path)) {
		path[0] = '\0';
		return -errno;
	}
	strcpy(made[slot], path);
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)st;
	(void)type;
	(void)ftw;
	remove(path);
	return 0;
}

void kbox_rundir_remove(char *path)
{
	if (!path[0])
		return;
	nftw(path, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	for (int i = 0; i < RUNDIRS_MAX; i++)
		if (!strcmp(made[i], path))
			made[i][0] = '\0';
	path[0] = '\0';
}

void kbox_rundir_remove_all(void)
{
	for (int i = 0; i < RUNDIRS_MAX; i++)
		kbox_rundir_remove(made[i]);
}
