# Regenerates assets/datasets/ from ../shared/datasets (PNG folders) and the packaged IDX files.
# Run once by a developer (needs numpy and pillow); never at build, run or test time.
# Checks that the packaged t10k IDX files hold exactly the images and labels of the PNG folders.
import gzip, os, struct, numpy as np
from PIL import Image
S = "/work/shared/datasets"
def load_pngs(name):
    items = []
    for cls in sorted(os.listdir(f"{S}/{name}")):
        d = f"{S}/{name}/{cls}"
        if not os.path.isdir(d): continue
        for f in os.listdir(d):
            items.append((int(f.split('.')[0]), cls, np.array(Image.open(f"{d}/{f}"))))
    items.sort()
    return items
def idx_bytes(arr):
    hdr = bytes([0, 0, 8, arr.ndim]) + b"".join(struct.pack(">I", d) for d in arr.shape)
    return hdr + arr.astype(np.uint8).tobytes()
# digits: build IDX from the PNGs, in original row order
it = load_pngs("digits")
imgs = np.stack([x[2] for x in it]); labs = np.array([int(x[1]) for x in it])
assert [x[0] for x in it] == list(range(len(it))) and imgs.shape == (1797, 8, 8)
with gzip.GzipFile("digits/images-idx3-ubyte.gz", "wb", mtime=0) as f: f.write(idx_bytes(imgs))
with gzip.GzipFile("digits/labels-idx1-ubyte.gz", "wb", mtime=0) as f: f.write(idx_bytes(labs))
def check(name, imgfile, labfile):
    raw = gzip.open(imgfile).read() if imgfile.endswith(".gz") else open(imgfile, "rb").read()
    lraw = gzip.open(labfile).read() if labfile.endswith(".gz") else open(labfile, "rb").read()
    im = np.frombuffer(raw[16:], np.uint8).reshape(-1, 28, 28); lb = np.frombuffer(lraw[8:], np.uint8)
    it = load_pngs(name)
    assert len(it) == len(im) == 10000
    for idx, cls, a in it:
        assert (a == im[idx]).all() and int(cls.split('_')[0]) == lb[idx], (name, idx)
    print(name, "matches the PNG folder")
check("fashion-mnist", "/usr/share/datasets/fashion-mnist/t10k-images-idx3-ubyte.gz", "/usr/share/datasets/fashion-mnist/t10k-labels-idx1-ubyte.gz")
check("mnist", "/tmp/npmx/package/data/t10k-images-idx3-ubyte", "/tmp/npmx/package/data/t10k-labels-idx1-ubyte")
