// SPDX-License-Identifier: MIT
/*
 * Files of a guest process in procfs that would show the host: kbox serves
 * its own text instead, in a sealed read-only memfd.
 *   mountinfo, mounts, mountstats  the guest's mount table (procmounts.c)
 *   status                         Uid/Gid/Groups as the guest's emulated
 *                                  credentials; PPid 0 for a parent outside
 *                                  the guest (kbox's reaper), TracerPid 0
 *   stat                           its ppid field as status's PPid
 *   maps, smaps, numa_maps         mapped files at their guest paths
 * The text is made when the file is opened, not at each read as Linux does:
 * a reader that keeps the fd and reads it again (lseek 0) sees the same
 * snapshot.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

static kbox_proc_ids_fn proc_ids;

void kbox_vfs_set_proc_ids(kbox_proc_ids_fn fn)
{
	proc_ids = fn;
}

/* ---- output ---------------------------------------------------------------- */

static int write_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * A memfd holding @data, sealed and reopened read-only, as a procfs file
 * is: the guest can neither write it nor grow it.
 */
static int sealed_file(const char *name, const char *data, size_t len)
{
	const int seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_SEAL;
	char path[32];
	int mfd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING), fd, r;

	if (mfd < 0)
		return -errno;
	r = write_all(mfd, data, len);
	/* 0444 as procfs has it (kbox runs with umask 0: a memfd would be 0777). */
	if (r == 0 && fchmod(mfd, 0444) < 0)
		r = -errno;
	if (r == 0 && fcntl(mfd, F_ADD_SEALS, seals) < 0)
		r = -errno;
	snprintf(path, sizeof(path), "/proc/self/fd/%d", mfd);
	fd = r < 0 ? r : open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && r == 0)
		r = -errno;
	close(mfd);
	return r < 0 ? r : fd;
}

/* ---- status -------------------------------------------------------------- */

static void put_ids(FILE *out, const char *key, const unsigned *v)
{
	fprintf(out, "%s\t%u\t%u\t%u\t%u\n", key, v[0], v[1], v[2], v[3]);
}

/* One line of the host's status, rewritten where it would show the host. */
static void status_line(FILE *out, const char *line, const struct kbox_proc_ids *ids)
{
	unsigned v[4];

	if (!strncmp(line, "TracerPid:", 10)) {
		/* The guest cannot ptrace (EPERM): any tracer is outside it. */
		fputs("TracerPid:\t0\n", out);
	} else if (!strncmp(line, "PPid:", 5) && !kbox_vfs_proc_is_guest(atoi(line + 5))) {
		/*
		 * The first guest process's parent is kbox's reaper, and orphans
		 * go there too: Linux shows 0 for a parent outside the caller's
		 * pid namespace, and so does kbox for one outside the guest.
		 */
		fputs("PPid:\t0\n", out);
	} else if (ids && ids->fake && !strncmp(line, "Uid:", 4)) {
		for (int i = 0; i < 4; i++)
			v[i] = ids->uid[i];
		put_ids(out, "Uid:", v);
	} else if (ids && ids->fake && !strncmp(line, "Gid:", 4)) {
		for (int i = 0; i < 4; i++)
			v[i] = ids->gid[i];
		put_ids(out, "Gid:", v);
	} else if (ids && ids->fake && !strncmp(line, "Groups:", 7)) {
		/* Linux ends the list with a space, even an empty one. */
		fputs("Groups:\t", out);
		for (int i = 0; i < ids->ngroups; i++)
			fprintf(out, "%s%u", i ? " " : "", (unsigned)ids->groups[i]);
		fputs(" \n", out);
	} else {
		fputs(line, out);
	}
}

static void put_status(FILE *out, FILE *in, pid_t pid)
{
	struct kbox_proc_ids ids;
	bool have = proc_ids && proc_ids(pid, &ids) == 0;
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, in) > 0)
		status_line(out, line, have ? &ids : NULL);
	free(line);
}

/*
 * stat: "pid (comm) state ppid ...", comm possibly holding spaces and
 * parentheses; the parent as in status.
 */
