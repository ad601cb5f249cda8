/* AF_UNIX sockets: a path socket in the guest's cwd, abstract stream and
 * datagram sockets, and sendmsg with SCM_RIGHTS over a socketpair. */
#include "common.h"
#include <fcntl.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

static socklen_t addr(struct sockaddr_un *sa, const char *name, int abstract)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (abstract) {
		snprintf(sa->sun_path + 1, sizeof(sa->sun_path) - 1, "%s-%d", name, (int)getpid());
		return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 +
				   strlen(sa->sun_path + 1));
	}
	snprintf(sa->sun_path, sizeof(sa->sun_path), "%s", name);
	return (socklen_t)sizeof(*sa);
}

static void stream(const char *label, const char *name, int abstract)
{
	struct sockaddr_un sa;
	socklen_t len = addr(&sa, name, abstract);
	int s = socket(AF_UNIX, SOCK_STREAM, 0), c = socket(AF_UNIX, SOCK_STREAM, 0), a;
	char buf[16] = "";

	if (bind(s, (struct sockaddr *)&sa, len) || listen(s, 1)) {
		printf("%s: bind %s\n", label, errname(errno));
		return;
	}
	if (connect(c, (struct sockaddr *)&sa, len)) {
		printf("%s: connect %s\n", label, errname(errno));
		return;
	}
	a = accept(s, NULL, NULL);
	if (write(c, "ping", 4) != 4 || read(a, buf, sizeof(buf) - 1) != 4)
		printf("%s: transfer failed\n", label);
	else
		printf("%s: %s\n", label, buf);
	close(a);
	close(c);
	close(s);
}

static void dgram_abstract(void)
{
	struct sockaddr_un sa;
	socklen_t len = addr(&sa, "kbox-guest-dgram", 1);
	int r = socket(AF_UNIX, SOCK_DGRAM, 0), w = socket(AF_UNIX, SOCK_DGRAM, 0);
	char buf[16] = "";

	bind(r, (struct sockaddr *)&sa, len);
	if (sendto(w, "dgram", 5, 0, (struct sockaddr *)&sa, len) != 5)
		printf("dgram abstract: sendto %s\n", errname(errno));
	else if (recv(r, buf, sizeof(buf) - 1, 0) != 5)
		printf("dgram abstract: recv failed\n");
	else
		printf("dgram abstract: %s\n", buf);
	close(r);
	close(w);
}

static void pass_fd(void)
{
	int sv[2], fd = open("passed.txt", O_RDWR | O_CREAT | O_TRUNC, 0644), got = -1;
	char cbuf[CMSG_SPACE(sizeof(int))] = {0}, data = 'x', text[16] = "";
	struct iovec iov = {&data, 1};
	struct msghdr m = {.msg_iov = &iov,
			   .msg_iovlen = 1,
			   .msg_control = cbuf,
			   .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&m);

	write(fd, "via fd", 6);
	socketpair(AF_UNIX, SOCK_STREAM, 0, sv);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sv[0], &m, 0) != 1) {
		printf("scm_rights: sendmsg %s\n", errname(errno));
		return;
	}
	memset(cbuf, 0, sizeof(cbuf));
	if (recvmsg(sv[1], &m, 0) == 1 && (cm = CMSG_FIRSTHDR(&m)))
		memcpy(&got, CMSG_DATA(cm), sizeof(int));
	if (got >= 0 && pread(got, text, 6, 0) == 6)
		printf("scm_rights: %s\n", text);
	else
		printf("scm_rights: failed\n");
	unlink("passed.txt");
}

int main(void)
{
	stream("stream path", "sock", 0);
	unlink("sock");
	stream("stream abstract", "kbox-guest-stream", 1);
	dgram_abstract();
	pass_fd();
	return 0;
}
