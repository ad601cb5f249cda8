// SPDX-License-Identifier: MIT
/*
 * Path resolution: the guest path is walked by kbox, component by
 * component, from the guest root (absolute paths) or the base directory.
 *
 * The walk holds an O_PATH fd of the current directory and its canonical
 * guest path. A child is opened with O_PATH|O_DIRECTORY|O_NOFOLLOW, so the
 * host never follows a symlink; a symlink is read with readlinkat and its
 * target spliced in front of the rest of the path (absolute targets restart
 * at the guest root; 40 at most, then ELOOP). ".." is lexical on the
 * canonical guest path and reopened from the mount's fd with
 * RESOLVE_BENEATH|RESOLVE_NO_SYMLINKS, so it can never climb out of a mount
 * on the host: at the guest root it stays, at a mount root it goes to the
 * mount point's parent. A guest path equal to a mount point enters that
 * mount's root.
 *
 * Fast path: a path without ".." and without symlinks costs one openat2 for
 * its parent directory from the deepest mount it lies in; a symlink on the
 * way makes that openat2 fail with ELOOP and the full walk runs instead.
 *
 * The dcache (dcache.c) remembers every directory the walk opened and every
 * symlink it read, by canonical guest path: a parent seen before costs no
 * syscall at all, one not seen is opened from its deepest cached ancestor,
 * and a cached symlink is followed without readlinkat.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "../fs/ext4/ext4.h"
#include "../fs/hostdir/hostdir.h"
#include "internal.h"

#define WALK_MAXLINKS 40
#define WALK_RESOLVE  (RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS)

struct walk {
	const struct kbox_lookup_ctx *ctx;
	unsigned flags;
	int fd;			  /* current directory, O_PATH */
	bool borrowed;		  /* fd is the mount's own fd or dent's */
	struct kbox_dentry *dent; /* the dcache entry holding fd, pinned */
	const struct kbox_mount *mnt;
	unsigned ino; /* image mounts: the current directory's inode (fd is -1) */
	size_t glen;
	int links;
	int cur;	      /* rest[cur] holds the remaining path after a symlink */
	char guest[PATH_MAX]; /* canonical guest path of fd */
	char link[PATH_MAX];  /* last symlink target read */
	char rest[2][PATH_MAX];
};

/*
 * Every field but the path buffers, which each step writes before it reads:
 * zeroing 16 KiB per lookup showed in the profile of a guest's stat.
 */
static void walk_init(struct walk *w, const struct kbox_lookup_ctx *ctx, unsigned flags)
{
	memset(w, 0, offsetof(struct walk, guest));
	w->ctx = ctx;
	w->flags = flags;
	w->fd = -1;
	w->guest[0] = w->link[0] = w->rest[0][0] = w->rest[1][0] = '\0';
}

static bool is_dot(const char *p, size_t n)
{
	return n == 1 && p[0] == '.';
}

static bool is_dotdot(const char *p, size_t n)
{
	return n == 2 && p[0] == '.' && p[1] == '.';
}

/* Let go of the current directory: unpin its cache entry or close what kbox opened. */
static void walk_drop(struct walk *w)
{
	if (w->dent)
		kbox_dcache_put(w->dent);
	else if (w->fd >= 0 && !w->borrowed)
		close(w->fd);
	w->dent = NULL;
	w->fd = -1;
}

static void walk_set(struct walk *w, int fd, bool borrowed, const struct kbox_mount *m)
{
	walk_drop(w);
	w->fd = fd;
	w->borrowed = borrowed;
	w->mnt = m;
	w->ino = KBOX_EXT4_ROOT_INO; /* an image mount is only entered at its root */
}

static void walk_set_cached(struct walk *w, struct kbox_dentry *d, const struct kbox_mount *m)
{
	walk_set(w, kbox_dcache_fd(d), true, m);
	w->dent = d;
}

/*
 * Hold @fd, just opened without following anything at canonical guest path
 * @guest[0..len): the cache takes it if it may (not from before @gen).
 */
