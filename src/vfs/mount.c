// SPDX-License-Identifier: MIT
/*
 * The mount table: host directories (each held as an O_PATH fd) placed at
 * guest paths. Written before the first guest runs, read-only afterwards,
 * so lookups need no lock. A later mount at the same guest path replaces
 * the earlier one, as the top of a Linux mount stack hides what is below.
 */
#include <errno.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../fs/ext4/ext4.h"
#include "internal.h"

static struct kbox_mount mounts[KBOX_MOUNTS_MAX];
static size_t mount_len[KBOX_MOUNTS_MAX];
static int nmounts;

static int find_slot(const char *guest)
{
	int i;

	for (i = 0; i < nmounts; i++)
		if (strcmp(mounts[i].guest, guest) == 0)
			return i;
	if (nmounts == KBOX_MOUNTS_MAX)
		return -ENOSPC;
	return nmounts;
}

static bool is_procfs(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 && sfs.f_type == PROC_SUPER_MAGIC;
}

/* The host, not the guest, makes and removes directories there: do not cache them. */
static bool is_volatile(int fd)
{
	struct statfs sfs;

	return fstatfs(fd, &sfs) == 0 &&
	       (sfs.f_type == PROC_SUPER_MAGIC || sfs.f_type == SYSFS_MAGIC);
}

/*
 * True if @inner's host directory lies in @outer's and is visible there at
 * a guest path no deeper mount hides: then one directory has two guest paths.
 */
static bool host_alias(const struct kbox_mount *outer, const struct kbox_mount *inner)
{
	size_t lo = strlen(outer->host), li = strlen(inner->host);
	const char *rest = inner->host + (lo == 1 ? 0 : lo);
	char g[PATH_MAX];
	int n;

	if (!kbox_path_has_prefix(inner->host, li, outer->host, lo))
		return false;
	n = kbox_path_join(outer->guest, rest[0] == '/' ? rest + 1 : rest, g, sizeof(g));
	return n > 0 && kbox_vfs_mount_under(g, (size_t)n) == outer;
}

/*
 * A change made through one guest path of an aliased directory must drop
 * the cache of the other path too: dcache.c flushes it all for those.
 */
static void mark_aliases(void)
{
	int i, j;

	for (i = 0; i < nmounts; i++)
		mounts[i].aliased = false;
	for (i = 0; i < nmounts; i++)
		for (j = 0; j < nmounts; j++)
			if (i != j && host_alias(&mounts[i], &mounts[j]))
				mounts[i].aliased = mounts[j].aliased = true;
}

int kbox_vfs_mount(const char *guest_path, const char *host_path, bool readonly)
{
	char guest[PATH_MAX], host[PATH_MAX];
	struct stat st;
	int slot, fd, r;

	if (guest_path[0] != '/')
		return -EINVAL;
	r = kbox_path_normalize(guest_path, guest, sizeof(guest));
	if (r < 0)
		return r;
	if (!realpath(host_path, host))
		return -errno;
	slot = find_slot(guest);
	if (slot < 0)
		return slot;
	fd = open(host, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		close(fd);
		return r;
	}
	if (slot < nmounts)
		close(mounts[slot].fd);
	else
		nmounts++;
	snprintf(mounts[slot].guest, PATH_MAX, "%s", guest);
	snprintf(mounts[slot].host, PATH_MAX, "%s", host);
	mounts[slot].fd = fd;
	mounts[slot].ext4 = NULL;
	mounts[slot].readonly = readonly;
	mounts[slot].is_proc = is_procfs(fd);
	mounts[slot].uncached = is_volatile(fd);
	mounts[slot].dev = st.st_dev;
	mounts[slot].ino = st.st_ino;
	mount_len[slot] = strlen(guest);
	mark_aliases();
	kbox_dcache_flush(); /* the new mount hides what the cache may hold below it */
	return 0;
}

/*
 * An image file at @guest_path. Its host path is the image file: no host
 * path lies below it, so no host fd maps into it by path (image.c maps its
 * own host objects back).
 */
