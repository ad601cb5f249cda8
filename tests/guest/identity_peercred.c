/* SO_PEERCRED names the peer in the guest's terms: its pid and its ids as
 * the guest sees them (0 under -0, 1234:5678 with --change-id), for a
 * socketpair, for the client of a listening socket, and (ids only) for the
 * accepted end; a short optlen truncates as Linux does. (The accepted
 * end's pid is the connecting process natively; kbox connects for the
 * guest, so it gives 0 there, as Linux does for a pid the caller cannot
 * see: not compared.) */
#include "common.h"
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

static void show(const char *label, int fd, pid_t want_pid)
{
	struct ucred uc;
	socklen_t len = sizeof(uc);

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &uc, &len) < 0) {
		printf("%s: %s\n", label, errname(errno));
		return;
	}
	printf("%s: len %u", label, (unsigned)len);
	if (want_pid >= 0)
		printf(" pid_ok %d", uc.pid == want_pid);
	printf(" uid %u gid %u\n", (unsigned)uc.uid, (unsigned)uc.gid);
}

static void pair(void)
{
	int sv[2];
	struct ucred uc = {0};
	socklen_t len = 4;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair");
	show("socketpair", sv[0], getpid());
	report("short_optlen", getsockopt(sv[0], SOL_SOCKET, SO_PEERCRED, &uc, &len));
	printf("short_optlen_len: %u pid_ok %d\n", (unsigned)len, uc.pid == getpid());
	report("not_a_socket", getsockopt(1 + sv[1] + 10, SOL_SOCKET, SO_PEERCRED, &uc, &len));
	close(sv[0]);
	close(sv[1]);
}

static void listener(void)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int l = socket(AF_UNIX, SOCK_STREAM, 0), c, status;
	pid_t parent = getpid();

	strcpy(sa.sun_path, "peer.sock");
	if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1))
		die("bind/listen");
	pid_t pid = fork();
	if (pid == 0) {
		int s = socket(AF_UNIX, SOCK_STREAM, 0);
		if (connect(s, (struct sockaddr *)&sa, sizeof(sa)))
			_exit(1);
		show("client_sees_listener", s, parent);
		_exit(0);
	}
	c = accept(l, NULL, NULL);
	waitpid(pid, &status, 0);
	show("accepted_sees_client", c, -1);
	close(c);
	close(l);
}

int main(void)
{
	printf("euid: %u egid: %u\n", (unsigned)geteuid(), (unsigned)getegid());
	pair();
	listener();
	return 0;
}