static void put_stat(FILE *out, FILE *in)
{
	char *line = NULL, *close_paren, *ppid, *end;
	size_t cap = 0;

	if (getline(&line, &cap, in) <= 0) {
		free(line);
		return;
	}
	close_paren = strrchr(line, ')');
	ppid = close_paren && close_paren[1] == ' ' && close_paren[2] && close_paren[3] == ' '
		       ? close_paren + 4
		       : NULL;
	if (ppid && !kbox_vfs_proc_is_guest((pid_t)strtol(ppid, &end, 10)) && *end == ' ')
		fprintf(out, "%.*s0%s", (int)(ppid - line), line, end);
	else
		fputs(line, out);
	free(line);
}

/* ---- maps ---------------------------------------------------------------- */

/*
 * A maps or smaps line naming a mapping ("start-end perms offset dev inode
 * path"): the path, if the line has one, else NULL.
 */
static const char *map_path(const char *line)
{
	const char *p = line;

	if (!strchr("0123456789abcdef", *p) || !*p)
		return NULL;
	p += strspn(p, "0123456789abcdef");
	if (*p != '-')
		return NULL;
	for (int field = 0; field < 5; field++) {
		p = strchr(p, ' ');
		if (!p)
			return NULL;
		p += strspn(p, " ");
	}
	return *p == '/' ? p : NULL;
}

/*
 * An image file's copy: the line with the image's device, inode and guest
 * path (found by the copy's device and inode), padded as Linux pads it.
 */
static bool image_line(FILE *out, const char *line)
{
	char addr[64], perms[8], off[32], guest[PATH_MAX];
	unsigned maj, mnr;
	unsigned long long ino;
	dev_t gdev;
	unsigned gino;
	int n;

	if (sscanf(line, "%63s %7s %31s %x:%x %llu", addr, perms, off, &maj, &mnr, &ino) != 6 ||
	    kbox_img_guest_of_host(makedev(maj, mnr), (ino_t)ino, guest, sizeof(guest), &gdev,
				   &gino) <= 0)
		return false;
	n = fprintf(out, "%s %s %s %02x:%02x %u", addr, perms, off, major(gdev), minor(gdev), gino);
	fprintf(out, "%*s%s\n", n < 73 ? 73 - n : 1, "", guest);
	return true;
}

/*
 * The mapped files at their guest paths. A path under no mount keeps the
 * host's text: a memfd ("/memfd:kbox-stub (deleted)", the exec stub kbox
 * keeps mapped in every guest; a debugger or profiler should see what that
 * code is), or a file the guest got from outside, shown as Linux shows a
 * path outside a chroot.
 */
static void map_line(FILE *out, const char *line)
{
	static const char deleted[] = " (deleted)";
	const char *path = map_path(line);
	char guest[PATH_MAX];
	size_t len, dlen = sizeof(deleted) - 1;
	bool del;

	if (!path) {
		fputs(line, out);
		return;
	}
	len = strcspn(path, "\n");
	del = len > dlen && !memcmp(path + len - dlen, deleted, dlen);
	/* An image file's copy (a memfd, a named copy, a spill file): by its device and inode. */
	if (kbox_vfs_has_image() && image_line(out, line))
		return;
	/* (a memfd's name is no path, even where the host's / is a guest mount) */
	if (!strncmp(path, "/memfd:", 7) ||
	    kbox_vfs_guest_path_of_host(path, len - (del ? dlen : 0), guest, sizeof(guest)) < 0) {
		fputs(line, out);
		return;
	}
	fwrite(line, 1, (size_t)(path - line), out);
	fprintf(out, "%s%s\n", guest, del ? deleted : "");
}

/* numa_maps: "ADDR POLICY file=PATH key=value...": the path at its guest path. */
static void numa_line(FILE *out, const char *line)
{
	const char *path = strstr(line, " file=");
	char guest[PATH_MAX];
	size_t len;

	if (!path) {
		fputs(line, out);
		return;
	}
	path += 6;
	len = strcspn(path, " \n");
	if (kbox_img_guest_of_memfd(path, guest, sizeof(guest)) < 0 &&
	    kbox_vfs_guest_path_of_host(path, len, guest, sizeof(guest)) < 0) {
		fputs(line, out);
		return;
	}
	fwrite(line, 1, (size_t)(path - line), out);
	fputs(guest, out);
	fputs(path + len, out);
}

