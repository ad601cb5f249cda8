/* chroot inside the guest (needs CAP_SYS_CHROOT: run as guest root), then
 * the classic double-chroot escape: chroot into a subdirectory without
 * chdir, walk ".." from the cwd left outside, chroot("."). On a host this
 * leaves a chroot; inside kbox (as inside a mount namespace whose root was
 * pivoted) it must end at the guest root. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

int main(void)
{
	char buf[128];
	struct stat root_before, st;

	stat("/", &root_before);
	mkdir("jail", 0755);
	mkdir("jail/inner", 0755);
	put_file("jail/marker", "jail\n");
	report("chroot_jail", chroot("jail"));
	print_listing("list_root_in_jail", opendir("/"));
	report("jail_marker_at_root", access("/marker", F_OK));

	/* A child sees the same root. */
	pid_t pid = fork();
	if (pid == 0) {
		_exit(access("/marker", F_OK) == 0 ? 0 : 1);
	}
	int status;
	waitpid(pid, &status, 0);
	printf("child_sees_jail: %d\n", WIFEXITED(status) && WEXITSTATUS(status) == 0);

	/* The cwd is still outside the jail: walk up from it. */
	for (int i = 0; i < 40; i++)
		chdir("..");
	report("chroot_dot", chroot("."));
	stat("/", &st);
	printf("back_at_guest_root: %d\n",
	       st.st_ino == root_before.st_ino && st.st_dev == root_before.st_dev);
	print_listing("list_root_after_escape", opendir("/"));
	if (get_file("/etc/hostname", buf, sizeof(buf)) >= 0)
		printf("hostname: %s", buf);
	else
		printf("hostname: %s\n", errname(errno));
	print_listing("list_dotdot_after_escape", opendir("/../../.."));

	report("chdir_root", chdir("/"));
	return 0;
}
