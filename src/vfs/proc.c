// SPDX-License-Identifier: MIT
/*
 * The magic links of a host procfs shown in the guest. Resolved by kbox on
 * the host, "self" would name kbox and ".../exe" the exec stub; so inside a
 * procfs mount "self" and "thread-self" name the calling guest task, and a
 * guest process's "exe", "cwd" and "root" are the guest paths kbox keeps,
 * and its "fd/N" the guest path of its fd N.
 */
#include <stdbool.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
