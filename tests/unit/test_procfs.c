// SPDX-License-Identifier: MIT
/*
 * The guest's procfs (src/vfs/proc.c, procfile.c) against the host's own
 * /proc mounted at /proc over a temporary root:
 *
 *   root/  etc/passwd (some text)  proc/  mnt/
 *   bind/  data                    mounted read-only at /mnt
 *
 * This test process plays the guest ("self"); which pids are the guest's
 * is decided by the test's own callback.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfs/internal.h"
#include "vfs/vfs.h"

static char top[256];
static struct kbox_lookup_ctx ctx = {.root = "/", .base = "/"};

static void mkfile(const char *rel, const char *text)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	f = fopen(p, "w");
	cr_assert_not_null(f, "%s", p);
	fputs(text, f);
	fclose(f);
}

static void mkd(const char *rel)
{
	char p[PATH_MAX];

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s", p);
}

static void setup(void)
{
	char tmpl[] = "/tmp/kbox-procfs-XXXXXX", p[PATH_MAX];

	cr_assert_not_null(mkdtemp(tmpl));
	cr_assert_not_null(realpath(tmpl, p));
	cr_assert_lt(strlen(p), sizeof(top));
	memcpy(top, p, strlen(p) + 1);
	mkd("root");
	mkd("root/etc");
	mkd("root/proc");
	mkd("root/mnt");
	mkd("bind");
	mkfile("root/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
	mkfile("bind/data", "data\n");
	snprintf(p, sizeof(p), "%s/root", top);
	cr_assert_eq(kbox_vfs_mount("/", p, false), 0);
	snprintf(p, sizeof(p), "%s/bind", top);
	cr_assert_eq(kbox_vfs_mount("/mnt", p, true), 0);
	cr_assert_eq(kbox_vfs_mount("/proc", "/proc", false), 0);
	ctx.tgid = getpid();
	ctx.tid = gettid();
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	kbox_vfs_fini();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(procfs, .init = setup, .fini = teardown);

/* The whole of guest file @path as kbox opens it for the guest. */
static char *slurp(const char *path)
{
	static char buf[1 << 20];
	struct stat st;
	size_t len = 0;
	ssize_t n;
	int fd = kbox_vfs_open(&ctx, path, O_RDONLY, 0, NULL);

	cr_assert_geq(fd, 0, "open %s: %d", path, fd);
	while ((n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	cr_assert_geq(n, 0);
	buf[len] = '\0';
	cr_assert_eq(write(fd, "x", 1), -1, "%s must be read-only", path);
	cr_assert_eq(fstat(fd, &st), 0);
	cr_assert_eq(st.st_mode & 07777, 0444, "%s mode %o", path, st.st_mode);
	close(fd);
	return buf;
}

Test(procfs, guest_path_of_host)
{
	char host[PATH_MAX], out[PATH_MAX];

	snprintf(host, sizeof(host), "%s/root/etc/passwd", top);
	cr_assert_eq(kbox_vfs_guest_path_of_host(host, strlen(host), out, sizeof(out)), 11);
	cr_assert_str_eq(out, "/etc/passwd");
	snprintf(host, sizeof(host), "%s/bind", top);
	cr_assert_eq(kbox_vfs_guest_path_of_host(host, strlen(host), out, sizeof(out)), 4);
	cr_assert_str_eq(out, "/mnt");
	snprintf(host, sizeof(host), "%s/rootless/x", top);
	cr_assert_eq(kbox_vfs_guest_path_of_host(host, strlen(host), out, sizeof(out)), -ENOENT);
	cr_assert_eq(kbox_vfs_guest_path_of_host("pipe:[1]", 8, out, sizeof(out)), -ENOENT);
}

Test(procfs, mountinfo_is_the_guest_table)
{
	const char *t = slurp("/proc/self/mountinfo");

	cr_assert_not_null(strstr(t, " / / rw"), "%s", t);
	cr_assert_not_null(strstr(t, " / /mnt ro"), "%s", t);
	cr_assert_not_null(strstr(t, " / /proc rw"), "%s", t);
	cr_assert_not_null(strstr(t, " - proc "), "%s", t);
	cr_assert_null(strstr(t, top), "%s", t);
	t = slurp("/proc/mounts");
	cr_assert_not_null(strstr(t, " /mnt "), "%s", t);
	cr_assert_null(strstr(t, top), "%s", t);
}

Test(procfs, maps_name_guest_paths)
{
	char path[PATH_MAX];
	const char *t;
	void *map;
	int fd;

	snprintf(path, sizeof(path), "%s/root/etc/passwd", top);
	fd = open(path, O_RDONLY);
	cr_assert_geq(fd, 0);
	map = mmap(NULL, 4096, PROT_READ, MAP_PRIVATE, fd, 0);
	cr_assert_neq(map, MAP_FAILED);
	close(fd);
	t = slurp("/proc/self/maps");
	cr_assert_not_null(strstr(t, " /etc/passwd\n"), "%s", t);
	cr_assert_null(strstr(t, path), "%s", t);
	t = slurp("/proc/self/smaps");
	cr_assert_not_null(strstr(t, " /etc/passwd\n"), "%s", t);
	munmap(map, 4096);
}

static int fake_ids(pid_t pid, struct kbox_proc_ids *ids)
{
	memset(ids, 0, sizeof(*ids));
	ids->fake = true;
	ids->uid[1] = 7;
	ids->gid[2] = 8;
	ids->ngroups = 2;
	ids->groups[0] = 10;
	ids->groups[1] = 11;
	return pid == getpid() ? 0 : -ESRCH;
}

static bool only_self(pid_t pid)
{
	return pid == getpid();
}

Test(procfs, status_shows_emulated_ids_and_no_outside_parent)
{
	const char *t;

	kbox_vfs_set_proc_ids(fake_ids);
	kbox_vfs_set_proc_pids(only_self);
	t = slurp("/proc/self/status");
	cr_assert_not_null(strstr(t, "\nUid:\t0\t7\t0\t0\n"), "%s", t);
	cr_assert_not_null(strstr(t, "\nGid:\t0\t0\t8\t0\n"), "%s", t);
	cr_assert_not_null(strstr(t, "\nGroups:\t10 11 \n"), "%s", t);
	cr_assert_not_null(strstr(t, "\nPPid:\t0\n"), "%s", t);
	cr_assert_not_null(strstr(t, "\nTracerPid:\t0\n"), "%s", t);
	cr_assert_not_null(strstr(t, "\nVmRSS:"), "%s", t);
}

Test(procfs, root_lists_only_guest_pids)
{
	static char buf[512]; /* small: the pids take many calls, some all hidden */
	char self_name[32];
	bool self = false, other = false, nonpid = false;
	long n;
	int fd;

	kbox_vfs_set_proc_pids(only_self);
	snprintf(self_name, sizeof(self_name), "%d", (int)getpid());
	fd = open("/proc", O_RDONLY | O_DIRECTORY);
	cr_assert_geq(fd, 0);
	while ((n = kbox_vfs_getdents(fd, buf, sizeof(buf), true)) > 0) {
		for (long off = 0; off < n;) {
			unsigned short reclen;
			const char *name = buf + off + 19;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			if (!strcmp(name, self_name))
				self = true;
			else if (name[0] >= '1' && name[0] <= '9')
				other = true;
			else if (!strcmp(name, "self"))
				nonpid = true;
			off += reclen;
		}
	}
	cr_assert_eq(n, 0);
	close(fd);
	cr_assert(self && nonpid && !other);
}
