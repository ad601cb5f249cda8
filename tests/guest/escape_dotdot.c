/* ".." chains stop at the guest root: in relative and absolute paths, via
 * chdir, and at "/.." itself. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

static void same_as_root(const char *label, const char *path)
{
	struct stat a, b;
	if (stat(path, &a) < 0 || stat("/", &b) < 0)
		printf("%s: %s\n", label, errname(errno));
	else
		printf("%s: %d\n", label, a.st_ino == b.st_ino && a.st_dev == b.st_dev);
}

int main(void)
{
	char path[1024] = "";
	char buf[128];

	for (int i = 0; i < 40; i++)
		strcat(path, "../");
	same_as_root("rel_chain", path);
	strcat(path, "etc/hostname");
	report("open_rel_chain", get_file(path, buf, sizeof(buf)) >= 0 ? 0 : -1);
	printf("hostname: %s", buf);
	same_as_root("abs_dotdot", "/..");
	same_as_root("abs_dotdot_chain", "/../../../../..");
	same_as_root("mixed", "/etc/../../etc/../..");
	report("abs_chain_file",
	       get_file("/../../../../etc/hostname", buf, sizeof(buf)) >= 0 ? 0 : -1);
	printf("hostname: %s", buf);
	print_listing("list_dotdot_chain", opendir("/../../../.."));

	for (int i = 0; i < 40; i++)
		chdir("..");
	same_as_root("cwd_after_chdirs", ".");
	if (getcwd(buf, sizeof(buf)))
		printf("getcwd: %s\n", buf);
	else
		printf("getcwd: %s\n", errname(errno));
	same_as_root("dot_dot_of_cwd", "..");
	print_listing("list_cwd", opendir("."));
	report("chdir_slash_dotdot", chdir("/.."));
	if (getcwd(buf, sizeof(buf)))
		printf("getcwd: %s\n", buf);
	return 0;
}