static void put_maps(FILE *out, FILE *in, bool numa)
{
	char *line = NULL;
	size_t cap = 0;

	while (getline(&line, &cap, in) > 0) {
		if (numa)
			numa_line(out, line);
		else
			map_line(out, line);
	}
	free(line);
}

/* ---- open ---------------------------------------------------------------- */

enum proc_file {
	PF_NONE,
	PF_MOUNTINFO,
	PF_MOUNTS,
	PF_MOUNTSTATS,
	PF_STATUS,
	PF_STAT,
	PF_MAPS,
	PF_NUMA_MAPS
};

static enum proc_file file_of(const char *name)
{
	static const struct {
		const char *name;
		enum proc_file f;
	} files[] = {
		{"mountinfo", PF_MOUNTINFO},
		{"mounts", PF_MOUNTS},
		{"mountstats", PF_MOUNTSTATS},
		{"status", PF_STATUS},
		{"stat", PF_STAT},
		{"maps", PF_MAPS},
		{"smaps", PF_MAPS},
		{"numa_maps", PF_NUMA_MAPS},
	};

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		if (!strcmp(name, files[i].name))
			return files[i].f;
	return PF_NONE;
}

/* The host's file, for the ones kbox rewrites line by line. */
static int host_file(const struct kbox_nameidata *nd, FILE **in)
{
	int fd = openat(nd->dirfd, nd->name, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	*in = fdopen(fd, "re");
	if (!*in) {
		close(fd);
		return -ENOMEM;
	}
	return 0;
}

static int make_text(const struct kbox_nameidata *nd, enum proc_file f, pid_t pid, FILE *out)
{
	FILE *in = NULL;
	int r = 0;

	if (f == PF_STATUS || f == PF_STAT || f == PF_MAPS || f == PF_NUMA_MAPS)
		r = host_file(nd, &in);
	if (r < 0)
		return r;
	if (f == PF_STATUS)
		put_status(out, in, pid);
	else if (f == PF_STAT)
		put_stat(out, in);
	else if (f == PF_MAPS || f == PF_NUMA_MAPS)
		put_maps(out, in, f == PF_NUMA_MAPS);
	else
		r = kbox_vfs_proc_put_mounts(out, f == PF_MOUNTINFO ? KBOX_MOUNTINFO
						  : f == PF_MOUNTS  ? KBOX_MOUNTS
								    : KBOX_MOUNTSTATS);
	if (in && ferror(in))
		r = -EIO;
	if (in)
		fclose(in);
	return r;
}

int kbox_vfs_proc_open(const struct kbox_nameidata *nd, int oflags, int *fd)
{
	enum proc_file f;
	char *text = NULL;
	size_t len = 0;
	FILE *out;
	pid_t pid;
	int r;

	/* Writing, O_PATH, O_DIRECTORY, O_CREAT: the host's file gives Linux's answer. */
	if ((oflags & O_ACCMODE) != O_RDONLY || (oflags & (O_PATH | O_DIRECTORY | O_CREAT)))
		return 0;
	if (!nd->mnt || !nd->mnt->is_proc || nd->st_err || !S_ISREG(nd->st.st_mode))
		return 0;
	f = file_of(nd->name);
	pid = f == PF_NONE ? 0 : kbox_vfs_proc_pid(nd->mnt, nd->parent_guest);
	if (!pid)
		return 0;
	out = open_memstream(&text, &len);
	if (!out)
		return -ENOMEM;
	r = make_text(nd, f, pid, out);
	if (fclose(out) && r == 0)
		r = -ENOMEM;
	if (r == 0)
		r = sealed_file(nd->name, text, len);
	free(text);
	if (r < 0)
		return r;
	*fd = r;
	return 1;
}
