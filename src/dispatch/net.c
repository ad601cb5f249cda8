// SPDX-License-Identifier: MIT
/*
 * AF_UNIX path addresses: bind, connect, sendto, sendmsg. A socket path is
 * a guest path, so kbox resolves it and acts on a copy of the guest's
 * socket (same open file). Other families go to the host untouched: the
 * host reads the address again, but a socket of another family refuses an
 * AF_UNIX address. An AF_UNIX socket never goes to the host with an address
 * in guest memory, abstract or none: another guest thread could turn it
 * into a host path before the host reads it. kbox acts on its copy instead.
 *
 * Sending never blocks the supervisor: the first attempt is MSG_DONTWAIT;
 * if that would block a blocking guest socket, the send is finished on a
 * short-lived thread. connect on a full listen backlog can still block
 * (known gap).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "../intercept/landlock.h"
#include "fs_priv.h"

#define SEND_MAX    (8u << 20) /* more than any AF_UNIX send the host would take at once */
#define CONTROL_MAX 65536
#define OVERFLOW_ID 65534 /* /proc/sys/kernel/overflowuid: an id with no mapping */
#ifndef SCM_MAX_FD
#define SCM_MAX_FD 253
#endif

/*
 * 1 and p->path set for an AF_UNIX path address, 0 for anything the host
 * should see as is, or -errno (move_addr_to_kernel(): EINVAL, EFAULT).
 */
static int unix_path(struct kbox_request *req, uint64_t addr, int64_t len, struct fs_path *p)
{
	struct sockaddr_un sun;
	size_t n, plen;
	int r;

	if (len < 0 || len > (int64_t)sizeof(struct sockaddr_storage))
		return -EINVAL;
	if (len <= (int64_t)offsetof(struct sockaddr_un, sun_path))
		return 0;
	n = (size_t)len < sizeof(sun) ? (size_t)len : sizeof(sun);
	r = kbox_read_guest(req, addr, &sun, n);
	if (r < 0)
		return r;
	if (sun.sun_family != AF_UNIX || sun.sun_path[0] == '\0')
		return 0;
	if ((size_t)len > sizeof(sun))
		return -EINVAL;
	plen = strnlen(sun.sun_path, n - offsetof(struct sockaddr_un, sun_path));
	memcpy(p->path, sun.sun_path, plen);
	p->path[plen] = '\0';
	return 1;
}

/*
 * Landlock's abstract socket scope (ABI 6), which kbox's own threads run
 * under (intercept/landlock.c), refuses a host process's abstract socket
 * with EPERM. For the guest the host's abstract names do not exist, as in
 * a network namespace of its own: ECONNREFUSED, Linux's answer for an
 * abstract name that nobody bound.
 */
static int abstract_err(bool abstract, int r)
{
	return abstract && r == -EPERM ? -ECONNREFUSED : r;
}

static bool is_abstract(const struct sockaddr_un *sun, socklen_t len)
{
	return len > offsetof(struct sockaddr_un, sun_path) && sun->sun_family == AF_UNIX &&
	       sun->sun_path[0] == '\0';
}

/*
 * Without that scope (Landlock ABI < 6) the guest's abstract names live
 * under a prefix of this kbox's own, "\0kbox.PID.NAME": every abstract name
 * the guest binds, connects or sends to gets it, so none can name a host
 * process's socket. The guest's getsockname() and recvfrom() show the
 * prefix. A name too long for the prefix gives EINVAL.
 */
static int abstract_private(struct sockaddr_un *sun, socklen_t *len)
{
	const size_t head = offsetof(struct sockaddr_un, sun_path) + 1;
	char prefix[32];
	size_t nlen;
	int plen;

	if (kbox_landlock_abstract_scoped() || !is_abstract(sun, *len))
		return 0;
	plen = snprintf(prefix, sizeof(prefix), "kbox.%d.", (int)getpid());
	nlen = *len - head;
	if (head + (size_t)plen + nlen > sizeof(*sun))
		return -EINVAL;
	memmove(sun->sun_path + 1 + plen, sun->sun_path + 1, nlen);
	memcpy(sun->sun_path + 1, prefix, (size_t)plen);
	*len = (socklen_t)(*len + (socklen_t)plen);
	return 0;
}

