// SPDX-License-Identifier: MIT
/*
 * Identity, emulated per guest process when it is faked (-0, --change-id):
 * the getuid family answers from kbox's credentials, and the set*id family
 * changes them by Linux's rules, with "privileged" meaning euid 0 in the
 * guest (CAP_SETUID/CAP_SETGID of a real root). The host ids never change.
 */
#include <errno.h>
#include <string.h>

#include "../kernel/kernel.h"
#include "dispatch.h"

static struct kbox_result ok(int64_t v)
{
	return kbox_res_value(v, KBOX_DISP_EMULATED);
}

static struct kbox_creds *creds(struct kbox_request *req)
{
	return kbox_task_creds(req->task);
}

struct kbox_result sys_getuid(struct kbox_request *req)
{
	return ok(creds(req)->ruid);
}

struct kbox_result sys_geteuid(struct kbox_request *req)
{
	return ok(creds(req)->euid);
}

struct kbox_result sys_getgid(struct kbox_request *req)
{
	return ok(creds(req)->rgid);
}

struct kbox_result sys_getegid(struct kbox_request *req)
{
	return ok(creds(req)->egid);
}

static struct kbox_result write_three(struct kbox_request *req, uint32_t a, uint32_t b, uint32_t c)
{
	uint32_t v[3] = {a, b, c};

	for (int i = 0; i < 3; i++) {
		int err = kbox_write_guest(req, req->args[i], &v[i], sizeof(v[i]));

		if (err)
			return kbox_errno(-err);
	}
	return ok(0);
}

struct kbox_result sys_getresuid(struct kbox_request *req)
{
	struct kbox_creds *c = creds(req);

	return write_three(req, c->ruid, c->euid, c->suid);
}

struct kbox_result sys_getresgid(struct kbox_request *req)
{
	struct kbox_creds *c = creds(req);

	return write_three(req, c->rgid, c->egid, c->sgid);
}

struct kbox_result sys_getgroups(struct kbox_request *req)
{
	struct kbox_creds *c = creds(req);
	int size = (int)req->args[0];
	int err;

	if (size < 0)
		return kbox_errno(EINVAL);
	if (size == 0)
		return ok(c->ngroups);
	if (size < c->ngroups)
		return kbox_errno(EINVAL);
	err = kbox_write_guest(req, req->args[1], c->groups, sizeof(gid_t) * (size_t)c->ngroups);
	return err ? kbox_errno(-err) : ok(c->ngroups);
}

struct kbox_result sys_setgroups(struct kbox_request *req)
{
	struct kbox_creds *c = creds(req);
	int size = (int)req->args[0];
	gid_t groups[KBOX_NGROUPS_MAX];
	int err;

	if (size < 0 || size > 65536)
		return kbox_errno(EINVAL);
	if (c->euid != 0)
		return kbox_errno(EPERM);
	/* Deliberate difference: kbox keeps at most KBOX_NGROUPS_MAX groups. */
	if (size > KBOX_NGROUPS_MAX)
		return kbox_errno(EINVAL);
	err = size ? kbox_read_guest(req, req->args[1], groups, sizeof(gid_t) * (size_t)size) : 0;
	if (err)
		return kbox_errno(-err);
	memcpy(c->groups, groups, sizeof(gid_t) * (size_t)size);
	c->ngroups = size;
	return ok(0);
}

/* An id argument of -1 means "leave unchanged" in the setre and setres calls. */
#define KEEP ((uint32_t)-1)

static bool may_take(uint32_t id, uint32_t r, uint32_t e, uint32_t s)
{
	return id == KEEP || id == r || id == e || id == s;
}

static struct kbox_result set_res(uint32_t *r, uint32_t *e, uint32_t *s, uint32_t *fs, bool priv,
				  uint32_t nr, uint32_t ne, uint32_t ns)
{
	if (!priv &&
	    !(may_take(nr, *r, *e, *s) && may_take(ne, *r, *e, *s) && may_take(ns, *r, *e, *s)))
		return kbox_errno(EPERM);
	if (nr != KEEP)
		*r = nr;
	if (ne != KEEP)
		*e = ne;
	if (ns != KEEP)
		*s = ns;
	*fs = *e;
	return ok(0);
}

