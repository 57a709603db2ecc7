"""Makes tests/fixtures/tiny_encoder.pt: a TorchScript image encoder that keeps the
"bring your own backbone" input contract (B x 3 x S x S RGB in [0, 1] -> B x D), and
tests/fixtures/tiny_encoder_expected.safetensors with its output on fixed inputs, for
tests/pretrained.rs. Run: .venv/bin/python scripts/make_torchscript_fixture.py
"""
import torch
from safetensors.torch import save_file


class Tiny(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = torch.nn.Conv2d(3, 6, 3, padding=1)

    def forward(self, x):
        return torch.relu(self.conv(x * 2.0 - 1.0)).mean(dim=(2, 3))


torch.manual_seed(0)
m = torch.jit.script(Tiny().eval())
m.save("tests/fixtures/tiny_encoder.pt")
x = torch.rand(3, 3, 16, 16, generator=torch.Generator().manual_seed(1))
with torch.no_grad():
    y = m(x)
save_file({"input": x.contiguous(), "output": y.contiguous()},
          "tests/fixtures/tiny_encoder_expected.safetensors")
print("wrote tests/fixtures/tiny_encoder.pt", tuple(y.shape))
