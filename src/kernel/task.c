// SPDX-License-Identifier: MIT
/*
 * Tasks and processes of the guest, keyed by host tid and tgid.
 *
 * A CONTINUEd clone never tells kbox the child's tid: the child first shows
 * up as an unknown tid making a syscall. So the parent's clone is notified
 * first and kbox snapshots what the child inherits (a "pending clone");
 * the unknown tid is then placed by /proc/<tid>/status (Tgid, PPid) and
 * takes the oldest pending clone of its parent. If the parent changed its
 * cwd between two quick forks and the second child speaks first, the two
 * snapshots could be swapped; that needs both to differ and is accepted.
 */
#include "kernel.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../vfs/vfs.h"

#define HASH_SIZE   1024
#define PENDING_MAX 256

struct pending_clone {
	pid_t parent_tgid;
	uint64_t flags;
	struct kbox_fs_state *fs; /* shared (CLONE_FS, ref held) or a private copy */
	struct kbox_creds creds;
	char exe[PATH_MAX];
	bool used;
};

static struct kbox_kernel_config config;
static struct kbox_task *tasks[HASH_SIZE];
static struct kbox_process *procs[HASH_SIZE];
static struct pending_clone pending[PENDING_MAX];
static unsigned pending_seq[PENDING_MAX];
static unsigned pending_clock;
static int nprocs;
static int watch_epfd = -1;

static unsigned hash_pid(pid_t pid)
{
	return (unsigned)pid % HASH_SIZE;
}

const struct kbox_kernel_config *kbox_kernel_config(void)
{
	return &config;
}

static struct kbox_fs_state *fs_new(const struct kbox_fs_state *from)
{
	struct kbox_fs_state *fs = malloc(sizeof(*fs));

	if (!fs)
		return NULL;
	*fs = *from;
	fs->refs = 1;
	return fs;
}

static void fs_put(struct kbox_fs_state *fs)
{
	if (fs && --fs->refs == 0)
		free(fs);
}

static void creds_init(struct kbox_creds *c)
{
	memset(c, 0, sizeof(*c));
	if (config.fake_ids) {
		/* As in a new user namespace (unshare -r, bwrap --uid): no supplementary groups. */
		c->ruid = c->euid = c->suid = c->fsuid = config.uid;
		c->rgid = c->egid = c->sgid = c->fsgid = config.gid;
		c->ngroups = 0;
		return;
	}
	c->ruid = c->euid = c->suid = c->fsuid = getuid();
	c->rgid = c->egid = c->sgid = c->fsgid = getgid();
	c->ngroups = getgroups(KBOX_NGROUPS_MAX, c->groups);
	if (c->ngroups < 0)
		c->ngroups = 0;
}

int kbox_kernel_init(const struct kbox_kernel_config *cfg)
{
	config = *cfg;
	if (!config.initial_cwd)
		config.initial_cwd = "/";
	return 0;
}

static void process_free(struct kbox_process *p);

void kbox_kernel_fini(void)
{
	for (int i = 0; i < HASH_SIZE; i++) {
		while (tasks[i]) {
			struct kbox_task *t = tasks[i];

			tasks[i] = t->hash_next;
			fs_put(t->fs);
			free(t);
		}
		while (procs[i]) {
			struct kbox_process *p = procs[i];

			procs[i] = p->hash_next;
			process_free(p);
		}
	}
	for (int i = 0; i < PENDING_MAX; i++)
		if (pending[i].used)
			fs_put(pending[i].fs);
}

struct kbox_process *kbox_kernel_process_find(pid_t tgid)
{
	for (struct kbox_process *p = procs[hash_pid(tgid)]; p; p = p->hash_next)
		if (p->tgid == tgid)
			return p;
	return NULL;
}

static struct kbox_task *task_find(pid_t tid)
{
	for (struct kbox_task *t = tasks[hash_pid(tid)]; t; t = t->hash_next)
		if (t->tid == tid)
			return t;
	return NULL;
}

