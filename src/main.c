// SPDX-License-Identifier: MIT
/* argv -> config -> pick tier -> run; nothing else. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cli.h"
#include "dispatch/exec.h"
#include "fs/ext4/ext4.h"
#include "intercept/intercept.h"
#include "kernel/kernel.h"
#include "lib/log.h"
#include "lib/rundir.h"
#include "obs/obs.h"
#include "vfs/vfs.h"

extern char **environ;

struct first_exec {
	struct kbox_lookup_ctx ctx;
	char path[PATH_MAX];
};

static char private_tmp[PATH_MAX], private_shm[PATH_MAX];

/* An ext2/3/4 superblock has its magic 0xEF53 at byte 1080. */
static bool looks_like_ext_image(const char *path)
{
	unsigned char magic[2];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	bool yes;

	if (fd < 0)
		return false;
	yes = pread(fd, magic, 2, 1080) == 2 && magic[0] == 0x53 && magic[1] == 0xef;
	close(fd);
	return yes;
}

static int check_root(const char *root)
{
	struct stat st;

	if (stat(root, &st)) {
		kbox_err("guest root '%s': %s; give an existing directory with -r", root,
			 strerror(errno));
		return -1;
	}
	if (S_ISDIR(st.st_mode))
		return 0;
	if (S_ISREG(st.st_mode) && looks_like_ext_image(root))
		return 1;
	else
		kbox_err("guest root '%s' is neither a directory nor an ext4 image", root);
	return -1;
}

static int mount_one(const char *guest, const char *host, bool ro)
{
	int err = kbox_vfs_mount(guest, host, ro);

	if (err)
		kbox_err("cannot show host '%s' at guest '%s': %s", host, guest, strerror(-err));
	return err;
}

/*
 * -S: /dev/shm is the guest's own too, as a container's is: the host's
 * POSIX shared memory is other programs' (and kbox keeps the copies of an
 * image's files there, which the guest must reach only through kbox).
 * On tmpfs beside them where it can, else under $TMPDIR.
 */
static int mount_private_shm(void)
{
	struct stat st;
	int err;

	if (stat("/dev/shm", &st) < 0 || !S_ISDIR(st.st_mode))
		return 0;
	err = kbox_rundir_make_in("/dev/shm", private_shm, sizeof(private_shm), "kbox-shm");
	if (err)
		err = kbox_rundir_make(private_shm, sizeof(private_shm), "kbox-shm");
	if (err) {
		kbox_err("cannot make a private /dev/shm: %s; set TMPDIR", strerror(-err));
		return -1;
	}
	chmod(private_shm, 01777);
	return mount_one("/dev/shm", private_shm, false);
}

/* -S: the recommended view of the host's /dev, /proc, /sys and a private /tmp and /dev/shm. */
static int mount_system_view(void)
{
	int err = kbox_rundir_make(private_tmp, sizeof(private_tmp), "kbox-tmp");

	if (err) {
		kbox_err("cannot make a private /tmp under %s: %s; set TMPDIR",
			 getenv("TMPDIR") ?: "/tmp", strerror(-err));
		return -1;
	}
	chmod(private_tmp, 01777);
	if (mount_one("/dev", "/dev", false) || mount_one("/proc", "/proc", false) ||
	    mount_one("/sys", "/sys", true) || mount_one("/tmp", private_tmp, false))
		return -1;
	return mount_private_shm();
}

/* An image root: opened (validated, locked) by the ext4 backend. */
static int mount_image(const struct kbox_cli *cli)
{
	char why[512] = "";
	int err = kbox_vfs_mount_image("/", cli->root, cli->read_only, why, sizeof(why));

	if (err)
		kbox_err("cannot open image '%s': %s", cli->root, why[0] ? why : strerror(-err));
	return err;
}

static int setup_mounts(const struct kbox_cli *cli)
{
	int kind = check_root(cli->root);

	if (kind < 0 || (kind == 0 && mount_one("/", cli->root, false)) ||
	    (kind == 1 && mount_image(cli)))
		return -1;
	if (cli->system_root && mount_system_view())
		return -1;
	for (int i = 0; i < cli->nbinds; i++)
		if (mount_one(cli->binds[i].guest, cli->binds[i].host, cli->binds[i].readonly))
			return -1;
	return 0;
}

static int prepare_first(pid_t tgid, void *arg)
{
	struct first_exec *fe = arg;
	struct kbox_process *p = kbox_kernel_set_first(tgid);
	int err;

	if (!p)
		return -ENOMEM;
	err = kbox_exec_prepare(p, &fe->ctx, -1, fe->path, 0);
	if (err)
		kbox_err("cannot run '%s' in the guest: %s", fe->path, strerror(-err));
	return err;
}

