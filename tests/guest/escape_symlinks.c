/* Symlinks cannot lead out of the root: a link to "/", absolute links,
 * relative links with more ".." than there are levels, and link chains all
 * end inside the guest root, as in a chroot. The guest root's /etc/hostname
 * says "kbox"; the host's does not. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>

static void show(const char *label, const char *path)
{
	char buf[128];
	if (get_file(path, buf, sizeof(buf)) < 0)
		printf("%s: %s\n", label, errname(errno));
	else
		printf("%s: %s", label, buf);
}

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
	symlink("/", "root");
	symlink("/../../../../../..", "dotdot_abs");
	symlink("../../../../../../../../../../../../../../../..", "dotdot_rel");
	symlink("/etc/hostname", "abs_file");
	symlink("/etc", "abs_dir");
	symlink("root/../../..", "chain");
	mkdir("sub", 0755);
	symlink("../root/..", "sub/up");

	print_listing("list_root_link", opendir("root"));
	same_as_root("root_link_is_root", "root");
	same_as_root("root_link_dotdot", "root/..");
	same_as_root("dotdot_abs", "dotdot_abs");
	same_as_root("dotdot_rel", "dotdot_rel");
	same_as_root("chain", "chain");
	same_as_root("sub_up", "sub/up");
	same_as_root("sub_up_more", "sub/up/../..");
	show("hostname_via_root", "root/etc/hostname");
	show("hostname_via_dotdot", "dotdot_rel/etc/hostname");
	show("hostname_abs_file", "abs_file");
	show("hostname_abs_dir", "abs_dir/hostname");
	print_listing("list_abs_dir", opendir("abs_dir"));
	print_listing("list_dotdot_rel", opendir("dotdot_rel"));

	/* Creating through a link to "/" creates inside the guest root. */
	report("create_via_root_link",
	       close(open("root/tmp/escape-marker", O_WRONLY | O_CREAT, 0644)));
	report("marker_in_guest_tmp", access("/tmp/escape-marker", F_OK));
	unlink("/tmp/escape-marker");

	/* A link to the root followed by chdir, then a walk up. */
	report("chdir_root_link", chdir("root/../.."));
	same_as_root("cwd_is_root", ".");
	print_listing("list_cwd", opendir("."));
	return 0;
}