/* A kbox copy of guest socket @gfd when it is AF_UNIX; -1 for other families. */
static int unix_socket_copy(struct kbox_request *req, int gfd)
{
	int kfd = req->tier->get_guest_fd(req, gfd), domain = 0;
	socklen_t len = sizeof(domain);

	if (kfd < 0)
		return -EBADF;
	if (getsockopt(kfd, SOL_SOCKET, SO_DOMAIN, &domain, &len) == 0 && domain == AF_UNIX)
		return kfd;
	close(kfd);
	return -1;
}

/*
 * Who sends, given unix_path()'s answer @r for the address: 1 kbox (through
 * the resolved path, or on *kfd, a copy of an AF_UNIX socket whose address
 * is no path or none), 0 the host, or -errno.
 */
static int send_route(struct kbox_request *req, int gfd, int r, int *kfd)
{
	*kfd = -1;
	if (r != 0)
		return r;
	*kfd = unix_socket_copy(req, gfd);
	if (*kfd == -1)
		return 0;
	return *kfd < 0 ? *kfd : 1;
}

/* bind/connect with an address that is no path: the host's, or kbox's on an AF_UNIX copy. */
static struct kbox_result bind_or_connect_other(struct kbox_request *req, bool is_bind)
{
	struct sockaddr_storage sa;
	socklen_t len = (socklen_t)req->args[2];
	int kfd = unix_socket_copy(req, (int)req->args[0]), r;

	if (kfd == -1)
		return kbox_res_continue();
	if (kfd < 0)
		return fs_ret(kfd);
	r = len ? kbox_read_guest(req, req->args[1], &sa, len) : 0; /* unix_path() checked len */
	if (r == 0)
		r = abstract_private((struct sockaddr_un *)&sa, &len);
	if (r == 0)
		r = (is_bind ? bind(kfd, (struct sockaddr *)&sa, len)
			     : connect(kfd, (struct sockaddr *)&sa, len)) < 0
			    ? -errno
			    : 0;
	close(kfd);
	return fs_ret(abstract_err(!is_bind && is_abstract((struct sockaddr_un *)&sa, len), r));
}

static struct kbox_result bind_or_connect(struct kbox_request *req, bool bind)
{
	struct fs_path p;
	int r = unix_path(req, req->args[1], (int)req->args[2], &p), kfd;

	if (r <= 0)
		return r == 0 ? bind_or_connect_other(req, bind) : fs_ret(r);
	kfd = req->tier->get_guest_fd(req, (int)req->args[0]);
	if (kfd < 0)
		return fs_ret(-EBADF);
	r = fs_ctx_at(req, AT_FDCWD, &p);
	if (r == 0 && bind)
		r = kbox_vfs_unix_bind(&p.ctx, p.path, kfd, kbox_task_fs(req->task)->umask);
	else if (r == 0)
		r = kbox_vfs_unix_connect(&p.ctx, p.path, kfd);
	close(kfd);
	return fs_ret(r);
}

struct kbox_result sys_bind(struct kbox_request *req)
{
	return bind_or_connect(req, true);
}

struct kbox_result sys_connect(struct kbox_request *req)
{
	return bind_or_connect(req, false);
}

/* Everything one send needs, owned here so it can move to a thread. */
struct send_job {
	struct fs_job job;
	int sockfd;
	int addrfd;
	int flags;
	bool abstract; /* to an abstract address: see abstract_err() */
	struct msghdr m;
	struct iovec iov;
	struct sockaddr_un sun;
	void *data;
	void *control;
	int nfds;
	int fds[SCM_MAX_FD];
};

static void send_free(struct send_job *s)
{
	int i;

	for (i = 0; i < s->nfds; i++)
		close(s->fds[i]);
	if (s->addrfd >= 0)
		close(s->addrfd);
	if (s->sockfd >= 0)
		close(s->sockfd);
	free(s->data);
	free(s->control);
}

