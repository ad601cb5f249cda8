/* SPDX-License-Identifier: MIT */
/*
 * The guest's initial stack, laid out as Linux's create_elf_tables() does:
 *
 *   sp ->  argc | argv[] NULL | envp[] NULL | auxv pairs, AT_NULL | pad | strings
 *
 * sp is 16-byte aligned (SysV ABI). argv is the plan's prefix (a #! line's
 * interpreter, its argument and the script path) followed by the argv the
 * guest passed to execve, minus its argv[0] for a script. envp keeps the
 * kernel's pointers: exec copied the guest's envp into the strings above
 * the kernel's stack pointer, which this layout leaves untouched, as it
 * does AT_RANDOM's bytes and AT_PLATFORM's string.
 */
#include <elf.h>

#include "stub.h"
#include "sys.h"

struct guest_vectors {
	uint64_t argc;
	char **argv;
	uint64_t envc;
	char **envp;
	uint64_t auxc; /* including AT_NULL */
	Elf64_auxv_t *auxv;
};

static void parse_kernel_stack(uint64_t *ksp, struct guest_vectors *v)
{
	v->argc = ksp[0];
	v->argv = (char **)(ksp + 1);
	v->envp = v->argv + v->argc + 1;
	for (v->envc = 0; v->envp[v->envc]; v->envc++)
		;
	v->auxv = (Elf64_auxv_t *)(v->envp + v->envc + 1);
	for (v->auxc = 0; v->auxv[v->auxc].a_type != AT_NULL; v->auxc++)
		;
	v->auxc++;
}

/* The kernel's auxv, describing the guest program instead of the stub. */
static uint64_t aux_value(const Elf64_auxv_t *a, const struct stub_image *prog,
			  const struct stub_image *interp, const char *execfn)
{
	switch (a->a_type) {
	case AT_PHDR:
		return prog->phdr;
	case AT_PHENT:
		return prog->phent;
	case AT_PHNUM:
		return prog->phnum;
	case AT_ENTRY:
		return prog->entry;
	case AT_BASE:
		return interp ? interp->bias : 0;
	case AT_EXECFN:
		return (uint64_t)execfn;
	default:
		return a->a_un.a_val;
	}
}

uint64_t stub_build_stack(uint64_t *ksp, const struct kbox_stub_plan *plan,
			  const struct stub_image *prog, const struct stub_image *interp)
{
	struct guest_vectors v;
	uint64_t skip, nargc, words, *sp, *w;
	char *strings, *s;

	parse_kernel_stack(ksp, &v);
	skip = (plan->flags & KBOX_PLAN_DROP_ARGV0) && v.argc ? 1 : 0;
	nargc = plan->nprefix + v.argc - skip;
	strings = (char *)ksp - plan->strings_len;
	memcpy(strings, plan->strings, plan->strings_len);
	words = 1 + nargc + 1 + v.envc + 1 + 2 * v.auxc;
	sp = (uint64_t *)(((uint64_t)strings - words * 8) & ~15UL);

	w = sp;
	*w++ = nargc;
	s = strings + stub_strlen(strings) + 1; /* past execfn */
	for (uint32_t i = 0; i < plan->nprefix; i++) {
		*w++ = (uint64_t)s;
		s += stub_strlen(s) + 1;
	}
	for (uint64_t i = skip; i < v.argc; i++)
		*w++ = (uint64_t)v.argv[i];
	*w++ = 0;
	for (uint64_t i = 0; i < v.envc; i++)
		*w++ = (uint64_t)v.envp[i];
	*w++ = 0;
	for (uint64_t i = 0; i < v.auxc; i++) {
		*w++ = v.auxv[i].a_type;
		*w++ = aux_value(&v.auxv[i], prog, interp, strings);
	}
	return (uint64_t)sp;
}
