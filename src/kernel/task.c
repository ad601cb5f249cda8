// SPDX-License-Identifier: MIT
/*
 * Tasks and processes of the guest, keyed by host tid and tgid.
 *
 * Forks run on the host unseen (the clone family is not notified: a
 * notified fork could fail with EINTR when a signal lands before kbox
 * receives it, which Linux never does). A child therefore first shows up as
 * an unknown tid making a syscall; it is placed by /proc/<tid>/status (Tgid,
 * PPid) and inherits its parent's state as it is then. That is right as
 * long as the parent has not changed what children inherit (cwd, root,
 * umask, ids, program) since the fork: so before any such change, and
 * before the parent exits, kbox adopts the parent's unseen children
 * (/proc/<pid>/task/<tid>/children) with the state they were forked with.
 */
#include "kernel.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "../lib/log.h"
#include "../vfs/vfs.h"

#define HASH_SIZE 1024

static struct kbox_kernel_config config;
static struct kbox_task *tasks[HASH_SIZE];
static struct kbox_process *procs[HASH_SIZE];
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

/* The number after @key (a line's start, as "\nTgid:") in @buf, or -1. */
static pid_t status_field(const char *buf, const char *key)
{
	const char *p = strstr(buf, key);

	return p ? (pid_t)atoi(p + strlen(key)) : -1;
}

/*
 * A small /proc file whole, NUL-terminated, in @buf if it fits, else in a
 * buffer of its own (free it if it is not @buf); NULL if it cannot be read.
 */
static char *read_proc_file(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;
	char *out = buf;
	ssize_t n;

	if (fd < 0)
		return NULL;
	while ((n = read(fd, out + len, size - 1 - len)) > 0) {
		len += (size_t)n;
		if (len == size - 1) {
			char *bigger = malloc(size * 2);

			if (!bigger)
				break;
			memcpy(bigger, out, len);
			if (out != buf)
				free(out);
			out = bigger;
			size *= 2;
		}
	}
	close(fd);
	out[len] = '\0';
	return out;
}

/* Tgid and PPid of @tid from /proc/<tid>/status; -ESRCH when the thread is gone. */
static int read_status_ids(pid_t tid, pid_t *tgid, pid_t *ppid)
{
	char path[64], small[2048], *buf;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)tid);
	buf = read_proc_file(path, small, sizeof(small));
	if (!buf)
		return -ESRCH;
	*tgid = status_field(buf, "\nTgid:");
	*ppid = status_field(buf, "\nPPid:");
	if (buf != small)
		free(buf);
	return (*tgid > 0 && *ppid >= 0) ? 0 : -ESRCH;
}

#ifndef PIDFD_GET_INFO
/* linux/pidfd.h of Linux 6.13 */
struct pidfd_info {
	__u64 mask;
	__u64 cgroupid;
	__u32 pid, tgid, ppid;
	__u32 ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
	__u32 spare0[1];
};
#define PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_info)
#define PIDFD_INFO_PID (1UL << 0)
#endif

/*
 * The ids of a thread kbox has not seen, and a pidfd of its process when
 * it leads one (*@pidfd, else -1): a new process's first call. Linux
 * 6.13's PIDFD_GET_INFO answers from the pidfd kbox needs anyway; a
 * freshly forked process's /proc/<pid>/status took 39 us to read here.
 */
static int new_task_ids(pid_t tid, pid_t *tgid, pid_t *ppid, int *pidfd)
{
	struct pidfd_info info = {.mask = PIDFD_INFO_PID};

	/* Only a thread-group leader has a pidfd without PIDFD_THREAD (6.9). */
	*pidfd = (int)syscall(SYS_pidfd_open, tid, 0);
	if (*pidfd >= 0 && ioctl(*pidfd, PIDFD_GET_INFO, &info) == 0 && info.tgid == (__u32)tid) {
		*tgid = tid;
		*ppid = (pid_t)info.ppid;
		return 0;
	}
	return read_status_ids(tid, tgid, ppid);
}

pid_t kbox_kernel_guest_ppid(struct kbox_task *t)
{
	pid_t tgid, ppid;

	/* The first guest process's parent is the reaper, for good. */
	if (t->proc->ppid == 0)
		return 0;
	/* Its parent still lives (kbox forgets a process when it ends). */
	if (kbox_kernel_process_find(t->proc->ppid))
		return t->proc->ppid;
	/* Orphaned: the host knows where it went (the reaper, or a guest subreaper). */
	if (read_status_ids(t->tid, &tgid, &ppid))
		return 0;
	return ppid > 0 && kbox_kernel_is_guest_pid(ppid) ? ppid : 0;
}