static struct kbox_result send_run(struct fs_job *job)
{
	struct send_job *s = (struct send_job *)job;
	ssize_t n = sendmsg(s->sockfd, &s->m, s->flags);
	struct kbox_result res = fs_ret(n < 0 ? abstract_err(s->abstract, -errno) : n);

	send_free(s);
	return res;
}

/* Try without blocking; a blocking guest socket that would block goes to a thread. */
static struct kbox_result send_start(struct kbox_request *req, struct send_job *s)
{
	ssize_t n = sendmsg(s->sockfd, &s->m, s->flags | MSG_DONTWAIT);
	int fl;

	if (n < 0 && errno == EAGAIN && !(s->flags & MSG_DONTWAIT)) {
		fl = fcntl(s->sockfd, F_GETFL);
		if (fl >= 0 && !(fl & O_NONBLOCK))
			return fs_defer(req, &s->job);
	}
	n = n < 0 ? abstract_err(s->abstract, -errno) : n;
	send_free(s);
	free(s);
	return fs_ret(n);
}

/* Resolve @p to the host address and take a copy of the guest socket. */
static int send_prepare(struct kbox_request *req, int gfd, struct fs_path *p, struct send_job *s)
{
	int r = fs_ctx_at(req, AT_FDCWD, p);

	s->sockfd = s->addrfd = -1;
	if (r < 0)
		return r;
	s->sockfd = req->tier->get_guest_fd(req, gfd);
	if (s->sockfd < 0)
		return -EBADF;
	s->sun.sun_family = AF_UNIX;
	s->addrfd = kbox_vfs_unix_addr(&p->ctx, p->path, s->sun.sun_path, sizeof(s->sun.sun_path));
	if (s->addrfd < 0)
		return s->addrfd;
	s->m.msg_name = &s->sun;
	s->m.msg_namelen = sizeof(s->sun);
	return 0;
}

/* An address that is no path (abstract, unnamed, none) for AF_UNIX copy @kfd. */
static int send_prepare_raw(struct kbox_request *req, int kfd, uint64_t addr, socklen_t len,
			    struct send_job *s)
{
	int r;

	s->sockfd = kfd;
	if (!addr)
		return 0;
	if (len > sizeof(s->sun))
		return -EINVAL;
	s->m.msg_name = &s->sun;
	s->m.msg_namelen = len;
	r = len ? kbox_read_guest(req, addr, &s->sun, len) : 0;
	s->abstract = is_abstract(&s->sun, len);
	if (r == 0)
		r = abstract_private(&s->sun, &len);
	s->m.msg_namelen = len;
	return r;
}

static struct send_job *send_alloc(void)
{
	struct send_job *s = calloc(1, sizeof(*s));

	if (s) {
		s->job.run = send_run;
		s->sockfd = s->addrfd = -1;
	}
	return s;
}

static struct kbox_result send_fail(struct send_job *s, int r)
{
	send_free(s);
	free(s);
	return fs_ret(r);
}

/*
 * SO_PEERCRED as the guest must see it. The host recorded the task that
 * connected or listened: for a connect kbox made for the guest (all of
 * them, see above) that is kbox itself, whose pid means nothing in the
 * guest; Linux gives 0 for a peer whose pid the caller cannot see. With
 * faked ids (-0, --change-id) host ids become guest ones, as a user
 * namespace maps them (and as bwrap --uid shows natively): a guest peer's
 * own emulated ids, else the run's ids for kbox's user and the overflow id
 * for anyone else.
 */
static void peer_creds(struct ucred *uc)
{
	const struct kbox_kernel_config *cfg = kbox_kernel_config();
	struct kbox_process *p = uc->pid > 0 ? kbox_kernel_process_find(uc->pid) : NULL;

	if (uc->pid == getpid())
		uc->pid = 0;
	if (!cfg->fake_ids)
		return;
	if (p) {
		uc->uid = p->creds.euid;
		uc->gid = p->creds.egid;
		return;
	}
	uc->uid = uc->uid == getuid() ? cfg->uid : OVERFLOW_ID;
	uc->gid = uc->gid == getgid() ? cfg->gid : OVERFLOW_ID;
}

