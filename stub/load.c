/* SPDX-License-Identifier: MIT */
/*
 * ELF64 x86-64 mapping, following Linux's binfmt_elf: reserve the whole
 * span, map each PT_LOAD at its page-aligned address, zero the tail of the
 * last file page of a writable segment with bss, and back the rest of the
 * bss with anonymous pages.
 */
#include <elf.h>

#include "stub.h"
#include "sys.h"

#define PROT_READ	    1
#define PROT_WRITE	    2
#define PROT_EXEC	    4
#define MAP_PRIVATE	    0x02
#define MAP_FIXED	    0x10
#define MAP_ANONYMOUS	    0x20
#define MAP_NORESERVE	    0x4000
#define MAP_FIXED_NOREPLACE 0x100000
#define ADDR_NO_RANDOMIZE   0x0040000
#define ELF_ET_DYN_BASE	    0x555555554aaaUL /* DEFAULT_MAP_WINDOW / 3 * 2 on x86-64 */
#define MMAP_RND_BITS	    28
#define PHDRS_MAX	    (4096 / sizeof(Elf64_Phdr)) /* Linux: size <= ELF_MIN_ALIGN */
#define EINVAL		    22
#define ENOEXEC		    8
#define EIO		    5

static uint64_t page_down(uint64_t a)
{
	return a & ~(STUB_PAGE - 1);
}

static uint64_t page_up(uint64_t a)
{
	return (a + STUB_PAGE - 1) & ~(STUB_PAGE - 1);
}

static long stub_mmap(uint64_t addr, uint64_t len, long prot, long flags, long fd, uint64_t off)
{
	return stub_syscall6(STUB_NR_MMAP, (long)addr, (long)len, prot, flags, fd, (long)off);
}

static long prot_of(uint32_t pf)
{
	return ((pf & PF_R) ? PROT_READ : 0) | ((pf & PF_W) ? PROT_WRITE : 0) |
	       ((pf & PF_X) ? PROT_EXEC : 0);
}

static long read_headers(int fd, Elf64_Ehdr *eh, Elf64_Phdr *ph)
{
	long r = stub_syscall6(STUB_NR_PREAD, fd, (long)eh, sizeof(*eh), 0, 0, 0);

	if (r != (long)sizeof(*eh))
		return r < 0 ? r : -EIO;
	if (eh->e_ident[EI_MAG0] != ELFMAG0 || eh->e_ident[EI_MAG1] != ELFMAG1 ||
	    eh->e_ident[EI_MAG2] != ELFMAG2 || eh->e_ident[EI_MAG3] != ELFMAG3 ||
	    eh->e_ident[EI_CLASS] != ELFCLASS64 || eh->e_machine != EM_X86_64 ||
	    (eh->e_type != ET_EXEC && eh->e_type != ET_DYN) ||
	    eh->e_phentsize != sizeof(Elf64_Phdr) || eh->e_phnum == 0 || eh->e_phnum > PHDRS_MAX)
		return -ENOEXEC;
	r = stub_syscall6(STUB_NR_PREAD, fd, (long)ph, eh->e_phnum * sizeof(*ph), (long)eh->e_phoff,
			  0, 0);
	if (r != (long)(eh->e_phnum * sizeof(*ph)))
		return r < 0 ? r : -EIO;
	return 0;
}

/* Lowest and highest page of the PT_LOADs, and their largest alignment. */
static long load_span(const Elf64_Ehdr *eh, const Elf64_Phdr *ph, uint64_t *lo, uint64_t *hi,
		      uint64_t *align)
{
	*lo = ~0UL;
	*hi = 0;
	*align = STUB_PAGE;
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type != PT_LOAD)
			continue;
		if ((ph[i].p_vaddr - ph[i].p_offset) & (STUB_PAGE - 1) ||
		    ph[i].p_filesz > ph[i].p_memsz || ph[i].p_vaddr + ph[i].p_memsz < ph[i].p_vaddr)
			return -EINVAL;
		if (page_down(ph[i].p_vaddr) < *lo)
			*lo = page_down(ph[i].p_vaddr);
		if (page_up(ph[i].p_vaddr + ph[i].p_memsz) > *hi)
			*hi = page_up(ph[i].p_vaddr + ph[i].p_memsz);
		/* Linux honours a power-of-two p_align (e.g. 2 MiB) since 5.10. */
		if (ph[i].p_align > *align && !(ph[i].p_align & (ph[i].p_align - 1)))
			*align = ph[i].p_align;
	}
	return *hi > *lo ? 0 : -ENOEXEC;
}