/* Reads Tgid and PPid of @tid; -ESRCH when the thread is gone. */
static int read_status_ids(pid_t tid, pid_t *tgid, pid_t *ppid)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	f = fopen(path, "re");
	if (!f)
		return -ESRCH;
	*tgid = *ppid = -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "Tgid:", 5))
			*tgid = atoi(line + 5);
		else if (!strncmp(line, "PPid:", 5))
			*ppid = atoi(line + 5);
	}
	fclose(f);
	return (*tgid > 0 && *ppid >= 0) ? 0 : -ESRCH;
}

static void process_free(struct kbox_process *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	if (p->plan) {
		if (p->plan->prog_fd >= 0)
			close(p->plan->prog_fd);
		if (p->plan->interp_fd >= 0)
			close(p->plan->interp_fd);
		free(p->plan);
	}
	free(p);
}

static void watch_process(struct kbox_process *p)
{
	/* One-shot: a death is reported once; the supervisor then drops the pidfd. */
	struct epoll_event ev = {.events = EPOLLIN | EPOLLONESHOT,
				 .data.u64 = KBOX_EPOLL_PIDFD | (uint32_t)p->tgid};

	if (watch_epfd >= 0 && p->pidfd >= 0 && epoll_ctl(watch_epfd, EPOLL_CTL_ADD, p->pidfd, &ev))
		kbox_warn("cannot watch guest process %d: %s", (int)p->tgid, strerror(errno));
}

static struct kbox_process *process_new(pid_t tgid, pid_t ppid)
{
	struct kbox_process *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->tgid = tgid;
	p->ppid = ppid;
	p->dumpable = true;
	p->pidfd = (int)syscall(SYS_pidfd_open, tgid, 0);
	p->hash_next = procs[hash_pid(tgid)];
	procs[hash_pid(tgid)] = p;
	nprocs++;
	watch_process(p);
	return p;
}

/* Oldest pending clone announced by @parent_tgid with or without CLONE_THREAD. */
static struct pending_clone *pending_take(pid_t parent_tgid, bool thread)
{
	int best = -1;

	for (int i = 0; i < PENDING_MAX; i++) {
		struct pending_clone *pc = &pending[i];

		if (!pc->used || pc->parent_tgid != parent_tgid)
			continue;
		if (!!(pc->flags & CLONE_THREAD) != thread)
			continue;
		if (best < 0 || pending_seq[i] < pending_seq[best])
			best = i;
	}
	if (best < 0)
		return NULL;
	pending[best].used = false;
	return &pending[best];
}

/*
 * A child whose parent already exited was reparented to kbox's reaper, so
 * its PPid no longer names the announcer: take the oldest pending clone of
 * a parent that is gone.
 */
static struct pending_clone *pending_take_orphan(void)
{
	int best = -1;

	for (int i = 0; i < PENDING_MAX; i++) {
		if (!pending[i].used || (pending[i].flags & CLONE_THREAD))
			continue;
		if (kbox_kernel_process_find(pending[i].parent_tgid))
			continue;
		if (best < 0 || pending_seq[i] < pending_seq[best])
			best = i;
	}
	if (best < 0)
		return NULL;
	pending[best].used = false;
	return &pending[best];
}

static struct kbox_task *task_insert(pid_t tid, struct kbox_process *p, struct kbox_fs_state *fs)
{
	struct kbox_task *t = calloc(1, sizeof(*t));

	if (!t) {
		fs_put(fs);
		return NULL;
	}
	t->tid = tid;
	t->proc = p;
	t->fs = fs;
	p->nthreads++;
	t->hash_next = tasks[hash_pid(tid)];
	tasks[hash_pid(tid)] = t;
	return t;
}

/* The fs a new task starts with: from its clone, else a copy of a relative's, else the default. */
static struct kbox_fs_state *inherited_fs(struct pending_clone *pc, struct kbox_process *relative)
{
	struct kbox_fs_state def = {.umask = 022};

