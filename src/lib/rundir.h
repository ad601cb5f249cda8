/* SPDX-License-Identifier: MIT */
/*
 * Directories a run makes for itself under $TMPDIR (the private /tmp of
 * -S, an image's stand-ins) or elsewhere (the copies of image files, on
 * tmpfs): removed with everything in them when the run ends, or by the
 * reaper when kbox itself was killed.
 */
#ifndef KBOX_LIB_RUNDIR_H
#define KBOX_LIB_RUNDIR_H

#include <stddef.h>

/* Make $TMPDIR/PREFIX-XXXXXX (or /tmp/...) into @path. Returns 0 or -errno. */
int kbox_rundir_make(char *path, size_t size, const char *prefix);
/* The same in @base. */
int kbox_rundir_make_in(const char *base, char *path, size_t size, const char *prefix);
/* Remove @path and all below it, and forget it; @path may be empty. */
void kbox_rundir_remove(char *path);
/* Remove every directory still made (the reaper, after kbox died). */
void kbox_rundir_remove_all(void);

#endif
