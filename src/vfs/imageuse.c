// SPDX-License-Identifier: MIT
/*
 * Which host copies of image files (memfds, named copies, spill files) some process
 * still uses, so that kbox may drop its own reference to the others.
 *
 * kbox cannot be told when the last guest fd of a memfd closes (a lease
 * needs a file a lease can be taken on; memfds and unlinked files take
 * none), so it looks, and only when over budget: every fd in
 * /proc/PID/fd and every file mapping in /proc/PID/maps of kbox itself
 * (the in-process tiers' guests, and an fd on its way into a guest) and
 * of every guest process. Parents are read before their children, so a
 * fork racing the scan cannot hide an fd: it is in the parent when the
 * parent is read, or in the child, which is listed after.
 *
 * An fd moved within one table (dup2, then close of the old number) while
 * the table is read may be missed by one pass: the caller scans twice.
 * Every thread's fd table is read (a thread may have unshared it). Not
 * seen: an fd in flight in a unix socket (SCM_RIGHTS), passed on by a
 * process that closed its own copy; what it writes after the drop would
 * not reach the image.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <linux/kcmp.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "image_priv.h"

static kbox_guest_walk_fn guest_walk;

void kbox_vfs_set_guest_walk(kbox_guest_walk_fn fn)
{
	guest_walk = fn;
}

struct scan {
	kbox_imguse_mark_fn mark;
	void *arg;
	pid_t self;
	int err;
};

static bool gone(int e)
{
	return e == ENOENT || e == ESRCH;
}

/*
 * The copy an fd's link names, from the name alone (no stat of every fd):
 * a memfd is "/memfd:kbox-image:INO (deleted)" and a named copy
 * "DIR/kbox-image:INO@MINOR" with the image's inode, a spill file
 * "DIR/#INO (deleted)" with its host inode. A guest's own memfd of the same
 * name only makes kbox keep a copy longer.
 */
static bool ref_of_link(const char *link, size_t len, struct kbox_imguse_ref *ref)
{
	uint32_t ino;
	ino_t hino;

	if (kbox_imgstore_copy_ino(link, len, &ino)) {
		*ref = (struct kbox_imguse_ref){.memfd = true, .ino = ino};
		return true;
	}
	if (kbox_imgstore_ino_of_path(link, len, &hino) == 0) {
		*ref = (struct kbox_imguse_ref){.dev = kbox_imgstore_spill_dev(), .ino = hino};
		return true;
	}
	return false;
}

static int scan_fds(struct scan *s, pid_t pid, const char *path)
{
	struct kbox_imguse_ref ref;
	char link[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int dfd;

	d = opendir(path);
	if (!d)
		return gone(errno) ? 0 : -errno;
	dfd = dirfd(d);
	while ((de = readdir(d))) {
		ssize_t n;

		if (de->d_name[0] == '.')
			continue;
		n = readlinkat(dfd, de->d_name, link, sizeof(link) - 1);
		if (n < 0) {
			if (gone(errno))
				continue; /* closed meanwhile */
			closedir(d);
			return -errno;
		}
		link[n] = '\0';
		if (!ref_of_link(link, (size_t)n, &ref))
			continue;
		ref.self_fd = pid == s->self ? atoi(de->d_name) : -1;
		s->mark(&ref, s->arg);
	}
	closedir(d);
	return 0;
}

static void maps_line(struct scan *s, const char *line)
{
	unsigned long long ino;
	unsigned maj, mnr;
	int at = 0;

	struct kbox_imguse_ref ref = {.self_fd = -1};

	if (sscanf(line, "%*s %*s %*s %x:%x %llu %n", &maj, &mnr, &ino, &at) != 3 || !ino || !at)
		return;
	/* Maps name the host inode itself: exact for memfds and spill files alike. */
	if (!strncmp(line + at, "/memfd:kbox-image:", 18) ||
	    ref_of_link(line + at, strcspn(line + at, "\n"), &ref)) {
		ref = (struct kbox_imguse_ref){.dev = makedev(maj, mnr), .ino = ino, .self_fd = -1};
		s->mark(&ref, s->arg);
	}
}

static int scan_maps(struct scan *s, pid_t pid)
{
	char path[64], *line = NULL;
	size_t cap = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return gone(errno) ? 0 : -errno;
	while (getline(&line, &cap, f) > 0)
		maps_line(s, line);
	free(line);
	fclose(f);
	return 0;
}

/* The fd table of each thread: usually one table, shared by all. */
static int scan_tasks(struct scan *s, pid_t pid)
{
	char path[96];
	struct dirent *de;
	DIR *d;
	int r = 0;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	d = opendir(path);
	if (!d)
		return gone(errno) ? 0 : -errno;
	snprintf(path, sizeof(path), "/proc/%d/fd", (int)pid);
	r = scan_fds(s, pid, path);
	while (r == 0 && (de = readdir(d))) {
		pid_t tid = atoi(de->d_name);

		/* Another thread: read only a table of its own (kcmp 0: the same table). */
		if (tid <= 0 || tid == pid || syscall(SYS_kcmp, pid, tid, KCMP_FILES, 0, 0) == 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/fd", (int)pid, (int)tid);
		r = scan_fds(s, pid, path);
	}
	closedir(d);
	return r;
}

static int scan_one(pid_t pid, void *arg)
{
	struct scan *s = arg;
	int r = scan_tasks(s, pid);

	if (r == 0)
		r = scan_maps(s, pid);
	if (r < 0 && !s->err)
		s->err = r;
	return r < 0; /* one process unreadable: the answer is unknown, stop */
}

int kbox_imguse_scan(kbox_imguse_mark_fn mark, void *arg)
{
	struct scan s = {.mark = mark, .arg = arg, .self = getpid()};

	if (!guest_walk)
		return -ENOSYS; /* no way to find the guests: everything counts as in use */
	if (scan_one(s.self, &s) == 0)
		guest_walk(scan_one, &s);
	return s.err;
}