int kbox_vfs_mount_image(const char *guest_path, const char *image, bool readonly, char *why,
			 size_t whysize)
{
	char guest[PATH_MAX], host[PATH_MAX];
	struct kbox_ext4 *x;
	int slot, r;

	if (guest_path[0] != '/')
		return -EINVAL;
	r = kbox_path_normalize(guest_path, guest, sizeof(guest));
	if (r < 0)
		return r;
	if (!realpath(image, host))
		return -errno;
	slot = find_slot(guest);
	if (slot < 0)
		return slot;
	r = kbox_ext4_open(host, !readonly, &x, why, whysize);
	if (r < 0)
		return r;
	if (slot < nmounts)
		close(mounts[slot].fd);
	else
		nmounts++;
	memset(&mounts[slot], 0, sizeof(mounts[slot]));
	snprintf(mounts[slot].guest, PATH_MAX, "%s", guest);
	snprintf(mounts[slot].host, PATH_MAX, "%s", host);
	mounts[slot].readonly = readonly;
	r = kbox_img_attach(&mounts[slot], x, slot);
	mount_len[slot] = strlen(guest);
	if (r < 0) {
		kbox_ext4_close(x);
		mounts[slot].ext4 = NULL;
		nmounts--;
		return r;
	}
	kbox_dcache_flush();
	return 0;
}

int kbox_vfs_nmounts(void)
{
	return nmounts;
}

const struct kbox_mount *kbox_vfs_mount_at(int i)
{
	return i >= 0 && i < nmounts ? &mounts[i] : NULL;
}

void kbox_vfs_fini(void)
{
	int i;

	kbox_dcache_flush();
	kbox_img_fini();
	for (i = 0; i < nmounts; i++)
		if (mounts[i].fd >= 0)
			close(mounts[i].fd);
	nmounts = 0;
}

size_t kbox_vfs_mount_len(const struct kbox_mount *m)
{
	return mount_len[m - mounts];
}

bool kbox_vfs_single_mount(void)
{
	return nmounts == 1 && mount_len[0] == 1;
}

const struct kbox_mount *kbox_vfs_mount_exact(const char *guest, size_t len)
{
	int i;

	for (i = 0; i < nmounts; i++)
		if (mount_len[i] == len && memcmp(mounts[i].guest, guest, len) == 0)
			return &mounts[i];
	return NULL;
}

const struct kbox_mount *kbox_vfs_mount_under(const char *guest, size_t len)
{
	const struct kbox_mount *best = NULL;
	size_t best_len = 0;
	int i;

	for (i = 0; i < nmounts; i++) {
		if (mount_len[i] < best_len && best)
			continue;
		if (kbox_path_has_prefix(guest, len, mounts[i].guest, mount_len[i])) {
			best = &mounts[i];
			best_len = mount_len[i];
		}
	}
	return best;
}

bool kbox_vfs_mounts_below(const char *guest, size_t len)
{
	int i;

	for (i = 0; i < nmounts; i++)
		if (mount_len[i] > len &&
		    kbox_path_has_prefix(mounts[i].guest, mount_len[i], guest, len))
			return true;
	return false;
}

/* The mount whose host directory is the longest prefix of host path @host[0..hlen), or NULL. */
static const struct kbox_mount *mount_of_host(const char *host, size_t hlen)
{
	const struct kbox_mount *best = NULL;
	size_t best_len = 0, mlen;

	for (int i = 0; i < nmounts; i++) {
		mlen = strlen(mounts[i].host);
		if (mlen >= best_len && kbox_path_has_prefix(host, hlen, mounts[i].host, mlen)) {
			best = &mounts[i];
			best_len = mlen;
		}
	}
	return best;
}

/* The mount holding host fd @fd, and its host path in @host; NULL when none does. */
static const struct kbox_mount *mount_of_fd(int fd, char host[PATH_MAX], size_t *hlen)
{
	char link[32];
	ssize_t n;

	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	n = readlink(link, host, PATH_MAX - 1);
	if (n < 0)
		return NULL;
	host[n] = '\0';
	*hlen = (size_t)n;
	return mount_of_host(host, *hlen);
}

int kbox_vfs_fd_writable(int fd)
{
	char host[PATH_MAX];
	size_t hlen;
	const struct kbox_mount *m;
	unsigned ino;

	if (kbox_img_of_fd(fd, &m, &ino, NULL, 0) == 1)
		return m->readonly ? -EROFS : 0;
	m = mount_of_fd(fd, host, &hlen);

	return m && m->readonly ? -EROFS : 0;
}

