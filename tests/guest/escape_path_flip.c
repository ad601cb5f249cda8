/* A second thread flips a path buffer between an inside path and a host
 * path (argv[1], a file outside the root) while the first thread opens,
 * opens with O_PATH, and execs that buffer in a tight loop, for a bounded
 * time: the host file is never opened or executed, whatever the timing.
 * (kbox reads a guest path once and resolves it itself; the host kernel
 * never reads the buffer again.) Every attempt either reaches the inside
 * file or fails as a path that does not exist does. */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

#define ROUND_NS  700000000L /* per attack */
#define MAX_TRIES 20000

static char buf[4096];
static const char *flip[2];
static atomic_int stop;

/*
 * Now and then it yields with the inside path in place: on one CPU the
 * opener would otherwise run whole time slices with whatever the flipper
 * left, and might never see the inside path (so natively too).
 */
static void *flipper(void *arg)
{
	(void)arg;
	for (unsigned i = 0; !atomic_load_explicit(&stop, memory_order_relaxed); i++) {
		strcpy(buf, flip[i & 1]);
		if (i % 128 == 0)
			sched_yield();
	}
	return NULL;
}

static pthread_t start_flipper(const char *inside, const char *host)
{
	pthread_t t;

	flip[0] = inside;
	flip[1] = host;
	strcpy(buf, inside);
	atomic_store(&stop, 0);
	if (pthread_create(&t, NULL, flipper, NULL))
		die("pthread_create");
	return t;
}

static long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* A failure that a path which does not exist (or a mix of two) gives. */
static int not_found(int e)
{
	return e == ENOENT || e == ENOTDIR;
}

/* open(buf) and open(buf, O_PATH) under the flipper; counts what came
 * back: the inside file (same inode) or anything else. */
static void open_attack(const char *host, int opath)
{
	long end = now_ns() + ROUND_NS, inside = 0, host_hits = 0, other = 0;
	struct stat want, st;
	pthread_t t;

	if (stat("inside-file", &want))
		die("stat inside-file");
	t = start_flipper("inside-file", host);
	for (int i = 0; i < MAX_TRIES && now_ns() < end; i++) {
		int fd = open(buf, opath ? O_PATH : O_RDONLY);
		if (fd < 0) {
			other += !not_found(errno);
			continue;
		}
		if (fstat(fd, &st) == 0 && st.st_ino == want.st_ino && st.st_dev == want.st_dev)
			inside++;
		else
			host_hits++;
		close(fd);
	}
	atomic_store(&stop, 1);
	pthread_join(t, NULL);
	const char *what = opath ? "open_opath_flip" : "open_flip";
	printf("%s_inside_opened: %d\n", what, inside > 0);
	printf("%s_host_opened: %ld\n", what, host_hits);
	printf("%s_other_errors: %ld\n", what, other);
}

/* In a child: execve(buf) until one runs (exit 0 from the inside program)
 * or time is up (exit 2); a failure other than not-found exits 3. */
static void exec_child(const char *host, long end)
{
	char *argv[] = {"true", NULL}, *envp[] = {NULL};

	start_flipper("/bin/true", host);
	while (now_ns() < end) {
		execve(buf, argv, envp);
		if (!not_found(errno))
			_exit(3);
	}
	_exit(2);
}

static void exec_attack(const char *host)
{
	long end = now_ns() + ROUND_NS;
	int ran = 0, bad = 0, status;

	while (now_ns() < end) {
		pid_t pid = fork();
		if (pid == 0)
			exec_child(host, end);
		if (pid < 0 || waitpid(pid, &status, 0) != pid)
			die("fork/waitpid");
		ran += WIFEXITED(status) && WEXITSTATUS(status) == 0;
		bad += !WIFEXITED(status) || WEXITSTATUS(status) == 3;
	}
	printf("exec_flip_inside_ran: %d\n", ran > 0);
	printf("exec_flip_host_reached: %d\n", bad);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: %s HOST_FILE\n", argv[0]);
		return 2;
	}
	put_file("inside-file", "inside\n");
	open_attack(argv[1], 0);
	open_attack(argv[1], 1);
	exec_attack(argv[1]);
	return 0;
}
