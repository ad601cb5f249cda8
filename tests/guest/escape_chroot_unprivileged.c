/* Without CAP_SYS_CHROOT, chroot fails with EPERM and changes nothing. */
#include "common.h"
#include <sys/stat.h>

int main(void)
{
	struct stat a, b;
	mkdir("jail", 0755);
	stat("/", &a);
	report("chroot_unprivileged", chroot("jail"));
	report("chroot_missing", chroot("missing"));
	stat("/", &b);
	printf("root_unchanged: %d\n", a.st_ino == b.st_ino && a.st_dev == b.st_dev);
	return 0;
}
