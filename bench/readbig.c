/*
 * readbig: the guest side of bench/run's large-file read on an image root.
 *
 * Times, inside the guest, reading one big file with read() in 1 MiB
 * chunks and prints:
 *   first_ms   open + read to EOF, the first time this process reads it
 *   repeat_ms  the median of N further full passes over the same open fd
 *              (lseek to 0, read to EOF): repeated reads of an open file
 *   bytes      the file's size as read
 *   sum        a checksum of the contents (computed after the timed
 *              passes, untimed), so that every tool is seen to read the
 *              same bytes
 *
 * Every call's result is checked; on an error the program prints why and
 * exits 1, so error paths are never timed.
 *
 * With -m (run on the host by bench/run, as a floor): the file's page
 * cache is dropped first (POSIX_FADV_DONTNEED), so that the first pass
 * refills it by readahead as a fresh mount's would be (large folios: a
 * page cache filled by writes reads back about half as fast); after the
 * passes the same bytes are copied into a memfd, the kind of file kbox
 * gives the guest for an image file, and the median of REPEATS passes over
 * it is printed as
 *   memfd_repeat_ms
 *
 * Usage: readbig FILE [-n REPEATS] [-m]   (REPEATS defaults to 5)
 * Built static with glibc, no sanitizers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#define CHUNK	    (1 << 20)
#define MAX_REPEATS 64

static char buf[CHUNK];

static void die(const char *what)
{
	fprintf(stderr, "readbig: %s failed: %s\n", what, strerror(errno));
	exit(1);
}

static double now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* One pass from the current offset to EOF; returns the bytes read. */
static long long read_all(int fd)
{
	long long total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			die("read");
		}
		if (n == 0)
			return total;
		total += n;
	}
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* The file's bytes in a new memfd; the median of @repeats full passes over it. */
static double memfd_passes(int fd, long long size, int repeats)
{
	double rep[MAX_REPEATS];
	int m = memfd_create("readbig", MFD_CLOEXEC);
	if (m < 0)
		die("memfd_create");
	if (lseek(fd, 0, SEEK_SET) != 0)
		die("lseek");
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0)
			die("read");
		if (n == 0)
			break;
		if (write(m, buf, (size_t)n) != n)
			die("write to the memfd");
	}
	for (int i = 0; i < repeats; i++) {
		double t = now_ms();
		if (lseek(m, 0, SEEK_SET) != 0)
			die("lseek");
		long long n = read_all(m);
		rep[i] = now_ms() - t;
		if (n != size) {
			fprintf(stderr, "readbig: the memfd gave %lld bytes, not %lld\n", n, size);
			exit(1);
		}
	}
	close(m);
	qsort(rep, repeats, sizeof rep[0], cmp_double);
	return rep[repeats / 2];
}

int main(int argc, char **argv)
{
	int repeats = 5, memfd = 0;
	if (argc < 2) {
		fprintf(stderr, "usage: readbig FILE [-n REPEATS] [-m]\n");
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "-n") == 0 && i + 1 < argc)
			repeats = atoi(argv[++i]);
		else if (strcmp(argv[i], "-m") == 0)
			memfd = 1;
	}
	if (repeats < 1 || repeats > MAX_REPEATS) {
		fprintf(stderr, "readbig: -n wants 1..%d\n", MAX_REPEATS);
		return 2;
	}

	double t0 = now_ms();
	int fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open");
	if (memfd) {
		fdatasync(fd);
		posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	}
	long long size = read_all(fd);
	double first = now_ms() - t0;

	double rep[MAX_REPEATS];
	for (int i = 0; i < repeats; i++) {
		double t = now_ms();
		if (lseek(fd, 0, SEEK_SET) != 0)
			die("lseek");
		long long n = read_all(fd);
		rep[i] = now_ms() - t;
		if (n != size) {
			fprintf(stderr, "readbig: pass %d read %lld bytes, the first %lld\n", i + 2,
				n, size);
			return 1;
		}
	}
	qsort(rep, repeats, sizeof rep[0], cmp_double);
	double mrep = memfd ? memfd_passes(fd, size, repeats) : 0;

	/* the checksum pass, untimed */
	uint64_t sum = 0;
	if (lseek(fd, 0, SEEK_SET) != 0)
		die("lseek");
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0)
			die("read");
		if (n == 0)
			break;
		for (ssize_t i = 0; i + 8 <= n; i += 8) {
			uint64_t w;
			memcpy(&w, buf + i, 8);
			sum = sum * 31 + w;
		}
	}
	if (close(fd) != 0)
		die("close");
	printf("first_ms %.3f\n", first);
	printf("repeat_ms %.3f\n", rep[repeats / 2]);
	if (memfd)
		printf("memfd_repeat_ms %.3f\n", mrep);
	printf("bytes %lld\n", size);
	printf("sum %016llx\n", (unsigned long long)sum);
	return 0;
}