static void walk_hold(struct walk *w, int fd, const struct kbox_mount *m, const char *guest,
		      size_t len, unsigned gen)
{
	struct kbox_dentry *d = m->uncached ? NULL : kbox_dcache_insert(guest, len, fd, gen);

	if (d)
		walk_set_cached(w, d, m);
	else
		walk_set(w, fd, false, m);
}

/*
 * Open the directory at canonical guest path @guest[0..len) below mount @m:
 * from the cache, else with one openat2 from its deepest cached ancestor or
 * the mount, which no symlink and no ".." can leave.
 */
static int walk_open(struct walk *w, const struct kbox_mount *m, const char *guest, size_t len)
{
	size_t mlen = kbox_vfs_mount_len(m), off = mlen, found = 0;
	struct kbox_dentry *d = NULL;
	char rel[PATH_MAX];
	unsigned gen = 0;
	int fd, from = m->fd;

	if (m->ext4) {
		unsigned ino = 0;
		int r;

		memcpy(rel, guest + mlen, len - mlen); /* guest[len] may not be the end */
		rel[len - mlen] = '\0';
		r = kbox_img_walk_dir(m, rel, &ino);

		if (r == 0) {
			walk_set(w, -1, true, m);
			w->ino = ino;
		}
		return r;
	}
	if (!m->uncached)
		d = kbox_dcache_find(guest, len, mlen, &found, &gen);
	if (d && kbox_dcache_link(d)) {
		kbox_dcache_put(d); /* a symlink on the way: openat2 would give ELOOP */
		return -ELOOP;
	}
	if (d && found == len) {
		walk_set_cached(w, d, m);
		return 0;
	}
	if (d) {
		from = kbox_dcache_fd(d);
		off = found;
	}
	off += off > 1 || mlen > 1;
	memcpy(rel, guest + off, len - off);
	rel[len - off] = '\0';
	fd = kbox_hostdir_openat2(from, rel, O_PATH | O_DIRECTORY | O_CLOEXEC, 0, WALK_RESOLVE);
	if (d)
		kbox_dcache_put(d);
	if (fd < 0)
		return fd;
	walk_hold(w, fd, m, guest, len, gen);
	return 0;
}

/* Move to the directory at canonical guest path guest[0..len), opened from its mount. */
static int walk_goto(struct walk *w, const char *guest, size_t len)
{
	const struct kbox_mount *m = kbox_vfs_mount_under(guest, len);
	int r;

	if (!m)
		return -ENOENT;
	if (kbox_vfs_mount_len(m) == len) {
		walk_set(w, m->fd, true, m);
	} else {
		r = kbox_vfs_proc_visible(w->ctx, m, guest, len);
		if (r == 0)
			r = walk_open(w, m, guest, len);
		if (r < 0)
			return r;
	}
	memmove(w->guest, guest, len);
	w->guest[len] = '\0';
	w->glen = len;
	return 0;
}

static int walk_up(struct walk *w)
{
	const char *slash;

	if (w->glen == 1 || strcmp(w->guest, w->ctx->root) == 0)
		return 0; /* ".." at the (guest) root stays there */
	if ((w->flags & KBOX_LOOKUP_BENEATH) && strcmp(w->guest, w->ctx->base) == 0)
		return -EXDEV;
	if ((w->flags & KBOX_LOOKUP_NO_XDEV) && w->glen == kbox_vfs_mount_len(w->mnt))
		return -EXDEV;
	slash = memrchr(w->guest, '/', w->glen);
	return walk_goto(w, w->guest, slash == w->guest ? 1 : (size_t)(slash - w->guest));
}

/* Append "/name" to the guest path; -ENAMETOOLONG if it does not fit. */
static int guest_push(struct walk *w, const char *name, size_t n, size_t *nlen)
{
	size_t len = w->glen + (w->glen > 1) + n;

	if (len >= PATH_MAX)
		return -ENAMETOOLONG;
	if (w->glen > 1)
		w->guest[w->glen] = '/';
	memcpy(w->guest + len - n, name, n);
	w->guest[len] = '\0';
	*nlen = len;
	return 0;
}

static void guest_pop(struct walk *w)
{
	w->guest[w->glen] = '\0';
}

