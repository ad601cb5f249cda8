// SPDX-License-Identifier: MIT
/*
 * Which files an exec runs and with which argv prefix, following Linux's
 * exec_binprm() loop over binfmt_script and binfmt_elf.
 *
 * argv: each #! level puts its interpreter and optional argument in front
 * of what came before; the first level also puts the script's filename in
 * place of the guest's argv[0] (Linux's remove_arg_zero()). Later levels
 * remove the previous interpreter from argv[0] and put it back as the
 * script path (bprm->interp), which leaves it where it was. So the prefix
 * is [name_n, arg_n, ..., name_1, arg_1, filename] with KBOX_PLAN_DROP_ARGV0.
 */
#include "loader.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

/* Per level (one more than allowed is parsed) an interpreter and an argument, plus the filename. */
#define LEVELS_MAX (KBOX_BINPRM_MAX_SCRIPTS + 1)
#define PREFIX_MAX (2 * LEVELS_MAX + 1)

struct prefix {
	int n;
	int nlevels;
	struct kbox_script levels[LEVELS_MAX];
	const char *str[PREFIX_MAX]; /* str[0] is argv[0] of the final program */
};

static void prefix_push_front(struct prefix *p, const struct kbox_script *sc)
{
	int add = sc->has_arg ? 2 : 1;

	memmove(p->str + add, p->str, (size_t)p->n * sizeof(p->str[0]));
	p->str[0] = sc->interp;
	if (sc->has_arg)
		p->str[1] = sc->arg;
	p->n += add;
}

static int append_string(struct kbox_binprm *bp, const char *s)
{
	size_t len = strlen(s) + 1;

	/* Linux would fail such an exec with E2BIG too, for less. */
	if (len > sizeof(bp->strings) - bp->strings_len)
		return -E2BIG;
	memcpy(bp->strings + bp->strings_len, s, len);
	bp->strings_len += (uint32_t)len;
	return 0;
}

static int store_strings(struct kbox_binprm *bp, const char *filename, const struct prefix *p)
{
	int err = append_string(bp, filename);

	/* Without a script the guest's own argv is the whole argv. */
	if (p->nlevels == 0)
		return err;
	for (int i = 0; !err && i < p->n; i++)
		err = append_string(bp, p->str[i]);
	bp->nprefix = (uint32_t)p->n;
	bp->flags |= KBOX_PLAN_DROP_ARGV0;
	return err;
}

/* The final program: an ELF, with its interpreter opened and checked. */
static int prepare_elf(const struct kbox_binprm_ops *ops, struct kbox_binprm *bp)
{
	struct kbox_elf_info info;
	int err = kbox_elf_inspect(bp->prog_fd, &info);

	if (err || !info.has_interp)
		return err;
	bp->interp_fd = ops->open_exec(ops->arg, info.interp, false);
	if (bp->interp_fd < 0)
		return bp->interp_fd;
	bp->flags |= KBOX_PLAN_HAS_INTERP;
	return kbox_elf_check_interp(bp->interp_fd);
}

/*
 * One #! level: parse, open the interpreter in place of the script.
 * Returns 1 if the file was a script, 0 if not, or -errno.
 */
static int follow_script(const struct kbox_binprm_ops *ops, struct kbox_binprm *bp,
			 struct prefix *p, bool path_inaccessible)
{
	char head[KBOX_BINPRM_BUF_SIZE];
	struct kbox_script *sc = &p->levels[p->nlevels];
	ssize_t n = pread(bp->prog_fd, head, sizeof(head), 0);
	int fd;

	if (n < 0)
		return -errno;
	if (n < 2 || head[0] != '#' || head[1] != '!')
		return 0;
	if (kbox_script_parse(head, (size_t)n, sc))
		return -ENOEXEC;
	if (path_inaccessible)
		return -ENOENT;
	fd = ops->open_exec(ops->arg, sc->interp, false);
	if (fd < 0)
		return fd;
	close(bp->prog_fd);
	bp->prog_fd = fd;
	prefix_push_front(p, sc);
	p->nlevels++;
	return 1;
}

int kbox_binprm_prepare(const struct kbox_binprm_ops *ops, const char *path, const char *filename,
			bool path_inaccessible, struct kbox_binprm *bp)
{
	struct prefix p = {.n = 1, .str = {filename}};
	int err, depth;

	memset(bp, 0, offsetof(struct kbox_binprm, strings));
	bp->interp_fd = -1;
	bp->prog_fd = ops->open_exec(ops->arg, path, true);
	if (bp->prog_fd < 0)
		return bp->prog_fd;
	for (depth = 0;; depth++) {
		err = follow_script(ops, bp, &p, path_inaccessible);
		if (err <= 0)
			break;
		if (depth + 1 > KBOX_BINPRM_MAX_SCRIPTS) {
			err = -ELOOP;
			break;
		}
	}
	if (!err)
		err = prepare_elf(ops, bp);
	if (!err)
		err = store_strings(bp, filename, &p);
	if (err)
		kbox_binprm_release(bp);
	return err;
}

void kbox_binprm_release(struct kbox_binprm *bp)
{
	if (bp->prog_fd >= 0)
		close(bp->prog_fd);
	if (bp->interp_fd >= 0)
		close(bp->interp_fd);
	bp->prog_fd = bp->interp_fd = -1;
}
