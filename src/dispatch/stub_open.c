// SPDX-License-Identifier: MIT
/*
 * Opens forwarded by the stub (KBOX_STUB_OP_OPEN): O_PATH opens and
 * openat2. The kernel's SECCOMP_IOCTL_NOTIF_ADDFD cannot install an O_PATH
 * file, but SCM_RIGHTS can carry one; so the open runs through the normal
 * handler, and its fd travels to the stub inside a socketpair whose other
 * end kbox places in the guest.
 */
#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "dispatch.h"
#include "exec.h"

/* A socket whose queue already holds @fd; the caller's copy of @fd is consumed. */
static int carrier_for(int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = {0};
	int token = 0, sv[2];
	struct iovec iov = {&token, sizeof(token)};
	struct msghdr msg = {.msg_iov = &iov,
			     .msg_iovlen = 1,
			     .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);
	int err = 0;

	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0, sv)) {
		err = -errno;
		close(fd);
		return err;
	}
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	if (sendmsg(sv[0], &msg, 0) < 0)
		err = -errno;
	close(fd);
	close(sv[0]);
	if (err) {
		close(sv[1]);
		return err;
	}
	return sv[1];
}

struct kbox_result kbox_stub_open(struct kbox_request *req)
{
	struct kbox_request fwd = *req;
	struct kbox_result res;
	int carrier;

	fwd.nr = (int)req->args[1];
	memcpy(fwd.args, &req->args[2], 4 * sizeof(fwd.args[0]));
	fwd.args[4] = fwd.args[5] = 0;
	fwd.via_stub = true;
	switch (fwd.nr) {
	case SYS_open:
		res = sys_open(&fwd);
		break;
	case SYS_openat:
		res = sys_openat(&fwd);
		break;
	case SYS_openat2:
		res = sys_openat2(&fwd);
		break;
	default:
		return kbox_errno(EINVAL);
	}
	if (res.kind != KBOX_RES_FD)
		return res;
	carrier = carrier_for(res.fd);
	if (carrier < 0)
		return kbox_errno(-carrier);
	return kbox_res_fd(carrier, true);
}