/* readlink of @name in an image directory: -EINVAL when it is no symlink. */
static int img_readlink(struct walk *w, const char *name, char *buf, size_t size)
{
	unsigned ino = 0;
	struct stat st;
	int r = kbox_img_child(w->mnt, w->ino, name, &ino, &st);

	if (r == 0 && !S_ISLNK(st.st_mode))
		r = -EINVAL;
	return r < 0 ? r : kbox_img_readlink(w->mnt, ino, buf, size);
}

/* 1 with the target in w->link if @name is a symlink, @notlink if it is not. */
static int walk_readlink(struct walk *w, const char *name, int notlink, unsigned gen)
{
	int n = kbox_vfs_proc_link(w->ctx, w->mnt, w->guest, name, w->link, PATH_MAX, true);
	bool host = n == 0;

	if (n == KBOX_PROC_OBJECT)
		return 2; /* no path to walk on: only the last component may be one */
	size_t nlen;

	if (host && w->mnt->ext4)
		n = img_readlink(w, name, w->link, PATH_MAX);
	else if (host)
		n = kbox_hostdir_readlink(w->fd, name, w->link, PATH_MAX);

	if (n == -EINVAL)
		return notlink;
	if (n < 0)
		return n;
	if (n >= PATH_MAX)
		return -ENAMETOOLONG;
	w->link[n] = '\0';
	if (host && !w->mnt->uncached && guest_push(w, name, strlen(name), &nlen) == 0) {
		kbox_dcache_insert_link(w->guest, nlen, w->link, gen);
		guest_pop(w);
	}
	return 1;
}

/*
 * Probe the cache for child @name of the current directory: 1 with the
 * target in w->link for a cached symlink, 0 with *dp the pinned directory
 * entry or NULL. *gen: the generation to insert what is read next under.
 */
static int walk_probe(struct walk *w, const char *name, struct kbox_dentry **dp, unsigned *gen)
{
	struct kbox_dentry *d = NULL;
	const char *link;
	size_t nlen, found;

	*dp = NULL;
	*gen = 0;
	if (w->mnt->uncached || guest_push(w, name, strlen(name), &nlen) < 0)
		return 0;
	d = kbox_dcache_find(w->guest, nlen, nlen - 1, &found, gen);
	guest_pop(w);
	if (!d)
		return 0;
	link = kbox_dcache_link(d);
	if (!link) {
		*dp = d;
		return 0;
	}
	strcpy(w->link, link);
	kbox_dcache_put(d);
	return 1;
}

/* Enter the mount at w->guest[0..nlen) if there is one: 1 if entered. */
static int walk_mount(struct walk *w, size_t nlen)
{
	const struct kbox_mount *m = kbox_vfs_mount_exact(w->guest, nlen);

	if (!m)
		return 0;
	if (w->flags & KBOX_LOOKUP_NO_XDEV)
		return -EXDEV;
	walk_set(w, m->fd, true, m);
	w->glen = nlen;
	return 1;
}

/* walk_down() in an image: the backend's lookup, a directory entered by inode. */
static int walk_down_img(struct walk *w, const char *name, size_t n)
{
	unsigned ino = 0;
	struct stat st;
	size_t nlen;
	int r = kbox_img_may_search(w->ctx, w->mnt, w->ino);

	if (r == 0)
		r = kbox_img_child(w->mnt, w->ino, name, &ino, &st);
	if (r < 0)
		return r;
	if (S_ISLNK(st.st_mode)) {
		r = kbox_img_readlink(w->mnt, ino, w->link, PATH_MAX);
		if (r < 0)
			return r;
		if (r >= PATH_MAX)
			return -ENAMETOOLONG;
		w->link[r] = '\0';
		return 1;
	}
	if (!S_ISDIR(st.st_mode))
		return -ENOTDIR;
	r = guest_push(w, name, n, &nlen);
	if (r < 0)
		return r;
	w->ino = ino;
	w->glen = nlen;
	return 0;
}

