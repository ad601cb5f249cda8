/* /proc/<pid>/status shows the guest's own identity: under -S (uid 0) the
 * Uid and Gid lines are 0, in the process and in a child; the first
 * process's parent is outside the guest's view or its pid 1 (a pid
 * namespace's init), a child's parent is the program, in status and
 * stat; no tracer. */
#include "common.h"
#include <sys/wait.h>

/* The value of @key in @path's status, or NULL. */
static const char *field(const char *path, const char *key)
{
	static char line[256];
	size_t klen = strlen(key);
	FILE *f = fopen(path, "r");

	if (!f)
		return NULL;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, klen) && line[klen] == ':') {
			fclose(f);
			line[strcspn(line, "\n")] = '\0';
			return line + klen + 1 + strspn(line + klen + 1, " \t");
		}
	}
	fclose(f);
	return NULL;
}

static void ids(const char *label, const char *path)
{
	const char *v = field(path, "Uid");

	printf("%s Uid: %s\n", label, v ? v : "?");
	v = field(path, "Gid");
	printf("%s Gid: %s\n", label, v ? v : "?");
	v = field(path, "TracerPid");
	printf("%s TracerPid: %s\n", label, v ? v : "?");
}

/* Field 4 of @path's stat, the parent: after "pid (comm) state". */
static long stat_ppid(const char *path)
{
	char buf[1024];
	const char *p;
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -1;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	return p && strlen(p) > 4 ? atol(p + 4) : -1;
}

int main(void)
{
	char path[64];
	const char *v;
	pid_t child, parent = getpid();
	int ready[2];
	char c;

	ids("self", "/proc/self/status");
	v = field("/proc/self/status", "PPid");
	printf("self PPid 0 or 1: %s\n", v && (!strcmp(v, "0") || !strcmp(v, "1")) ? "yes" : "no");
	printf("self stat ppid the same: %s\n",
	       v && stat_ppid("/proc/self/stat") == atol(v) ? "yes" : "no");
	printf("self getppid the same: %s\n", v && getppid() == atol(v) ? "yes" : "no");
	if (pipe(ready))
		return 1;
	child = fork();
	if (child == 0) {
		printf("child getppid is the program: %s\n", getppid() == parent ? "yes" : "no");
		close(ready[0]);
		write(ready[1], "x", 1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	read(ready[0], &c, 1);
	snprintf(path, sizeof(path), "/proc/%d/status", (int)child);
	ids("child", path);
	v = field(path, "PPid");
	printf("child PPid is the program: %s\n", v && atoi(v) == getpid() ? "yes" : "no");
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)child);
	printf("child stat ppid is the program: %s\n", stat_ppid(path) == getpid() ? "yes" : "no");
	snprintf(path, sizeof(path), "/proc/%d/task/%d/status", (int)getpid(), (int)getpid());
	ids("task", path);
	kill(child, 9);
	waitpid(child, NULL, 0);
	return 0;
}
