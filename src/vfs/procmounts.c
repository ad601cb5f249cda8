// SPDX-License-Identifier: MIT
/*
 * The guest's mount table as procfs shows it (mountinfo, mounts,
 * mountstats): kbox's mounts (root, -b binds, -S views) at their guest
 * paths, each followed by the host mounts below its host directory that the
 * guest sees through it (/dev/pts under -S's /dev, /sys/fs/cgroup under its
 * /sys). Type, source, device and per-mount options come from the host
 * mount holding each (kbox's own mountinfo); what would name a host
 * directory does not: the root field is "/", a source that is a host
 * directory becomes the type, and super options are only ro/rw (overlay's
 * lowerdir, for one, is a host path).
 */
#include <errno.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>

#include "internal.h"

/* Mount ids: the guest root gets MNT_ID_BASE; its parent lies outside the guest. */
#define MNT_ID_BASE 100
#define MNT_MAX	    256

/* One line of the host's mountinfo. */
struct host_mnt {
	char *point; /* unescaped */
	unsigned dev_major, dev_minor;
	char opts[128]; /* per-mount options: "rw,nosuid,relatime" */
	char type[32];
	char source[128];
};

/* One line of the guest's table. */
struct guest_mnt {
	char *guest;
	const struct host_mnt *host; /* or NULL: not in the host's table */
	const struct kbox_mount *kmnt;
	unsigned dev_major, dev_minor;
	int parent; /* index into the table, or -1 */
};

struct table {
	struct host_mnt host[MNT_MAX];
	int nhost;
	struct guest_mnt guest[MNT_MAX];
	int nguest;
};

/* Undo the octal escapes of mountinfo ("\040" for a space) in place. */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

static int parse_host_line(const char *line, struct host_mnt *h)
{
	char point[PATH_MAX];
	const char *sep = strstr(line, " - ");

	if (!sep || sscanf(line, "%*d %*d %u:%u %*s %4095s %127s", &h->dev_major, &h->dev_minor,
			   point, h->opts) != 4)
		return -EINVAL;
	if (sscanf(sep + 3, "%31s %127s", h->type, h->source) != 2)
		return -EINVAL;
	unescape(point);
	h->point = strdup(point);
	return h->point ? 0 : -ENOMEM;
}

static void read_host_table(struct table *t)
{
	char *line = NULL;
	size_t cap = 0;
	FILE *f = fopen("/proc/self/mountinfo", "re");

	while (f && t->nhost < MNT_MAX && getline(&line, &cap, f) > 0)
		if (parse_host_line(line, &t->host[t->nhost]) == 0)
			t->nhost++;
	free(line);
	if (f)
		fclose(f);
}

/* The host mount holding host path @path: the top one at its longest prefix. */
static const struct host_mnt *host_mount_of(const struct table *t, const char *path)
{
	const struct host_mnt *best = NULL;
	size_t best_len = 0, len = strlen(path), l;

	for (int i = 0; i < t->nhost; i++) {
		l = strlen(t->host[i].point);
		if (l >= best_len && kbox_path_has_prefix(path, len, t->host[i].point, l)) {
			best = &t->host[i];
			best_len = l;
		}
	}
	return best;
}

static void add(struct table *t, const char *guest, const struct host_mnt *h,
		const struct kbox_mount *m, dev_t dev)
{
	struct guest_mnt *g = &t->guest[t->nguest];

	if (t->nguest == MNT_MAX)
		return;
	g->guest = strdup(guest);
	if (!g->guest)
		return;
	g->host = h;
	g->kmnt = m;
	g->dev_major = h ? h->dev_major : major(dev);
	g->dev_minor = h ? h->dev_minor : minor(dev);
	t->nguest++;
}

/* The host mounts strictly below @m's host directory that the guest sees through @m. */
static void add_submounts(struct table *t, const struct kbox_mount *m)
{
	size_t hlen = strlen(m->host), plen;
	char guest[PATH_MAX];
	int n;

	for (int i = 0; i < t->nhost; i++) {
		const char *p = t->host[i].point;

		plen = strlen(p);
		if (plen <= hlen || !kbox_path_has_prefix(p, plen, m->host, hlen))
			continue;
		n = kbox_vfs_guest_path_of_host(p, plen, guest, sizeof(guest));
		if (n > 0 && kbox_vfs_mount_under(guest, (size_t)n) == m)
			add(t, guest, &t->host[i], m, 0);
	}
}

/*
 * Each line's parent: the closest line above it by guest path, or an
 * earlier line at the same path (a mount stacked on another).
 */
static void link_parents(struct table *t)
{
	for (int i = 0; i < t->nguest; i++) {
		size_t len = strlen(t->guest[i].guest), best_len = 0, l;

		t->guest[i].parent = -1;
		for (int j = 0; j < t->nguest; j++) {
			l = strlen(t->guest[j].guest);
			if ((l < len || (l == len && j < i)) && l >= best_len &&
			    kbox_path_has_prefix(t->guest[i].guest, len, t->guest[j].guest, l)) {
				t->guest[i].parent = j;
				best_len = l;
			}
		}
	}
}

static void build(struct table *t)
{
	read_host_table(t);
	for (int i = 0; i < kbox_vfs_nmounts(); i++) {
		const struct kbox_mount *m = kbox_vfs_mount_at(i);

		add(t, m->guest, host_mount_of(t, m->host), m, m->dev);
		add_submounts(t, m);
	}
	link_parents(t);
}

