// SPDX-License-Identifier: MIT
/*
 * The walker and the path operations against a temporary host tree:
 *
 *   root/  etc/passwd  usr/lib/libc.so  file  d/sub/  mnt/  ro/  jail/inner/x
 *          lib -> usr/lib   abs -> /usr/lib   escape -> ../../../..
 *          loop1 -> loop2 -> loop1   self -> self   dangling -> nowhere
 *          jail/up -> /   outside -> /../../..  (must stay inside)
 *   bind/  data  up -> ..        mounted at /mnt
 *   rodir/ f                     mounted read-only at /ro
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vfs/internal.h"
#include "vfs/vfs.h"

static char top[128];
static struct kbox_lookup_ctx ctx = {.root = "/", .base = "/"};

static void mk(const char *fmt, const char *rel, bool dir)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	if (dir) {
		cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s", p);
		return;
	}
	if (fmt) {
		cr_assert_eq(symlink(fmt, p), 0, "symlink %s", p);
		return;
	}
	fd = open(p, O_CREAT | O_WRONLY, 0644);
	cr_assert_geq(fd, 0);
	close(fd);
}

static void setup(void)
{
	static const char *dirs[] = {"root",	  "root/etc",	     "root/usr", "root/usr/lib",
				     "root/d",	  "root/d/sub",	     "root/mnt", "root/ro",
				     "root/jail", "root/jail/inner", "bind",	 "rodir"};
	static const char *files[] = {"root/etc/passwd", "root/usr/lib/libc.so",
				      "root/file",	 "root/jail/inner/x",
				      "bind/data",	 "rodir/f"};
	static const char *links[][2] = {{"usr/lib", "root/lib"},	 {"/usr/lib", "root/abs"},
					 {"../../../..", "root/escape"}, {"loop2", "root/loop1"},
					 {"loop1", "root/loop2"},	 {"self", "root/self"},
					 {"nowhere", "root/dangling"},	 {"/", "root/jail/up"},
					 {"/../../..", "root/outside"},	 {"..", "bind/up"}};
	char p[PATH_MAX];
	size_t i;

	snprintf(top, sizeof(top), "/tmp/kbox-namei-XXXXXX");
	cr_assert_not_null(mkdtemp(top));
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		mk(NULL, dirs[i], true);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		mk(NULL, files[i], false);
	for (i = 0; i < sizeof(links) / sizeof(links[0]); i++)
		mk(links[i][0], links[i][1], false);
	snprintf(p, sizeof(p), "%s/root", top);
	cr_assert_eq(kbox_vfs_mount("/", p, false), 0);
	snprintf(p, sizeof(p), "%s/bind", top);
	cr_assert_eq(kbox_vfs_mount("/mnt", p, false), 0);
	snprintf(p, sizeof(p), "%s/rodir", top);
	cr_assert_eq(kbox_vfs_mount("/ro/", p, true), 0);
}

static void teardown(void)
{
	char cmd[PATH_MAX + 16];

	kbox_vfs_fini();
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", top);
	cr_assert_eq(system(cmd), 0);
}

TestSuite(namei, .init = setup, .fini = teardown);

/* The inode a host path names, to compare with what the walker found. */
static ino_t host_ino(const char *rel)
{
	char p[PATH_MAX];
	struct stat st;

	snprintf(p, sizeof(p), "%s/%s", top, rel);
	cr_assert_eq(lstat(p, &st), 0, "lstat %s", p);
	return st.st_ino;
}

static ino_t guest_ino(const struct kbox_lookup_ctx *c, const char *path, unsigned flags)
{
	struct stat st;
	int r = kbox_vfs_stat(c, path, flags, &st);

	cr_assert_eq(r, 0, "stat %s: %d", path, r);
	return st.st_ino;
}

static void check_real(const struct kbox_lookup_ctx *c, const char *path, const char *want)
{
	char out[PATH_MAX];
	int r = kbox_vfs_realpath(c, path, KBOX_LOOKUP_FOLLOW, out, sizeof(out));

	cr_assert_geq(r, 0, "realpath %s: %d", path, r);
	cr_assert_str_eq(out, want, "realpath %s", path);
}

