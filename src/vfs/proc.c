// SPDX-License-Identifier: MIT
/*
 * The magic links of a host procfs shown in the guest. Resolved by kbox on
 * the host, "self" would name kbox and ".../exe" the exec stub; so inside a
 * procfs mount "self" and "thread-self" name the calling guest task, and a
 * guest process's "exe", "cwd" and "root" are the guest paths kbox keeps,
 * and its "fd/N" the guest path of its fd N. The directories of host
 * processes do not exist, and a procfs root lists only the guest's pids.
 */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <linux/magic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../fs/hostdir/meta.h"
#include "internal.h"

static kbox_proc_link_fn proc_link;
static kbox_proc_pid_fn proc_pid_is_guest;

void kbox_vfs_set_proc_links(kbox_proc_link_fn fn)
{
	proc_link = fn;
}

void kbox_vfs_set_proc_pids(kbox_proc_pid_fn fn)
{
	proc_pid_is_guest = fn;
}

bool kbox_vfs_proc_is_guest(pid_t pid)
{
	return !proc_pid_is_guest || proc_pid_is_guest(pid);
}

int kbox_vfs_proc_visible(const struct kbox_lookup_ctx *ctx, const struct kbox_mount *m,
			  const char *guest, size_t len)
{
	size_t mlen;
	const char *p, *end = guest + len;
	long pid = 0;

	if (!m || !m->is_proc || !proc_pid_is_guest || !ctx->tgid)
		return 0;
	mlen = kbox_vfs_mount_len(m);
	p = guest + mlen + (mlen > 1);
	if (p >= end || *p < '0' || *p > '9')
		return 0;
	for (; p < end && *p != '/'; p++) {
		if (*p < '0' || *p > '9')
			return 0;
		pid = pid * 10 + (*p - '0');
		if (pid > 0x7fffffff)
			return -ENOENT;
	}
	return proc_pid_is_guest((pid_t)pid) ? 0 : -ENOENT;
}

static int put(char *buf, size_t size, const char *s, size_t len)
{
	if (len > size)
		len = size;
	memcpy(buf, s, len);
	return (int)len;
}

/* "123" or "123/task/456" -> the pid whose link it is; 0 if neither. */
static pid_t pid_of(const char *rel)
{
	char *end;
	long pid = strtol(rel, &end, 10);

	if (end == rel || pid <= 0)
		return 0;
	if (*end == '\0')
		return (pid_t)pid;
	if (strncmp(end, "/task/", 6))
		return 0;
	rel = end + 6;
	pid = strtol(rel, &end, 10);
	return (end != rel && *end == '\0' && pid > 0) ? (pid_t)pid : 0;
}

pid_t kbox_vfs_proc_pid(const struct kbox_mount *m, const char *dir)
{
	size_t mlen = kbox_vfs_mount_len(m);

	if (strncmp(dir, m->guest, mlen) || (mlen > 1 && dir[mlen] && dir[mlen] != '/'))
		return 0;
	dir += mlen;
	dir += *dir == '/';
	return pid_of(dir);
}

/* "123/fd" or "123/task/456/fd": copy the part before "/fd" to @out. */
static bool fd_dir_of(const char *rel, char *out, size_t size)
{
	size_t n = strlen(rel);

	if (n < 4 || strcmp(rel + n - 3, "/fd") || n - 3 >= size)
		return false;
	memcpy(out, rel, n - 3);
	out[n - 3] = '\0';
	return true;
}

int kbox_vfs_proc_link(const struct kbox_lookup_ctx *ctx, const struct kbox_mount *m,
		       const char *parent, const char *name, char *buf, size_t size, bool follow)
{
	size_t mlen;
	const char *rel;
	char tmp[64];
	pid_t pid;

	if (!m || !m->is_proc || !ctx->tgid)
		return 0;
	mlen = kbox_vfs_mount_len(m);
	rel = parent + mlen + (mlen > 1 && parent[mlen] == '/');
	if (!*rel && !strcmp(name, "self"))
		return put(buf, size, tmp, (size_t)snprintf(tmp, sizeof(tmp), "%d", ctx->tgid));
	if (!*rel && !strcmp(name, "thread-self"))
		return put(buf, size, tmp,
			   (size_t)snprintf(tmp, sizeof(tmp), "%d/task/%d", ctx->tgid, ctx->tid));
	if (!proc_link)
		return 0;
	if (fd_dir_of(rel, tmp, sizeof(tmp))) {
		pid = pid_of(tmp);
		snprintf(tmp, sizeof(tmp), "fd/%.8s", name);
		return pid ? proc_link(pid, tmp, buf, size, follow) : 0;
	}
	if (strcmp(name, "exe") && strcmp(name, "cwd") && strcmp(name, "root"))
		return 0;
	pid = pid_of(rel);
	return pid ? proc_link(pid, name, buf, size, follow) : 0;
}

