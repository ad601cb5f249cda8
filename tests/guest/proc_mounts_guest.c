/* The mount tables in /proc are the guest's: every mount point is a
 * directory of the guest, / and /proc (type proc) are there, mountinfo has
 * Linux's shape, and mounts, mountinfo and /proc/mounts list the same
 * mount points in the same order. @ARGV[1]: a host path outside the guest
 * root (its directory must not show up as a mount point or source). */
#include "common.h"
#include <sys/stat.h>

#define MAX_MOUNTS 256

struct table {
	int n;
	char point[MAX_MOUNTS][256];
	char type[MAX_MOUNTS][64];
	char source[MAX_MOUNTS][256];
};

/* Undo Linux's octal escapes (\040 for a space). */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '7' && s[2] && s[3]) {
			*o++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

/* mountinfo: "id parent maj:min root point opts [optional...] - type source superopts". */
static int read_mountinfo(const char *path, struct table *t, int *shape_ok)
{
	char line[4096], point[256], type[64], source[256];
	unsigned maj, min;
	int id, parent;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	t->n = 0;
	*shape_ok = 1;
	while (fgets(line, sizeof(line), f) && t->n < MAX_MOUNTS) {
		const char *sep = strstr(line, " - ");

		if (sscanf(line, "%d %d %u:%u %*s %255s", &id, &parent, &maj, &min, point) != 5 ||
		    !sep || sscanf(sep + 3, "%63s %255s", type, source) != 2) {
			*shape_ok = 0;
			continue;
		}
		unescape(point);
		unescape(source);
		snprintf(t->point[t->n], 256, "%s", point);
		snprintf(t->type[t->n], 64, "%s", type);
		snprintf(t->source[t->n++], 256, "%s", source);
	}
	fclose(f);
	return 0;
}

/* mounts: "source point type opts 0 0". */
static int read_mounts(const char *path, struct table *t)
{
	char line[4096], point[256], type[64], source[256];
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	t->n = 0;
	while (fgets(line, sizeof(line), f) && t->n < MAX_MOUNTS) {
		if (sscanf(line, "%255s %255s %63s", source, point, type) != 3)
			continue;
		unescape(point);
		snprintf(t->point[t->n], 256, "%s", point);
		snprintf(t->type[t->n++], 64, "%s", type);
	}
	fclose(f);
	return 0;
}

static const char *same_points(const struct table *a, const struct table *b)
{
	if (a->n != b->n)
		return "no";
	for (int i = 0; i < a->n; i++)
		if (strcmp(a->point[i], b->point[i]))
			return "no";
	return "yes";
}

static const char *mounted(const struct table *t, const char *point, const char *type)
{
	for (int i = 0; i < t->n; i++)
		if (!strcmp(t->point[i], point) && (!type || !strcmp(t->type[i], type)))
			return "yes";
	return "no";
}

/* (a file can be a mount point: bwrap's --dev binds /dev/null and others) */
static const char *all_exist(const struct table *t)
{
	struct stat st;

	for (int i = 0; i < t->n; i++)
		if (stat(t->point[i], &st))
			return "no";
	return "yes";
}

/* No mount point or source lies in the host directory @outside. */
static const char *none_outside(const struct table *t, const char *outside)
{
	for (int i = 0; outside[0] && i < t->n; i++)
		if (strstr(t->point[i], outside) || strstr(t->source[i], outside))
			return "no";
	return "yes";
}

int main(int argc, char **argv)
{
	static struct table info, mounts, proc_mounts;
	char outside[4096] = "";
	int shape;

	if (argc > 1) {
		snprintf(outside, sizeof(outside), "%s", argv[1]);
		*strrchr(outside, '/') = '\0';
	}
	if (read_mountinfo("/proc/self/mountinfo", &info, &shape) < 0) {
		printf("mountinfo: %s\n", errname(errno));
		return 1;
	}
	printf("mountinfo shape: %s\n", shape && info.n ? "ok" : "bad");
	printf("root mounted: %s\n", mounted(&info, "/", NULL));
	printf("proc mounted: %s\n", mounted(&info, "/proc", "proc"));
	printf("tmp mounted: %s\n", mounted(&info, "/tmp", NULL));
	printf("mount points exist in the guest: %s\n", all_exist(&info));
	printf("nothing from outside the root: %s\n", none_outside(&info, outside));
	if (read_mounts("/proc/self/mounts", &mounts) < 0 ||
	    read_mounts("/proc/mounts", &proc_mounts) < 0) {
		printf("mounts: %s\n", errname(errno));
		return 1;
	}
	printf("mounts lists the same points: %s\n", same_points(&info, &mounts));
	printf("/proc/mounts lists the same points: %s\n", same_points(&info, &proc_mounts));
	char path[64];
	snprintf(path, sizeof(path), "/proc/%d/mountinfo", (int)getpid());
	static struct table by_pid;
	read_mountinfo(path, &by_pid, &shape);
	printf("/proc/<pid>/mountinfo the same: %s\n", same_points(&info, &by_pid));
	return 0;
}