/* Notified for optname SO_PEERCRED only (any level: the filter sees no more). */
struct kbox_result sys_getsockopt(struct kbox_request *req)
{
	struct ucred uc;
	socklen_t hlen = sizeof(uc);
	int glen, kfd, r;

	if ((int)req->args[1] != SOL_SOCKET)
		return kbox_res_continue(); /* no path, no guest memory the host re-reads */
	kfd = req->tier->get_guest_fd(req, (int)req->args[0]);
	if (kfd < 0)
		return fs_ret(-EBADF);
	r = getsockopt(kfd, SOL_SOCKET, SO_PEERCRED, &uc, &hlen) < 0 ? -errno : 0;
	close(kfd);
	if (r == 0)
		r = kbox_read_guest(req, req->args[4], &glen, sizeof(glen));
	if (r == 0 && glen < 0)
		r = -EINVAL;
	if (r < 0)
		return fs_ret(r);
	peer_creds(&uc);
	glen = glen < (int)sizeof(uc) ? glen : (int)sizeof(uc); /* sk_getsockopt() truncates */
	r = kbox_write_guest(req, req->args[3], &uc, (size_t)glen);
	if (r == 0)
		r = kbox_write_guest(req, req->args[4], &glen, sizeof(glen));
	return fs_ret(r);
}

struct kbox_result sys_sendto(struct kbox_request *req)
{
	size_t len = req->args[2];
	struct send_job *s;
	struct fs_path p;
	int r, kfd = -1;

	/* No address: the pointer is in a register, nothing to swap under the host. */
	if (!req->args[4])
		return kbox_res_continue();
	r = send_route(req, (int)req->args[0], unix_path(req, req->args[4], (int)req->args[5], &p),
		       &kfd);
	if (r <= 0)
		return r == 0 ? kbox_res_continue() : fs_ret(r);
	s = len > SEND_MAX ? NULL : send_alloc();
	if (!s) {
		if (kfd >= 0)
			close(kfd);
		return fs_ret(len > SEND_MAX ? -EMSGSIZE : -ENOMEM);
	}
	s->sockfd = kfd; /* send_free() closes it on every path from here */
	s->data = malloc(len ? len : 1);
	r = s->data ? 0 : -ENOMEM;
	if (r == 0 && len)
		r = kbox_read_guest(req, req->args[1], s->data, len);
	if (r == 0)
		r = kfd >= 0 ? send_prepare_raw(req, kfd, req->args[4], (socklen_t)req->args[5], s)
			     : send_prepare(req, (int)req->args[0], &p, s);
	if (r < 0)
		return send_fail(s, r);
	s->iov = (struct iovec){.iov_base = s->data, .iov_len = len};
	s->m.msg_iov = &s->iov;
	s->m.msg_iovlen = 1;
	s->flags = (int)req->args[3];
	return send_start(req, s);
}

/* Gather the guest's iovecs into one kbox buffer. */
static int read_iov(struct kbox_request *req, const struct msghdr *gm, struct send_job *s)
{
	struct iovec *iov;
	size_t i, total = 0, off = 0;
	int r;

	if (gm->msg_iovlen > IOV_MAX)
		return -EMSGSIZE;
	iov = calloc(gm->msg_iovlen ? gm->msg_iovlen : 1, sizeof(*iov));
	if (!iov)
		return -ENOMEM;
	r = gm->msg_iovlen ? kbox_read_guest(req, (uintptr_t)gm->msg_iov, iov,
					     gm->msg_iovlen * sizeof(*iov))
			   : 0;
	for (i = 0; r == 0 && i < gm->msg_iovlen; i++)
		total += iov[i].iov_len;
	if (r == 0 && total > SEND_MAX)
		r = -EMSGSIZE;
	if (r == 0 && !(s->data = malloc(total ? total : 1)))
		r = -ENOMEM;
	for (i = 0; r == 0 && i < gm->msg_iovlen; off += iov[i++].iov_len)
		if (iov[i].iov_len)
			r = kbox_read_guest(req, (uintptr_t)iov[i].iov_base, (char *)s->data + off,
					    iov[i].iov_len);
	free(iov);
	s->iov = (struct iovec){.iov_base = s->data, .iov_len = total};
	s->m.msg_iov = &s->iov;
	s->m.msg_iovlen = 1;
	return r;
}

