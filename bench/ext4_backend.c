// SPDX-License-Identifier: MIT
/*
 * The ext4 image backend's own cost, beside the hostdir backend's on the
 * same tree, in one run: lookup+stat of every file (cold, then warm),
 * sequential reads of a 100 MiB file, and sequential writes. No guest, no
 * seccomp: this is the floor each backend puts under a syscall.
 *
 * Build without sanitizers (they would distort every number):
 *   cc -O2 -D_GNU_SOURCE -Isrc -o /tmp/bench_ext4 bench/ext4_backend.c \
 *      src/fs/ext4/{errcode,image,inode,dcache,dir,file,xattr}.c \
 *      src/fs/hostdir/hostdir.c src/lib/log.c -lext2fs -lcom_err -lpthread
 *   /tmp/bench_ext4 [WORKDIR]      (needs mke2fs; about 1 GiB free in WORKDIR)
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs/ext4/ext4.h"
#include "fs/hostdir/hostdir.h"

#define NDIRS	    100
#define PER_DIR	    100
#define BIG_BYTES   (100u << 20)
#define CHUNK	    (128u << 10)
#define WARM_PASSES 5

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void run(const char *cmd)
{
	if (system(cmd)) {
		fprintf(stderr, "failed: %s\n", cmd);
		exit(1);
	}
}

static void make_tree(const char *src)
{
	char path[512];
	char *buf = malloc(CHUNK);

	memset(buf, 'x', CHUNK);
	mkdir(src, 0755);
	for (int d = 0; d < NDIRS; d++) {
		snprintf(path, sizeof(path), "%s/dir%03d", src, d);
		mkdir(path, 0755);
		for (int f = 0; f < PER_DIR; f++) {
			int fd;

			snprintf(path, sizeof(path), "%s/dir%03d/file-%04d.c", src, d, f);
			fd = open(path, O_CREAT | O_WRONLY, 0644);
			if (write(fd, buf, 100 + f * 37) < 0)
				exit(1);
			close(fd);
		}
	}
	snprintf(path, sizeof(path), "%s/big", src);
	int fd = open(path, O_CREAT | O_WRONLY, 0644);
	for (unsigned off = 0; off < BIG_BYTES; off += CHUNK)
		if (write(fd, buf, CHUNK) != CHUNK)
			exit(1);
	close(fd);
	free(buf);
}

/* Every file: resolve its directory from the root, then stat the file in it. */
static double ext4_stats(struct kbox_ext4 *x, int passes)
{
	char name[64];
	struct stat st;
	double t = now();

	for (int p = 0; p < passes; p++)
		for (int d = 0; d < NDIRS; d++) {
			uint32_t dir, ino;

			snprintf(name, sizeof(name), "dir%03d", d);
			kbox_ext4_lookup(x, KBOX_EXT4_ROOT_INO, name, &dir);
			for (int f = 0; f < PER_DIR; f++) {
				snprintf(name, sizeof(name), "file-%04d.c", f);
				if (kbox_ext4_lookup(x, dir, name, &ino) ||
				    kbox_ext4_getattr(x, ino, &st))
					exit(2);
			}
		}
	return (now() - t) / passes / (NDIRS * PER_DIR) * 1e9;
}

static double hostdir_stats(int root, int passes)
{
	char name[64];
	struct stat st;
	double t = now();

	for (int p = 0; p < passes; p++)
		for (int d = 0; d < NDIRS; d++) {
			int dir;

			snprintf(name, sizeof(name), "dir%03d", d);
			dir = kbox_hostdir_open_dir(root, name);
			for (int f = 0; f < PER_DIR; f++) {
				snprintf(name, sizeof(name), "file-%04d.c", f);
				if (kbox_hostdir_lstat(dir, name, &st))
					exit(3);
			}
			close(dir);
		}
	return (now() - t) / passes / (NDIRS * PER_DIR) * 1e9;
}

static double ext4_read(struct kbox_ext4 *x, uint32_t ino, char *buf)
{
	double t = now();

	for (uint64_t off = 0; off < BIG_BYTES; off += CHUNK)
		if (kbox_ext4_read(x, ino, buf, CHUNK, off) != CHUNK)
			exit(4);
	return BIG_BYTES / (now() - t) / (1 << 20);
}

