# runs: busybox:S busybox:r debian:S debian:r
# sh: pipes, subshells, $(...), here-documents, redirections, loops.
set -e
echo hi | tr a-z A-Z
printf 'c\nb\na\n' | sort | tr '\n' ' '; echo
x=$(echo nested $(echo inner) | wc -w)
echo "words: $x"
(cd / && pwd)
pwd | sed 's|.*/||'
( echo sub1; echo sub2 ) | while read -r l; do echo "got $l"; done
cat <<EOT | grep -c line
line one
line two
other
EOT
echo to-file >f1
echo appended >>f1
cat f1 | wc -l
{ echo out; echo err >&2; } 2>f2 1>f3
cat f3 f2
i=0
while [ $i -lt 50 ]; do i=$((i + 1)); done
echo "loop: $i"
false || echo "or: $?"
if grep -q appended f1; then echo found; fi
seq 1 200 | awk '{ s += $1 } END { print "sum", s }'
echo "a:b:c" | cut -d: -f2
v=$(cat f1 | head -n 1); echo "first: $v"
ls | sort | tr '\n' ' '; echo
exit 7
