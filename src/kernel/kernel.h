/* SPDX-License-Identifier: MIT */
/*
 * Guest kernel state: what Linux keeps per task and per process, kept by
 * kbox for the guest. Host fds are real fds in the guest (the host keeps the
 * fd table); kbox keeps what the host cannot know because kbox answers the
 * calls that change it: cwd and root (guest paths), umask, credentials, the
 * program image name, and the process tree.
 *
 * Sharing follows Linux: threads (CLONE_THREAD) share the process; CLONE_FS
 * shares struct kbox_fs_state; fork copies. A task that kbox sees for the
 * first time inherits from its parent (see kbox_kernel_task_get() and
 * kbox_kernel_adopt_children()). Tids are reused: a task is forgotten when it
 * calls exit, when its process calls exit_group or execs from another
 * thread, and when its process's pidfd says it is gone.
 *
 * Locking: callers hold the tier's state lock (one request at a time).
 */
#ifndef KBOX_KERNEL_KERNEL_H
#define KBOX_KERNEL_KERNEL_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../loader/stub_proto.h"

#define KBOX_NGROUPS_MAX 64

/* Shared by CLONE_FS: cwd, root and umask. */
struct kbox_fs_state {
	int refs;
	char cwd[PATH_MAX];  /* canonical guest path, always absolute */
	char root[PATH_MAX]; /* guest chroot(2) directory; "/" by default */
	mode_t umask;
};

struct kbox_creds {
	uid_t ruid, euid, suid, fsuid;
	gid_t rgid, egid, sgid, fsgid;
	int ngroups;
	gid_t groups[KBOX_NGROUPS_MAX];
};

/* A pending exec prepared by KBOX_STUB_OP_EXEC_PREPARE, see stub_proto.h. */
struct kbox_exec_plan {
	bool pending;
	int prog_fd;   /* kbox-owned, O_RDONLY */
	int interp_fd; /* kbox-owned, or -1 */
	uint32_t flags;
	uint32_t nprefix;
	uint32_t strings_len;
	char strings[KBOX_STUB_PLAN_MAX -
		     16]; /* execfn then prefix argv, see struct kbox_stub_plan */
};

/* The program a process runs (task.c). */
struct kbox_exe;

struct kbox_process {
	pid_t tgid;
	pid_t ppid; /* guest parent's tgid, 0 for the first guest process */
	int pidfd;  /* polled: readable when the process is gone */
	/*
	 * /proc/<tid>/mem of one of its threads: it names this process's
	 * address space for good, so a read through it needs no check that
	 * the tid was not reused. Opened at the 16th path read (counted in
	 * mem_reads: an open costs several reads, and most short-lived
	 * processes would never pay it back); -1 when not open; closed when an
	 * exec replaces the address space.
	 */
	int memfd;
	unsigned mem_reads;
	int nthreads;
	struct kbox_creds creds;
	struct kbox_exe *exe; /* NULL before the first exec */
	struct kbox_exec_plan *plan;
	bool dumpable;		/* what the guest set with PR_SET_DUMPABLE */
	uint64_t sigsys_act[4]; /* the guest's own struct k_sigaction for SIGSYS */
	bool sigsys_act_set;
	struct kbox_process *hash_next;
};

struct kbox_task {
	pid_t tid;
	struct kbox_process *proc;
	struct kbox_fs_state *fs; /* per task as in Linux; shared by CLONE_FS */
	struct kbox_task *hash_next;
};

/* Global settings of the run, fixed before the first guest starts. */
struct kbox_kernel_config {
	bool fake_ids; /* -0 / --change-id: emulate the getuid family */
	uid_t uid;     /* what the guest sees */
	gid_t gid;
	const char *initial_cwd; /* guest path (-w) */
};

int kbox_kernel_init(const struct kbox_kernel_config *cfg);
void kbox_kernel_fini(void);
const struct kbox_kernel_config *kbox_kernel_config(void);

