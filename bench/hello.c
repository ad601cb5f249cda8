/* The small C program bench/run's gcc workload compiles and runs. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct item {
	char name[16];
	int weight;
};

static int cmp(const void *a, const void *b)
{
	const struct item *x = a, *y = b;
	return x->weight != y->weight ? x->weight - y->weight : strcmp(x->name, y->name);
}

int main(void)
{
	struct item items[64];
	unsigned seed = 42;
	for (int i = 0; i < 64; i++) {
		seed = seed * 1103515245u + 12345u;
		items[i].weight = (int)(seed >> 16) % 1000;
		snprintf(items[i].name, sizeof items[i].name, "item%02d", i);
	}
	qsort(items, 64, sizeof items[0], cmp);
	long sum = 0;
	for (int i = 0; i < 64; i++)
		sum += (long)items[i].weight * (i + 1);
	printf("hello from the kbox bench: first %s, checksum %ld\n", items[0].name, sum);
	return 0;
}