struct kbox_result sys_setresuid(struct kbox_request *req)
{
	struct kbox_creds *c = creds(req);

	return set_res(&c->ruid, &c->euid, &c->suid, &c->fsuid, c->euid == 0,
		       (uint32_t)req->args[0], (uint32_t)req->args[1], (uint32_t)req->args[2]);
}

struct kbox_result sys_setresgid(struct kbox_request *req)
{
	struct kbox_creds *c = creds(req);

	return set_res(&c->rgid, &c->egid, &c->sgid, &c->fsgid, c->euid == 0,
		       (uint32_t)req->args[0], (uint32_t)req->args[1], (uint32_t)req->args[2]);
}

/* setreuid: the saved id follows the new euid when ruid is set or euid leaves ruid. */
static struct kbox_result set_re(uint32_t *r, uint32_t *e, uint32_t *s, uint32_t *fs, bool priv,
				 uint32_t nr, uint32_t ne)
{
	uint32_t old_r = *r;

	if (!priv && ((nr != KEEP && nr != *r && nr != *e) ||
		      (ne != KEEP && ne != *r && ne != *e && ne != *s)))
		return kbox_errno(EPERM);
	if (nr != KEEP)
		*r = nr;
	if (ne != KEEP)
		*e = ne;
	if (nr != KEEP || (ne != KEEP && ne != old_r))
		*s = *e;
	*fs = *e;
	return ok(0);
}

struct kbox_result sys_setreuid(struct kbox_request *req)
{
	struct kbox_creds *c = creds(req);

	return set_re(&c->ruid, &c->euid, &c->suid, &c->fsuid, c->euid == 0, (uint32_t)req->args[0],
		      (uint32_t)req->args[1]);
}

struct kbox_result sys_setregid(struct kbox_request *req)
{
	struct kbox_creds *c = creds(req);

	return set_re(&c->rgid, &c->egid, &c->sgid, &c->fsgid, c->euid == 0, (uint32_t)req->args[0],
		      (uint32_t)req->args[1]);
}

/* setuid: privileged sets all three; otherwise only euid, to ruid or suid. */
struct kbox_result sys_setuid(struct kbox_request *req)
{
	struct kbox_creds *c = creds(req);
	uint32_t id = (uint32_t)req->args[0];

	if (id == KEEP)
		return kbox_errno(EINVAL);
	if (c->euid == 0) {
		c->ruid = c->euid = c->suid = c->fsuid = id;
		return ok(0);
	}
	if (id != c->ruid && id != c->suid)
		return kbox_errno(EPERM);
	c->euid = c->fsuid = id;
	return ok(0);
}

struct kbox_result sys_setgid(struct kbox_request *req)
{
	struct kbox_creds *c = creds(req);
	uint32_t id = (uint32_t)req->args[0];

	if (id == KEEP)
		return kbox_errno(EINVAL);
	if (c->euid == 0) {
		c->rgid = c->egid = c->sgid = c->fsgid = id;
		return ok(0);
	}
	if (id != c->rgid && id != c->sgid)
		return kbox_errno(EPERM);
	c->egid = c->fsgid = id;
	return ok(0);
}

/* setfsuid/setfsgid return the old value whether or not they succeed. */
struct kbox_result sys_setfsuid(struct kbox_request *req)
{
	struct kbox_creds *c = creds(req);
	uint32_t id = (uint32_t)req->args[0], old = c->fsuid;

	if (c->euid == 0 || id == c->ruid || id == c->euid || id == c->suid || id == c->fsuid)
		if (id != KEEP)
			c->fsuid = id;
	return ok(old);
}

struct kbox_result sys_setfsgid(struct kbox_request *req)
{
	struct kbox_creds *c = creds(req);
	uint32_t id = (uint32_t)req->args[0], old = c->fsgid;

	if (c->euid == 0 || id == c->rgid || id == c->egid || id == c->sgid || id == c->fsgid)
		if (id != KEEP)
			c->fsgid = id;
	return ok(old);
}
