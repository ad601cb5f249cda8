/* Mount points in the guest's tree have their own st_dev: /proc and /dev
 * differ from / (run with -S, natively with the same mounts);
 * ".." of a mount point is the parent file system; a plain directory
 * shares /'s st_dev. */
#include "common.h"
#include <sys/stat.h>

static dev_t dev(const char *p)
{
	struct stat st;
	return stat(p, &st) == 0 ? st.st_dev : (dev_t)-1;
}

int main(void)
{
	dev_t root = dev("/");
	printf("proc_own_dev: %d\n", dev("/proc") != root && dev("/proc") != (dev_t)-1);
	printf("dev_own_dev: %d\n", dev("/dev") != root && dev("/dev") != (dev_t)-1);
	/* (not /tmp: kbox -S makes it a host directory, which on a directory
	 * root may well be on the root's own file system, as a bind would be) */
	printf("proc_dev_differ: %d\n", dev("/proc") != dev("/dev"));
	printf("proc_dotdot_is_root: %d\n", dev("/proc/..") == root);
	printf("bin_same_as_root: %d\n", dev("/bin") == root);
	printf("dot_same_as_root: %d\n", dev(".") == root);
	struct stat a, b;
	stat("/tmp", &a);
	stat("/tmp/.", &b);
	printf("tmp_dot_same: %d\n", a.st_dev == b.st_dev && a.st_ino == b.st_ino);
	return 0;
}