	if (pc)
		return pc->fs; /* the reference moves to the task */
	for (int i = 0; relative && i < HASH_SIZE; i++)
		for (struct kbox_task *t = tasks[i]; t; t = t->hash_next)
			if (t->proc == relative)
				return fs_new(t->fs);
	snprintf(def.cwd, sizeof(def.cwd), "%s", config.initial_cwd);
	snprintf(def.root, sizeof(def.root), "/");
	return fs_new(&def);
}

static struct kbox_process *new_guest_process(pid_t tgid, pid_t ppid, struct pending_clone **pcp)
{
	struct kbox_process *parent = kbox_kernel_process_find(ppid);
	struct pending_clone *pc = pending_take(ppid, false);
	struct kbox_process *p;

	if (!pc && !parent)
		pc = pending_take_orphan();
	p = process_new(tgid, parent || pc ? (pc ? pc->parent_tgid : ppid) : 0);
	if (!p)
		return NULL;
	if (pc) {
		p->creds = pc->creds;
		memcpy(p->exe, pc->exe, sizeof(p->exe));
	} else if (parent) {
		p->creds = parent->creds;
		memcpy(p->exe, parent->exe, sizeof(p->exe));
	} else {
		creds_init(&p->creds);
	}
	*pcp = pc;
	return p;
}

struct kbox_task *kbox_kernel_task_get(pid_t tid)
{
	struct kbox_task *t = task_find(tid);
	struct pending_clone *pc = NULL;
	struct kbox_process *p;
	pid_t tgid, ppid;

	if (t)
		return t;
	if (read_status_ids(tid, &tgid, &ppid))
		return NULL;
	p = kbox_kernel_process_find(tgid);
	if (p && tgid != tid) {
		pc = pending_take(tgid, true);
		return task_insert(tid, p, inherited_fs(pc, p));
	}
	if (!p) {
		p = new_guest_process(tgid, ppid, &pc);
		if (!p)
			return NULL;
	}
	return task_insert(tid, p, inherited_fs(pc, kbox_kernel_process_find(p->ppid)));
}

struct kbox_process *kbox_kernel_set_first(pid_t tgid)
{
	struct kbox_process *p;

	p = process_new(tgid, 0);
	if (p)
		creds_init(&p->creds);
	return p;
}

static void task_remove(struct kbox_task *t)
{
	struct kbox_task **pp = &tasks[hash_pid(t->tid)];

	while (*pp && *pp != t)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = t->hash_next;
	t->proc->nthreads--;
	fs_put(t->fs);
	free(t);
}

void kbox_kernel_thread_exit(struct kbox_task *t)
{
	task_remove(t);
}

static void remove_tasks_of(struct kbox_process *p, struct kbox_task *keep)
{
	for (int i = 0; i < HASH_SIZE; i++) {
		struct kbox_task *t = tasks[i], *next;

		for (; t; t = next) {
			next = t->hash_next;
			if (t->proc == p && t != keep)
				task_remove(t);
		}
	}
}

void kbox_kernel_process_gone(pid_t tgid)
{
	struct kbox_process *p = kbox_kernel_process_find(tgid);
	struct kbox_process **pp;

	if (!p)
		return;
	remove_tasks_of(p, NULL);
	pp = &procs[hash_pid(tgid)];
	while (*pp && *pp != p)
		pp = &(*pp)->hash_next;
	if (*pp)
		*pp = p->hash_next;
	if (watch_epfd >= 0 && p->pidfd >= 0)
		epoll_ctl(watch_epfd, EPOLL_CTL_DEL, p->pidfd, NULL);
	nprocs--;
	process_free(p);
}

void kbox_kernel_exec_commit(struct kbox_task *t)
{
	struct kbox_process *p = t->proc;

	remove_tasks_of(p, t);
	if (p->plan) {
		if (p->plan->prog_fd >= 0)
			close(p->plan->prog_fd);
		if (p->plan->interp_fd >= 0)
			close(p->plan->interp_fd);
		free(p->plan);
		p->plan = NULL;
	}
	/* Linux resets a caught signal's handler at exec; the stub owns SIGSYS again. */
	p->sigsys_act_set = false;
	memset(p->sigsys_act, 0, sizeof(p->sigsys_act));
}

