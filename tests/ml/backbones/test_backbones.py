from pathlib import Path

import numpy as np
import pytest
import sklearn
import torch
from PIL import Image
from safetensors.torch import save_file

from inference.ml.backbones import get_backbone
from inference.ml.backbones.efficientnet_lite import (
    VARIANTS,
    EfficientNetLite,
    packaged_weights_path,
    remap_state_dict,
)
from inference.ml.backbones.resnet import BasicBlock, ResNet

SAMPLE_IMAGES = Path(sklearn.__file__).parent / "datasets" / "images"
DAISY = 985
BUILDINGS = {442, 449, 483, 497, 498, 538, 663, 668, 698, 832, 975}  # bell cote, boathouse, castle, church...


@pytest.fixture(scope="module")
def lite0():
    return get_backbone("efficientnet_lite0")


def _photo(name: str) -> torch.Tensor:
    image = Image.open(SAMPLE_IMAGES / name).convert("RGB").resize((224, 224), Image.BILINEAR)
    return torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].float() / 255.0


@pytest.mark.parametrize(
    ("variant", "tensors", "parameters"),
    [
        ("efficientnet_lite0", 296, 4.65e6),
        ("efficientnet_lite1", 386, 5.42e6),
        ("efficientnet_lite2", 386, 6.09e6),
    ],
)
def test_all_packaged_weights_load_strictly(variant, tensors, parameters):
    state = torch.load(packaged_weights_path(variant), map_location="cpu", weights_only=True)
    assert len(state) == tensors
    model = EfficientNetLite(variant=variant)
    result = model.load_state_dict(remap_state_dict(state), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    assert sum(p.numel() for p in model.parameters()) == pytest.approx(parameters, rel=0.01)


@pytest.mark.parametrize("variant", ["efficientnet_lite1", "efficientnet_lite2"])
def test_the_larger_variants_recognise_photos_and_give_their_own_channels(variant):
    model = get_backbone(variant)
    with torch.no_grad():
        # (Lite2 takes the close-up daisy for a honeycomb, 599; the temple it gets right.)
        temple = model.classify(_photo("china.jpg")).softmax(dim=1)
        stride8, stride16 = model(_photo("china.jpg"))
    assert set(temple.topk(3).indices[0].tolist()) & BUILDINGS
    width = VARIANTS[variant][0]
    assert model.channels == ([40, 112] if width == 1.0 else [48, 120])
    assert stride8.shape[1:] == (model.channels[0], 28, 28) and stride16.shape[-1] == 14


def test_imagenet_classifier_recognises_photos(lite0):
    # scikit-learn ships two photos: a flower and a Chinese temple.
    with torch.no_grad():
        flower = lite0.classify(_photo("flower.jpg")).softmax(dim=1)
        temple = lite0.classify(_photo("china.jpg")).softmax(dim=1)
    assert int(flower.argmax()) == DAISY
    assert set(temple.topk(5).indices[0].tolist()) & BUILDINGS


def test_features_are_multi_scale_and_not_degenerate(lite0):
    with torch.no_grad():
        stride8, stride16 = lite0(_photo("china.jpg")[:, :, :200, :210])
    assert stride8.shape == (1, 40, 25, 27)  # TF "same" padding: ceil(size / stride)
    assert stride16.shape == (1, 112, 13, 14)
    assert lite0.channels == [40, 112] and lite0.strides == [8, 16]
    for features in (stride8, stride16):
        per_channel_std = features.std(dim=(0, 2, 3))
        assert (per_channel_std > 1e-3).float().mean() > 0.9


def test_unknown_backbone_or_layer_is_a_clear_error():
    with pytest.raises(ValueError, match="unknown backbone"):
        get_backbone("vgg16")
    with pytest.raises(ValueError, match="unknown backbone layers"):
        get_backbone("efficientnet_lite0", layers=["layer9"])


def test_resnet_needs_a_local_weights_file(tmp_path):
    with pytest.raises(ValueError, match="weights file"):
        get_backbone("resnet18")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        get_backbone("wide_resnet50_2", weights_path=tmp_path / "missing.pth")


def test_resnet18_loads_torchvision_layout_from_safetensors(tmp_path):
    torch.manual_seed(0)
    reference = ResNet(BasicBlock, (2, 2, 2, 2), 1, ("layer2", "layer3"))
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, tmp_path / "r18.safetensors")
    model = get_backbone("resnet18", weights_path=tmp_path / "r18.safetensors")
    stride8, stride16 = model(torch.rand(1, 3, 64, 64))
    assert stride8.shape == (1, 128, 8, 8) and stride16.shape == (1, 256, 4, 4)
