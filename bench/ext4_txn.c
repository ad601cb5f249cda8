// SPDX-License-Identifier: MIT
/*
 * What the journal costs the operations it covers (src/fs/ext4/journal.c):
 * directory renames across parents, a dpkg-like unpack (write NAME.dpkg-new,
 * rename it over NAME), renames within a directory, and unlinked-but-open
 * temp files, on a fresh 256 MiB `mke2fs -t ext4` image (with its journal)
 * and on the same image made without one (-O ^has_journal: ordered writes
 * only, as before the journal was used). Release build, no sanitizers:
 *   cc -O2 -D_GNU_SOURCE -Isrc -o /tmp/bench_txn bench/ext4_txn.c \
 *      src/fs/ext4/{errcode,image,inode,dcache,dir,file,xattr,journal}.c \
 *      src/lib/log.c -lext2fs -lcom_err -lpthread
 *   /tmp/bench_txn [WORKDIR]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "fs/ext4/ext4.h"

#define N 1000

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void check(int err, const char *what)
{
	if (err) {
		fprintf(stderr, "%s: %s\n", what, strerror(-err));
		exit(1);
	}
}

static uint32_t mkdir_at(struct kbox_ext4 *x, uint32_t dir, const char *name)
{
	uint32_t ino;

	check(kbox_ext4_mkdir(x, dir, name, 0755, 0, 0, &ino), name);
	return ino;
}

static double dir_renames(struct kbox_ext4 *x)
{
	uint32_t p0 = mkdir_at(x, KBOX_EXT4_ROOT_INO, "p0"),
		 p1 = mkdir_at(x, KBOX_EXT4_ROOT_INO, "p1");
	double t;

	mkdir_at(x, p0, "moving");
	t = now();
	for (int i = 0; i < N; i++)
		check(kbox_ext4_rename(x, i % 2 ? p1 : p0, "moving", i % 2 ? p0 : p1, "moving", 0),
		      "rename dir");
	return now() - t;
}

static double dpkg_like(struct kbox_ext4 *x)
{
	static char data[6000];
	uint32_t d = mkdir_at(x, KBOX_EXT4_ROOT_INO, "usr"), ino;
	char name[64], tmp[80];
	double t = now();

	for (int i = 0; i < N; i++) {
		snprintf(name, sizeof(name), "file%d", i % (N / 2));
		snprintf(tmp, sizeof(tmp), "%s.dpkg-new", name);
		check(kbox_ext4_mknod(x, d, tmp, S_IFREG | 0644, 0, 0, 0, &ino), "create");
		if (kbox_ext4_write(x, ino, data, 1000 + i % 5000, 0) < 0)
			check(-5, "write");
		check(kbox_ext4_rename(x, d, tmp, d, name, 0), "rename over");
	}
	return now() - t;
}

static double same_dir_renames(struct kbox_ext4 *x)
{
	uint32_t d = mkdir_at(x, KBOX_EXT4_ROOT_INO, "same"), ino;
	double t;

	check(kbox_ext4_mknod(x, d, "a", S_IFREG | 0644, 0, 0, 0, &ino), "create");
	t = now();
	for (int i = 0; i < N; i++)
		check(kbox_ext4_rename(x, d, i % 2 ? "b" : "a", d, i % 2 ? "a" : "b", 0), "rename");
	return now() - t;
}

static double open_unlinked(struct kbox_ext4 *x)
{
	static char data[4096];
	uint32_t d = mkdir_at(x, KBOX_EXT4_ROOT_INO, "tmp"), ino;
	double t = now();

	for (int i = 0; i < N; i++) {
		check(kbox_ext4_mknod(x, d, "t", S_IFREG | 0600, 0, 0, 0, &ino), "create");
		check(kbox_ext4_iget(x, ino), "iget");
		check(kbox_ext4_unlink(x, d, "t"), "unlink");
		if (kbox_ext4_write(x, ino, data, sizeof(data), 0) < 0)
			check(-5, "write");
		check(kbox_ext4_iput(x, ino), "iput");
	}
	return now() - t;
}

static void run(const char *work, const char *features)
{
	char img[512], cmd[1024], why[256];
	struct kbox_ext4 *x;

	snprintf(img, sizeof(img), "%s/txn-bench.img", work);
	snprintf(cmd, sizeof(cmd), "rm -f %s && mke2fs -q -F -t ext4 %s %s 256M", img, features,
		 img);
	if (system(cmd))
		exit(1);
	check(kbox_ext4_open(img, true, &x, why, sizeof(why)), why);
	printf("%-22s dir renames %6.1f us  dpkg-like %6.1f us  same-dir %6.1f us  "
	       "open-unlinked %6.1f us  (each per operation, %d ops)\n",
	       features[0] ? "no journal" : "journal", dir_renames(x) * 1e6 / N,
	       dpkg_like(x) * 1e6 / N, same_dir_renames(x) * 1e6 / N, open_unlinked(x) * 1e6 / N,
	       N);
	check(kbox_ext4_close(x), "close");
	unlink(img);
}

int main(int argc, char **argv)
{
	const char *work = argc > 1 ? argv[1] : "/tmp";

	for (int i = 0; i < 3; i++) {
		run(work, "");
		run(work, "-O ^has_journal");
	}
	return 0;
}