static int pending_slot(void)
{
	int oldest = 0;

	for (int i = 0; i < PENDING_MAX; i++) {
		if (!pending[i].used)
			return i;
		if (pending_seq[i] < pending_seq[oldest])
			oldest = i;
	}
	/* Full: a clone that failed long ago left a stale record; recycle the oldest. */
	fs_put(pending[oldest].fs);
	pending[oldest].used = false;
	return oldest;
}

void kbox_kernel_clone_announce(struct kbox_task *parent, uint64_t flags)
{
	int i = pending_slot();
	struct pending_clone *pc = &pending[i];

	pc->parent_tgid = parent->proc->tgid;
	pc->flags = flags;
	if (flags & CLONE_FS) {
		pc->fs = parent->fs;
		pc->fs->refs++;
	} else {
		pc->fs = fs_new(parent->fs);
	}
	if (!pc->fs)
		return;
	pc->creds = parent->proc->creds;
	memcpy(pc->exe, parent->proc->exe, sizeof(pc->exe));
	pc->used = true;
	pending_seq[i] = ++pending_clock;
}

int kbox_kernel_unshare_fs(struct kbox_task *t)
{
	struct kbox_fs_state *fs;

	if (t->fs->refs == 1)
		return 0;
	fs = fs_new(t->fs);
	if (!fs)
		return -ENOMEM;
	fs_put(t->fs);
	t->fs = fs;
	return 0;
}

void kbox_kernel_watch(int epfd)
{
	watch_epfd = epfd;
	for (int i = 0; i < HASH_SIZE; i++)
		for (struct kbox_process *p = procs[i]; p; p = p->hash_next)
			watch_process(p);
}

int kbox_kernel_nprocesses(void)
{
	return nprocs;
}

/* Any task of @p, for the per-task fs state. */
static struct kbox_task *some_task_of(struct kbox_process *p)
{
	for (int i = 0; i < HASH_SIZE; i++)
		for (struct kbox_task *t = tasks[i]; t; t = t->hash_next)
			if (t->proc == p)
				return t;
	return NULL;
}

/*
 * The guest path of guest fd @gfd of @p. Fds that are no path in the guest
 * (pipes, sockets, files outside every mount) keep the host's text, as
 * Linux shows "pipe:[N]" or a path outside a chroot.
 */
static int fd_link(struct kbox_process *p, const char *num, char *buf, size_t size)
{
	char host[64], path[PATH_MAX];
	int kfd, n;

	kfd = p->pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, p->pidfd, atoi(num), 0);
	if (kfd < 0)
		return -ENOENT;
	n = kbox_vfs_guest_path_of_fd(kfd, path, sizeof(path));
	if (n < 0) {
		snprintf(host, sizeof(host), "/proc/self/fd/%d", kfd);
		n = (int)readlink(host, path, sizeof(path) - 1);
		n = n < 0 ? -errno : n;
	}
	close(kfd);
	if (n < 0)
		return n;
	n = (int)strnlen(path, sizeof(path));
	if ((size_t)n > size)
		n = (int)size;
	memcpy(buf, path, (size_t)n);
	return n;
}

int kbox_kernel_proc_link(pid_t pid, const char *what, char *buf, size_t size)
{
	struct kbox_task *t = task_find(pid);
	struct kbox_process *p = t ? t->proc : kbox_kernel_process_find(pid);
	const char *link;
	size_t len;

	if (!p)
		return 0;
	if (!t)
		t = some_task_of(p);
	if (!strncmp(what, "fd/", 3))
		return fd_link(p, what + 3, buf, size);
	if (!strcmp(what, "exe"))
		link = p->exe;
	else if (!t)
		return 0;
	else
		link = !strcmp(what, "cwd") ? t->fs->cwd : t->fs->root;
	len = strlen(link);
	if (!len)
		return 0;
	if (len > size)
		len = size;
	memcpy(buf, link, len);
	return (int)len;
}
