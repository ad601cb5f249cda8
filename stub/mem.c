/* SPDX-License-Identifier: MIT */
/*
 * The memory helpers the compiler may call. Built with
 * -fno-tree-loop-distribute-patterns so these loops do not become calls to
 * themselves.
 */
#include "sys.h"

void *memcpy(void *dst, const void *src, size_t n)
{
	unsigned char *d = dst;
	const unsigned char *s = src;

	while (n--)
		*d++ = *s++;
	return dst;
}

void *memset(void *dst, int c, size_t n)
{
	unsigned char *d = dst;

	while (n--)
		*d++ = (unsigned char)c;
	return dst;
}

size_t stub_strlen(const char *s)
{
	size_t n = 0;

	while (s[n])
		n++;
	return n;
}
