/* Host paths outside the root do not exist for the guest: a file
 * (argv[1]) and a listening AF_UNIX socket (argv[2]) that the harness made
 * outside the root, reached directly, through symlinks, and by connect. A
 * socket made inside the root works. */
#include "common.h"
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>

static int unix_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	int rc = connect(s, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	close(s);
	errno = e;
	return rc;
}

int main(int argc, char **argv)
{
	struct stat st;
	if (argc < 3) {
		printf("usage: %s HOST_FILE HOST_SOCKET\n", argv[0]);
		return 2;
	}
	const char *file = argv[1], *sock = argv[2];

	report("open_host_file", open(file, O_RDONLY));
	report("stat_host_file", stat(file, &st));
	report("access_host_file", access(file, F_OK));
	symlink(file, "link_to_host_file");
	report("open_via_symlink", open("link_to_host_file", O_RDONLY));
	report("connect_host_socket", unix_connect(sock));
	symlink(sock, "link_to_host_socket");
	report("connect_via_symlink", unix_connect("link_to_host_socket"));
	char up[1024] = "";
	for (int i = 0; i < 8; i++) /* sun_path holds 108 bytes */
		strcat(up, "../");
	strcat(up, sock + 1);
	report("connect_via_dotdot", unix_connect(up));

	/* A socket inside the root works, by relative and by symlinked path. */
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, "inside.sock");
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	report("bind_inside", bind(s, (struct sockaddr *)&sa, sizeof(sa)));
	report("listen", listen(s, 4));
	report("socket_file_exists", stat("inside.sock", &st));
	printf("is_socket: %d\n", S_ISSOCK(st.st_mode));
	report("bind_again_eaddrinuse", (close(socket(AF_UNIX, SOCK_STREAM, 0)), ({
						 int s2 = socket(AF_UNIX, SOCK_STREAM, 0);
						 int rc = bind(s2, (struct sockaddr *)&sa,
							       sizeof(sa));
						 int e = errno;
						 close(s2);
						 errno = e;
						 rc;
					 })));
	symlink("inside.sock", "link_inside");
	pid_t pid = fork();
	if (pid == 0) {
		int rc1 = unix_connect("inside.sock");
		int rc2 = unix_connect("link_inside");
		_exit(rc1 == 0 && rc2 == 0 ? 0 : 1);
	}
	for (int i = 0; i < 2; i++)
		close(accept(s, NULL, NULL));
	int status;
	waitpid(pid, &status, 0);
	printf("connect_inside: %s\n",
	       WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "failed");
	close(s);
	return 0;
}
