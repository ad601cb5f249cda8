/* /proc links are no way out. A host process of the same user outside the
 * guest (pid argv[1]) has no /proc directory: its cwd, root, exe and fd/
 * cannot be read or walked. The guest's own links (self, a child's, a
 * directory fd's fd/N) lead to guest paths only: walking up from them
 * stops at the guest root, and the host file argv[2] is not below them. */
#include "common.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>

static int same_as_root(const char *path)
{
	struct stat a, b;

	if (stat(path, &a) < 0)
		return -errno;
	if (stat("/", &b) < 0)
		return -errno;
	return a.st_ino == b.st_ino && a.st_dev == b.st_dev;
}

static void show_root(const char *label, const char *path)
{
	int r = same_as_root(path);

	if (r < 0)
		printf("%s: %s\n", label, errname(-r));
	else
		printf("%s: %d\n", label, r);
}

static void show_link(const char *label, const char *path)
{
	char buf[4096];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);

	if (n < 0) {
		printf("%s: %s\n", label, errname(errno));
		return;
	}
	buf[n] = 0;
	printf("%s: %s\n", label, buf);
}

/* Every way into a host process's /proc directory. */
static void host_process(const char *pid, const char *host_file)
{
	static const char *const leaves[][2] = {
		{"", "dir"},	       {"/cwd", "cwd"},	  {"/root", "root"},
		{"/exe", "exe"},       {"/fd", "fd"},	  {"/environ", "environ"},
		{"/cwd/.", "cwd_dot"}, {"/task", "task"}, {"/root/etc/passwd", "root_passwd"},
	};
	char path[4096], label[64];
	struct stat st;

	for (size_t i = 0; i < sizeof(leaves) / sizeof(leaves[0]); i++) {
		snprintf(path, sizeof(path), "/proc/%s%s", pid, leaves[i][0]);
		snprintf(label, sizeof(label), "host_pid_%s_stat", leaves[i][1]);
		report(label, stat(path, &st));
	}
	snprintf(path, sizeof(path), "/proc/%s/root", pid);
	show_link("host_pid_root_readlink", path);
	snprintf(path, sizeof(path), "/proc/%s/cwd", pid);
	show_link("host_pid_cwd_readlink", path);
	snprintf(path, sizeof(path), "/proc/%s/root%s", pid, host_file);
	report("host_pid_root_host_file", open(path, O_RDONLY));
	snprintf(path, sizeof(path), "/proc/%s/task/%s/root", pid, pid);
	report("host_pid_task_root", open(path, O_RDONLY | O_DIRECTORY));
}

/* The guest's own links: guest paths, and walking up stops at the root. */
static void own_links(const char *host_file)
{
	char path[4096], cwd[4096];
	int dfd = open("/", O_RDONLY | O_DIRECTORY), pfd = open(".", O_PATH | O_DIRECTORY);

	show_link("self_root", "/proc/self/root");
	show_root("self_root_dotdot", "/proc/self/root/../../..");
	show_root("self_cwd_up", "/proc/self/cwd/../../../../../../..");
	show_root("thread_self_root", "/proc/thread-self/root/..");
	snprintf(path, sizeof(path), "/proc/self/root%s", host_file);
	report("self_root_host_file", open(path, O_RDONLY));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", dfd);
	show_link("dirfd_link", path);
	snprintf(path, sizeof(path), "/proc/self/fd/%d/../../..", dfd);
	show_root("dirfd_link_up", path);
	print_listing("dirfd_link_up_list", opendir(path));
	snprintf(path, sizeof(path), "/proc/self/fd/%d/../../../..%s", pfd, host_file);
	report("opath_fd_link_host_file", open(path, O_RDONLY));
	snprintf(path, sizeof(path), "/proc/self/fd/%d/../../../../../..", pfd);
	show_root("opath_fd_link_up", path);
	if (!getcwd(cwd, sizeof(cwd)))
		die("getcwd");
	snprintf(path, sizeof(path), "/proc/self/fd/%d", pfd);
	char buf[4096];
	ssize_t n = readlink(path, buf, sizeof(buf) - 1);
	buf[n > 0 ? n : 0] = 0;
	printf("opath_fd_link_is_cwd: %d\n", strcmp(buf, cwd) == 0);
	close(dfd);
	close(pfd);
}

/* A guest child's links, seen from its parent. */
static void child_links(void)
{
	int go[2], ready[2];
	char path[64], c;

	if (pipe(go) || pipe(ready))
		die("pipe");
	pid_t pid = fork();
	if (pid == 0) {
		if (chdir("/etc"))
			_exit(1);
		write(ready[1], "r", 1);
		read(go[0], &c, 1);
		_exit(0);
	}
	read(ready[0], &c, 1);
	snprintf(path, sizeof(path), "/proc/%d/cwd", (int)pid);
	show_link("child_cwd", path);
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	show_link("child_root", path);
	snprintf(path, sizeof(path), "/proc/%d/root/..", (int)pid);
	show_root("child_root_dotdot", path);
	write(go[1], "x", 1);
	waitpid(pid, NULL, 0);
}

int main(int argc, char **argv)
{
	if (argc < 3) {
		printf("usage: %s HOST_PID HOST_FILE\n", argv[0]);
		return 2;
	}
	host_process(argv[1], argv[2]);
	own_links(argv[2]);
	child_links();
	return 0;
}