/*
 * Find or create the task for host thread @tid. A new tid is placed by
 * reading /proc/<tid>/status: a thread of a known process joins it; a new
 * process takes the state its parent snapshotted at clone time (or a copy
 * of its parent's current state).
 * Returns NULL only when @tid is gone (the caller drops the request).
 */
struct kbox_task *kbox_kernel_task_get(pid_t tid);
struct kbox_process *kbox_kernel_process_find(pid_t tgid);
/* The first guest process, created before it runs so its exec plan can be attached. */
struct kbox_process *kbox_kernel_set_first(pid_t tgid);
/* The reaper: the host process every guest process descends from (0 before the first). */
pid_t kbox_kernel_reaper(void);
/*
 * Call @fn for every live guest process (each thread group once), found
 * below the reaper through /proc/<pid>/task/<tid>/children, so also those
 * kbox has not met yet. Stops at, and returns, the first non-zero @fn result.
 */
int kbox_kernel_for_each_guest(int (*fn)(pid_t tgid, void *arg), void *arg);

/* A thread is ending (exit) or the whole process is (exit_group, pidfd). */
void kbox_kernel_thread_exit(struct kbox_task *t);
void kbox_kernel_process_gone(pid_t tgid);
/* Free @p's exec plan and close its fds, if it has one. */
void kbox_kernel_plan_drop(struct kbox_process *p);
/* @p's address space is being replaced (exec): forget its memfd. */
void kbox_kernel_forget_mm(struct kbox_process *p);
/* Exec committed: @p runs the file @fd (taken) exec'd as @execfn. */
void kbox_kernel_set_exe(struct kbox_process *p, int fd, const char *execfn);
/* Exec committed: other threads are gone, the plan is consumed. */
void kbox_kernel_exec_commit(struct kbox_task *t);

/*
 * Before @t changes what children inherit (cwd, root, umask, ids, program)
 * or exits: give every child it forked that kbox has not seen yet the state
 * it was forked with.
 */
void kbox_kernel_adopt_children(struct kbox_task *t);
/* unshare(CLONE_FS): the calling process gets its own copy. */
int kbox_kernel_unshare_fs(struct kbox_task *t);

/*
 * A guest process's procfs link ("exe", "cwd", "root") as a guest path, for
 * the VFS (kbox_proc_link_fn): the length, or 0 when @pid is no guest task.
 */
int kbox_kernel_proc_link(pid_t pid, const char *what, char *buf, size_t size, bool follow);
/*
 * The parent of guest task @t as the guest sees it: the host parent when
 * that is a guest process, else 0 (the first process, and orphans the
 * reaper took), as Linux shows a parent outside the caller's pid namespace.
 */
pid_t kbox_kernel_guest_ppid(struct kbox_task *t);
/* @pid is a guest task or descends from one (kbox_proc_pid_fn). */
bool kbox_kernel_is_guest_pid(pid_t pid);
/*
 * The credentials of guest task @pid (kbox_proc_ids_fn): a child kbox has
 * not met yet has its parent's. -ESRCH when @pid is no guest task.
 */
struct kbox_proc_ids;
int kbox_kernel_proc_ids(pid_t pid, struct kbox_proc_ids *ids);

/* Accessors for handlers. */
static inline struct kbox_fs_state *kbox_task_fs(struct kbox_task *t)
{
	return t->fs;
}

static inline struct kbox_creds *kbox_task_creds(struct kbox_task *t)
{
	return &t->proc->creds;
}

/*
 * The supervisor's epoll set: every process's pidfd is added with
 * data.u64 = KBOX_EPOLL_PIDFD | tgid; when it fires the supervisor calls
 * kbox_kernel_process_gone().
 */
#define KBOX_EPOLL_PIDFD (1ull << 32)
void kbox_kernel_watch(int epfd);
int kbox_kernel_nprocesses(void);

#endif