/* Linux's PROC_ROOT_INO: the procfs root, the one directory listing every pid. */
#define PROC_ROOT_INO 1

static bool is_proc_root(int fd)
{
	struct statfs sfs;
	struct stat st;

	/* fstatfs only for inode 1, which few directories but a procfs root have. */
	return fstat(fd, &st) == 0 && st.st_ino == PROC_ROOT_INO && S_ISDIR(st.st_mode) &&
	       fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

/* A pid entry of a host process the guest must not see. */
static bool hidden_pid(const char *name)
{
	long pid = 0;

	if (*name < '1' || *name > '9')
		return false;
	for (; *name; name++) {
		if (*name < '0' || *name > '9' || pid > 0x7fffffff / 10)
			return false;
		pid = pid * 10 + (*name - '0');
	}
	return !proc_pid_is_guest((pid_t)pid);
}

/*
 * Drop the hidden pid records of @buf in place. linux_dirent64 has its
 * name at byte 19 (after d_type), the old linux_dirent at 18; d_reclen is
 * at 16 in both.
 */
static size_t filter_pids(char *buf, size_t len, bool dirent64)
{
	size_t in = 0, out = 0, name_off = dirent64 ? 19 : 18;
	uint16_t reclen;

	while (in + name_off < len) {
		memcpy(&reclen, buf + in + 16, sizeof(reclen));
		if (reclen <= name_off || in + reclen > len)
			break;
		if (!hidden_pid(buf + in + name_off)) {
			memmove(buf + out, buf + in, reclen);
			out += reclen;
		}
		in += reclen;
	}
	return out;
}

/*
 * The file offset is the one the guest's fd shares, so it moves past the
 * hidden entries too. A chunk of hidden pids alone is skipped: 0 would
 * tell the guest the directory has ended.
 */
/*
 * Under fake ownership a device node is a regular placeholder file on the
 * host: give its entries the type the guest made (find -type c trusts
 * d_type). The type byte is at 18 in linux_dirent64, last in linux_dirent.
 */
static void fix_placeholder_types(int fd, char *buf, size_t len, bool dirent64)
{
	struct stat dir;
	size_t in = 0;
	uint16_t reclen;
	uint64_t ino;

	if (!kbox_vfs_owner_enabled() || fstat(fd, &dir) < 0)
		return;
	while (in + 19 <= len) {
		memcpy(&reclen, buf + in + 16, sizeof(reclen));
		if (reclen < 19 || in + reclen > len)
			break;
		char *type = buf + in + (dirent64 ? 18 : reclen - 1);

		memcpy(&ino, buf + in, sizeof(ino));
		if (*type == DT_REG) {
			int t = kbox_meta_dirent_type(dir.st_dev, (ino_t)ino);

			if (t)
				*type = (char)t;
		}
		in += reclen;
	}
}

long kbox_vfs_getdents(int fd, void *buf, size_t size, bool dirent64)
{
	long nr = dirent64 ? SYS_getdents64 : SYS_getdents;
	bool filter = proc_pid_is_guest && is_proc_root(fd);
	long n;

	if (kbox_vfs_has_image()) {
		n = kbox_img_getdents(fd, buf, size, dirent64);
		if (n != -ENOTSUP)
			return n;
	}
	do {
		n = syscall(nr, fd, buf, size);
		if (n < 0)
			return -errno;
		if (n > 0 && !filter)
			fix_placeholder_types(fd, buf, (size_t)n, dirent64);
		if (n == 0 || !filter)
			return n;
		n = (long)filter_pids(buf, (size_t)n, dirent64);
	} while (n == 0);
	return n;
}
