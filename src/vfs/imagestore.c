// SPDX-License-Identifier: MIT
/*
 * Where an image file's host copy lives, and how it is filled.
 *
 * A memfd is RAM (or swap, rare here): kbox cannot give it back while it
 * keeps the memfd, and a file larger than memory cannot be held at all.
 * Above a threshold the copy is an unlinked O_TMPFILE on a host file
 * system that is not tmpfs instead: its page cache is reclaimable (written
 * to disk under pressure), so kbox's memory stays bounded whatever the
 * guest reads. Reads, writes, mmap and exec run on it as on a memfd; the
 * guest's opens reopen it through /proc/self/fd, which works for an
 * unlinked file too.
 *
 * The threshold: an eighth of the memory kbox may still use (MemAvailable,
 * or what its memory cgroup's limit leaves, whichever is smaller), within
 * [8 MiB, 64 MiB]. Small files (the common case: programs, libraries,
 * headers) keep a memfd, which never costs a disk write; above 64 MiB a
 * spill file costs nothing measurable (100 MiB filled in 0.029 s against
 * 0.044 s for a memfd here: ext4's page cache uses large folios, a memfd
 * 4 KiB pages) and bounds memory whatever the host has; under a tight
 * cgroup, files spill earlier. KBOX_IMAGE_SPILL=BYTES sets it (tests,
 * tuning).
 *
 * Below the threshold a copy is a file in a directory of kbox's own on
 * tmpfs (/dev/shm), named by the image inode: memory as a memfd is, but a
 * guest's open reopens it by name. A memfd (or an unlinked spill file) can
 * only be reopened through /proc/self/fd, whose lookup revalidates the fd
 * and checks ptrace access at every open: 1.1 us more per guest open here,
 * which made an open on an image cost what it costs on a directory root.
 * Without such a directory (no /dev/shm, noexec, full), memfds.
 * KBOX_IMAGE_COPY_DIR=DIR names another tmpfs directory, or "memfd".
 *
 * Filling: the file's data runs are byte ranges of the image file
 * (kbox_ext4_data_spans()), copied into a memory copy by the kernel with
 * sendfile(), into a spill file with 1 MiB pread/pwrite (see
 * copy_span_buffered()). Holes stay holes.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <sys/vfs.h>
#include <unistd.h>

#include "../fs/ext4/ext4.h"
#include "../lib/log.h"
#include "../lib/rundir.h"
#include "image_priv.h"

#define TMPFS_MAGIC_ 0x01021994
#define RAMFS_MAGIC_ 0x858458f6
#define MIN_SPILL    (8ull << 20)
#define MAX_SPILL    (64ull << 20)

static char spill_dir[PATH_MAX];
static dev_t spill_dev;
static bool spill_chosen;
static char copy_dir[PATH_MAX]; /* a run directory on tmpfs, or "": memfds */
static int copy_dirfd = -1;

/* A number from /proc/meminfo or a cgroup file; 0 when unknown or unlimited. */
static uint64_t read_u64(const char *path, const char *key)
{
	char line[256];
	uint64_t v = 0;
	FILE *f = fopen(path, "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (key && strncmp(line, key, strlen(key)) != 0)
			continue;
		if (sscanf(line + (key ? strlen(key) : 0), "%" SCNu64, &v) != 1)
			v = 0; /* "max" */
		if (key)
			v *= 1024; /* meminfo is in KiB */
		break;
	}
	fclose(f);
	return v;
}

/* What the cgroup (v2, else v1 memory controller) kbox runs in still allows; 0: no limit. */
static uint64_t cgroup_room(void)
{
	char line[512], path[PATH_MAX];
	uint64_t lim = 0, use = 0;
	FILE *f = fopen("/proc/self/cgroup", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		char *cg = strrchr(line, ':');

		if (!cg)
			continue;
		cg[strcspn(cg, "\n")] = '\0';
		if (!strncmp(line, "0::", 3)) {
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.max", cg + 1);
			lim = read_u64(path, NULL);
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s/memory.current", cg + 1);
		} else if (strstr(line, ":memory:")) {
			snprintf(path, sizeof(path),
				 "/sys/fs/cgroup/memory%s/memory.limit_in_bytes", cg + 1);
			lim = read_u64(path, NULL);
			snprintf(path, sizeof(path),
				 "/sys/fs/cgroup/memory%s/memory.usage_in_bytes", cg + 1);
		} else {
			continue;
		}
		if (lim && lim < (1ull << 60)) {
			use = read_u64(path, NULL);
			break;
		}
		lim = 0;
	}
	fclose(f);
	return lim ? (lim > use ? lim - use : 1) : 0;
}