void kbox_kernel_plan_drop(struct kbox_process *p)
{
	if (!p->plan)
		return;
	if (p->plan->prog_fd >= 0)
		close(p->plan->prog_fd);
	if (p->plan->interp_fd >= 0)
		close(p->plan->interp_fd);
	free(p->plan);
	p->plan = NULL;
}

void kbox_kernel_forget_mm(struct kbox_process *p)
{
	if (p->memfd >= 0)
		close(p->memfd);
	p->memfd = -1;
	p->mem_reads = 0;
}

/*
 * The program a process runs, shared by fork and replaced by exec. Its
 * guest path (/proc/PID/exe) is found when asked, from the file itself:
 * a readlink per exec cost more than the rare reads of the link, and
 * Linux too names the file's current path. A host file is held by an fd;
 * an image file by its inode, so that kbox holds no copy of it.
 */
struct kbox_exe {
	int refs;
	int fd;			    /* kbox-owned, the program's host file; -1 for an image file */
	struct kbox_file_ref image; /* the image file, when fd is -1 */
	char execfn[];		    /* the path as exec'd, if the file maps to no guest path */
};

static void exe_put(struct kbox_exe *e)
{
	if (e && --e->refs == 0) {
		if (e->fd >= 0)
			close(e->fd);
		free(e);
	}
}

void kbox_kernel_set_exe(struct kbox_process *p, int fd, const char *execfn)
{
	size_t len = strnlen(execfn, PATH_MAX - 1);
	struct kbox_exe *e = malloc(sizeof(*e) + len + 1);

	if (!e) {
		close(fd);
		return; /* /proc/PID/exe then names the program before */
	}
	e->refs = 1;
	e->fd = fd;
	if (kbox_vfs_file_ref_of_fd(fd, &e->image) == 0) {
		close(fd);
		e->fd = -1;
	}
	memcpy(e->execfn, execfn, len);
	e->execfn[len] = '\0';
	exe_put(p->exe);
	p->exe = e;
}

/* A procfs link's target @path[0..len) into @buf as readlink(2) fills it: cut, no NUL. */
static int put_link(const char *path, size_t len, char *buf, size_t size)
{
	if (len > size)
		len = size;
	memcpy(buf, path, len);
	return (int)len;
}

/* /proc/PID/exe: the file's guest path now, else the path it was exec'd by. */
static int exe_link(const struct kbox_exe *e, char *buf, size_t size)
{
	char path[PATH_MAX];
	int n;

	if (!e)
		return 0;
	n = e->fd >= 0 ? kbox_vfs_guest_link_of_fd(e->fd, path, sizeof(path))
		       : kbox_vfs_guest_link_of_ref(&e->image, path, sizeof(path));
	if (n < 0)
		return put_link(e->execfn, strlen(e->execfn), buf, size);
	return put_link(path, (size_t)n, buf, size);
}