/* Step into child directory @name: 0, 1 for a symlink (target in w->link), or -errno. */
static int walk_down(struct walk *w, const char *name, size_t n)
{
	struct kbox_dentry *d;
	unsigned gen;
	size_t nlen;
	int fd, r;

	r = guest_push(w, name, n, &nlen);
	if (r < 0)
		return r;
	r = walk_mount(w, nlen);
	if (r == 0)
		r = kbox_vfs_proc_visible(w->ctx, w->mnt, w->guest, nlen);
	if (r != 0) {
		if (r < 0)
			guest_pop(w);
		return r < 0 ? r : 0;
	}
	guest_pop(w);
	if (w->mnt->ext4)
		return walk_down_img(w, name, n);
	if (walk_probe(w, name, &d, &gen) == 1)
		return 1;
	fd = d ? -1 : kbox_hostdir_open_dir(w->fd, name);
	if (d || fd >= 0) {
		guest_push(w, name, n, &nlen);
		if (d)
			walk_set_cached(w, d, w->mnt);
		else
			walk_hold(w, fd, w->mnt, w->guest, nlen, gen);
		w->glen = nlen;
		return 0;
	}
	if (fd != -ENOTDIR)
		return fd;
	r = walk_readlink(w, name, -ENOTDIR, gen);
	return r == 2 ? -ENOTDIR : r;
}

/* @out = @link "/" @rest, or @link alone when @rest is empty. */
static int join_link_rest(char *out, const char *link, const char *rest)
{
	size_t llen = strlen(link), rlen = strlen(rest);

	if (llen + (rlen ? 1 + rlen : 0) >= PATH_MAX)
		return -ENAMETOOLONG;
	memcpy(out, link, llen);
	if (rlen)
		out[llen++] = '/';
	memcpy(out + llen, rest, rlen + 1);
	return 0;
}

/* Continue with the symlink target in w->link followed by @rest. */
static int walk_follow(struct walk *w, const char *rest, const char **next)
{
	int other = !w->cur, n, r;

	if (++w->links > WALK_MAXLINKS || (w->flags & KBOX_LOOKUP_NO_SYMLINKS))
		return -ELOOP;
	if (!w->link[0])
		return -ENOENT;
	if (w->link[0] == '/') {
		if (w->flags & KBOX_LOOKUP_BENEATH)
			return -EXDEV;
		r = walk_goto(w, w->ctx->root, strlen(w->ctx->root));
		if (r < 0)
			return r;
	}
	n = join_link_rest(w->rest[other], w->link, rest);
	if (n < 0)
		return n;
	w->cur = other;
	*next = w->rest[other];
	return 0;
}

/* Resolve the last component's kind; may step up (".." ) or into a mount. */
static int last_kind(struct walk *w, const char *p, size_t n, char *name)
{
	size_t nlen;
	int r;

	strcpy(name, ".");
	if (n == 0) {
		bool root = w->glen == kbox_vfs_mount_len(w->mnt) ||
			    strcmp(w->guest, w->ctx->root) == 0;
		return root ? KBOX_LAST_ROOT : KBOX_LAST_DOT;
	}
	if (is_dot(p, n))
		return KBOX_LAST_DOT;
	if (is_dotdot(p, n)) {
		r = walk_up(w);
		return r < 0 ? r : KBOX_LAST_DOTDOT;
	}
	memcpy(name, p, n);
	name[n] = '\0';
	r = guest_push(w, name, n, &nlen);
	if (r < 0)
		return r;
	r = walk_mount(w, nlen);
	if (r == 0)
		r = kbox_vfs_proc_visible(w->ctx, w->mnt, w->guest, nlen);
	guest_pop(w);
	if (r <= 0)
		return r < 0 ? r : KBOX_LAST_NORM;
	strcpy(name, ".");
	return KBOX_LAST_ROOT;
}

/*
 * The last component: fill @nd, or return 1 when it is a symlink to follow
 * (target in w->link).
 */
static int walk_last(struct walk *w, const char *p, size_t n, bool trailing,
		     struct kbox_nameidata *nd)
{
	bool slash_follows = trailing && !(w->flags & KBOX_LOOKUP_PARENT);
	bool follow = (w->flags & KBOX_LOOKUP_FOLLOW) || slash_follows;
	bool want_dir = (w->flags & KBOX_LOOKUP_DIRECTORY) || slash_follows;
	char name[NAME_MAX + 1];
	struct kbox_dentry *d;
	unsigned gen = 0;
	int last, r;

