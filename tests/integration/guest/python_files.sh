# runs: debian:S debian:r
# python3: walk, write, rename, delete files; subprocess with pipes.
cat >t.py <<'EOT'
import os, subprocess, sys, shutil, tempfile
os.makedirs("tree/a/b", exist_ok=True)
for i in range(20):
    with open(f"tree/a/f{i:02d}", "w") as f:
        f.write(str(i) * i)
os.rename("tree/a/f00", "tree/a/b/renamed")
os.replace("tree/a/f01", "tree/a/f02")
os.remove("tree/a/f03")
os.symlink("a/b", "tree/blink")
walk = []
for root, dirs, files in os.walk("tree"):
    dirs.sort()
    for f in sorted(files):
        p = os.path.join(root, f)
        walk.append(f"{p} {os.path.getsize(p)}")
print("\n".join(walk))
print("islink", os.path.islink("tree/blink"), os.path.isdir("tree/blink"))
print("listdir", sorted(os.listdir("tree/a"))[:5])
st = os.stat("tree/a/f05")
print("size", st.st_size, "mode", oct(st.st_mode & 0o777))
r = subprocess.run(["sh", "-c", "echo from child; exit 3"], capture_output=True, text=True)
print("child", r.returncode, r.stdout.strip())
r = subprocess.run(["sort", "-r"], input="a\nc\nb\n", capture_output=True, text=True)
print("sort", r.stdout.split())
p1 = subprocess.Popen(["seq", "1", "100"], stdout=subprocess.PIPE)
p2 = subprocess.Popen(["wc", "-l"], stdin=p1.stdout, stdout=subprocess.PIPE, text=True)
p1.stdout.close()
print("pipeline", p2.communicate()[0].strip(), p1.wait())
r = subprocess.run([sys.executable, "-c", "import os; print(os.getcwd() == os.environ['PWD'] or 'x')"],
                   capture_output=True, text=True, env={**os.environ, "PWD": os.getcwd()})
print("python child", r.returncode, r.stdout.strip())
try:
    subprocess.run(["/no/such/program"])
except FileNotFoundError as e:
    print("missing", e.errno)
with tempfile.TemporaryDirectory(dir=".") as d:
    with open(os.path.join(d, "x"), "w") as f:
        f.write("x")
    print("tempdir files", os.listdir(d))
print("tempdir gone", not os.path.exists(d))
shutil.copytree("tree", "copy", symlinks=True)
shutil.rmtree("tree")
print("after rmtree", sorted(os.listdir(".")))
import json, hashlib
print("sha", hashlib.sha256(open("copy/a/f05").read().encode()).hexdigest()[:16])
print(json.dumps({"ok": True}))
EOT
python3 t.py
echo "exit $?"