static uint64_t pie_hint(uint64_t align)
{
	uint64_t base = ELF_ET_DYN_BASE, rnd = 0;
	long pers = stub_syscall(STUB_NR_PERSONALITY, 0xffffffffUL, 0, 0);

	/* Same randomisation as arch_mmap_rnd() unless setarch -R asked for none. */
	if (pers < 0 || !(pers & ADDR_NO_RANDOMIZE)) {
		if (stub_syscall(STUB_NR_GETRANDOM, &rnd, sizeof(rnd), 1 /* GRND_NONBLOCK */) < 0)
			rnd = 0;
		base += (rnd & ((1UL << MMAP_RND_BITS) - 1)) * STUB_PAGE;
	}
	return base & ~(align - 1);
}

/*
 * Reserve [lo, hi) + bias with PROT_NONE and return the bias. ET_EXEC must
 * land exactly at its link address and must not replace anything (the
 * stub itself lives there).
 */
static long reserve(const Elf64_Ehdr *eh, int pie_base, uint64_t lo, uint64_t hi, uint64_t align,
		    uint64_t *bias)
{
	uint64_t span = hi - lo, extra = align - STUB_PAGE, start;
	long flags = MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE;
	long addr;

	if (eh->e_type == ET_EXEC) {
		addr = stub_mmap(lo, span, 0, flags | MAP_FIXED_NOREPLACE, -1, 0);
		if (!stub_is_err(addr) && (uint64_t)addr != lo)
			addr = -EINVAL; /* kernels before 4.17 took it as a hint */
		*bias = 0;
		return stub_is_err(addr) ? addr : 0;
	}
	addr = -1;
	if (pie_base) {
		start = pie_hint(align);
		addr = stub_mmap(start, span, 0, flags | MAP_FIXED_NOREPLACE, -1, 0);
		if (!stub_is_err(addr) && (uint64_t)addr == start) {
			*bias = start - lo;
			return 0;
		}
		if (!stub_is_err(addr))
			stub_syscall(STUB_NR_MUNMAP, addr, span, 0);
	}
	addr = stub_mmap(0, span + extra, 0, flags, -1, 0);
	if (stub_is_err(addr))
		return addr;
	start = ((uint64_t)addr + align - 1) & ~(align - 1);
	if (start > (uint64_t)addr)
		stub_syscall(STUB_NR_MUNMAP, addr, start - (uint64_t)addr, 0);
	if ((uint64_t)addr + span + extra > start + span)
		stub_syscall(STUB_NR_MUNMAP, start + span, (uint64_t)addr + extra - start, 0);
	*bias = start - lo;
	return 0;
}

static long map_segment(int fd, const Elf64_Phdr *ph, uint64_t bias)
{
	uint64_t start = bias + ph->p_vaddr, file_end = start + ph->p_filesz;
	uint64_t mem_end = start + ph->p_memsz, anon = page_down(start);
	long prot = prot_of(ph->p_flags);
	int zero_tail =
		ph->p_memsz > ph->p_filesz && (prot & PROT_WRITE) && (file_end & (STUB_PAGE - 1));
	long r;

	if (ph->p_filesz) {
		r = stub_mmap(page_down(start), page_up(file_end) - page_down(start), prot,
			      MAP_PRIVATE | MAP_FIXED, fd, page_down(ph->p_offset));
		if (stub_is_err(r))
			return r;
		/*
		 * The file page holding the end of the data continues with
		 * whatever the file has next; bss must read as zero. Linux
		 * ignores this for read-only segments, so do we.
		 */
		if (zero_tail)
			memset((void *)file_end, 0, page_up(file_end) - file_end);
		anon = page_up(file_end);
	}
	if (page_up(mem_end) > anon) {
		r = stub_mmap(anon, page_up(mem_end) - anon, prot,
			      MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		if (stub_is_err(r))
			return r;
	}
	return 0;
}

/* Where the program headers are in memory: inside the PT_LOAD that holds e_phoff. */
static uint64_t phdr_addr(const Elf64_Ehdr *eh, const Elf64_Phdr *ph, uint64_t bias)
{
	for (int i = 0; i < eh->e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD && ph[i].p_offset <= eh->e_phoff &&
		    eh->e_phoff < ph[i].p_offset + ph[i].p_filesz)
			return eh->e_phoff - ph[i].p_offset + ph[i].p_vaddr + bias;
	}
	return 0;
}

long stub_load_elf(int fd, int pie_base, struct stub_image *img)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph[PHDRS_MAX];
	uint64_t lo, hi, align, bias;
	long r;

	r = read_headers(fd, &eh, ph);
	if (r == 0)
		r = load_span(&eh, ph, &lo, &hi, &align);
	if (r == 0)
		r = reserve(&eh, pie_base, lo, hi, align, &bias);
	for (int i = 0; r == 0 && i < eh.e_phnum; i++) {
		if (ph[i].p_type == PT_LOAD)
			r = map_segment(fd, &ph[i], bias);
	}
	if (r)
		return r;
	img->bias = bias;
	img->entry = eh.e_entry + bias;
	img->phdr = phdr_addr(&eh, ph, bias);
	img->phnum = eh.e_phnum;
	img->phent = eh.e_phentsize;
	return 0;
}
