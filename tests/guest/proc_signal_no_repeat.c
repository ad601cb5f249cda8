/* A non-fatal signal arriving while a call is being answered must not make
 * its side effects happen twice: a stream of SIGALRMs whose handler has no
 * SA_RESTART hits a loop of exclusive creates, mkdirs, renames and appends.
 * A create or mkdir that ran twice would fail with EEXIST; a repeated
 * append would leave the file longer than the writes that succeeded. */
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/time.h>

static volatile sig_atomic_t alarms;

static void on_alarm(int sig)
{
	(void)sig;
	alarms++;
}

int main(void)
{
	struct sigaction sa = {.sa_handler = on_alarm}; /* no SA_RESTART */
	struct itimerval it = {{0, 50}, {0, 50}};
	long eexist = 0, appended = 0, other = 0;
	struct stat st;
	char a[32], b[32];
	int log;

	sigaction(SIGALRM, &sa, NULL);
	log = open("append.log", O_WRONLY | O_CREAT | O_TRUNC | O_APPEND, 0644);
	setitimer(ITIMER_REAL, &it, NULL);
	for (int i = 0; i < 2000; i++) {
		snprintf(a, sizeof(a), "f%d", i);
		snprintf(b, sizeof(b), "d%d", i);
		int fd = open(a, O_WRONLY | O_CREAT | O_EXCL, 0644);
		if (fd >= 0)
			close(fd);
		else if (errno == EEXIST)
			eexist++;
		if (mkdir(b, 0755) && errno == EEXIST)
			eexist++;
		if (rename(a, b) && errno != EISDIR && errno != EINTR && errno != ENOENT)
			other++;
		if (write(log, "x", 1) == 1)
			appended++;
	}
	it = (struct itimerval){0};
	setitimer(ITIMER_REAL, &it, NULL);
	fstat(log, &st);
	printf("exclusive creates that found their own file: %ld\n", eexist);
	printf("appends repeated: %s\n", st.st_size == appended ? "no" : "yes");
	printf("unexpected rename errors: %ld\n", other);
	printf("signals arrived: %s\n", alarms > 0 ? "yes" : "no");
	return 0;
}
