/* Abstract AF_UNIX sockets of host processes are out of reach: a host
 * process listens on the abstract names argv[1] (stream) and argv[1].dgram
 * (datagram); connecting or sending to them fails as if nobody had bound
 * them (natively: a network namespace of the guest's own). Abstract
 * sockets between guest processes work. */
#include "common.h"
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>

/* An abstract address for @name (no trailing NUL, as most programs do). */
static socklen_t abstract_addr(struct sockaddr_un *sa, const char *name, const char *suffix)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "%s%s", name, suffix);
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(sa->sun_path + 1));
}

static int try_connect(int type, const char *name, const char *suffix)
{
	struct sockaddr_un sa;
	socklen_t len = abstract_addr(&sa, name, suffix);
	int s = socket(AF_UNIX, type, 0);
	int rc = connect(s, (struct sockaddr *)&sa, len);
	int e = errno;

	close(s);
	errno = e;
	return rc;
}

static long try_sendto(const char *name, const char *suffix)
{
	struct sockaddr_un sa;
	socklen_t len = abstract_addr(&sa, name, suffix);
	int s = socket(AF_UNIX, SOCK_DGRAM, 0);
	long rc = sendto(s, "x", 1, 0, (struct sockaddr *)&sa, len);
	int e = errno;

	close(s);
	errno = e;
	return rc;
}

/* A guest listener on an abstract name; a guest child connects and sends. */
static void inside(const char *name)
{
	struct sockaddr_un sa;
	socklen_t len = abstract_addr(&sa, name, ".inside");
	int l = socket(AF_UNIX, SOCK_STREAM, 0), d = socket(AF_UNIX, SOCK_DGRAM, 0), status;
	char c = 0;

	report("bind_inside", bind(l, (struct sockaddr *)&sa, len));
	report("listen_inside", listen(l, 4));
	len = abstract_addr(&sa, name, ".inside.dgram");
	report("bind_inside_dgram", bind(d, (struct sockaddr *)&sa, len));
	pid_t pid = fork();
	if (pid == 0) {
		int rc1 = try_connect(SOCK_STREAM, name, ".inside");
		long rc2 = try_sendto(name, ".inside.dgram");
		_exit(rc1 == 0 && rc2 == 1 ? 0 : 1);
	}
	close(accept(l, NULL, NULL));
	report("recv_inside_dgram", recv(d, &c, 1, 0));
	waitpid(pid, &status, 0);
	printf("connect_and_send_inside: %s\n",
	       WIFEXITED(status) && WEXITSTATUS(status) == 0 ? "ok" : "failed");
	close(l);
	close(d);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		printf("usage: %s ABSTRACT_NAME\n", argv[0]);
		return 2;
	}
	report("connect_host_stream", try_connect(SOCK_STREAM, argv[1], ""));
	report("connect_host_dgram", try_connect(SOCK_DGRAM, argv[1], ".dgram"));
	report("sendto_host_dgram", try_sendto(argv[1], ".dgram"));
	inside(argv[1]);
	return 0;
}