static void release(struct table *t)
{
	for (int i = 0; i < t->nhost; i++)
		free(t->host[i].point);
	for (int i = 0; i < t->nguest; i++)
		free(t->guest[i].guest);
}

/* ---- one line ------------------------------------------------------------ */

/* What a line shows besides its paths. */
struct mnt_desc {
	bool ro;
	const char *flags; /* per-mount options after ro/rw: ",nosuid,relatime" or "" */
	char type[32];
	char source[128];
	char flagbuf[128];
};

static const struct {
	unsigned long magic;
	const char *name;
} fs_types[] = {
	{EXT4_SUPER_MAGIC, "ext4"},
	{TMPFS_MAGIC, "tmpfs"},
	{PROC_SUPER_MAGIC, "proc"},
	{SYSFS_MAGIC, "sysfs"},
	{DEVPTS_SUPER_MAGIC, "devpts"},
	{BTRFS_SUPER_MAGIC, "btrfs"},
	{XFS_SUPER_MAGIC, "xfs"},
	{OVERLAYFS_SUPER_MAGIC, "overlay"},
	{V9FS_MAGIC, "9p"},
	{NFS_SUPER_MAGIC, "nfs"},
	{0x65735546 /* FUSE */, "fuse"},
	{F2FS_SUPER_MAGIC, "f2fs"},
};

static const char *type_of_magic(unsigned long magic)
{
	for (size_t i = 0; i < sizeof(fs_types) / sizeof(fs_types[0]); i++)
		if (fs_types[i].magic == magic)
			return fs_types[i].name;
	return "unknown";
}

/* A mount the host's table does not show (kbox runs in a stripped namespace): ask statfs. */
static void describe_statfs(const struct guest_mnt *g, struct mnt_desc *d)
{
	struct statfs sfs;
	bool have = fstatfs(g->kmnt->fd, &sfs) == 0;
	unsigned long fl = have ? (unsigned long)sfs.f_flags : 0;

	snprintf(d->type, sizeof(d->type), "%s",
		 type_of_magic(have ? (unsigned long)sfs.f_type : 0));
	snprintf(d->source, sizeof(d->source), "%s", d->type);
	d->ro = d->ro || (fl & ST_RDONLY);
	/* The order of Linux's show_mnt_opts(). */
	snprintf(d->flagbuf, sizeof(d->flagbuf), "%s%s%s%s%s%s", (fl & ST_NOSUID) ? ",nosuid" : "",
		 (fl & ST_NODEV) ? ",nodev" : "", (fl & ST_NOEXEC) ? ",noexec" : "",
		 (fl & ST_NOATIME) ? ",noatime" : "", (fl & ST_NODIRATIME) ? ",nodiratime" : "",
		 (fl & ST_RELATIME) ? ",relatime" : "");
	d->flags = d->flagbuf;
}

static void describe(const struct guest_mnt *g, struct mnt_desc *d)
{
	const struct host_mnt *h = g->host;

	memset(d, 0, sizeof(*d));
	d->ro = g->kmnt->readonly;
	if (!h) {
		describe_statfs(g, d);
		return;
	}
	d->ro = d->ro || !strncmp(h->opts, "ro", 2);
	d->flags = h->opts + strcspn(h->opts, ","); /* past the host's ro/rw */
	snprintf(d->type, sizeof(d->type), "%s", h->type);
	/* A bind's source directory would be a host path; a device node is not. */
	if (h->source[0] == '/' && strncmp(h->source, "/dev/", 5))
		snprintf(d->source, sizeof(d->source), "%s", h->type);
	else
		snprintf(d->source, sizeof(d->source), "%s", h->source);
}

/* Octal escapes for the characters that end fields, as Linux's mangle() writes. */
static void put_escaped(FILE *out, const char *s)
{
	for (; *s; s++) {
		if (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\\')
			fprintf(out, "\\%03o", (unsigned char)*s);
		else
			fputc(*s, out);
	}
}

static void put_line(FILE *out, const struct table *t, int i, enum kbox_mount_format fmt)
{
	const struct guest_mnt *g = &t->guest[i];
	const char *rw;
	struct mnt_desc d;

	describe(g, &d);
	rw = d.ro ? "ro" : "rw";
	if (fmt == KBOX_MOUNTINFO) {
		fprintf(out, "%d %d %u:%u / ", MNT_ID_BASE + i,
			g->parent < 0 ? MNT_ID_BASE - 1 : MNT_ID_BASE + g->parent, g->dev_major,
			g->dev_minor);
		put_escaped(out, g->guest);
		fprintf(out, " %s%s - %s ", rw, d.flags, d.type);
		put_escaped(out, d.source);
		fprintf(out, " %s\n", rw);
	} else if (fmt == KBOX_MOUNTS) {
		put_escaped(out, d.source);
		fputc(' ', out);
		put_escaped(out, g->guest);
		fprintf(out, " %s %s%s 0 0\n", d.type, rw, d.flags);
	} else {
		fputs("device ", out);
		put_escaped(out, d.source);
		fputs(" mounted on ", out);
		put_escaped(out, g->guest);
		fprintf(out, " with fstype %s\n", d.type);
	}
}

/*
 * Paths are as seen from the guest root "/", also for a process that called
 * chroot (Linux would show them relative to its root).
 */
int kbox_vfs_proc_put_mounts(FILE *out, enum kbox_mount_format fmt)
{
	struct table *t = calloc(1, sizeof(*t));

	if (!t)
		return -ENOMEM;
	build(t);
	for (int i = 0; i < t->nguest; i++)
		put_line(out, t, i, fmt);
	release(t);
	free(t);
	return 0;
}