static void process_free(struct kbox_process *p)
{
	if (p->pidfd >= 0)
		close(p->pidfd);
	kbox_kernel_forget_mm(p);
	kbox_kernel_plan_drop(p);
	exe_put(p->exe);
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

/* A process kbox now knows; @pidfd is its pidfd if the caller has one, else -1. */
static struct kbox_process *process_new(pid_t tgid, pid_t ppid, int pidfd)
{
	struct kbox_process *p = calloc(1, sizeof(*p));

	if (!p)
		return NULL;
	p->tgid = tgid;
	p->ppid = ppid;
	p->dumpable = true;
	p->memfd = -1;
	p->pidfd = pidfd >= 0 ? pidfd : (int)syscall(SYS_pidfd_open, tgid, 0);
	p->hash_next = procs[hash_pid(tgid)];
	procs[hash_pid(tgid)] = p;
	nprocs++;
	watch_process(p);
	return p;
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

static struct kbox_task *any_task_of(struct kbox_process *p)
{
	for (int i = 0; i < HASH_SIZE; i++)
		for (struct kbox_task *t = tasks[i]; t; t = t->hash_next)
			if (t->proc == p)
				return t;
	return NULL;
}

/* A copy of @from's fs (a fork), or the starting state when the parent is unknown. */
static struct kbox_fs_state *fs_from(const struct kbox_task *from)
{
	struct kbox_fs_state def = {.umask = 022};

	if (from)
		return fs_new(from->fs);
	snprintf(def.cwd, sizeof(def.cwd), "%s", config.initial_cwd);
	snprintf(def.root, sizeof(def.root), "/");
	return fs_new(&def);
}

/* A new process @tgid forked by @parent (NULL: unknown, e.g. already gone). */
static struct kbox_process *process_from(pid_t tgid, const struct kbox_process *parent, int pidfd)
{
	struct kbox_process *p = process_new(tgid, parent ? parent->tgid : 0, pidfd);

	if (!p)
		return NULL;
	if (!parent) {
		creds_init(&p->creds);
		return p;
	}
	p->creds = parent->creds;
	p->dumpable = parent->dumpable;
	p->sigsys_act_set = parent->sigsys_act_set;
	memcpy(p->sigsys_act, parent->sigsys_act, sizeof(p->sigsys_act));
	p->exe = parent->exe;
	if (p->exe)
		p->exe->refs++;
	return p;
}

/* A thread joins its process and, as pthreads do (CLONE_FS), shares its fs. */
static struct kbox_task *thread_join(pid_t tid, struct kbox_process *p)
{
	struct kbox_task *sibling = any_task_of(p);

	if (!sibling)
		return task_insert(tid, p, fs_from(NULL));
	sibling->fs->refs++;
	return task_insert(tid, p, sibling->fs);
}

struct kbox_task *kbox_kernel_task_get(pid_t tid)
{
	struct kbox_task *t = task_find(tid);
	struct kbox_process *p, *parent;
	pid_t tgid, ppid;
	int pidfd;

	if (t)
		return t;
	if (new_task_ids(tid, &tgid, &ppid, &pidfd)) {
		if (pidfd >= 0)
			close(pidfd);
		return NULL;
	}
	p = kbox_kernel_process_find(tgid);
	if (p && pidfd >= 0)
		close(pidfd); /* known already: the first process, made before it ran */
	if (p && tgid != tid)
		return thread_join(tid, p);
	if (p)
		return task_insert(tid, p, fs_from(NULL));
	parent = kbox_kernel_process_find(ppid);
	p = process_from(tgid, parent, pidfd);
	if (!p) {
		if (pidfd >= 0)
			close(pidfd);
		return NULL;
	}
	return task_insert(tid, p, fs_from(parent ? any_task_of(parent) : NULL));
}

/* The host parent of the first guest process: every guest process lies below it. */
static pid_t reaper;

pid_t kbox_kernel_reaper(void)
{
	return reaper;
}

struct kbox_process *kbox_kernel_set_first(pid_t tgid)
{
	struct kbox_process *p;
	pid_t tg;

	if (read_status_ids(tgid, &tg, &reaper))
		reaper = 0;
	p = process_new(tgid, 0, -1);
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

/* Forget @p's tasks but @keep; stops once nthreads (tasks in the table) says none is left. */
static void remove_tasks_of(struct kbox_process *p, struct kbox_task *keep)
{
	int left = keep && keep->proc == p ? 1 : 0;

	for (int i = 0; i < HASH_SIZE && p->nthreads > left; i++) {
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
	kbox_kernel_plan_drop(p);
	kbox_kernel_forget_mm(p);
	/* Linux resets a caught signal's handler at exec; the stub owns SIGSYS again. */
	p->sigsys_act_set = false;
	memset(p->sigsys_act, 0, sizeof(p->sigsys_act));
}

/* Adopt the unseen children of thread @tid of @t's process: they were forked with @forker's state.
 */
static void adopt_children_of(struct kbox_task *t, const char *tid)
{
	char path[64 + NAME_MAX], small[512], *list, *p, *end;
	struct kbox_task *forker;
	struct kbox_process *proc;

	snprintf(path, sizeof(path), "/proc/%d/task/%s/children", (int)t->proc->tgid, tid);
	list = read_proc_file(path, small, sizeof(small));
	if (!list)
		return;
	forker = task_find(atoi(tid));
	if (!forker || forker->proc != t->proc)
		forker = t;
	for (p = list;; p = end) {
		long child = strtol(p, &end, 10);

		if (end == p)
			break;
		if (task_find((pid_t)child) || kbox_kernel_process_find((pid_t)child))
			continue;
		proc = process_from((pid_t)child, t->proc, -1);
		if (proc)
			task_insert((pid_t)child, proc, fs_from(forker));
	}
	if (list != small)
		free(list);
}

/*
 * Every thread's list: kbox does not see thread creation (a notified
 * clone(CLONE_THREAD) would say, but could then fail with EINTR when a
 * signal lands before kbox receives it, where Linux restarts). The task
 * directory's link count (2 + threads) tells a lone thread, the caller,
 * which then needs no listing (4 us).
 */
void kbox_kernel_adopt_children(struct kbox_task *t)
{
	char path[64];
	struct dirent *de;
	struct stat st;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", (int)t->proc->tgid);
	if (stat(path, &st) == 0 && st.st_nlink == 3) {
		snprintf(path, sizeof(path), "%d", (int)t->tid);
		adopt_children_of(t, path);
		return;
	}
	dir = opendir(path);
	if (!dir)
		return;
	while ((de = readdir(dir)))
		if (de->d_name[0] != '.')
			adopt_children_of(t, de->d_name);
	closedir(dir);
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

/*
 * The guest path of guest fd @gfd of @p. Fds that are no path in the guest
 * (pipes, sockets, files outside every mount) keep the host's text, as
 * Linux shows "pipe:[N]" or a path outside a chroot.
 */
static int fd_link(struct kbox_process *p, const char *num, char *buf, size_t size, bool follow)
{
	char host[64], path[PATH_MAX];
	int kfd, n;

	kfd = p->pidfd < 0 ? -1 : (int)syscall(SYS_pidfd_getfd, p->pidfd, atoi(num), 0);
	if (kfd < 0)
		return -ENOENT;
	n = follow ? kbox_vfs_guest_path_of_fd(kfd, path, sizeof(path))
		   : kbox_vfs_guest_link_of_fd(kfd, path, sizeof(path));
	if (n < 0 && follow) {
		close(kfd);
		return KBOX_PROC_OBJECT;
	}
	if (n < 0) {
		snprintf(host, sizeof(host), "/proc/self/fd/%d", kfd);
		n = (int)readlink(host, path, sizeof(path) - 1);
		n = n < 0 ? -errno : n;
	}
	close(kfd);
	return n < 0 ? n : put_link(path, (size_t)n, buf, size);
}

bool kbox_kernel_is_guest_pid(pid_t pid)
{
	pid_t tgid, ppid;

	/* A child kbox has not met yet is still the guest's: follow its parents. */
	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		if (task_find(pid) || kbox_kernel_process_find(pid))
			return true;
		if (read_status_ids(pid, &tgid, &ppid))
			return false;
		pid = tgid != pid ? tgid : ppid;
	}
	return false;
}

int kbox_kernel_proc_link(pid_t pid, const char *what, char *buf, size_t size, bool follow)
{
	struct kbox_task *t = task_find(pid);
	struct kbox_process *p = t ? t->proc : kbox_kernel_process_find(pid);
	const char *link;

	if (!p)
		return 0;
	if (!t)
		t = any_task_of(p);
	if (!strncmp(what, "fd/", 3))
		return fd_link(p, what + 3, buf, size, follow);
	if (!strcmp(what, "exe"))
		return exe_link(p->exe, buf, size);
	if (!t)
		return 0;
	link = !strcmp(what, "cwd") ? t->fs->cwd : t->fs->root;
	return put_link(link, strlen(link), buf, size);
}

/* The process of guest task @pid, or of its nearest ancestor kbox knows (an unseen child). */
static struct kbox_process *process_or_ancestor(pid_t pid)
{
	struct kbox_task *t;
	struct kbox_process *p;
	pid_t tgid, ppid;

	for (int depth = 0; pid > 1 && depth < 64; depth++) {
		t = task_find(pid);
		p = t ? t->proc : kbox_kernel_process_find(pid);
		if (p)
			return p;
		if (read_status_ids(pid, &tgid, &ppid))
			return NULL;
		pid = tgid != pid ? tgid : ppid;
	}
	return NULL;
}

_Static_assert(sizeof(((struct kbox_proc_ids *)0)->groups) >=
		       sizeof(((struct kbox_creds *)0)->groups),
	       "kbox_proc_ids holds every group");

int kbox_kernel_proc_ids(pid_t pid, struct kbox_proc_ids *ids)
{
	struct kbox_process *p = process_or_ancestor(pid);
	const struct kbox_creds *c;

	if (!p)
		return -ESRCH;
	c = &p->creds;
	ids->fake = config.fake_ids;
	ids->uid[0] = c->ruid;
	ids->uid[1] = c->euid;
	ids->uid[2] = c->suid;
	ids->uid[3] = c->fsuid;
	ids->gid[0] = c->rgid;
	ids->gid[1] = c->egid;
	ids->gid[2] = c->sgid;
	ids->gid[3] = c->fsgid;
	ids->ngroups = c->ngroups;
	memcpy(ids->groups, c->groups, sizeof(gid_t) * (size_t)c->ngroups);
	return 0;
}