/*
 * A host path mapped back through the mount whose host directory is its
 * longest prefix. A path outside every mount has no guest path.
 */
int kbox_vfs_guest_path_of_host(const char *host, size_t hlen, char *out, size_t size)
{
	const struct kbox_mount *best = host[0] == '/' ? mount_of_host(host, hlen) : NULL;
	size_t best_len, glen;
	const char *rest;
	int n;

	if (!best)
		return -ENOENT;
	best_len = strlen(best->host);
	rest = host + (best_len == 1 ? 0 : best_len); /* host "/" mounted: rest keeps its "/" */
	glen = (size_t)(host + hlen - rest);
	if (glen == 1 && rest[0] == '/')
		glen = 0;
	if (!glen)
		n = snprintf(out, size, "%s", best->guest);
	else
		n = snprintf(out, size, "%s%.*s", kbox_vfs_mount_len(best) == 1 ? "" : best->guest,
			     (int)glen, rest);
	if (n < 0 || (size_t)n >= size)
		return -ENAMETOOLONG;
	return n;
}

static const char deleted_tag[] = " (deleted)";
#define DELETED_LEN (sizeof(deleted_tag) - 1)

/* A deleted file or an fd from outside every mount (a pipe) has no guest path. */
int kbox_vfs_guest_path_of_fd(int fd, char *out, size_t size)
{
	char host[PATH_MAX];
	size_t hlen = 0;
	const struct kbox_mount *m;
	unsigned ino;
	int r = kbox_img_of_fd(fd, &m, &ino, out, size);

	if (r != 0)
		return r < 0 ? r : (int)strlen(out);
	if (!mount_of_fd(fd, host, &hlen))
		return -ENOENT;
	if (hlen > DELETED_LEN && strcmp(host + hlen - DELETED_LEN, deleted_tag) == 0)
		return -ENOENT;
	return kbox_vfs_guest_path_of_host(host, hlen, out, size);
}

/* Linux's d_path() mark of an unlinked file, after the @n bytes of @out. */
static int tag_deleted(char *out, int n, size_t size)
{
	if (n < 0 || (size_t)n + DELETED_LEN >= size)
		return n < 0 ? n : -ENAMETOOLONG;
	memcpy(out + n, deleted_tag, DELETED_LEN + 1);
	return n + (int)DELETED_LEN;
}

int kbox_vfs_file_ref_of_fd(int fd, struct kbox_file_ref *ref)
{
	const struct kbox_mount *m;
	unsigned ino;
	int r = kbox_img_of_fd(fd, &m, &ino, ref->guest, sizeof(ref->guest));

	if (r != 1)
		return r < 0 ? r : -ENOENT;
	ref->mnt = m;
	ref->ino = ino;
	return 0;
}

int kbox_vfs_guest_link_of_ref(const struct kbox_file_ref *ref, char *out, size_t size)
{
	struct stat st;
	int r = kbox_img_guest_of_ino(ref->mnt, ref->ino, out, size);

	if (r == -ENOENT) /* its copy was dropped: the name it had then */
		r = snprintf(out, size, "%s", ref->guest) >= (int)size ? -ENAMETOOLONG : 0;
	if (r < 0)
		return r;
	r = (int)strlen(out);
	if (kbox_ext4_getattr(ref->mnt->ext4, ref->ino, &st) == 0 && st.st_nlink == 0)
		r = tag_deleted(out, r, size);
	return r;
}

/* kbox_vfs_guest_link_of_fd() of a host file. */
static int host_link_of_fd(int fd, char *out, size_t size)
{
	char host[PATH_MAX];
	size_t hlen = 0;

	if (!mount_of_fd(fd, host, &hlen))
		return -ENOENT;
	if (hlen > DELETED_LEN && strcmp(host + hlen - DELETED_LEN, deleted_tag) == 0)
		return tag_deleted(out,
				   kbox_vfs_guest_path_of_host(host, hlen - DELETED_LEN, out, size),
				   size);
	return kbox_vfs_guest_path_of_host(host, hlen, out, size);
}

int kbox_vfs_guest_link_of_fd(int fd, char *out, size_t size)
{
	struct kbox_file_ref ref;

	if (kbox_vfs_file_ref_of_fd(fd, &ref) == 0)
		return kbox_vfs_guest_link_of_ref(&ref, out, size);
	return host_link_of_fd(fd, out, size);
}
