# runs: debian:S debian:r
# gcc compiles and links (cc1, as, collect2, ld through vfork/posix_spawn),
# and the program runs; also a static link and -pipe.
cat >hello.c <<'EOT'
#include <stdio.h>
#include <math.h>
int main(int argc, char **argv) { printf("hello %s %d\n", argc > 1 ? argv[1] : "world", (int)sqrt(49.0)); return 0; }
EOT
gcc -O2 -o hello hello.c -lm && ./hello
gcc -pipe -o hello2 hello.c -lm && ./hello2 pipe
gcc -static -o hello3 hello.c -lm && ./hello3 static
gcc -c hello.c -o hello.o && gcc -o hello4 hello.o -lm && ./hello4 twostep
echo 'int main(void) { return 5; }' | gcc -x c -o five - && ./five
echo "five: $?"
echo 'int main(void) { syntax error' | gcc -x c -o bad - 2>/dev/null
echo "bad: $?"