	if (n > NAME_MAX)
		return -ENAMETOOLONG;
	last = last_kind(w, p, n, name);
	if (last < 0)
		return last;
	if (follow && last == KBOX_LAST_NORM) {
		if (walk_probe(w, name, &d, &gen) == 1)
			return 1; /* a cached symlink: no lstat, no readlink */
		if (d)
			kbox_dcache_put(d);
	}
	nd->st_err = 1;
	if (follow || want_dir || (w->flags & KBOX_LOOKUP_STAT)) {
		unsigned cino = 0;

		nd->st_err = w->mnt->ext4 ? kbox_img_child(w->mnt, w->ino, name, &cino, &nd->st)
					  : kbox_hostdir_lstat(w->fd, name, &nd->st);
		if (w->mnt->ext4 && last == KBOX_LAST_NORM && nd->st_err == 0 &&
		    (r = kbox_img_may_search(w->ctx, w->mnt, w->ino)) < 0)
			return r;
		if (nd->st_err == 0 && S_ISLNK(nd->st.st_mode) && follow) {
			r = walk_readlink(w, name, -EINVAL, gen);
			if (r != 2)
				return r < 0 ? r : 1;
			nd->object_link = true;
			nd->st_err = fstatat(w->fd, name, &nd->st, 0) ? -errno : 0;
		}
		if (nd->st_err == 0 && want_dir && !S_ISDIR(nd->st.st_mode))
			return -ENOTDIR;
	}
	nd->dirfd = w->fd;
	nd->ino = w->ino;
	nd->dirfd_borrowed = w->borrowed;
	nd->dent = w->dent;
	w->fd = -1;
	w->dent = NULL;
	nd->mnt = w->mnt;
	memcpy(nd->parent_guest, w->guest, w->glen + 1);
	strcpy(nd->name, name);
	nd->trailing_slash = trailing;
	nd->last = last;
	return 0;
}

static int walk_refast(struct walk *w, const char **p);

static int walk_path(struct walk *w, const char *p, struct kbox_nameidata *nd)
{
	char name[NAME_MAX + 1];
	const char *e, *q;
	size_t n;
	int r;

	for (;;) {
		while (*p == '/')
			p++;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		for (q = e; *q == '/'; q++)
			;
		if (!*q) {
			r = walk_last(w, p, n, *e == '/', nd);
			if (r != 1)
				return r;
			r = walk_follow(w, *e == '/' ? "/" : "", &p);
			if (r == 0)
				r = walk_refast(w, &p);
			if (r < 0)
				return r;
			continue;
		}
		if (n > NAME_MAX)
			return -ENAMETOOLONG;
		if (is_dot(p, n)) {
			p = q;
			continue;
		}
		if (is_dotdot(p, n)) {
			r = walk_up(w);
		} else {
			memcpy(name, p, n);
			name[n] = '\0';
			r = walk_down(w, name, n);
		}
		if (r == 1) {
			r = walk_follow(w, q, &p);
			if (r == 0)
				r = walk_refast(w, &p);
		} else if (r == 0)
			p = q;
		if (r < 0)
			return r;
	}
}

/* ".." on the canonical guest path alone: stays at the guest root and at "/". */
static void guest_dotdot(struct walk *w)
{
	const char *slash;

	if (w->glen == 1 || strcmp(w->guest, w->ctx->root) == 0)
		return;
	slash = memrchr(w->guest, '/', w->glen);
	w->glen = slash == w->guest ? 1 : (size_t)(slash - w->guest);
	w->guest[w->glen] = '\0';
}

/*
 * The fast path: build the canonical guest path lexically from @start. A
 * leading ".." folds exactly (the start is canonical); any later ".." or a
 * final "." needs the full walk. The parent directory is then one openat2
 * from the deepest mount above it, RESOLVE_NO_SYMLINKS making any symlink on
 * the way fail with ELOOP. Returns 0 with w at the parent and *lastp at the
 * last component of @path, 1 when the full walk must run instead (w->fd
 * unchanged, w->guest clobbered), or -errno.
 */