static int find_program(const struct kbox_cli *cli, struct first_exec *fe, char *cwd)
{
	int err;

	fe->ctx.root = "/";
	fe->ctx.base = "/";
	err = kbox_vfs_realpath(&fe->ctx, cli->work_dir, KBOX_LOOKUP_FOLLOW | KBOX_LOOKUP_DIRECTORY,
				cwd, PATH_MAX);
	if (err < 0) {
		kbox_err("work directory '%s' is not a directory in the guest root: %s",
			 cli->work_dir, strerror(-err));
		return KBOX_EXIT_FAILURE;
	}
	fe->ctx.base = cwd;
	err = kbox_exec_find_program(&fe->ctx, cli->argv[0], fe->path, sizeof(fe->path));
	if (err >= 0)
		return 0;
	if (err == -ENOENT || err == -ENOTDIR) {
		kbox_err("'%s': no such program in the guest root", cli->argv[0]);
		return KBOX_EXIT_NOT_FOUND;
	}
	if (err) {
		kbox_err("'%s' cannot be run: %s", cli->argv[0], strerror(-err));
		return KBOX_EXIT_CANNOT_RUN;
	}
	return 0;
}

static int exit_code(int status)
{
	if (WIFEXITED(status))
		return WEXITSTATUS(status);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return KBOX_EXIT_FAILURE;
}

/* An interactive guest shell takes the terminal; give it back to kbox's job. */
static void reclaim_terminal(void)
{
	sigset_t block, old;

	if (!isatty(STDIN_FILENO) || tcgetpgrp(STDIN_FILENO) == getpgrp())
		return;
	sigemptyset(&block);
	sigaddset(&block, SIGTTOU);
	sigprocmask(SIG_BLOCK, &block, &old);
	tcsetpgrp(STDIN_FILENO, getpgrp());
	sigprocmask(SIG_SETMASK, &old, NULL);
}

/* --stats: the tier that ran and the protections that were on. */
static void report_stats(const struct kbox_features *f)
{
	char prot[256], ll[128] = "no Landlock wall, signals kept inside by kbox";

	if (f->landlock_on)
		snprintf(ll, sizeof(ll), "Landlock ABI %d wall%s%s", f->landlock_abi,
			 f->landlock_abi >= 6 ? " with signal scope"
					      : ", signals kept inside by kbox",
			 f->abstract_scope ? " and abstract socket scope" : "");
	snprintf(prot, sizeof(prot), "seccomp user-notify, %s, %s, %s", ll,
		 f->wait_killable_recv ? "wait-killable" : "calls may repeat on signals",
		 f->sync_wakeup ? "synchronous wakeups" : "plain wakeups");
	kbox_obs_report("seccomp", prot);
}

/*
 * Ctrl-C and Ctrl-\ are for the guest; kbox stays to report its status (the
 * tier relays such signals sent to kbox itself). The guest gets back the
 * dispositions kbox found; every other one passes through exec as it is.
 */
static void ignore_terminal_signals(struct kbox_launch *l)
{
	static const int sigs[] = {SIGINT, SIGQUIT};

	sigemptyset(&l->ignored);
	sigprocmask(SIG_SETMASK, NULL, &l->mask);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) {
		struct sigaction sa;

		if (sigaction(sigs[i], NULL, &sa) == 0 && sa.sa_handler == SIG_IGN)
			sigaddset(&l->ignored, sigs[i]);
		signal(sigs[i], SIG_IGN);
	}
}