/*
 * Explicit SCM_CREDENTIALS: the host checks them against the sender, which
 * is kbox here. kbox makes Linux's check (scm_check_creds()) for the guest:
 * its own pid, and ids among its real, effective and saved ones unless its
 * emulated euid is 0; then it sends its own, which the host accepts. The
 * receiver sees kbox's pid and the host ids, as for implicit credentials.
 */
static int credentials_as_kbox(struct kbox_request *req, struct cmsghdr *c)
{
	const struct kbox_creds *k = kbox_task_creds(req->task);
	struct ucred u;
	bool root = k->euid == 0;

	if (c->cmsg_len < CMSG_LEN(sizeof(u)))
		return -EINVAL;
	memcpy(&u, CMSG_DATA(c), sizeof(u));
	if (u.pid != req->task->proc->tgid && !root)
		return -EPERM;
	if (!root && u.uid != k->ruid && u.uid != k->euid && u.uid != k->suid)
		return -EPERM;
	if (!root && u.gid != k->rgid && u.gid != k->egid && u.gid != k->sgid)
		return -EPERM;
	u = (struct ucred){.pid = getpid(), .uid = getuid(), .gid = getgid()};
	memcpy(CMSG_DATA(c), &u, sizeof(u));
	return 0;
}

/* SCM_RIGHTS carry guest fd numbers: replace each with a kbox copy of that fd. */
static int read_control(struct kbox_request *req, const struct msghdr *gm, struct send_job *s)
{
	struct cmsghdr *c;
	size_t i, n;
	int *fds;
	int r;

	if (!gm->msg_controllen)
		return 0;
	if (gm->msg_controllen > CONTROL_MAX)
		return -ENOBUFS;
	s->control = malloc(gm->msg_controllen);
	if (!s->control)
		return -ENOMEM;
	r = kbox_read_guest(req, (uintptr_t)gm->msg_control, s->control, gm->msg_controllen);
	s->m.msg_control = s->control;
	s->m.msg_controllen = gm->msg_controllen;
	for (c = CMSG_FIRSTHDR(&s->m); r == 0 && c; c = CMSG_NXTHDR(&s->m, c)) {
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_CREDENTIALS)
			r = credentials_as_kbox(req, c);
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		fds = (int *)CMSG_DATA(c);
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (i = 0; r == 0 && i < n; i++) {
			if (s->nfds == SCM_MAX_FD)
				return -EINVAL;
			fds[i] = req->tier->get_guest_fd(req, fds[i]);
			if (fds[i] < 0)
				return -EBADF;
			s->fds[s->nfds++] = fds[i];
		}
	}
	return r;
}

struct kbox_result sys_sendmsg(struct kbox_request *req)
{
	struct msghdr gm;
	struct send_job *s;
	struct fs_path p;
	int r = kbox_read_guest(req, req->args[1], &gm, sizeof(gm)), kfd = -1;

	if (r == 0)
		r = send_route(req, (int)req->args[0],
			       gm.msg_name
				       ? unix_path(req, (uintptr_t)gm.msg_name, gm.msg_namelen, &p)
				       : 0,
			       &kfd);
	if (r <= 0)
		return r == 0 ? kbox_res_continue() : fs_ret(r);
	s = send_alloc();
	if (!s) {
		if (kfd >= 0)
			close(kfd);
		return fs_ret(-ENOMEM);
	}
	s->sockfd = kfd; /* send_free() closes it on every path from here */
	r = read_iov(req, &gm, s);
	if (r == 0)
		r = read_control(req, &gm, s);
	if (r == 0)
		r = kfd >= 0 ? send_prepare_raw(req, kfd, (uintptr_t)gm.msg_name, gm.msg_namelen, s)
			     : send_prepare(req, (int)req->args[0], &p, s);
	if (r < 0)
		return send_fail(s, r);
	s->flags = (int)req->args[2];
	return send_start(req, s);
}