static int stat_err(const struct kbox_lookup_ctx *c, const char *path, unsigned flags)
{
	struct stat st;

	return kbox_vfs_stat(c, path, flags, &st);
}

Test(namei, parent_and_name)
{
	struct kbox_nameidata nd;

	cr_assert_eq(kbox_vfs_lookup_parent(&ctx, "/etc//passwd", 0, &nd), 0);
	cr_assert_str_eq(nd.name, "passwd");
	cr_assert_str_eq(nd.parent_guest, "/etc");
	cr_assert_eq(nd.last, KBOX_LAST_NORM);
	kbox_nameidata_release(&nd);
	cr_assert_eq(kbox_vfs_lookup_parent(&ctx, "/", 0, &nd), 0);
	cr_assert_str_eq(nd.name, ".");
	cr_assert_eq(nd.last, KBOX_LAST_ROOT);
	kbox_nameidata_release(&nd);
}

Test(namei, relative_symlinks_are_followed)
{
	cr_assert_eq(guest_ino(&ctx, "/lib/libc.so", 0), host_ino("root/usr/lib/libc.so"));
	cr_assert_eq(guest_ino(&ctx, "/lib", KBOX_LOOKUP_FOLLOW), host_ino("root/usr/lib"));
	cr_assert_eq(guest_ino(&ctx, "/lib", 0), host_ino("root/lib"));
	check_real(&ctx, "/lib", "/usr/lib");
}

Test(namei, absolute_symlinks_restart_at_guest_root)
{
	cr_assert_eq(guest_ino(&ctx, "/abs/libc.so", 0), host_ino("root/usr/lib/libc.so"));
	check_real(&ctx, "/abs/", "/usr/lib");
}

Test(namei, dotdot_cannot_leave_the_root)
{
	cr_assert_eq(guest_ino(&ctx, "/../../etc/passwd", 0), host_ino("root/etc/passwd"));
	cr_assert_eq(guest_ino(&ctx, "/escape/etc/passwd", 0), host_ino("root/etc/passwd"));
	cr_assert_eq(guest_ino(&ctx, "/outside/etc/passwd", 0), host_ino("root/etc/passwd"));
	cr_assert_eq(guest_ino(&ctx, "/usr/../../../etc/passwd", 0), host_ino("root/etc/passwd"));
	check_real(&ctx, "/escape", "/");
	check_real(&ctx, "..", "/");
}

Test(namei, loops_give_eloop)
{
	cr_assert_eq(stat_err(&ctx, "/loop1", KBOX_LOOKUP_FOLLOW), -ELOOP);
	cr_assert_eq(stat_err(&ctx, "/self", KBOX_LOOKUP_FOLLOW), -ELOOP);
	cr_assert_eq(stat_err(&ctx, "/self/x", 0), -ELOOP);
	cr_assert_eq(stat_err(&ctx, "/loop1", 0), 0);
}

Test(namei, errors_as_linux)
{
	char big[NAME_MAX + 8];

	cr_assert_eq(stat_err(&ctx, "/file/x", 0), -ENOTDIR);
	cr_assert_eq(stat_err(&ctx, "/file/", 0), -ENOTDIR);
	cr_assert_eq(stat_err(&ctx, "/missing/x", 0), -ENOENT);
	cr_assert_eq(stat_err(&ctx, "/missing", 0), -ENOENT);
	cr_assert_eq(stat_err(&ctx, "", 0), -ENOENT);
	cr_assert_eq(stat_err(&ctx, "/dangling", KBOX_LOOKUP_FOLLOW), -ENOENT);
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	cr_assert_eq(stat_err(&ctx, big, 0), -ENAMETOOLONG);
}

Test(namei, trailing_slash_follows_and_wants_a_directory)
{
	struct stat st;

	cr_assert_eq(kbox_vfs_stat(&ctx, "/lib/", 0, &st), 0);
	cr_assert(S_ISDIR(st.st_mode));
	cr_assert_eq(stat_err(&ctx, "/dangling/", 0), -ENOENT);
}