/* mkdir -p @dir (0700 for what it creates). */
static int mkdir_p(const char *dir)
{
	char buf[PATH_MAX];

	if ((size_t)snprintf(buf, sizeof(buf), "%s", dir) >= sizeof(buf))
		return -ENAMETOOLONG;
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) < 0 && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	return mkdir(buf, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

/*
 * Fake ownership needs a store for objects without user xattrs: a file
 * beside the root (".ROOTNAME.kbox-meta"), else one under the user's state
 * directory named after the root's path.
 */
static void setup_owner(const struct kbox_cli *cli)
{
	static char beside[2 * PATH_MAX + 32], state[3 * PATH_MAX];
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	const char *paths[2] = {beside, state};
	char root[PATH_MAX], dir[PATH_MAX + 32], *base;
	int n = 1;

	if (!realpath(cli->root, root))
		snprintf(root, sizeof(root), "%s", cli->root);
	base = strrchr(root, '/');
	*base = '\0';
	snprintf(beside, sizeof(beside), "%s/.%s.kbox-meta", root, base + 1);
	*base = '/';
	if (xdg || home) {
		snprintf(dir, sizeof(dir), "%s%s", xdg ? xdg : home,
			 xdg ? "/kbox" : "/.local/state/kbox");
		for (char *p = root; *p; p++)
			*p = *p == '/' ? '%' : *p;
		snprintf(state, sizeof(state), "%s/%s.meta", dir, root);
		if (access(state, F_OK) == 0 || mkdir_p(dir) == 0)
			n = 2;
	}
	kbox_vfs_owner_init(getuid(), getgid(), paths, n);
}

/*
 * getdents goes through kbox when a procfs in the guest would list host pids
 * in its root, and under fake ownership, whose device nodes are regular
 * placeholder files on the host.
 */
static bool has_procfs(void)
{
	for (int i = 0; i < kbox_vfs_nmounts(); i++)
		if (kbox_vfs_mount_at(i)->is_proc)
			return true;
	return false;
}

static int run(const struct kbox_cli *cli)
{
	static struct first_exec fe;
	static char cwd[PATH_MAX];
	struct kbox_kernel_config kc = {0};
	struct kbox_features features = {0};
	struct kbox_launch launch = {
		.argv = cli->argv,
		.envp = environ,
		.host_cwd = kbox_vfs_has_image() ? "/" : cli->root,
		.notify_ids = cli->root_id || cli->change_id,
		.notify_dirents =
			has_procfs() || cli->root_id || cli->change_id || kbox_vfs_has_image(),
		.notify_image = kbox_vfs_has_image(),
		.prepare_first = prepare_first,
		.prepare_arg = &fe,
	};
	int rc, status;

	rc = find_program(cli, &fe, cwd);
	if (rc)
		return rc;
	kc.fake_ids = launch.notify_ids;
	kc.uid = cli->change_id ? cli->uid : 0;
	kc.gid = cli->change_id ? cli->gid : 0;
	kc.initial_cwd = cwd;
	kbox_kernel_init(&kc);
	if (kc.fake_ids)
		setup_owner(cli);
	kbox_vfs_set_proc_links(kbox_kernel_proc_link);
	kbox_vfs_set_proc_pids(kbox_kernel_is_guest_pid);
	kbox_vfs_set_guest_walk(kbox_kernel_for_each_guest);
	kbox_vfs_set_proc_ids(kbox_kernel_proc_ids);
	ignore_terminal_signals(&launch);
	umask(0);
	status = kbox_unotify_run(&launch, &features);
	reclaim_terminal();
	report_stats(&features);
	if (status < 0)
		return KBOX_EXIT_FAILURE;
	return exit_code(status);
}

static int check_tier(const struct kbox_cli *cli)
{
	if (cli->tier == KBOX_TIER_TRAP || cli->tier == KBOX_TIER_REWRITE) {
		kbox_err("--syscall-mode %s is not available in this version; use seccomp or auto",
			 kbox_tier_name(cli->tier));
		return -1;
	}
	return 0;
}

/* `kbox image ...`: image tooling; no guest runs. */
static int image_main(int argc, char **argv)
{
	struct kbox_image_cli ic;
	struct kbox_image_opts o;
	int rc = kbox_cli_parse_image(argc, argv, &ic);

	if (rc)
		return rc > 0 ? 0 : KBOX_EXIT_FAILURE;
	if (ic.verbose)
		kbox_log_set_level(ic.verbose > 1 ? KBOX_LOG_DEBUG : KBOX_LOG_INFO);
	o = (struct kbox_image_opts){
		.from = ic.from, .image = ic.image, .size = ic.size, .root_owned = ic.root_owned};
	return kbox_ext4_image_create(&o) ? KBOX_EXIT_FAILURE : 0;
}

int main(int argc, char **argv)
{
	struct kbox_cli cli;
	struct kbox_obs_config oc;
	int rc;

	if (argc > 1 && !strcmp(argv[1], "image"))
		return image_main(argc - 1, argv + 1);
	rc = kbox_cli_parse(argc, argv, &cli);
	if (rc)
		return rc > 0 ? 0 : KBOX_EXIT_FAILURE;
	if (cli.verbose)
		kbox_log_set_level(cli.verbose > 1 ? KBOX_LOG_DEBUG : KBOX_LOG_INFO);
	if (check_tier(&cli) || setup_mounts(&cli)) {
		/* An image opened before a later mount failed is closed clean. */
		kbox_vfs_fini();
		kbox_rundir_remove_all();
		return KBOX_EXIT_FAILURE;
	}
	oc = (struct kbox_obs_config){
		.trace = cli.trace, .trace_file = cli.trace_file, .stats = cli.stats};
	if (kbox_obs_init(&oc)) {
		kbox_err("cannot open trace file '%s': %s", cli.trace_file, strerror(errno));
		kbox_vfs_fini();
		kbox_rundir_remove_all();
		return KBOX_EXIT_FAILURE;
	}
	rc = run(&cli);
	kbox_obs_fini();
	kbox_kernel_fini();
	kbox_vfs_owner_fini();
	kbox_vfs_fini();
	kbox_rundir_remove_all();
	return rc;
}
