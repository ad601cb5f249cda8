# runs: busybox:S busybox:r debian:S debian:r
# find, tar c | tar x, sort, cmp, rm -r, mv on a generated tree.
mkdir -p src/a/b/c src/d src/e
for i in 1 2 3 4 5 6 7 8 9 10; do
	echo "file $i" >"src/a/f$i"
	echo "deep $i" >"src/a/b/c/g$i"
done
ln -s ../a/f1 src/d/link
echo data >src/e/x
chmod 600 src/e/x
find src | sort
find src -type f -name 'f*' | wc -l
find src -type l
tar cf - src | (mkdir dst && cd dst && tar xf -)
(cd src && find . | sort) >list.src
(cd dst/src && find . | sort) >list.dst
cmp list.src list.dst && echo "trees equal"
cat dst/src/d/link
ls -l dst/src/e/x | cut -c1-10
tar czf src.tgz src && tar tzf src.tgz | sort | head -n 5
sort -r -k2 -n src/a/f* | head -n 3
cat src/a/f* | sort -u | wc -l
mv dst moved && ls -d moved
rm -r moved src
ls | sort