uint64_t kbox_imgstore_room(void)
{
	uint64_t avail = read_u64("/proc/meminfo", "MemAvailable:"), cg = cgroup_room();

	if (cg && (!avail || cg < avail))
		avail = cg;
	return avail ? avail : 1ull << 30;
}

static uint64_t spill_threshold(void)
{
	static uint64_t t;
	const char *env;

	if (t)
		return t;
	env = getenv("KBOX_IMAGE_SPILL");
	if (env && *env) {
		t = strtoull(env, NULL, 0);
		return t ? t : 1;
	}
	t = kbox_imgstore_room() / 8;
	t = t < MIN_SPILL ? MIN_SPILL : t > MAX_SPILL ? MAX_SPILL : t;
	return t;
}

/* A directory fit for spill files: writable, O_TMPFILE works, not tmpfs, not noexec. */
static int try_dir(const char *dir, bool *tmpfs)
{
	struct statfs sf;
	struct statvfs sv;
	int fd;

	if (!dir || !*dir || statfs(dir, &sf) < 0 || statvfs(dir, &sv) < 0)
		return -ENOENT;
	if (sf.f_type == TMPFS_MAGIC_ || sf.f_type == RAMFS_MAGIC_) {
		*tmpfs = true;
		return -ENOSPC; /* memory again */
	}
	if (sv.f_flag & (ST_RDONLY | ST_NOEXEC))
		return -EROFS; /* noexec: an executable there could not be mapped */
	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

/* Next to the image, else $TMPDIR, else /var/tmp: the first that fits. */
static void choose_spill_dir(const char *image)
{
	char near[PATH_MAX];
	const char *cand[3] = {near, getenv("TMPDIR"), "/var/tmp"};
	bool tmpfs = false;
	struct stat st;

	spill_chosen = true;
	snprintf(near, sizeof(near), "%s", image ? image : "");
	if (strrchr(near, '/'))
		*strrchr(near, '/') = '\0';
	else
		snprintf(near, sizeof(near), ".");
	for (int i = 0; i < 3; i++) {
		if (try_dir(cand[i], &tmpfs) == 0 && stat(cand[i], &st) == 0 &&
		    realpath(cand[i], spill_dir)) {
			spill_dev = st.st_dev;
			return;
		}
	}
	spill_dir[0] = '\0';
	kbox_warn("image files larger than %" PRIu64 " MiB are held in memory: no directory "
		  "on a disk file system (not tmpfs, writable, exec allowed) next to the "
		  "image, in $TMPDIR or /var/tmp%s; point TMPDIR to one to bound memory",
		  spill_threshold() >> 20, tmpfs ? " (only tmpfs found)" : "");
}

/*
 * Copy @len bytes at @src of the image to @dst of @fd, in the kernel.
 * sendfile(), not copy_file_range(): to a memfd the latter says EXDEV, and
 * between two ext4 files it splices in smaller pieces (measured: 100 MiB
 * in 0.052 s against 0.029 s with sendfile).
 */
static int copy_span(int img, int fd, uint64_t src, uint64_t dst, uint64_t len)
{
	off_t in = (off_t)src;
	uint64_t end = src + len;
	ssize_t n;

	if (lseek(fd, (off_t)dst, SEEK_SET) < 0)
		return -errno;
	while ((uint64_t)in < end) {
		uint64_t left = end - (uint64_t)in;

		n = sendfile(fd, img, &in, left > (1u << 30) ? (1u << 30) : (size_t)left);
		if (n <= 0)
			return n == 0 ? -EIO : -errno; /* 0: the image is shorter than its map */
	}
	return 0;
}

#define DISK_COPY_CHUNK (1u << 20)

/*
 * The same into a spill file, through a buffer of 1 MiB: large writes make
 * large folios in the host's page cache, which later reads walk at page
 * cache speed, where sendfile's page-sized pieces leave small ones
 * (measured, 100 MiB on ext4: a repeated read 5.2 ms against 8.0 ms after
 * sendfile, 5.8 ms for a file the host read itself; the copy takes the
 * same 30 ms).
 */
static int copy_span_buffered(int img, int fd, uint64_t src, uint64_t dst, uint64_t len, char *buf)
{
	while (len) {
		size_t want = len < DISK_COPY_CHUNK ? (size_t)len : DISK_COPY_CHUNK;
		ssize_t n = pread(img, buf, want, (off_t)src);

		if (n <= 0)
			return n == 0 ? -EIO : -errno; /* 0: the image is shorter than its map */
		if (pwrite(fd, buf, (size_t)n, (off_t)dst) != n)
			return errno ? -errno : -EIO;
		src += (uint64_t)n;
		dst += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* The old way, for inline-data files: through libext2fs and a buffer. */
static int fill_by_reading(const struct kbox_mount *m, uint32_t ino, int fd, uint64_t size)
{
	char buf[4096];
	uint64_t off = 0;
	ssize_t n;

	while (off < size) {
		n = kbox_ext4_read(m->ext4, ino, buf, sizeof(buf), off);
		if (n <= 0)
			return n < 0 ? (int)n : 0;
		if (pwrite(fd, buf, (size_t)n, (off_t)off) != n)
			return -EIO;
		off += (uint64_t)n;
	}
	return 0;
}

static int fill(const struct kbox_mount *m, uint32_t ino, int fd, uint64_t size, bool on_disk)
{
	struct kbox_ext4_spans s;
	int img = kbox_ext4_image_fd(m->ext4), r;
	char *buf = NULL;

	if (ftruncate(fd, (off_t)size) < 0)
		return -errno;
	r = kbox_ext4_data_spans(m->ext4, ino, &s);
	if (r == -EOPNOTSUPP)
		return fill_by_reading(m, ino, fd, size);
	if (r == 0 && on_disk && !(buf = malloc(DISK_COPY_CHUNK)))
		r = -ENOMEM;
	for (size_t i = 0; r == 0 && i < s.n; i++)
		r = buf ? copy_span_buffered(img, fd, s.v[i].img_off, s.v[i].off, s.v[i].len, buf)
			: copy_span(img, fd, s.v[i].img_off, s.v[i].off, s.v[i].len);
	free(buf);
	free(s.v);
	return r;
}

static int spill_file(void)
{
	int fd = open(spill_dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

	return fd < 0 ? -errno : fd;
}

/* A named copy's name: "kbox-image:INO@MINOR" (the image mount's device). */
static void copy_name(const struct kbox_mount *m, uint32_t ino, char *name, size_t size)
{
	snprintf(name, size, "kbox-image:%u@%u", ino, (unsigned)minor(m->dev));
}

/* @dir is tmpfs, writable, and allows exec (the loader maps programs from copies). */
static bool fit_for_copies(const char *dir)
{
	struct statfs sf;
	struct statvfs sv;

	return statfs(dir, &sf) == 0 && statvfs(dir, &sv) == 0 &&
	       (sf.f_type == TMPFS_MAGIC_ || sf.f_type == RAMFS_MAGIC_) &&
	       !(sv.f_flag & (ST_RDONLY | ST_NOEXEC)) && access(dir, W_OK | X_OK) == 0;
}

void kbox_imgstore_init(void)
{
	const char *dir = getenv("KBOX_IMAGE_COPY_DIR");

	if (copy_dirfd >= 0)
		return;
	if (!dir || !*dir)
		dir = "/dev/shm";
	if (!strcmp(dir, "memfd") || !fit_for_copies(dir) ||
	    kbox_rundir_make_in(dir, copy_dir, sizeof(copy_dir), "kbox-copies") < 0)
		return; /* memfds: as fast to make, 1.1 us slower to reopen */
	copy_dirfd = open(copy_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (copy_dirfd < 0)
		kbox_rundir_remove(copy_dir);
}

void kbox_imgstore_fini(void)
{
	if (copy_dirfd >= 0)
		close(copy_dirfd);
	copy_dirfd = -1;
	kbox_rundir_remove(copy_dir);
}

static int named_copy(const struct kbox_mount *m, uint32_t ino)
{
	char name[64];
	int fd;

	copy_name(m, ino, name, sizeof(name));
	fd = openat(copy_dirfd, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	if (fd < 0 && errno == EEXIST && unlinkat(copy_dirfd, name, 0) == 0)
		fd = openat(copy_dirfd, name, O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600);
	return fd < 0 ? -errno : fd;
}

int kbox_imgstore_reopen(const struct kbox_mount *m, uint32_t ino, int flags)
{
	char name[64];

	copy_name(m, ino, name, sizeof(name));
	return openat(copy_dirfd, name, flags);
}

void kbox_imgstore_unlink(const struct kbox_mount *m, uint32_t ino)
{
	char name[64];

	copy_name(m, ino, name, sizeof(name));
	unlinkat(copy_dirfd, name, 0);
}

/* @path is a named copy's ("COPY_DIR/kbox-image:INO@MINOR"): its image inode in *@ino. */
static bool named_copy_ino(const char *path, size_t len, unsigned *ino)
{
	size_t dl = strlen(copy_dir);
	unsigned mnr;

	return copy_dir[0] && len > dl + 1 && strncmp(path, copy_dir, dl) == 0 && path[dl] == '/' &&
	       sscanf(path + dl + 1, "kbox-image:%u@%u", ino, &mnr) == 2;
}

bool kbox_imgstore_copy_ino(const char *path, size_t len, uint32_t *ino)
{
	unsigned v;

	/* memfd_of()'s name, or copy_name()'s in the copy directory */
	if (sscanf(path, "/memfd:kbox-image:%u", &v) != 1 && !named_copy_ino(path, len, &v))
		return false;
	*ino = v;
	return true;
}

static int memfd_of(uint32_t ino)
{
	char name[32];
	int fd;

	/* Named by inode: numa_maps names mappings by path alone. */
	snprintf(name, sizeof(name), "kbox-image:%u", ino);
	fd = memfd_create(name, MFD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* @fd (or the -errno of making it) filled with @ino's data: the fd, or -errno and closed. */
static int filled(const struct kbox_mount *m, uint32_t ino, int fd, uint64_t size, bool on_disk)
{
	int r = fd < 0 ? fd : fill(m, ino, fd, size, on_disk);

	if (r < 0 && fd >= 0)
		close(fd);
	return r < 0 ? r : fd;
}

/* A memory copy: named if kbox has a directory for them, else a memfd. */
static int memory_copy(const struct kbox_mount *m, uint32_t ino, uint64_t size, bool *named)
{
	int fd;

	if (copy_dirfd >= 0) {
		fd = filled(m, ino, named_copy(m, ino), size, false);
		*named = fd >= 0;
		if (fd >= 0 || fd == -EMFILE)
			return fd;
		kbox_imgstore_unlink(m,
				     ino); /* the directory is full: a memfd holds it as before */
	}
	return filled(m, ino, memfd_of(ino), size, false);
}

int kbox_imgstore_make(const struct kbox_mount *m, uint32_t ino, uint64_t size, bool *on_disk,
		       bool *named)
{
	int fd;

	*on_disk = *named = false;
	if (size > spill_threshold()) {
		if (!spill_chosen)
			choose_spill_dir(m->host);
		fd = filled(m, ino, spill_dir[0] ? spill_file() : -ENOENT, size, true);
		*on_disk = fd >= 0;
		if (fd >= 0 || fd == -EMFILE)
			return fd;
		/* The spill file system is full (or failed): memory, if it holds the file. */
	}
	return memory_copy(m, ino, size, named);
}

int kbox_imgstore_ino_of_path(const char *path, size_t len, ino_t *ino)
{
	size_t dl = strlen(spill_dir);
	unsigned long long v;

	/* An unlinked O_TMPFILE reads as "DIR/#INO (deleted)". */
	if (!spill_dir[0] || len <= dl + 2 || strncmp(path, spill_dir, dl) != 0 ||
	    strncmp(path + dl, "/#", 2) != 0 || sscanf(path + dl + 2, "%llu", &v) != 1)
		return -ENOENT;
	*ino = (ino_t)v;
	return 0;
}

dev_t kbox_imgstore_spill_dev(void)
{
	return spill_dev;
}
