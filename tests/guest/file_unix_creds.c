/* Explicit SCM_CREDENTIALS on a datagram sent to a socket path: the
 * sender's own pid and ids are accepted, another pid is EPERM for a
 * non-root sender (root may claim any, as CAP_SYS_ADMIN may), and the
 * receiver gets a credential message. */
#include "common.h"
#include <sys/socket.h>
#include <sys/un.h>

static long send_creds(int s, const struct sockaddr_un *to, pid_t pid)
{
	union {
		char buf[CMSG_SPACE(sizeof(struct ucred))];
		struct cmsghdr align;
	} u;
	struct ucred cred = {.pid = pid, .uid = getuid(), .gid = getgid()};
	struct iovec iov = {.iov_base = "x", .iov_len = 1};
	struct msghdr m = {.msg_name = (void *)to,
			   .msg_namelen = sizeof(*to),
			   .msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = u.buf,
			   .msg_controllen = sizeof(u.buf)};
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_CREDENTIALS;
	c->cmsg_len = CMSG_LEN(sizeof(cred));
	memcpy(CMSG_DATA(c), &cred, sizeof(cred));
	return sendmsg(s, &m, 0);
}

int main(void)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	int on = 1, r = socket(AF_UNIX, SOCK_DGRAM, 0), s = socket(AF_UNIX, SOCK_DGRAM, 0);
	char data[8], cbuf[CMSG_SPACE(sizeof(struct ucred))];
	struct iovec iov = {.iov_base = data, .iov_len = sizeof(data)};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};

	snprintf(addr.sun_path, sizeof(addr.sun_path), "creds.sock");
	unlink(addr.sun_path);
	if (r < 0 || s < 0 || bind(r, (struct sockaddr *)&addr, sizeof(addr)))
		die("socket");
	setsockopt(r, SOL_SOCKET, SO_PASSCRED, &on, sizeof(on));
	report("send_own_creds", send_creds(s, &addr, getpid()));
	if (recvmsg(r, &m, 0) == 1) {
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);

		printf("got_credentials: %s\n",
		       c && c->cmsg_type == SCM_CREDENTIALS ? "yes" : "no");
	}
	if (getuid() != 0)
		report("send_other_pid", send_creds(s, &addr, 1));
	unlink(addr.sun_path);
	return 0;
}
