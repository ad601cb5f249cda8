/* Threads share the cwd and umask (CLONE_FS) until one calls
 * unshare(CLONE_FS); then its chdir and umask are its own. Likewise
 * unshare(CLONE_FILES) gives a thread its own fd table. */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/stat.h>

static char start[4096];

static const char *rel_cwd(char *buf, size_t cap)
{
	if (!getcwd(buf, cap))
		return errname(errno);
	size_t n = strlen(start);
	if (strncmp(buf, start, n))
		return "outside";
	return buf[n] ? buf + n + 1 : ".";
}

static void *shared_thread(void *arg)
{
	(void)arg;
	chdir("a");
	umask(077);
	return NULL;
}

static void *unshared_thread(void *arg)
{
	char buf[4096];
	(void)arg;
	report("unshare_fs", unshare(CLONE_FS));
	chdir("b");
	umask(0);
	printf("thread cwd: %s\n", rel_cwd(buf, sizeof(buf)));
	report("thread relative_open", access("in_b", F_OK));
	return NULL;
}

static void *unshared_files_thread(void *arg)
{
	int fd = *(int *)arg;
	report("unshare_files", unshare(CLONE_FILES));
	close(fd);
	printf("thread fd_closed: %d\n", fcntl(fd, F_GETFD) < 0);
	return NULL;
}

int main(void)
{
	char buf[4096];
	pthread_t t;

	getcwd(start, sizeof(start));
	mkdir("a", 0755);
	mkdir("b", 0755);
	put_file("b/in_b", "b");
	umask(022);

	pthread_create(&t, NULL, shared_thread, NULL);
	pthread_join(t, NULL);
	printf("main cwd after thread chdir: %s\n", rel_cwd(buf, sizeof(buf)));
	mode_t m = umask(022);
	printf("main umask after thread umask: %o\n", m);
	chdir(start);

	pthread_create(&t, NULL, unshared_thread, NULL);
	pthread_join(t, NULL);
	printf("main cwd after unshared thread: %s\n", rel_cwd(buf, sizeof(buf)));
	m = umask(022);
	printf("main umask after unshared thread: %o\n", m);
	report("main relative_open", access("in_b", F_OK));

	int fd = open("b/in_b", O_RDONLY);
	pthread_create(&t, NULL, unshared_files_thread, &fd);
	pthread_join(t, NULL);
	printf("main fd_still_open: %d\n", fcntl(fd, F_GETFD) >= 0);
	return 0;
}
