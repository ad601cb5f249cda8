/*
 * syscall_bench: the guest side of bench/run's per-syscall table.
 *
 * Times five calls and prints one line per call: "NAME MICROSECONDS" (the
 * median over rounds of the mean cost of one call in that round):
 *   stat        stat(DATA)
 *   open_close  open(DATA, O_RDONLY) + close
 *   lseek_read  lseek(fd, 0, SEEK_SET) + read(fd, buf, 64) on an open fd
 *   write       write(fd, buf, 64) on an open fd to OUT
 *   getpid      syscall(SYS_getpid)
 *
 * Every timed call's result is checked; the first error ends the program
 * with a message and exit status 1, so error paths are never timed.
 *
 * Usage: syscall_bench [-d DATA] [-w OUT] [-t MS_PER_ROUND] [-r ROUNDS]
 *                      [-o only,these,tests]
 * DATA defaults to /kbox-bench/data, OUT to /dev/null.
 * Built static with musl-gcc and with glibc, no sanitizers.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifdef __GLIBC__
#define LIBC_NAME "glibc"
#else
#define LIBC_NAME "musl"
#endif

#define BATCH	   32
#define MAX_ROUNDS 64

static const char *data_path = "/kbox-bench/data";
static const char *out_path = "/dev/null";
static int data_fd = -1, out_fd = -1;
static char buf[64];

static void die(const char *what)
{
	fprintf(stderr, "syscall_bench (%s): %s failed: %s\n", LIBC_NAME, what, strerror(errno));
	exit(1);
}

static double now_us(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
}

static void do_stat(void)
{
	struct stat st;
	if (stat(data_path, &st) != 0)
		die("stat");
}

static void do_open_close(void)
{
	int fd = open(data_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		die("open");
	if (close(fd) != 0)
		die("close");
}

static void do_lseek_read(void)
{
	if (lseek(data_fd, 0, SEEK_SET) != 0)
		die("lseek");
	ssize_t n = read(data_fd, buf, sizeof buf);
	if (n != (ssize_t)sizeof buf) {
		if (n >= 0)
			errno = EIO;
		die("read (short read of the data file?)");
	}
}

static void do_write(void)
{
	if (write(out_fd, buf, sizeof buf) != (ssize_t)sizeof buf) {
		if (errno == 0)
			errno = EIO;
		die("write");
	}
}

static void do_getpid(void)
{
	long r = syscall(SYS_getpid);
	if (r <= 0) {
		if (r == 0)
			errno = EINVAL;
		die("getpid");
	}
}

struct test {
	const char *name;
	void (*fn)(void);
};

static const struct test tests[] = {
	{"stat", do_stat},   {"open_close", do_open_close}, {"lseek_read", do_lseek_read},
	{"write", do_write}, {"getpid", do_getpid},
};

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static int wanted(const char *only, const char *name)
{
	if (!only)
		return 1;
	size_t n = strlen(name);
	for (const char *p = only; *p;) {
		const char *e = strchr(p, ',');
		size_t len = e ? (size_t)(e - p) : strlen(p);
		if (len == n && memcmp(p, name, n) == 0)
			return 1;
		if (!e)
			break;
		p = e + 1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	double round_ms = 30;
	int rounds = 5;
	const char *only = NULL;
	int c;

	while ((c = getopt(argc, argv, "d:w:t:r:o:h")) != -1) {
		switch (c) {
		case 'd':
			data_path = optarg;
			break;
		case 'w':
			out_path = optarg;
			break;
		case 't':
			round_ms = atof(optarg);
			break;
		case 'r':
			rounds = atoi(optarg);
			break;
		case 'o':
			only = optarg;
			break;
		default:
			fprintf(stderr,
				"usage: %s [-d DATA] [-w OUT] [-t MS_PER_ROUND] "
				"[-r ROUNDS] [-o TEST,...]\n",
				argv[0]);
			return c == 'h' ? 0 : 2;
		}
	}
	if (rounds < 1 || rounds > MAX_ROUNDS || round_ms <= 0) {
		fprintf(stderr, "syscall_bench: -r must be 1..%d and -t > 0\n", MAX_ROUNDS);
		return 2;
	}

	data_fd = open(data_path, O_RDONLY | O_CLOEXEC);
	if (data_fd < 0) {
		fprintf(stderr, "syscall_bench (%s): open(%s): %s\n", LIBC_NAME, data_path,
			strerror(errno));
		return 1;
	}
	out_fd = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out_fd < 0) {
		fprintf(stderr, "syscall_bench (%s): open(%s) for writing: %s\n", LIBC_NAME,
			out_path, strerror(errno));
		return 1;
	}
	memset(buf, 'k', sizeof buf);

	printf("# libc %s data %s out %s rounds %d ms_per_round %g\n", LIBC_NAME, data_path,
	       out_path, rounds, round_ms);
	for (size_t t = 0; t < sizeof tests / sizeof tests[0]; t++) {
		if (!wanted(only, tests[t].name))
			continue;
		double per_call[MAX_ROUNDS];
		/* warm up: the first calls fault in code, dentries and caches */
		for (int i = 0; i < BATCH; i++)
			tests[t].fn();
		for (int r = 0; r < rounds; r++) {
			long calls = 0;
			double t0 = now_us(), t1;
			do {
				for (int i = 0; i < BATCH; i++)
					tests[t].fn();
				calls += BATCH;
				t1 = now_us();
			} while (t1 - t0 < round_ms * 1000);
			per_call[r] = (t1 - t0) / calls;
			if (tests[t].fn == do_write && lseek(out_fd, 0, SEEK_SET) < 0 &&
			    errno != ESPIPE)
				die("lseek of the output file");
		}
		qsort(per_call, rounds, sizeof per_call[0], cmp_double);
		printf("%s %.4f\n", tests[t].name, per_call[rounds / 2]);
		fflush(stdout);
	}
	return 0;
}