Test(namei, mounts_are_crossed_both_ways)
{
	struct kbox_nameidata nd;

	cr_assert_eq(guest_ino(&ctx, "/mnt/data", 0), host_ino("bind/data"));
	cr_assert_eq(guest_ino(&ctx, "/mnt", 0), host_ino("bind"));
	cr_assert_eq(guest_ino(&ctx, "/mnt/../etc/passwd", 0), host_ino("root/etc/passwd"));
	cr_assert_eq(guest_ino(&ctx, "/mnt/up/etc/passwd", 0), host_ino("root/etc/passwd"));
	check_real(&ctx, "/mnt/up", "/");
	cr_assert_eq(kbox_vfs_lookup_parent(&ctx, "/mnt", 0, &nd), 0);
	cr_assert_eq(nd.last, KBOX_LAST_ROOT);
	cr_assert_str_eq(nd.mnt->guest, "/mnt");
	kbox_nameidata_release(&nd);
}

Test(namei, relative_paths_use_the_base)
{
	struct kbox_lookup_ctx c = {.root = "/", .base = "/usr"};

	cr_assert_eq(guest_ino(&c, "lib/libc.so", 0), host_ino("root/usr/lib/libc.so"));
	cr_assert_eq(guest_ino(&c, "../etc/passwd", 0), host_ino("root/etc/passwd"));
	cr_assert_eq(guest_ino(&c, "", KBOX_LOOKUP_EMPTY), host_ino("root/usr"));
	check_real(&c, ".", "/usr");
	c.base = "/mnt";
	cr_assert_eq(guest_ino(&c, "data", 0), host_ino("bind/data"));
	check_real(&c, "..", "/");
}

Test(namei, chroot_confines_dotdot_and_absolute_links)
{
	struct kbox_lookup_ctx c = {.root = "/jail", .base = "/jail"};

	cr_assert_eq(guest_ino(&c, "/inner/x", 0), host_ino("root/jail/inner/x"));
	cr_assert_eq(guest_ino(&c, "/../../inner/x", 0), host_ino("root/jail/inner/x"));
	cr_assert_eq(guest_ino(&c, "/up/up/inner/x", 0), host_ino("root/jail/inner/x"));
	cr_assert_eq(stat_err(&c, "/etc/passwd", 0), -ENOENT);
	check_real(&c, "/inner/../..", "/jail");
}

Test(namei, resolve_flags)
{
	struct kbox_lookup_ctx c = {.root = "/", .base = "/usr"};

	cr_assert_eq(stat_err(&ctx, "/lib/libc.so", KBOX_LOOKUP_NO_SYMLINKS), -ELOOP);
	cr_assert_eq(stat_err(&c, "../etc", KBOX_LOOKUP_BENEATH), -EXDEV);
	cr_assert_eq(stat_err(&c, "/etc", KBOX_LOOKUP_BENEATH), -EXDEV);
	cr_assert_eq(stat_err(&c, "lib/../lib", KBOX_LOOKUP_BENEATH), 0);
	cr_assert_eq(stat_err(&ctx, "/mnt/data", KBOX_LOOKUP_NO_XDEV), -EXDEV);
}

Test(namei, guest_path_of_fd)
{
	char out[PATH_MAX];
	int fd = kbox_vfs_open(&ctx, "/mnt/data", O_RDONLY, 0, NULL);

	cr_assert_geq(fd, 0);
	cr_assert_eq(kbox_vfs_guest_path_of_fd(fd, out, sizeof(out)), 9);
	cr_assert_str_eq(out, "/mnt/data");
	close(fd);
	fd = kbox_vfs_open(&ctx, "/abs", O_RDONLY | O_DIRECTORY, 0, NULL);
	cr_assert_geq(fd, 0);
	cr_assert_geq(kbox_vfs_guest_path_of_fd(fd, out, sizeof(out)), 0);
	cr_assert_str_eq(out, "/usr/lib");
	close(fd);
}

Test(namei, path_prefix)
{
	cr_assert(kbox_path_has_prefix("/mnt/x", 6, "/mnt", 4));
	cr_assert(kbox_path_has_prefix("/mnt", 4, "/mnt", 4));
	cr_assert(!kbox_path_has_prefix("/mntx", 5, "/mnt", 4));
	cr_assert(kbox_path_has_prefix("/a", 2, "/", 1));
}