static double host_read(int fd, char *buf)
{
	double t = now();

	for (uint64_t off = 0; off < BIG_BYTES; off += CHUNK)
		if (pread(fd, buf, CHUNK, off) != CHUNK)
			exit(5);
	return BIG_BYTES / (now() - t) / (1 << 20);
}

static double ext4_write(struct kbox_ext4 *x, char *buf)
{
	uint32_t ino;
	double t = now();

	if (kbox_ext4_mknod(x, KBOX_EXT4_ROOT_INO, "written", S_IFREG | 0644, 0, 0, 0, &ino))
		exit(6);
	for (uint64_t off = 0; off < BIG_BYTES; off += CHUNK)
		if (kbox_ext4_write(x, ino, buf, CHUNK, off) != CHUNK)
			exit(7);
	return BIG_BYTES / (now() - t) / (1 << 20);
}

static double host_write(const char *path, char *buf)
{
	int fd = open(path, O_CREAT | O_TRUNC | O_WRONLY, 0644);
	double t = now();

	for (uint64_t off = 0; off < BIG_BYTES; off += CHUNK)
		if (pwrite(fd, buf, CHUNK, off) != CHUNK)
			exit(8);
	t = now() - t;
	close(fd);
	return BIG_BYTES / t / (1 << 20);
}

int main(int argc, char **argv)
{
	const char *base = argc > 1 ? argv[1] : "/tmp";
	char work[256], src[300], img[300], cmd[1024], why[256], path[320];
	char *buf = malloc(CHUNK);
	struct kbox_ext4 *x;
	uint32_t big;
	int root, fd;

	snprintf(work, sizeof(work), "%s/kbox-bench-ext4-XXXXXX", base);
	if (!mkdtemp(work))
		return 1;
	snprintf(src, sizeof(src), "%s/src", work);
	snprintf(img, sizeof(img), "%s/img", work);
	make_tree(src);
	snprintf(cmd, sizeof(cmd), "mke2fs -q -F -t ext4 -b 4096 -d %s %s 400M", src, img);
	run(cmd);
	memset(buf, 'y', CHUNK);
	if (kbox_ext4_open(img, true, &x, why, sizeof(why))) {
		fprintf(stderr, "%s\n", why);
		return 1;
	}
	root = open(src, O_PATH | O_DIRECTORY);
	printf("| measure | ext4 image | hostdir | ratio |\n|---|---|---|---|\n");
	double ec = ext4_stats(x, 1), hc = hostdir_stats(root, 1);
	printf("| lookup+stat, first pass (ns/file) | %.0f | %.0f | %.2f |\n", ec, hc, ec / hc);
	double ew = ext4_stats(x, WARM_PASSES), hw = hostdir_stats(root, WARM_PASSES);
	printf("| lookup+stat, warm (ns/file) | %.0f | %.0f | %.2f |\n", ew, hw, ew / hw);
	kbox_ext4_lookup(x, KBOX_EXT4_ROOT_INO, "big", &big);
	snprintf(path, sizeof(path), "%s/big", src);
	fd = open(path, O_RDONLY);
	double er1 = ext4_read(x, big, buf), hr = host_read(fd, buf), er2 = ext4_read(x, big, buf);
	printf("| read 100 MiB, first (MiB/s) | %.0f | %.0f | %.2f |\n", er1, hr, hr / er1);
	printf("| read 100 MiB, again (MiB/s) | %.0f | %.0f | %.2f |\n", er2, hr, hr / er2);
	close(fd);
	snprintf(path, sizeof(path), "%s/written", src);
	double eww = ext4_write(x, buf), hww = host_write(path, buf);
	printf("| write 100 MiB (MiB/s) | %.0f | %.0f | %.2f |\n", eww, hww, hww / eww);
	printf("\nratio: ext4 time / hostdir time (>1: the image is slower); page cache warm.\n");
	kbox_ext4_close(x);
	snprintf(cmd, sizeof(cmd),
		 "e2fsck -fn %s >/dev/null 2>&1 && echo 'e2fsck -fn: clean'; "
		 "rm -rf %s",
		 img, work);
	return system(cmd) ? 1 : 0;
}
