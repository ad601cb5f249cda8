# runs: busybox:S debian:S debian:r
# sh: background jobs, wait with statuses, a pipeline of many processes,
# a subshell killed by a signal, traps.
sleep 0.2 && echo first-bg &
p1=$!
(sleep 0.1; exit 3) &
p2=$!
wait $p2
echo "wait p2: $?"
wait $p1
echo "wait p1: $?"
for i in 1 2 3 4 5 6 7 8; do (echo "job $i" >"job.$i") & done
wait
cat job.* | sort | tr '\n' ' '; echo
sh -c 'kill -TERM $$'
echo "killed: $?"
trap 'echo trapped USR1' USR1
kill -USR1 $$
echo "after trap"
seq 1 1000 | grep 7 | sort -n | tail -n 1 | cat | cat | cat
echo "pipe status ok"
n=0
for i in $(seq 1 30); do sh -c "exit 0" && n=$((n + 1)); done
echo "30 children: $n"
exec 3>fd3.txt
echo via-fd3 >&3
exec 3>&-
cat fd3.txt