static int walk_fast(struct walk *w, const char *start, const char *path, const char **lastp)
{
	const char *p = path, *e, *last = NULL;
	size_t n, last_off = 0;
	int r;

	if (w->flags & (KBOX_LOOKUP_NO_XDEV | KBOX_LOOKUP_BENEATH))
		return 1;
	n = strlen(start);
	if (n >= PATH_MAX)
		return 1;
	memmove(w->guest, start, n + 1);
	w->glen = n;
	for (;;) {
		while (*p == '/')
			p++;
		if (!*p)
			break;
		e = strchrnul(p, '/');
		n = (size_t)(e - p);
		if (n > NAME_MAX || (is_dotdot(p, n) && (last || last_off)))
			return 1;
		last = NULL;
		if (is_dotdot(p, n)) {
			guest_dotdot(w);
		} else if (!is_dot(p, n)) {
			last_off = w->glen;
			if (guest_push(w, p, n, &w->glen) < 0)
				return 1;
			last = p;
		}
		p = e;
	}
	if (!last || kbox_vfs_mount_exact(w->guest, w->glen))
		return 1;
	r = walk_goto(w, w->guest, last_off);
	if (r == -ELOOP)
		return 1;
	*lastp = last;
	return r;
}

/* After a symlink: try the fast path on its target plus the rest, else walk on. */
static int walk_refast(struct walk *w, const char **p)
{
	char save[PATH_MAX];
	size_t glen = w->glen;
	const char *last;
	int r;

	memcpy(save, w->guest, glen + 1);
	r = walk_fast(w, (*p)[0] == '/' ? w->ctx->root : w->guest, *p, &last);
	if (r == 0)
		*p = last;
	if (r != 1)
		return r;
	memcpy(w->guest, save, glen + 1);
	w->glen = glen;
	return 0;
}

int kbox_vfs_lookup_parent(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
			   struct kbox_nameidata *nd)
{
	struct walk w;
	const char *p = path, *start;
	int r;

	walk_init(&w, ctx, flags);
	nd->dirfd = -1;
	nd->dirfd_borrowed = false;
	nd->object_link = false;
	nd->dent = NULL;
	if (!path[0] && !(flags & KBOX_LOOKUP_EMPTY))
		return -ENOENT;
	start = path[0] == '/' ? ctx->root : ctx->base;
	r = path[0] ? walk_fast(&w, start, path, &p) : 1;
	if (r == 1) {
		p = path;
		if (path[0] == '/' && (flags & KBOX_LOOKUP_BENEATH))
			r = -EXDEV;
		else
			r = walk_goto(&w, start, strlen(start));
	}
	if (r == 0)
		r = walk_path(&w, p, nd);
	walk_drop(&w);
	return r;
}

void kbox_nameidata_release(struct kbox_nameidata *nd)
{
	if (nd->dent)
		kbox_dcache_put(nd->dent);
	else if (nd->dirfd >= 0 && !nd->dirfd_borrowed)
		close(nd->dirfd);
	nd->dent = NULL;
	nd->dirfd = -1;
}

int kbox_vfs_realpath(const struct kbox_lookup_ctx *ctx, const char *path, unsigned flags,
		      char *out, size_t size)
{
	struct kbox_nameidata nd;
	int r = kbox_vfs_lookup_parent(ctx, path, flags | KBOX_LOOKUP_STAT, &nd);

	if (r < 0)
		return r;
	r = nd.st_err;
	if (r == 0 && strcmp(nd.name, ".") == 0)
		r = kbox_path_join(nd.parent_guest, "", out, size);
	else if (r == 0)
		r = kbox_path_join(nd.parent_guest, nd.name, out, size);
	kbox_nameidata_release(&nd);
	return r;
}

int kbox_vfs_check_writable(const struct kbox_nameidata *nd)
{
	return nd->mnt && nd->mnt->readonly ? -EROFS : 0;
}
