/* /proc/self/maps and smaps name mapped files by their guest paths: the
 * program is mapped at the path /proc/self/exe names, and every mapped
 * path (but memfds and deleted files) is a guest file with that inode. */
#include "common.h"
#include <sys/stat.h>
#include <sys/sysmacros.h>

struct result {
	int exe_found;
	int paths;
	int bad;
};

/* "start-end perms offset maj:min inode   path" */
static void check_line(const char *line, const char *exe, struct result *r)
{
	unsigned maj, min;
	unsigned long inode;
	int pos = 0;
	char path[4096];
	struct stat st;

	if (sscanf(line, "%*x-%*x %*s %*x %x:%x %lu %n", &maj, &min, &inode, &pos) != 3 || !pos)
		return;
	snprintf(path, sizeof(path), "%s", line + pos);
	path[strcspn(path, "\n")] = '\0';
	if (path[0] != '/' || strstr(path, " (deleted)") || !strncmp(path, "/memfd:", 7))
		return;
	r->paths++;
	if (!strcmp(path, exe))
		r->exe_found = 1;
	if (stat(path, &st) || st.st_ino != inode)
		r->bad++;
}

static void check(const char *file, const char *exe)
{
	struct result r = {0};
	char line[8192];
	FILE *f = fopen(file, "r");

	if (!f) {
		printf("%s: %s\n", file, errname(errno));
		return;
	}
	while (fgets(line, sizeof(line), f))
		check_line(line, exe, &r);
	fclose(f);
	printf("%s: program mapped at its path: %s\n", file, r.exe_found ? "yes" : "no");
	printf("%s: mapped paths are guest files: %s\n", file, r.paths && !r.bad ? "yes" : "no");
}

/* numa_maps: "ADDR POLICY file=PATH ...": every path is a guest file. */
static void check_numa(void)
{
	char line[8192], path[4096];
	FILE *f = fopen("/proc/self/numa_maps", "r");
	int paths = 0, bad = 0;
	struct stat st;

	if (!f) {
		printf("numa_maps: %s\n", errname(errno));
		return;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = strstr(line, " file=");

		if (!p)
			continue;
		snprintf(path, sizeof(path), "%s", p + 6);
		path[strcspn(path, " \n")] = '\0';
		if (!strncmp(path, "/memfd:", 7))
			continue;
		paths++;
		if (stat(path, &st))
			bad++;
	}
	fclose(f);
	printf("numa_maps: mapped paths are guest files: %s\n", paths && !bad ? "yes" : "no");
}

int main(void)
{
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);

	if (n < 0) {
		printf("exe: %s\n", errname(errno));
		return 1;
	}
	exe[n] = '\0';
	check("/proc/self/maps", exe);
	check("/proc/self/smaps", exe);
	check_numa();
	return 0;
}
