/* statfs and fstatfs of a file and a directory of the root's file system
 * agree with each other (type, block size, block counts, name length), and
 * the figures are sane. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/statvfs.h>

static void show(const char *label, int rc, const struct statfs *s)
{
	if (rc != 0) {
		printf("%s: %s\n", label, errname(errno));
		return;
	}
	printf("%s: type %#lx bsize %ld namelen %ld sane %d\n", label, (unsigned long)s->f_type,
	       (long)s->f_bsize, (long)s->f_namelen,
	       s->f_blocks > 0 && s->f_bfree <= s->f_blocks && s->f_bavail <= s->f_bfree &&
		       s->f_files > 0 && s->f_ffree <= s->f_files);
}

static int same(const struct statfs *a, const struct statfs *b)
{
	return a->f_type == b->f_type && a->f_bsize == b->f_bsize && a->f_blocks == b->f_blocks &&
	       a->f_files == b->f_files && a->f_namelen == b->f_namelen &&
	       a->f_fsid.__val[0] == b->f_fsid.__val[0] && a->f_fsid.__val[1] == b->f_fsid.__val[1];
}

int main(void)
{
	struct statfs p, fdir, ffile, root;
	struct statvfs v;

	put_file("f", "statfs\n");
	show("statfs_dot", statfs(".", &p), &p);
	int d = open(".", O_RDONLY | O_DIRECTORY);
	show("fstatfs_dir", fstatfs(d, &fdir), &fdir);
	int fd = open("f", O_RDONLY);
	show("fstatfs_file", fstatfs(fd, &ffile), &ffile);
	int w = open("f", O_RDWR | O_APPEND);
	struct statfs fw;
	fstatfs(w, &fw);
	printf("fd_agrees_with_path: dir %d file %d written %d\n", same(&p, &fdir),
	       same(&p, &ffile), same(&p, &fw));
	show("statfs_root", statfs("/", &root), &root);
	printf("root_same_fs: %d\n", same(&p, &root));
	report("statvfs", statvfs("f", &v));
	printf("statvfs_agrees: %d rdonly %d\n",
	       v.f_blocks == (fsblkcnt_t)p.f_blocks && v.f_namemax == (unsigned long)p.f_namelen,
	       !!(v.f_flag & ST_RDONLY));
	report("statfs_missing", statfs("nope", &p));
	report("fstatfs_ebadf", fstatfs(1000, &p));
	/* free space follows a write of 1 MiB and fsync */
	struct statfs before, after;
	fstatfs(w, &before);
	static char mb[1 << 20];
	memset(mb, 1, sizeof(mb));
	int big = open("big", O_WRONLY | O_CREAT, 0644);
	write(big, mb, sizeof(mb));
	fsync(big);
	fstatfs(big, &after);
	printf("bfree_dropped: %d\n", after.f_bfree < before.f_bfree);
	close(big);
	close(w);
	close(fd);
	close(d);
	return 0;
}
