# runs: debian:S debian:r
# make -j2 of a small C project: objects in parallel, a library, a link.
mkdir -p proj && cd proj
for n in 1 2 3 4 5 6; do
	printf 'int f%d(void) { return %d; }\n' "$n" "$n" >"f$n.c"
done
cat >main.c <<'EOT'
#include <stdio.h>
int f1(void), f2(void), f3(void), f4(void), f5(void), f6(void);
int main(void) { printf("sum %d\n", f1() + f2() + f3() + f4() + f5() + f6()); return 0; }
EOT
cat >Makefile <<'EOT'
OBJS = f1.o f2.o f3.o f4.o f5.o f6.o
prog: main.o libf.a
	$(CC) -o $@ main.o libf.a
libf.a: $(OBJS)
	ar rcs $@ $(OBJS)
%.o: %.c
	$(CC) -O1 -c -o $@ $<
clean:
	rm -f *.o *.a prog
.PHONY: clean
EOT
make -s -j2 CC=gcc && ./prog
make -s -j2 CC=gcc && echo "up to date: $?"
touch f3.c && make -j2 CC=gcc | grep -c 'f3.o'
make -s clean && ls | sort | tr '\n' ' '; echo
