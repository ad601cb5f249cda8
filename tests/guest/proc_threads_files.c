/* Threads doing file operations in parallel, each in its own directory:
 * create, write, rename, stat, unlink; results are checked after join. */
#include "common.h"
#include <fcntl.h>
#include <pthread.h>
#include <sys/stat.h>

#define THREADS 8
#define ROUNDS	100

static int errors[THREADS];

static void *work(void *arg)
{
	long id = (long)arg;
	char dir[32], a[64], b[64];

	snprintf(dir, sizeof(dir), "t%ld", id);
	if (mkdir(dir, 0755) < 0)
		errors[id]++;
	for (int i = 0; i < ROUNDS; i++) {
		snprintf(a, sizeof(a), "%s/f%d", dir, i);
		snprintf(b, sizeof(b), "%s/g%d", dir, i);
		int fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd < 0 || write(fd, a, strlen(a)) != (ssize_t)strlen(a))
			errors[id]++;
		close(fd);
		if (rename(a, b) < 0)
			errors[id]++;
		struct stat st;
		if (stat(b, &st) < 0 || st.st_size != (off_t)strlen(a))
			errors[id]++;
		if (i % 2 == 0 && unlink(b) < 0)
			errors[id]++;
	}
	return NULL;
}

int main(void)
{
	pthread_t t[THREADS];
	for (long i = 0; i < THREADS; i++)
		pthread_create(&t[i], NULL, work, (void *)i);
	for (int i = 0; i < THREADS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < THREADS; i++) {
		char dir[32];
		int n = 0;
		snprintf(dir, sizeof(dir), "t%d", i);
		DIR *d = opendir(dir);
		while (d && readdir(d))
			n++;
		if (d)
			closedir(d);
		printf("thread %d: errors %d entries %d\n", i, errors[i], n - 2);
	}
	return 0;
}
