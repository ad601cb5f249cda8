/* Listing /proc shows the guest's own processes: the program and a child
 * it forked are listed, every listed pid's directory can be opened (a pid
 * that is listed but hidden would be a host process), and a reaped child is
 * gone. Both getdents64 (readdir) and the old getdents are checked. */
#include "common.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#define MAX_PIDS 4096

struct pids {
	int n;
	long pid[MAX_PIDS];
};

static int numeric(const char *s)
{
	if (*s < '1' || *s > '9')
		return 0;
	for (; *s; s++)
		if (*s < '0' || *s > '9')
			return 0;
	return 1;
}

static void add(struct pids *p, const char *name)
{
	if (numeric(name) && p->n < MAX_PIDS)
		p->pid[p->n++] = atol(name);
}

static int list_readdir(struct pids *p)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return -1;
	p->n = 0;
	while ((de = readdir(d)))
		add(p, de->d_name);
	closedir(d);
	return 0;
}

/* The old getdents: struct linux_dirent, name at byte 18. */
static int list_old_getdents(struct pids *p)
{
	char buf[512]; /* small, so the listing takes many calls */
	int fd = open("/proc", O_RDONLY | O_DIRECTORY);
	long n;

	if (fd < 0)
		return -1;
	p->n = 0;
	while ((n = syscall(SYS_getdents, fd, buf, sizeof(buf))) > 0) {
		for (long off = 0; off < n;) {
			unsigned short reclen;

			memcpy(&reclen, buf + off + 16, sizeof(reclen));
			add(p, buf + off + 18);
			off += reclen;
		}
	}
	close(fd);
	return n < 0 ? -1 : 0;
}

static const char *has(const struct pids *p, long pid)
{
	for (int i = 0; i < p->n; i++)
		if (p->pid[i] == pid)
			return "yes";
	return "no";
}

/*
 * Every listed pid's status can be read, unless its process exited since
 * the listing: then a fresh listing no longer has it. (kill(pid, 0) cannot
 * tell: a sandbox may refuse signals to processes outside it.)
 */
static const char *all_open(const struct pids *p, int (*list)(struct pids *))
{
	static struct pids again;
	char path[64];
	int fresh = 0;

	for (int i = 0; i < p->n; i++) {
		snprintf(path, sizeof(path), "/proc/%ld/status", p->pid[i]);
		if (access(path, R_OK) == 0 || errno == EACCES)
			continue;
		if (!fresh && list(&again) < 0)
			return "?";
		fresh = 1;
		if (!strcmp(has(&again, p->pid[i]), "yes"))
			return "no";
	}
	return "yes";
}

static void show(const char *how, int (*list)(struct pids *), long child)
{
	static struct pids p;

	if (list(&p) < 0) {
		printf("%s: %s\n", how, errname(errno));
		return;
	}
	printf("%s: self listed: %s\n", how, has(&p, getpid()));
	if (child)
		printf("%s: child listed: %s\n", how, has(&p, child));
	printf("%s: every listed pid opens: %s\n", how, all_open(&p, list));
}

int main(void)
{
	int ready[2];
	char c;
	pid_t child;

	if (pipe(ready))
		return 1;
	child = fork();
	if (child == 0) {
		close(ready[0]);
		write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	read(ready[0], &c, 1);
	show("readdir", list_readdir, child);
	show("getdents", list_old_getdents, child);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	static struct pids after;
	if (list_readdir(&after) == 0)
		printf("reaped child listed: %s\n", has(&after, child));
	return 0;
}
